// Web-transport-only behaviour: token, cookie, Host and Origin checks, loopback binding, static
// serving with path-traversal refusal, security headers, body cap, and the SSE stream itself.

import http from 'node:http';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../main/electron/csp';
import { startServer } from '../../main/server/server';
import type { RunningServer } from '../../main/server/server';
import { createWebClient, SseParser } from '../../preload/api/web-client';
import { ApiError } from '../../preload/api/common';
import { makeBackend, SHORT_JOB, tempDir } from './harness';
import type { Backend } from '../../main/backend/service';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function raw(server: RunningServer, opts: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer; host?: string }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method: opts.method ?? 'GET',
        path: opts.path,
        headers: { Host: opts.host ?? `127.0.0.1:${server.port}`, ...opts.headers },
        setHost: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

let backend: Backend;
let root: string;
let staticDir: string;
let server: RunningServer;
let cookie: string;
const api = { 'X-Lethe-Client': '1', 'Content-Type': 'application/json' };

beforeAll(async () => {
  ({ backend, root } = await makeBackend('web'));
  staticDir = await tempDir('lethe-static-');
  await mkdir(path.join(staticDir, 'assets'));
  await writeFile(path.join(staticDir, 'index.html'), '<!doctype html><title>Lethe</title><div id="app"></div>');
  await writeFile(path.join(staticDir, 'assets', 'app.js'), 'console.log(1)');
  await writeFile(path.join(root, 'secret.txt'), 'TOP SECRET');
  await symlink(path.join(root, 'secret.txt'), path.join(staticDir, 'assets', 'link.txt'));
  server = await startServer({ backend, staticDir, heartbeatMs: 50, maxBodyBytes: 1024 * 1024, log: () => {} });
  cookie = `lethe_token=${server.token}`;
});
afterAll(async () => {
  await server?.close();
  await backend?.close();
  await rm(root, { recursive: true, force: true });
  await rm(staticDir, { recursive: true, force: true });
});

