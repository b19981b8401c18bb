// Web-transport-only behaviour: the token header (never a cookie, never the query), Host and Origin
// checks, loopback binding, static serving with path-traversal refusal, security headers, body cap,
// and the SSE stream itself.

import http from 'node:http';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../main/electron/csp';
import { startServer } from '../../main/server/server';
import type { RunningServer } from '../../main/server/server';
import { apiTokenRefusal, cookieNames, headerValues, queryHasToken } from '../../main/server/security';
import { createWebClient, SseParser, takeTokenFromHash } from '../../preload/api/web-client';
import { ApiError } from '../../preload/api/common';
import { makeBackend, SHORT_JOB, tempDir } from './harness';
import type { Backend } from '../../main/backend/service';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function raw(
  server: RunningServer,
  opts: { method?: string; path: string; headers?: Record<string, string> | string[]; body?: string | Buffer; host?: string },
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port: server.port,
        method: opts.method ?? 'GET',
        path: opts.path,
        // an array of [name, value, name, value...] sends repeated headers as they are
        headers: Array.isArray(opts.headers) ? ['Host', opts.host ?? `127.0.0.1:${server.port}`, ...opts.headers] : { Host: opts.host ?? `127.0.0.1:${server.port}`, ...opts.headers },
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
let auth: Record<string, string>;
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
  auth = { 'X-Lethe-Token': server.token };
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
    expect(server.url).toBe(`${server.origin}/#token=${server.token}`);
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

  it('serves the app without a token and never sets a cookie', async () => {
    const res = await raw(server, { path: '/' });
    expect(res.status).toBe(200);
    expect(res.body).toContain('<div id="app">');
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['set-cookie']).toBeUndefined();
    // a planted lethe_token cookie does not lock the app shell out
    const planted = await raw(server, { path: '/assets/app.js', headers: { Cookie: 'lethe_token=planted-by-another-port' } });
    expect(planted.status).toBe(200);
    expect(planted.headers['set-cookie']).toBeUndefined();
  });

  it.each([
    ['a valid token in the query', '/?token=TOKEN'],
    ['a wrong token in the query', '/?token=wrong-token-wrong-token-wrong'],
    ['the token on a non-index path', '/assets/app.js?token=TOKEN'],
    ['a lethe_token query parameter', '/?lethe_token=TOKEN'],
  ])('answers 403 with a plain page for %s', async (_l, p) => {
    const res = await raw(server, { path: p.replace('TOKEN', server.token) });
    expect(res.status).toBe(403);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.body).toMatch(/#token=/);
    expect(res.body).not.toContain(server.token);
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it.each([
    ['no token', [] as string[], /Missing or wrong access token/],
    ['a wrong token', ['X-Lethe-Token', 'x'.repeat(43)], /Missing or wrong access token/],
    ['the token only as a cookie', ['Cookie', 'lethe_token=TOKEN'], /lethe_token cookie/],
    ['the right header plus a lethe_token cookie', ['X-Lethe-Token', 'TOKEN', 'Cookie', 'a=1; lethe_token=TOKEN'], /lethe_token cookie/],
    ['the right header plus a planted cookie', ['X-Lethe-Token', 'TOKEN', 'Cookie', 'lethe_token=planted'], /lethe_token cookie/],
    ['the right header twice', ['X-Lethe-Token', 'TOKEN', 'X-Lethe-Token', 'TOKEN'], /more than one X-Lethe-Token/],
    ['a wrong header and the right one', ['X-Lethe-Token', 'nope', 'x-lethe-token', 'TOKEN'], /more than one X-Lethe-Token/],
    ['the right header and the token in the query', ['X-Lethe-Token', 'TOKEN'], /URL query/, '?token=TOKEN'],
  ])('refuses an API call and the event stream with %s', async (_l, headers, message, query = '') => {
    const h = (headers as string[]).map((v) => v.replace('TOKEN', server.token));
    const q = (query as string).replace('TOKEN', server.token);
    const call = await raw(server, { method: 'POST', path: `/api/call/app.info${q}`, headers: [...h, 'X-Lethe-Client', '1', 'Content-Type', 'application/json'], body: '{}' });
    expect(call.status).toBe(403);
    const env = JSON.parse(call.body);
    expect(env).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect(env.error.message).toMatch(message as RegExp);
    expect(env.error.message).not.toContain('\n');
    expect(env.error.message).not.toMatch(/\bat .*\(/);
    expect(call.headers['set-cookie']).toBeUndefined();
    const events = await raw(server, { path: `/api/events${q}`, headers: h });
    expect(events.status).toBe(403);
    expect(JSON.parse(events.body).error.message).toMatch(message as RegExp);
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
    const call = await raw(server, { method: 'POST', path: '/api/call/app.info', host: host(server.port), headers: { ...api, ...auth }, body: '{}' });
    expect(call.status).toBe(403);
    expect(call.body).not.toContain('"ok":true');
  });

  it.each(['http://evil.example', 'null', `http://localhost:PORT`, `http://127.0.0.1:1`, 'https://127.0.0.1:PORT'])(
    'refuses a cross-origin request from Origin %s',
    async (origin) => {
      const res = await raw(server, {
        method: 'POST',
        path: '/api/call/settings.update',
        headers: { ...api, ...auth, Origin: origin.replace('PORT', String(server.port)) },
        body: '{"theme":"dark"}',
      });
      expect(res.status).toBe(403);
      expect((await backend.handlers['settings.get']({})).theme).toBe('system');
    },
  );

  it('accepts our own Origin', async () => {
    const res = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...api, ...auth, Origin: server.origin }, body: '{}' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toMatchObject({ ok: true, result: { name: 'Lethe', shell: 'web' } });
  });

  it('API calls need the token header, the X-Lethe-Client header and POST', async () => {
    const noToken = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: api, body: '{}' });
    expect(noToken.status).toBe(403);
    expect(JSON.parse(noToken.body)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    const tokenInQuery = await raw(server, { method: 'POST', path: `/api/call/app.info?token=${server.token}`, headers: api, body: '{}' });
    expect(tokenInQuery.status).toBe(403);
    const noHeader = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...auth, 'Content-Type': 'application/json' }, body: '{}' });
    expect(noHeader.status).toBe(403);
    const get = await raw(server, { path: '/api/call/app.info', headers: { ...api, ...auth } });
    expect(get.status).toBe(405);
    const events = await raw(server, { path: '/api/events' });
    expect(events.status).toBe(403);
  });
});

