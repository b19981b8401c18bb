// The privileged `app://lethe/` scheme that serves the built renderer (out/renderer) inside the
// desktop app, instead of file:// URLs. Resolution is a pure function so path containment is tested
// without Electron; registration takes Electron's protocol object as an argument. The main process
// reads each file itself (fs) and answers with its bytes: no net.fetch(file://) round trip, which a
// `file:` request filter (ours blocks file:) or Electron's own file-protocol rules could stop.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { APP_HOST, APP_RESPONSE_HEADERS, APP_SCHEME } from './security';

/** Content types of the files the renderer build holds; anything else is served as bytes. */
export const APP_CONTENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
});

/** The file inside `root` that an app:// URL names, or null if it is not ours or would leave root. */
export function resolveAppPath(root: string, url: string): string | null {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if (u.protocol !== `${APP_SCHEME}:` || u.host !== APP_HOST || u.username || u.password) return null;
  let decoded: string;
  try {
    decoded = decodeURIComponent(u.pathname);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter(Boolean);
  if (segments.some((s) => s === '..' || s === '.' || /^[A-Za-z]:/.test(s))) return null;
  const base = path.resolve(root);
  const full = path.resolve(base, segments.length ? segments.join(path.sep) : 'index.html');
  return full === base || full.startsWith(base + path.sep) ? full : null;
}

interface ProtocolLike {
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void;
}

/** The app protocol's answer to one request: the file's bytes read by this process, or 404. */
export async function serveAppRequest(rendererDir: string, realRoot: Promise<string>, request: Pick<Request, 'method' | 'url'>): Promise<Response> {
  const notFound = () => new Response('Not found', { status: 404, headers: { ...APP_RESPONSE_HEADERS, 'Content-Type': 'text/plain' } });
  if (request.method !== 'GET' && request.method !== 'HEAD') return notFound();
  let file = resolveAppPath(rendererDir, request.url);
  if (!file) return notFound();
  const root = await realRoot;
  try {
    const real = await fs.realpath(file);
    if (!real.startsWith(root + path.sep)) return notFound();
    if (!(await fs.stat(real)).isFile()) return notFound();
    file = real;
  } catch {
    // client-side routes fall back to the app shell
    if (path.extname(file) !== '') return notFound();
    file = path.join(root, 'index.html');
  }
  let body: Buffer;
  try {
    body = await fs.readFile(file);
  } catch {
    return notFound();
  }
  const headers = {
    ...APP_RESPONSE_HEADERS,
    'Content-Type': APP_CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
    'Content-Length': String(body.length),
  };
  return new Response(request.method === 'HEAD' ? null : new Uint8Array(body), { status: 200, headers });
}

export function registerAppProtocol(protocol: ProtocolLike, rendererDir: string): void {
  const realRoot = fs.realpath(rendererDir).catch(() => path.resolve(rendererDir));
  protocol.handle(APP_SCHEME, (request) => serveAppRequest(rendererDir, realRoot, request));
}
