// Electron's security checklist (https://www.electronjs.org/docs/latest/tutorial/security), items
// 1-17, each mapped to assertions on the pure functions and sources that produce Lethe's settings
// (RELIABILITY.md S1). The runtime check of real windows needs the Electron binary (S2).

import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  APP_ENTRY_URL,
  APP_RESPONSE_HEADERS,
  CONTENT_SECURITY_POLICY,
  EXTERNAL_HOSTS,
  decideWindowOpen,
  externalUrlAllowed,
  hardenWebContents,
  isAppUrl,
  navigationAllowed,
  permissionCheckHandler,
  permissionRequestHandler,
  requestAllowed,
  secureWebPreferences,
} from '../../main/electron/security';
import { SECURITY_HEADERS } from '../../main/server/security';
import { resolveAppPath } from '../../main/electron/protocol';
import { HOSTILE_URLS } from './hostile-urls';

vi.mock('electron', () => ({ ipcMain: { handle() {}, removeHandler() {} } }));

const ROOT = path.resolve(__dirname, '../..');
const PRELOAD = '/opt/Lethe/resources/app/out/preload/index.cjs';
const prefs = secureWebPreferences(PRELOAD);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (/\.(ts|vue|mjs|js)$/.test(name)) out.push(p);
  }
  return out;
}
const electronSources = [...sources(path.join(ROOT, 'main/electron')), path.join(ROOT, 'main/index.ts'), path.join(ROOT, 'preload/index.ts')];
const read = (p: string) => readFileSync(p, 'utf8');

/** A fake webContents recording the guards hardenWebContents attaches. */
function fakeContents() {
  const listeners = new Map<string, (...a: unknown[]) => void>();
  let openHandler: ((d: { url: string }) => { action: string }) | null = null;
  return {
    on: (e: string, l: (...a: never[]) => void) => listeners.set(e, l as (...a: unknown[]) => void),
    setWindowOpenHandler: (h: typeof openHandler) => (openHandler = h),
    fire(e: string, url: string) {
      let prevented = false;
      listeners.get(e)!({ preventDefault: () => (prevented = true), url }, url);
      return prevented;
    },
    open: (url: string) => openHandler!({ url }),
    has: (e: string) => listeners.has(e),
  };
}

