// The web transport: the built renderer and the API over HTTP + server-sent events, for browsers
// (and the e2e tests) where there is no Electron binary. Bound to 127.0.0.1 only, on a random port,
// guarded by a per-launch secret token so that other local users' processes and web pages cannot
// drive it. The printed address carries the token in its FRAGMENT (http://127.0.0.1:<port>/#token=<t>),
// which browsers never send to a server; the renderer takes it from location.hash, removes it from
// the address bar and history, keeps it in memory and sends it in a header. No cookie is ever set:
// browsers do not scope cookies by port, so a cookie would reach every other listener on 127.0.0.1.
//   GET /<static file>       the built renderer, without a token (it holds no secrets)
//   POST /api/call/<method>  needs exactly one `X-Lethe-Token: <t>` and `X-Lethe-Client: 1`; JSON body = args
//   GET /api/events          needs exactly one `X-Lethe-Token: <t>`; SSE: `event: ready` first, then `event: <name>`
// Refused with 403: a token in any URL query; on /api/*, a `lethe_token` cookie or a repeated token header.
// Every request must carry `Host: 127.0.0.1:<port>` (DNS rebinding) and, if it has an Origin, ours.

import { randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { CallEnvelope } from '../../preload/api/bridge';
import { API_EVENTS } from '../../preload/api/index';
import type { Unsubscribe } from '../../preload/api/index';
import type { Backend } from '../backend/service';
import {
  CLIENT_HEADER,
  SECURITY_HEADERS,
  apiTokenRefusal,
  contentTypeOf,
  hostAllowed,
  httpStatusOf,
  originAllowed,
  queryHasToken,
} from './security';

export interface ServerOptions {
  backend: Pick<Backend, 'dispatch' | 'events'>;
  /** folder of the built renderer (index.html and assets) */
  staticDir: string;
  /** 0 (default) picks a free port */
  port?: number;
  /** default: 32 random bytes, base64url */
  token?: string;
  /** largest accepted request body */
  maxBodyBytes?: number;
  heartbeatMs?: number;
  log?: (message: string, error?: unknown) => void;
}

export interface RunningServer {
  port: number;
  origin: string;
  token: string;
  /** the URL to open: origin + '/#token=' + token (the token rides in the fragment, never sent to a server) */
  url: string;
  close(): Promise<void>;
}

export const HOST = '127.0.0.1';
export const DEFAULT_MAX_BODY = 16 * 1024 * 1024;

const FORBIDDEN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Lethe: access refused</title></head>
<body><h1>Access refused</h1>
<p>The access token must never be sent in the address's query. Open the address Lethe printed when
it started, which looks like <code>http://127.0.0.1:PORT/#token=...</code> (the token after <code>#</code>).</p>
<p>Copy it from the terminal where you ran <code>npm start</code> or <code>lethe serve</code>.</p></body></html>
`;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const token = options.token ?? randomBytes(32).toString('base64url');
  if (!/^[A-Za-z0-9_-]{16,256}$/.test(token)) throw new Error('The server token must be 16-256 URL-safe characters.');
  const staticRoot = path.resolve(options.staticDir);
  const maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const log = options.log ?? ((m: string, e?: unknown) => console.error(m, e ?? ''));
  const streams = new Set<http.ServerResponse>();
  let port = 0;

  const send = (res: http.ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(body), ...extra });
    res.end(res.req.method === 'HEAD' ? undefined : body);
  };
  const sendJson = (res: http.ServerResponse, status: number, env: CallEnvelope) => {
    let body: string;
    try {
      body = JSON.stringify(env);
    } catch (e) {
      log('lethe: a result could not be serialized', e);
      status = 500;
      body = JSON.stringify({ ok: false, error: { code: 'internal', message: 'The result could not be serialized.' } });
    }
    send(res, status, 'application/json; charset=utf-8', body);
  };
  const apiError = (res: http.ServerResponse, status: number, code: string, message: string) =>
    sendJson(res, status, { ok: false, error: { code: code as 'forbidden', message } });
  const forbiddenPage = (res: http.ServerResponse) => send(res, 403, 'text/html; charset=utf-8', FORBIDDEN_PAGE);

  /** null when the request presents the token correctly, else the one-sentence reason it is refused */
  const refusal = (req: http.IncomingMessage, url: URL) => apiTokenRefusal({ rawHeaders: req.rawHeaders, search: url.search }, token);

  const readBody = (req: http.IncomingMessage): Promise<Buffer | 'too_large'> =>
    new Promise((resolve, reject) => {
      const declared = Number(req.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBody) {
        resolve('too_large');
        req.resume();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (c: Buffer) => {
        if (over) return;
        size += c.length;
        if (size > maxBody) {
          over = true;
          chunks.length = 0;
          resolve('too_large');
          return;
        }
        chunks.push(c);
      });
      req.on('end', () => {
        if (!over) resolve(Buffer.concat(chunks));
      });
      req.on('error', reject);
    });

  const handleCall = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL, method: string) => {
    if (req.method !== 'POST') return apiError(res, 405, 'invalid_argument', 'API calls must use POST.');
    const refused = refusal(req, url);
    if (refused) return apiError(res, 403, 'forbidden', refused);
    if (req.headers[CLIENT_HEADER] !== '1') return apiError(res, 403, 'forbidden', 'API calls need the header X-Lethe-Client: 1.');
    const body = await readBody(req);
    if (body === 'too_large') {
      res.setHeader('Connection', 'close');
      return apiError(res, 413, 'invalid_argument', `The request body is larger than ${maxBody} bytes.`);
    }
    let args: unknown = {};
    if (body.length > 0) {
      try {
        args = JSON.parse(body.toString('utf8'));
      } catch {
        return apiError(res, 400, 'invalid_argument', 'The request body is not valid JSON.');
      }
    }
    const env = await options.backend.dispatch(method, args);
    sendJson(res, env.ok ? 200 : httpStatusOf(env.error.code), env);
  };

  const handleEvents = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    if (req.method !== 'GET') return apiError(res, 405, 'invalid_argument', 'The event stream needs GET.');
    const refused = refusal(req, url);
    if (refused) return apiError(res, 403, 'forbidden', refused);
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    // Subscribe BEFORE announcing ready: a client that waits for `ready` then calls cannot miss
    // the events its call emits.
    const subs: Unsubscribe[] = API_EVENTS.map((name) =>
      options.backend.events.on(name, (payload) => {
        let data: string;
        try {
          data = JSON.stringify(payload);
        } catch (e) {
          log(`lethe: event ${name} could not be serialized`, e);
          return;
        }
        res.write(`event: ${name}\ndata: ${data}\n\n`);
      }),
    );
    const heartbeat = setInterval(() => res.write(`: heartbeat ${Date.now()}\n\n`), heartbeatMs);
    heartbeat.unref();
    streams.add(res);
    const cleanup = () => {
      clearInterval(heartbeat);
      for (const u of subs) u();
      streams.delete(res);
    };
    res.on('close', cleanup);
    res.write('event: ready\ndata: {}\n\n');
  };

  /** Map a URL path to a file inside staticRoot, or null if it would leave it. */
  const resolveStatic = async (pathname: string): Promise<string | null> => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return null;
    }
    if (decoded.includes('\0') || decoded.includes('\\')) return null;
    const segments = decoded.split('/').filter(Boolean);
    if (segments.some((s) => s === '..' || s === '.' || /^[A-Za-z]:/.test(s))) return null;
    const rel = segments.length === 0 ? 'index.html' : segments.join(path.sep);
    const full = path.resolve(staticRoot, rel);
    if (full !== staticRoot && !full.startsWith(staticRoot + path.sep)) return null;
    // Symlinks must not lead out of the folder either.
    try {
      const real = await fs.realpath(full);
      const realRoot = await fs.realpath(staticRoot);
      if (real !== realRoot && !real.startsWith(realRoot + path.sep)) return null;
      const st = await fs.stat(real);
      return st.isFile() ? real : null;
    } catch {
      return null;
    }
  };

  const serveFile = (res: http.ServerResponse, file: string) => {
    fs.stat(file).then(
      (st) => {
        res.writeHead(200, {
          ...SECURITY_HEADERS,
          'Content-Type': contentTypeOf(file),
          'Content-Length': st.size,
          'Cache-Control': 'no-cache',
        });
        if (res.req.method === 'HEAD') return res.end();
        createReadStream(file)
          .on('error', () => res.destroy())
          .pipe(res);
      },
      () => send(res, 404, 'text/plain; charset=utf-8', 'Not found.\n'),
    );
  };

  const handleStatic = async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed.\n', { Allow: 'GET, HEAD' });
    // Static files need no token (the built renderer holds no secrets), and cookies are ignored here so
    // that a `lethe_token` cookie planted by another local page cannot lock the UI out. A token in the
    // query (an old-style address) is refused, so it is never accepted from a place that logs keep.
    if (queryHasToken(url.search)) return forbiddenPage(res);
    const isIndex = url.pathname === '/' || url.pathname === '/index.html';
    let file = await resolveStatic(url.pathname);
    // Client-side routes (no file extension) get the app shell.
    if (!file && !path.posix.basename(url.pathname).includes('.')) {
      file = await resolveStatic('/index.html');
    }
    if (!file) {
      const missingApp = isIndex;
      return send(
        res,
        404,
        'text/plain; charset=utf-8',
        missingApp ? `The renderer is not built: ${staticRoot} has no index.html (run \`npm run build:web\`).\n` : 'Not found.\n',
      );
    }
    serveFile(res, file);
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      if (!hostAllowed(req.headers.host, port)) {
        return send(res, 403, 'text/plain; charset=utf-8', `Refused: this server only answers requests addressed to 127.0.0.1:${port}.\n`);
      }
      const origin = req.headers.origin;
      if (!originAllowed(origin, port)) {
        return send(res, 403, 'text/plain; charset=utf-8', 'Refused: cross-origin requests are not allowed.\n');
      }
      const url = new URL(req.url ?? '/', `http://${HOST}:${port}`);
      if (url.pathname.startsWith('/api/call/')) return handleCall(req, res, url, decodeSafe(url.pathname.slice('/api/call/'.length)));
      if (url.pathname === '/api/events') return handleEvents(req, res, url);
      if (url.pathname.startsWith('/api/')) return apiError(res, 404, 'not_found', 'No such API endpoint.');
      return handleStatic(req, res, url);
    })().catch((e) => {
      log('lethe: request failed', e);
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'Internal error.\n');
      else res.destroy();
    });
  });
  server.headersTimeout = 30_000;
  server.requestTimeout = 120_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: HOST, port: options.port ?? 0, exclusive: true }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://${HOST}:${port}`;

  return {
    port,
    origin,
    token,
    url: `${origin}/#token=${token}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of streams) res.end();
        streams.clear();
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
  };
}

function decodeSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
