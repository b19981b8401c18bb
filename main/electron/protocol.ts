// The privileged `app://lethe/` scheme that serves the built renderer (out/renderer) inside the
// desktop app, instead of file:// URLs. Resolution is a pure function so path containment is tested
// without Electron; registration takes Electron's protocol and net objects as arguments.

import { promises as fs } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { APP_HOST, APP_RESPONSE_HEADERS, APP_SCHEME } from './security';

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
interface NetLike {
  fetch(url: string): Promise<Response>;
}

export function registerAppProtocol(protocol: ProtocolLike, net: NetLike, rendererDir: string): void {
  const realRoot = fs.realpath(rendererDir).catch(() => path.resolve(rendererDir));
  protocol.handle(APP_SCHEME, async (request) => {
    const notFound = () => new Response('Not found', { status: 404, headers: { ...APP_RESPONSE_HEADERS, 'Content-Type': 'text/plain' } });
    if (request.method !== 'GET' && request.method !== 'HEAD') return notFound();
    let file = resolveAppPath(rendererDir, request.url);
    if (!file) return notFound();
    try {
      const real = await fs.realpath(file);
      const root = await realRoot;
      if (!real.startsWith(root + path.sep)) return notFound();
      if (!(await fs.stat(real)).isFile()) return notFound();
      file = real;
    } catch {
      // client-side routes fall back to the app shell
      if (path.extname(file) !== '') return notFound();
      file = path.join(await realRoot, 'index.html');
    }
    const res = await net.fetch(pathToFileURL(file).href);
    const headers = new Headers(res.headers);
    for (const [k, v] of Object.entries(APP_RESPONSE_HEADERS)) headers.set(k, v);
    return new Response(res.body, { status: res.status, headers });
  });
}