describe('access control', () => {
  it('is bound to 127.0.0.1 only, on a random port, with a long random token', async () => {
    expect(server.origin).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(1023);
    expect(server.url).toBe(`${server.origin}/?token=${server.token}`);
    expect(server.token.length).toBeGreaterThanOrEqual(43);
    const other = await startServer({ backend, staticDir, log: () => {} });
    expect(other.token).not.toBe(server.token);
    expect(other.port).not.toBe(server.port);
    await other.close();
    // not reachable on another local address of this machine
    const addrs = Object.values(os.networkInterfaces())
      .flat()
      .filter((a) => a && a.family === 'IPv4' && !a.internal)
      .map((a) => a!.address);
    for (const address of addrs) {
      const err = await new Promise<string>((resolve) => {
        const req = http.get({ host: address, port: server.port, path: '/', timeout: 2000 }, () => resolve('connected'));
        req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
        req.on('timeout', () => {
          req.destroy();
          resolve('timeout');
        });
      });
      expect(err).not.toBe('connected');
    }
    const v6 = await new Promise<string>((resolve) => {
      const req = http.get({ host: '::1', port: server.port, path: '/' }, () => resolve('connected'));
      req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    expect(v6).not.toBe('connected');
  });

  it('GET /?token=<valid> serves the app and sets the HttpOnly SameSite=Strict cookie', async () => {
    const res = await raw(server, { path: `/?token=${server.token}` });
    expect(res.status).toBe(200);
    expect(res.body).toContain('<div id="app">');
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['set-cookie']).toEqual([`lethe_token=${server.token}; HttpOnly; SameSite=Strict; Path=/`]);
  });

  it.each([
    ['no token and no cookie', '/', {}],
    ['a wrong token', '/?token=wrong-token-wrong-token-wrong', {}],
    ['a token of the right length but wrong', '/?token=' + 'A'.repeat(43), {}],
    ['a wrong cookie', '/', { Cookie: 'lethe_token=nope' }],
    ['a static file without cookie', '/assets/app.js', {}],
    ['the token on a non-index path', '/assets/app.js?token=TOKEN', {}],
  ])('answers 403 with a plain page for %s', async (_l, p, headers) => {
    const res = await raw(server, { path: p.replace('TOKEN', server.token), headers });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toMatch(/Open that exact address/);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it.each([
    ['localhost', (p: number) => `localhost:${p}`],
    ['an attacker domain (DNS rebinding)', (p: number) => `evil.example:${p}`],
    ['a wrong port', (p: number) => `127.0.0.1:${p + 1}`],
    ['no port', () => '127.0.0.1'],
    ['empty', () => ''],
  ])('refuses a Host header naming %s', async (_l, host) => {
    const res = await raw(server, { path: `/?token=${server.token}`, host: host(server.port) });
    expect(res.status).toBe(403);
    const call = await raw(server, { method: 'POST', path: '/api/call/app.info', host: host(server.port), headers: { ...api, Cookie: cookie }, body: '{}' });
    expect(call.status).toBe(403);
    expect(call.body).not.toContain('"ok":true');
  });

  it.each(['http://evil.example', 'null', `http://localhost:PORT`, `http://127.0.0.1:1`, 'https://127.0.0.1:PORT'])(
    'refuses a cross-origin request from Origin %s',
    async (origin) => {
      const res = await raw(server, {
        method: 'POST',
        path: '/api/call/settings.update',
        headers: { ...api, Cookie: cookie, Origin: origin.replace('PORT', String(server.port)) },
        body: '{"theme":"dark"}',
      });
      expect(res.status).toBe(403);
      expect((await backend.handlers['settings.get']({})).theme).toBe('system');
    },
  );

  it('accepts our own Origin', async () => {
    const res = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...api, Cookie: cookie, Origin: server.origin }, body: '{}' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ ok: true, result: { name: 'Lethe', shell: 'web' } });
  });

  it('API calls need the cookie, the X-Lethe-Client header and POST', async () => {
    const noCookie = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: api, body: '{}' });
    expect(noCookie.status).toBe(403);
    expect(JSON.parse(noCookie.body)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const tokenInQuery = await raw(server, { method: 'POST', path: `/api/call/app.info?token=${server.token}`, headers: api, body: '{}' });
    expect(tokenInQuery.status).toBe(403);
    const noHeader = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { Cookie: cookie, 'Content-Type': 'application/json' }, body: '{}' });
    expect(noHeader.status).toBe(403);
    const get = await raw(server, { path: '/api/call/app.info', headers: { ...api, Cookie: cookie } });
    expect(get.status).toBe(405);
    const events = await raw(server, { path: '/api/events' });
    expect(events.status).toBe(403);
  });
});

describe('API over HTTP', () => {
  it('maps error codes to statuses and never leaks stacks', async () => {
    const unknown = await raw(server, { method: 'POST', path: '/api/call/nope.nothing', headers: { ...api, Cookie: cookie }, body: '{}' });
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body)).toEqual({ ok: false, error: { code: 'invalid_argument', message: "Unknown method 'nope.nothing'." } });
    const notFound = await raw(server, { method: 'POST', path: '/api/call/jobs.get', headers: { ...api, Cookie: cookie }, body: '{"id":"zzz"}' });
    expect(notFound.status).toBe(404);
    const badJson = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...api, Cookie: cookie }, body: '{not json' });
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body).error.message).toMatch(/not valid JSON/);
    const empty = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...api, Cookie: cookie } });
    expect(empty.status).toBe(200);
    const otherApi = await raw(server, { path: '/api/other', headers: { Cookie: cookie } });
    expect(otherApi.status).toBe(404);
  });

  it('caps the request body', async () => {
    const big = JSON.stringify({ title: 'x'.repeat(2 * 1024 * 1024) });
    const res = await raw(server, { method: 'POST', path: '/api/call/jobs.submit', headers: { ...api, Cookie: cookie }, body: big });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('invalid_argument');
  });

  it('the SSE stream starts with ready, sends heartbeats and events', async () => {
    const ac = new AbortController();
    const res = await fetch(`${server.origin}/api/events`, { headers: { Cookie: cookie }, signal: ac.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('content-security-policy')).toBe(CONTENT_SECURITY_POLICY);
    const reader = res.body!.getReader();
    let text = '';
    const dec = new TextDecoder();
    while (!text.includes(': heartbeat')) text += dec.decode((await reader.read()).value);
    expect(text.startsWith('event: ready\ndata: {}\n\n')).toBe(true);
    const job = await backend.handlers['jobs.submit'](SHORT_JOB);
    await backend.handlers['jobs.cancel']({ id: job.id });
    while (!text.includes('event: jobs.event')) text += dec.decode((await reader.read()).value);
    const msgs = new SseParser().feed(text).filter((m) => m.event === 'jobs.event');
    expect(JSON.parse(msgs[0].data)).toMatchObject({ type: 'state', job: { kind: 'diagnostics.stress', state: 'queued' } });
    ac.abort();
  });

  it('the web client reports a refused token as a forbidden ApiError', async () => {
    const client = createWebClient({ baseUrl: server.origin, token: 'x'.repeat(43), reconnectDelayMs: 10 });
    const err = await client.ready.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('forbidden');
    await expect(client.call('app.info', {})).rejects.toMatchObject({ code: 'forbidden' });
    client.close();
  });
});