describe('API over HTTP', () => {
  it('maps error codes to statuses and never leaks stacks', async () => {
    const unknown = await raw(server, { method: 'POST', path: '/api/call/nope.nothing', headers: { ...api, ...auth }, body: '{}' });
    expect(unknown.status).toBe(400);
    expect(JSON.parse(unknown.body)).toEqual({ ok: false, error: { code: 'invalid_argument', message: "Unknown method 'nope.nothing'." } });
    const notFound = await raw(server, { method: 'POST', path: '/api/call/jobs.get', headers: { ...api, ...auth }, body: '{"id":"zzz"}' });
    expect(notFound.status).toBe(404);
    const badJson = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...api, ...auth }, body: '{not json' });
    expect(badJson.status).toBe(400);
    expect(JSON.parse(badJson.body).error.message).toMatch(/not valid JSON/);
    const empty = await raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...api, ...auth } });
    expect(empty.status).toBe(200);
    const otherApi = await raw(server, { path: '/api/other', headers: auth });
    expect(otherApi.status).toBe(404);
  });

  it('caps the request body', async () => {
    const big = JSON.stringify({ title: 'x'.repeat(2 * 1024 * 1024) });
    const res = await raw(server, { method: 'POST', path: '/api/call/jobs.submit', headers: { ...api, ...auth }, body: big });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).error.code).toBe('invalid_argument');
  });

  it('the SSE stream starts with ready, sends heartbeats and events', async () => {
    const ac = new AbortController();
    const res = await fetch(`${server.origin}/api/events`, { headers: auth, signal: ac.signal });
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
  it('serves built files and falls back to index.html for client routes', async () => {
    const js = await raw(server, { path: '/assets/app.js', headers: auth });
    expect(js.status).toBe(200);
    expect(js.headers['content-type']).toMatch(/^text\/javascript/);
    expect(js.body).toBe('console.log(1)');
    const route = await raw(server, { path: '/runs/abc', headers: auth });
    expect(route.status).toBe(200);
    expect(route.body).toContain('<div id="app">');
    const missing = await raw(server, { path: '/assets/missing.js', headers: auth });
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
    const res = await raw(server, { path: p, headers: auth });
    expect(res.body).not.toContain('TOP SECRET');
    expect(res.body).not.toContain('root:');
  });

  it('puts the security headers on every response', async () => {
    const responses = await Promise.all([
      raw(server, { path: `/?token=${server.token}` }),
      raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...api, ...auth, Cookie: 'lethe_token=x' }, body: '{}' }),
      raw(server, { path: '/' }),
      raw(server, { path: '/assets/app.js', headers: auth }),
      raw(server, { path: '/nope.js', headers: auth }),
      raw(server, { path: '/', host: 'evil.example' }),
      raw(server, { method: 'POST', path: '/api/call/app.info', headers: { ...api, ...auth }, body: '{}' }),
      raw(server, { method: 'POST', path: '/api/call/app.info', headers: api, body: '{}' }),
      raw(server, { method: 'DELETE', path: '/', headers: auth }),
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

describe('token checks (pure)', () => {
  const T = 'k'.repeat(43);
  it('accepts exactly one matching X-Lethe-Token header, whatever its case', () => {
    expect(apiTokenRefusal({ rawHeaders: ['X-Lethe-Token', T], search: '' }, T)).toBeNull();
    expect(apiTokenRefusal({ rawHeaders: ['x-lethe-token', T, 'Cookie', 'theme=dark'], search: '?a=1' }, T)).toBeNull();
  });
  it('refuses a missing, wrong, repeated or comma-joined header', () => {
    expect(apiTokenRefusal({ rawHeaders: [], search: '' }, T)).toMatch(/^Missing or wrong access token/);
    expect(apiTokenRefusal({ rawHeaders: ['X-Lethe-Token', T + 'x'], search: '' }, T)).toMatch(/^Missing or wrong/);
    expect(apiTokenRefusal({ rawHeaders: ['X-Lethe-Token', `${T}, ${T}`], search: '' }, T)).toMatch(/^Missing or wrong/);
    expect(apiTokenRefusal({ rawHeaders: ['X-Lethe-Token', T, 'X-LETHE-TOKEN', T], search: '' }, T)).toMatch(/more than one X-Lethe-Token header/);
  });
  it('refuses a lethe_token cookie in any Cookie header, even beside the right header', () => {
    expect(apiTokenRefusal({ rawHeaders: ['X-Lethe-Token', T, 'Cookie', `lethe_token=${T}`], search: '' }, T)).toMatch(/lethe_token cookie/);
    expect(apiTokenRefusal({ rawHeaders: ['X-Lethe-Token', T, 'cookie', 'a=1', 'Cookie', ' lethe_token = x ; b=2'], search: '' }, T)).toMatch(/lethe_token cookie/);
    expect(cookieNames(['Cookie', 'a=1; b; lethe_token=2', 'Other', 'lethe_token=3'])).toEqual(['a', 'b', 'lethe_token']);
  });
  it('refuses a token in the query', () => {
    expect(queryHasToken('?token=x')).toBe(true);
    expect(queryHasToken('?a=1&TOKEN=')).toBe(true);
    expect(queryHasToken('?lethe_token=x')).toBe(true);
    expect(queryHasToken('?tokens=x')).toBe(false);
    expect(apiTokenRefusal({ rawHeaders: ['X-Lethe-Token', T], search: `?token=${T}` }, T)).toMatch(/URL query/);
  });
  it('headerValues keeps repeated headers apart', () => {
    expect(headerValues(['A', '1', 'x-lethe-token', '2', 'X-Lethe-Token', '3'], 'x-lethe-token')).toEqual(['2', '3']);
  });
});

describe('takeTokenFromHash', () => {
  it.each([
    ['#token=abc', 'abc', ''],
    ['#/settings?token=abc', 'abc', '#/settings'],
    ['#/runs?x=1&token=abc&y=2', 'abc', '#/runs?x=1&y=2'],
    ['#/models', null, '#/models'],
    ['', null, ''],
    ['#', null, '#'],
    ['#tokens=abc', null, '#tokens=abc'],
  ])('%s', (hash, token, rest) => {
    expect(takeTokenFromHash(hash)).toEqual({ token, hash: rest });
  });
});