const checklist: [number, string, () => void][] = [
  [1, 'Only load secure content', () => {
    expect(APP_ENTRY_URL).toBe('app://lethe/index.html');
    expect(requestAllowed(APP_ENTRY_URL)).toBe(true);
    for (const u of ['http://example.com/x.js', 'https://cdn.example/x.js', 'ws://example.com', 'file:///etc/passwd']) expect(requestAllowed(u)).toBe(false);
    const main = read(path.join(ROOT, 'main/index.ts'));
    expect(main).toMatch(/onBeforeRequest/);
    expect(main).toMatch(/registerSchemesAsPrivileged\(\[\s*\{ scheme: APP_SCHEME, privileges: \{ standard: true, secure: true/);
  }],
  [2, 'Do not enable Node.js integration for remote content', () => {
    expect(prefs.nodeIntegration).toBe(false);
    expect(prefs.nodeIntegrationInWorker).toBe(false);
    expect(prefs.nodeIntegrationInSubFrames).toBe(false);
  }],
  [3, 'Enable context isolation', () => {
    expect(prefs.contextIsolation).toBe(true);
    // the preload exposes only through contextBridge
    const preload = read(path.join(ROOT, 'preload/index.ts'));
    expect(preload).toMatch(/contextBridge\.exposeInMainWorld\('lethe'/);
    expect(preload).not.toMatch(/window\.\w+\s*=|globalThis\.\w+\s*=/);
  }],
  [4, 'Enable process sandboxing', () => {
    expect(prefs.sandbox).toBe(true);
    expect(prefs.preload).toBe(PRELOAD);
    expect(() => secureWebPreferences('preload.js')).toThrow(/absolute path to a \.cjs/);
    expect(() => secureWebPreferences('/x/preload.mjs')).toThrow();
    // a sandboxed preload can only require 'electron' (and bundled code)
    const preload = read(path.join(ROOT, 'preload/index.ts'));
    for (const m of preload.matchAll(/from '([^']+)'/g)) expect(m[1] === 'electron' || m[1].startsWith('./')).toBe(true);
  }],
  [5, 'Handle session permission requests from remote content', () => {
    for (const perm of ['media', 'geolocation', 'notifications', 'midi', 'midiSysex', 'pointerLock', 'fullscreen', 'openExternal', 'clipboard-read', 'clipboard-sanitized-write', 'hid', 'serial', 'usb', 'display-capture', 'unknown']) {
      let granted: boolean | null = null;
      permissionRequestHandler(null, perm, (g) => (granted = g));
      expect(granted).toBe(false);
    }
    expect(permissionCheckHandler()).toBe(false);
    const main = read(path.join(ROOT, 'main/index.ts'));
    expect(main).toMatch(/setPermissionRequestHandler\(permissionRequestHandler\)/);
    expect(main).toMatch(/setPermissionCheckHandler\(permissionCheckHandler\)/);
  }],
  [6, 'Do not disable webSecurity', () => {
    expect(prefs.webSecurity).toBe(true);
    for (const f of electronSources) expect(read(f)).not.toMatch(/webSecurity:\s*false/);
  }],
  [7, 'Define a Content-Security-Policy', () => {
    expect(CONTENT_SECURITY_POLICY).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    );
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-inline|unsafe-eval|\*|http:|https:/);
    expect(APP_RESPONSE_HEADERS['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(SECURITY_HEADERS['Content-Security-Policy']).toBe(CONTENT_SECURITY_POLICY);
  }],
  [8, 'Do not enable allowRunningInsecureContent', () => {
    expect(prefs.allowRunningInsecureContent).toBe(false);
    for (const f of electronSources) expect(read(f)).not.toMatch(/allowRunningInsecureContent:\s*true/);
  }],
  [9, 'Do not enable experimental features', () => {
    expect(prefs.experimentalFeatures).toBe(false);
    for (const f of electronSources) expect(read(f)).not.toMatch(/experimentalFeatures:\s*true/);
  }],
  [10, 'Do not use enableBlinkFeatures', () => {
    expect(prefs.enableBlinkFeatures).toBe('');
    for (const f of electronSources) expect(read(f)).not.toMatch(/enableBlinkFeatures:\s*'[^']/);
  }],
  [11, '<webview>: Do not use allowpopups', () => {
    expect(prefs.webviewTag).toBe(false);
    for (const f of [...electronSources, ...sources(path.join(ROOT, 'renderer'))]) expect(read(f)).not.toMatch(/allowpopups/i);
  }],
  [12, '<webview>: Verify options and params', () => {
    const c = fakeContents();
    hardenWebContents(c, { openExternal: () => {}, log: () => {} });
    expect(c.fire('will-attach-webview', 'https://evil.example/')).toBe(true);
  }],
  [13, 'Disable or limit navigation', () => {
    const c = fakeContents();
    hardenWebContents(c, { openExternal: () => {}, log: () => {} });
    for (const e of ['will-navigate', 'will-frame-navigate', 'will-redirect']) {
      expect(c.fire(e, 'https://evil.example/')).toBe(true);
      expect(c.fire(e, 'app://lethe/index.html#/runs')).toBe(false);
    }
  }],
  [14, 'Disable or limit creation of new windows', () => {
    const opened: string[] = [];
    const c = fakeContents();
    hardenWebContents(c, { openExternal: (u) => opened.push(u), log: () => {} });
    expect(c.open('app://lethe/index.html')).toEqual({ action: 'deny' });
    expect(c.open('https://github.com/lethe')).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://github.com/lethe']);
    const main = read(path.join(ROOT, 'main/index.ts'));
    expect(main).toMatch(/web-contents-created[\s\S]*hardenWebContents/);
  }],
  [15, 'Do not use shell.openExternal with untrusted content', () => {
    expect(externalUrlAllowed('https://github.com/x/y')).toBe(true);
    expect(externalUrlAllowed('https://onnx.ai/onnx/operators/')).toBe(true);
    for (const u of HOSTILE_URLS) expect(externalUrlAllowed(u), u).toBe(false);
    for (const f of electronSources) {
      // only ever called with the allow-listed URL (security.ts) or a URL that went through it (hardenWebContents' callback)
      for (const m of read(f).matchAll(/openExternal\(([^)]*)\)/g)) expect(['url', 'decision.openExternal'], f).toContain(m[1].trim());
    }
  }],
  [16, 'Use a current version of Electron', () => {
    const v = JSON.parse(read(path.join(ROOT, 'node_modules/electron/package.json'))).version as string;
    expect(Number(v.split('.')[0])).toBeGreaterThanOrEqual(45);
    const declared = JSON.parse(read(path.join(ROOT, 'package.json'))).devDependencies.electron as string;
    expect(declared).toMatch(/^\^?4[5-9]|^\^?[5-9]\d/);
  }],
  [17, 'Validate the sender of all IPC messages', async () => {
    const { senderAllowed } = await import('../../main/electron/ipc');
    const ours = { id: 1 };
    const opts = { windows: () => [ours as never] };
    expect(senderAllowed({ sender: ours as never, senderFrame: { url: 'app://lethe/index.html' } as never }, opts)).toBe(true);
    expect(senderAllowed({ sender: { id: 2 } as never, senderFrame: { url: 'app://lethe/index.html' } as never }, opts)).toBe(false);
    expect(senderAllowed({ sender: ours as never, senderFrame: null as never }, opts)).toBe(false);
    for (const u of HOSTILE_URLS) expect(senderAllowed({ sender: ours as never, senderFrame: { url: u } as never }, opts), u).toBe(false);
    const ipc = read(path.join(ROOT, 'main/electron/ipc.ts'));
    expect(ipc).toMatch(/if \(!senderAllowed\(event, opts\)\)/);
  }],
];

describe("Electron's security checklist", () => {
  it('covers items 1 to 17', () => {
    expect(checklist.map(([n]) => n)).toEqual(Array.from({ length: 17 }, (_, i) => i + 1));
  });
  it.each(checklist)('%i. %s', async (_n, _title, check) => {
    await check();
  });
});

describe('hostile URL battery (S5)', () => {
  it('has at least 30 URLs', () => {
    expect(HOSTILE_URLS.length).toBeGreaterThanOrEqual(30);
  });
  it.each(HOSTILE_URLS.map((u) => [u.slice(0, 60), u]))('refuses %s everywhere', (_l, url) => {
    expect(isAppUrl(url)).toBe(false);
    expect(navigationAllowed(url)).toBe(false);
    expect(externalUrlAllowed(url)).toBe(false);
    expect(decideWindowOpen(url)).toEqual({ action: 'deny', openExternal: null });
    const opened: string[] = [];
    const logs: string[] = [];
    const c = fakeContents();
    hardenWebContents(c, { openExternal: (u) => opened.push(u), log: (m) => logs.push(m) });
    expect(c.fire('will-navigate', url)).toBe(true);
    expect(c.fire('will-redirect', url)).toBe(true);
    expect(c.open(url)).toEqual({ action: 'deny' });
    expect(opened).toEqual([]);
    expect(logs.length).toBe(3); // each attempt logged
  });
  it('allows only our app and, in development, the exact dev-server origin', () => {
    expect(navigationAllowed('app://lethe/index.html')).toBe(true);
    // hosts of custom schemes are compared exactly (Chromium lower-cases standard-scheme hosts before we see them)
    expect(navigationAllowed('app://LETHE/index.html')).toBe(false);
    expect(navigationAllowed('http://localhost:5173/')).toBe(false);
    expect(navigationAllowed('http://localhost:5173/', ['http://localhost:5173'])).toBe(true);
    expect(navigationAllowed('http://localhost:5174/', ['http://localhost:5173'])).toBe(false);
    expect(externalUrlAllowed('https://GITHUB.com/x')).toBe(true);
    expect(EXTERNAL_HOSTS.every((h) => !h.includes('*'))).toBe(true);
  });
});

describe('app:// protocol path containment', () => {
  const root = '/opt/lethe/out/renderer';
  it.each([
    ['app://lethe/', '/opt/lethe/out/renderer/index.html'],
    ['app://lethe/index.html', '/opt/lethe/out/renderer/index.html'],
    ['app://lethe/assets/app.js?x=1#y', '/opt/lethe/out/renderer/assets/app.js'],
  ])('resolves %s', (url, file) => {
    expect(resolveAppPath(root, url)).toBe(file);
  });
  it.each([
    'app://lethe/../secret',
    'app://lethe/%2e%2e/secret',
    'app://lethe/assets/%2e%2e%2f%2e%2e%2fsecret',
    'app://lethe/..%5csecret',
    'app://lethe/%00index.html',
    'app://lethe/C:%5cWindows',
    'app://lethe/%E0%A4%A',
    'app://evil/index.html',
    'app://user@lethe/index.html',
    'file:///etc/passwd',
    'https://lethe/index.html',
  ])('refuses %s', (url) => {
    // either refused, or (the URL parser already removed the dot segments) a path inside the root
    const r = resolveAppPath(root, url);
    expect(r === null || r.startsWith(root + path.sep)).toBe(true);
    if (r) expect(r).not.toMatch(/\.\.|\\|\0|Windows/);
  });
});