describe('static files', () => {
  it('serves built files with the cookie and falls back to index.html for client routes', async () => {
    const js = await raw(server, { path: '/assets/app.js', headers: { Cookie: cookie } });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.body).toBe('console.log(1)');
    const route = await raw(server, { path: '/runs/abc', headers: { Cookie: cookie } });
    expect(route.status).toBe(200);
    expect(route.body).toContain('<div id="app">');
    const missing = await raw(server, { path: '/assets/missing.js', headers: { Cookie: cookie } });
    expect(missing.status).toBe(404);
  });

  it.each([
    '/../secret.txt',
    '/assets/../../secret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E%2Fsecret.txt',
    '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
    '/..%5csecret.txt',
    '/assets/..%5c..%5csecret.txt',
    '/%00index.html',
    '/index.html%00.js',
    '/assets/link.txt',
    '/C:%5cWindows%5cwin.ini',
    '//etc/passwd',
    '/%252e%252e/secret.txt',
    '/assets/%c0%ae%c0%ae/secret.txt',
    '/.%2e/secret.txt',
  ])('refuses path traversal %s', async (p) => {
    const res = await raw(server, { path: p, headers: { Cookie: cookie } });
    expect(res.body).not.toContain('TOP SECRET');
    expect(res.body).not.toContain('root:');
  });

  it('puts the security headers on every response', async () => {
    const responses = await Promise.all([
      raw(server, { path: `/?token=${server.token}` }),
      raw(server, { path: '/' }),
      raw(server, { path: '/assets/app.js', headers: { Cookie: cookie } }),
      raw(server, { path: '/nope.js', headers: { Cookie: cookie } }),
      raw(server, { path: '/', host: 'evil.example' }),
      raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...api, Cookie: cookie }, body: '{}' }),
      raw(server, { method: 'POST', path: '/api/call/app.info', headers: api, body: '{}' }),
      raw(server, { method: 'DELETE', path: '/', headers: { Cookie: cookie } }),
    ]);
    for (const res of responses) {
      expect(res.headers['content-security-policy']).toBe(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
      );
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['referrer-policy']).toBe('no-referrer');
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
    }
  });
});

describe('SseParser', () => {
  it('parses events split at any byte, CRLF and LF, comments and multi-line data', () => {
    const stream = 'event: ready\r\ndata: {}\r\n\r\n: heartbeat\n\nevent: jobs.event\ndata: {"a":\ndata: 1}\n\ndata: plain\n\n';
    for (let cut = 0; cut <= stream.length; cut++) {
      const p = new SseParser();
      const out = [...p.feed(stream.slice(0, cut)), ...p.feed(stream.slice(cut))];
      expect(out).toEqual([
        { event: 'ready', data: '{}' },
        { event: 'jobs.event', data: '{"a":\n1}' },
        { event: 'message', data: 'plain' },
      ]);
    }
  });
});
