// Issue 9, point 6: ELECTRON_RENDERER_URL is honoured only by an unpackaged development build (and
// only for a dev server on this machine); DevTools are off in every other build.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { devRendererUrl, isDevelopmentBuild, secureWebPreferences } from '../../main/electron/security';

const ROOT = path.resolve(__dirname, '../..');
const PRELOAD = '/opt/Lethe/resources/app.asar/out/preload/index.cjs';
const DEV = { packaged: false, devBuild: true };

describe('development-only settings', () => {
  it('only an unpackaged development build is one', () => {
    expect(isDevelopmentBuild(DEV)).toBe(true);
    expect(isDevelopmentBuild({ packaged: true, devBuild: true })).toBe(false);
    expect(isDevelopmentBuild({ packaged: false, devBuild: false })).toBe(false);
    expect(isDevelopmentBuild({ packaged: true, devBuild: false })).toBe(false);
  });

  it('ELECTRON_RENDERER_URL: honoured in a development build for a local dev server, ignored everywhere else', () => {
    expect(devRendererUrl('http://localhost:5173', DEV)).toBe('http://localhost:5173/');
    expect(devRendererUrl('http://127.0.0.1:5173/', DEV)).toBe('http://127.0.0.1:5173/');
    for (const b of [{ packaged: true, devBuild: false }, { packaged: false, devBuild: false }, { packaged: true, devBuild: true }]) {
      expect(devRendererUrl('http://localhost:5173', b), JSON.stringify(b)).toBeUndefined();
    }
    for (const u of ['https://evil.example/', 'file:///etc/passwd', 'javascript:alert(1)', 'http://user:pw@localhost:5173', 'http://localhost.evil.example:5173', 'not a url', '']) {
      expect(devRendererUrl(u, DEV), u).toBeUndefined();
    }
    expect(devRendererUrl(undefined, DEV)).toBeUndefined();
  });

  it('DevTools are off unless asked for, and main/index.ts asks only in a development build', () => {
    expect(secureWebPreferences(PRELOAD).devTools).toBe(false);
    expect(secureWebPreferences(PRELOAD, { devTools: false }).devTools).toBe(false);
    expect(secureWebPreferences(PRELOAD, { devTools: true }).devTools).toBe(true);
    const main = readFileSync(path.join(ROOT, 'main/index.ts'), 'utf8');
    expect(main).toMatch(/const build = \{ packaged: app\.isPackaged, devBuild: \(import\.meta as [^)]*\)\.env\?\.DEV === true \};/);
    expect(main).toMatch(/const devUrl = devRendererUrl\(process\.env\.ELECTRON_RENDERER_URL, build\);/);
    expect(main).toMatch(/const devTools = isDevelopmentBuild\(build\);/);
    expect(main.match(/createMainWindow\(\{[^}]*\}\)/g)!.every((c) => c.includes('devTools'))).toBe(true);
    // ELECTRON_RENDERER_URL is read in exactly one place
    expect(main.match(/ELECTRON_RENDERER_URL/g)!.length).toBe(2); // the comment and the call
    const windows = readFileSync(path.join(ROOT, 'main/electron/windows.ts'), 'utf8');
    expect(windows).toMatch(/secureWebPreferences\(opts\.preloadPath, \{ devTools: opts\.devTools === true \}\)/);
  });
});
