// Layering: only the Electron glue may import 'electron' (main/electron/**, main/index.ts,
// preload/index.ts). The engine, backend, server, CLI and renderer must run under plain Node or in
// a browser. Static imports, type imports, re-exports, dynamic import() and require() all count.
// Tests are not scanned: they mock 'electron' on purpose.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const SCANNED_DIRS = ['main', 'preload', 'renderer', 'scripts', 'bench', 'bin'];
const SKIP = new Set(['node_modules', 'out', 'dist', '.git']);
const ALLOWED = (rel: string) => rel.startsWith('main/electron/') || rel === 'main/index.ts' || rel === 'preload/index.ts';

/** Remove comments (keeps line count) so prose that mentions electron does not count. */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

const PATTERNS: RegExp[] = [
  /\bfrom\s*['"`]electron(?:\/[\w-]+)?['"`]/, // import x from / export x from / import type
  /\bimport\s*['"`]electron(?:\/[\w-]+)?['"`]/, // side-effect import
  /\bimport\s*\(\s*['"`]electron(?:\/[\w-]+)?['"`]\s*\)/, // dynamic import
  /\brequire\s*\(\s*['"`]electron(?:\/[\w-]+)?['"`]\s*\)/, // require
  /\brequire\.resolve\s*\(\s*['"`]electron(?:\/[\w-]+)?['"`]\s*\)/,
];

export function importsElectron(src: string): number | null {
  const lines = stripComments(src).split('\n');
  for (let i = 0; i < lines.length; i++) if (PATTERNS.some((p) => p.test(lines[i]))) return i + 1;
  // multi-line `import {\n a,\n} from 'electron'` is caught by the from-pattern on its last line
  return null;
}

function walk(dir: string, out: string[]) {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const p = path.join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) walk(p, out);
    else if (/\.(ts|vue|mts|cts|mjs|cjs|js)$/.test(name)) out.push(p);
  }
}

describe('layering: electron imports', () => {
  it('the detector finds every import form and ignores comments and look-alikes', () => {
    const hits = [
      "import { app } from 'electron';",
      'import type { WebContents } from "electron";',
      "import 'electron';",
      "export { ipcMain } from 'electron';",
      "const e = await import('electron');",
      "const { shell } = require('electron');",
      "import { ipcRenderer } from 'electron/renderer';",
      'import x from `electron`;',
      "import {\n  app,\n  BrowserWindow,\n} from 'electron';",
    ];
    for (const h of hits) expect(importsElectron(h), h).not.toBeNull();
    const misses = [
      "// import { app } from 'electron';",
      "/* require('electron') */",
      "import x from 'electron-vite';",
      "import x from './electron';",
      "const s = 'electron';",
      "import { y } from '../electron/csp';",
    ];
    for (const m of misses) expect(importsElectron(m), m).toBeNull();
  });

  it("nothing outside main/electron/**, main/index.ts and preload/index.ts imports 'electron'", () => {
    const files: string[] = [];
    for (const d of SCANNED_DIRS) {
      try {
        walk(path.join(ROOT, d), files);
      } catch {
        /* folder not present */
      }
    }
    for (const f of readdirSync(ROOT)) if (/\.(ts|mjs|js)$/.test(f) && f !== 'electron.vite.config.ts') files.push(path.join(ROOT, f));
    expect(files.length).toBeGreaterThan(20);
    const offenders: string[] = [];
    for (const file of files) {
      const rel = path.relative(ROOT, file).split(path.sep).join('/');
      if (ALLOWED(rel)) continue;
      const line = importsElectron(readFileSync(file, 'utf8'));
      if (line !== null) offenders.push(`${rel}:${line}`);
    }
    expect(offenders).toEqual([]);
  });

  it('the glue that may import electron does', () => {
    for (const rel of ['main/index.ts', 'preload/index.ts', 'main/electron/ipc.ts', 'main/electron/windows.ts']) {
      expect(importsElectron(readFileSync(path.join(ROOT, rel), 'utf8')), rel).not.toBeNull();
    }
  });
});
