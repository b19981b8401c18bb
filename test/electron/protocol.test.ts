// Issue 9, point 6: app:// is served from files the main process reads itself (fs), not through
// net.fetch(file://) (a `file:` request filter, such as ours, can block that path in some Electron
// versions). Path containment of the URL is tested in test/security/checklist.test.ts.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registerAppProtocol, serveAppRequest } from '../../main/electron/protocol';
import { APP_RESPONSE_HEADERS } from '../../main/electron/security';

const ROOT = path.resolve(__dirname, '../..');
const dir = mkdtempSync(path.join(tmpdir(), 'lethe-protocol-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const renderer = path.join(dir, 'renderer');
mkdirSync(path.join(renderer, 'assets'), { recursive: true });
writeFileSync(path.join(renderer, 'index.html'), '<!doctype html><title>Lethe</title>');
writeFileSync(path.join(renderer, 'assets', 'app.js'), 'console.log(1)');
writeFileSync(path.join(renderer, 'assets', 'font.woff2'), Buffer.from([0, 1, 2, 255]));
writeFileSync(path.join(dir, 'secret.txt'), 'outside');
symlinkSync(path.join(dir, 'secret.txt'), path.join(renderer, 'assets', 'escape.txt'));

/** registerAppProtocol with a fake `protocol`: returns the handler it installed. */
function handler(): (r: Request) => Promise<Response> {
  let h: ((r: Request) => Response | Promise<Response>) | null = null;
  registerAppProtocol({ handle: (scheme, fn) => (expect(scheme).toBe('app'), (h = fn)) }, renderer);
  return async (r) => h!(r);
}

describe('app:// protocol', () => {
  it('answers with the bytes of the file it read, its content type and the security headers', async () => {
    const h = handler();
    const js = await h(new Request('app://lethe/assets/app.js'));
    expect(js.status).toBe(200);
    expect(await js.text()).toBe('console.log(1)');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    for (const [k, v] of Object.entries(APP_RESPONSE_HEADERS)) expect(js.headers.get(k)).toBe(v);
    const font = await h(new Request('app://lethe/assets/font.woff2'));
    expect(font.headers.get('content-type')).toBe('font/woff2');
    expect(new Uint8Array(await font.arrayBuffer())).toEqual(new Uint8Array([0, 1, 2, 255]));
    const index = await h(new Request('app://lethe/'));
    expect(await index.text()).toContain('<title>Lethe</title>');
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });

  it('falls back to the app shell for client routes, 404 for missing files, symlink escapes and other methods', async () => {
    const root = Promise.resolve(renderer);
    expect(await (await serveAppRequest(renderer, root, { method: 'GET', url: 'app://lethe/compare' })).text()).toContain('<title>Lethe</title>');
    expect((await serveAppRequest(renderer, root, { method: 'GET', url: 'app://lethe/assets/missing.js' })).status).toBe(404);
    expect((await serveAppRequest(renderer, root, { method: 'GET', url: 'app://lethe/assets/escape.txt' })).status).toBe(404);
    expect((await serveAppRequest(renderer, root, { method: 'POST', url: 'app://lethe/index.html' })).status).toBe(404);
    expect((await serveAppRequest(renderer, root, { method: 'GET', url: 'app://evil/index.html' })).status).toBe(404);
    const head = await serveAppRequest(renderer, root, { method: 'HEAD', url: 'app://lethe/index.html' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('never goes through net.fetch or file:// (the sources say so)', () => {
    const src = readFileSync(path.join(ROOT, 'main/electron/protocol.ts'), 'utf8').replace(/\/\/.*$/gm, '');
    expect(src).not.toMatch(/net\.fetch|pathToFileURL|file:\/\//);
    expect(src).toMatch(/fs\.readFile\(/);
    const main = readFileSync(path.join(ROOT, 'main/index.ts'), 'utf8');
    expect(main).toMatch(/registerAppProtocol\(protocol, rendererDir\)/);
    expect(main).not.toMatch(/\bnet\b.*from 'electron'|import \{[^}]*\bnet\b[^}]*\} from 'electron'/);
  });
});
