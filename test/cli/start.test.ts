// `npm start` where there is no Electron binary (these machines): builds the browser UI, serves it
// on 127.0.0.1 and prints the URL; an HTTP GET of that URL returns the app. Built into a temporary
// folder so it never races other tests over out/renderer.

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
let tmp = '';
afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

it('npm start (no Electron binary) serves the UI at the printed URL and stops on SIGTERM', async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'lethe-start-'));
  const child = spawn(process.execPath, [path.join(ROOT, 'scripts/start.mjs'), '--workspace', path.join(tmp, 'ws')], {
    cwd: ROOT,
    env: { ...process.env, LETHE_NO_ELECTRON: '1', LETHE_STATIC_DIR: path.join(tmp, 'renderer') },
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no URL after 90 s; stderr: ${err}`)), 90_000);
      child.stdout.on('data', (d) => {
        out += d;
        const m = /Lethe is running at (http:\/\/127\.0\.0\.1:\d+\/#token=[A-Za-z0-9_-]+)/.exec(out);
        if (m) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
      child.on('close', () => reject(new Error(`start.mjs exited early; stderr: ${err}`)));
    });
    expect(err).toContain('no Electron binary here');
    const res = await fetch(url);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<div id="app">');
    const script = /<script type="module"[^>]*src="([^"]+)"/.exec(html)?.[1];
    expect(script).toBeTruthy();
    // no cookie; the bundle needs no token, the API needs it in the X-Lethe-Token header
    expect(res.headers.get('set-cookie')).toBeNull();
    const js = await fetch(new URL(script!, url));
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const token = new URL(url).hash.slice('#token='.length);
    const call = (headers: Record<string, string>) =>
      fetch(new URL('/api/call/app.info', url), { method: 'POST', headers: { 'X-Lethe-Client': '1', 'Content-Type': 'application/json', ...headers }, body: '{}' });
    expect((await call({ 'X-Lethe-Token': token })).status).toBe(200);
    expect((await call({ Cookie: `lethe_token=${token}` })).status).toBe(403);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exit).toBe(0);
});
