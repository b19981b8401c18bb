// Layering: layers point one way. renderer -> preload contract; cli/server/electron -> backend ->
// engine. The engine (main/engine/**) imports from no layer above it; the backend not from the
// server, CLI, Electron glue or renderer; the preload not from main/** (except type-only imports of
// the engine's pure type files, main/engine/**/contract-types.ts) nor the renderer; the renderer
// nothing from main/**. Every import form counts (static, type, re-export, side-effect, dynamic
// import(), require()); relative specifiers are resolved to the file they name. The second half
// proves the ESLint rule (eslint.config.js) fires on a violating snippet in each layer.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const SKIP = new Set(['node_modules', 'out', 'dist', '.git']);

type Layer = 'engine' | 'backend' | 'server' | 'cli' | 'electron' | 'preload' | 'renderer';

/** the layer a repository-relative path belongs to (null: outside the layered code, e.g. a package) */
export function layerOf(rel: string): Layer | null {
  if (rel.startsWith('main/engine/')) return 'engine';
  if (rel.startsWith('main/backend/')) return 'backend';
  if (rel.startsWith('main/server/')) return 'server';
  if (rel.startsWith('main/cli/')) return 'cli';
  if (rel.startsWith('main/electron/') || /^main\/index(\.ts)?$/.test(rel)) return 'electron';
  if (rel.startsWith('preload/')) return 'preload';
  if (rel.startsWith('renderer/')) return 'renderer';
  return null;
}

const FORBIDDEN: Record<'engine' | 'backend' | 'preload' | 'renderer', Layer[]> = {
  engine: ['backend', 'server', 'cli', 'electron', 'preload', 'renderer'],
  backend: ['server', 'cli', 'electron', 'renderer'],
  preload: ['engine', 'backend', 'server', 'cli', 'electron', 'renderer'],
  renderer: ['engine', 'backend', 'server', 'cli', 'electron'],
};

/** the engine's pure type files, which the preload contract may import with `import type` / `export type` */
const isContractTypes = (rel: string) => /^main\/engine\/(?:[\w.-]+\/)*contract-types(?:\.ts)?$/.test(rel);

/** Remove comments (keeps line count) so prose that mentions a path does not count. */
function stripComments(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\//g, (m) => m.replace(/[^\n]/g, ' ')).replace(/(^|[^:'"`\\])\/\/.*$/gm, '$1');
}

export interface ImportRef {
  spec: string;
  line: number;
  /** `import type ... from` / `export type ... from` */
  typeOnly: boolean;
}

export function importsOf(src: string): ImportRef[] {
  const text = stripComments(src);
  const out: ImportRef[] = [];
  const lineAt = (i: number) => text.slice(0, i).split('\n').length;
  const forms: [RegExp, number, number | null][] = [
    // import x from / import { a } from / import type / export { a } from / export * from / export type
    [/\b(?:import|export)\s+(type\s+)?(?:[^'"`;()]*?)\bfrom\s*(['"`])([^'"`\n]+)\2/g, 3, 1],
    [/\bimport\s*(['"`])([^'"`\n]+)\1/g, 2, null], // side-effect import
    [/\bimport\s*\(\s*(['"`])([^'"`\n]+)\1\s*\)/g, 2, null], // dynamic import (also import('x').T in types)
    [/\brequire(?:\.resolve)?\s*\(\s*(['"`])([^'"`\n]+)\1\s*\)/g, 2, null],
  ];
  for (const [re, specGroup, typeGroup] of forms) {
    for (const m of text.matchAll(re)) out.push({ spec: m[specGroup]!, line: lineAt(m.index!), typeOnly: typeGroup !== null && !!m[typeGroup] });
  }
  return out;
}

/** the repository-relative path a specifier names from `fromRel`, or null for a package */
function resolveSpec(fromRel: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  return path.posix.normalize(path.posix.join(path.posix.dirname(fromRel), spec));
}

/** why an import of `spec` from the file `fromRel` breaks the layering, or null */
export function violation(fromRel: string, ref: ImportRef): string | null {
  const from = layerOf(fromRel);
  if (from !== 'engine' && from !== 'backend' && from !== 'preload' && from !== 'renderer') return null;
  const target = resolveSpec(fromRel, ref.spec);
  if (target === null) return null;
  const to = layerOf(target);
  if (to === null || !FORBIDDEN[from].includes(to)) return null;
  if (from === 'preload' && isContractTypes(target)) return ref.typeOnly ? null : `value import of ${target} (use import type / export type)`;
  return `${from} imports ${to} (${target})`;
}

function walk(dir: string, out: string[]) {
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name)) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (/\.(ts|vue|mts|cts|mjs|cjs|js)$/.test(name)) out.push(p);
  }
}

const rel = (abs: string) => path.relative(ROOT, abs).split(path.sep).join('/');

describe('layering: layers point one way', () => {
  it('the import finder sees every form and resolves relative paths', () => {
    const src = [
      "import { a } from '../../backend/x';",
      "import type { B } from '../../../preload/api/common';",
      "export { c } from '../../server/server';",
      "export * from '../../cli/index';",
      "export type { D } from '../../../renderer/src/x';",
      "import '../../electron/side';",
      "const m = await import('../../backend/dyn');",
      "const r = require('../../backend/req');",
      "type T = import('../../backend/t').T;",
      "import {\n  e,\n  f,\n} from '../../backend/multi';",
      "// import { g } from '../../backend/commented';",
      "/* require('../../backend/block') */",
      "const s = 'from ../../backend/not-an-import';",
    ].join('\n');
    const found = importsOf(src);
    expect(found.map((f) => f.spec).sort()).toEqual(
      [
        '../../backend/x',
        '../../../preload/api/common',
        '../../server/server',
        '../../cli/index',
        '../../../renderer/src/x',
        '../../electron/side',
        '../../backend/dyn',
        '../../backend/req',
        '../../backend/t',
        '../../backend/multi',
      ].sort(),
    );
    expect(found.find((f) => f.spec === '../../../preload/api/common')!.typeOnly).toBe(true);
    expect(found.find((f) => f.spec === '../../backend/x')!.typeOnly).toBe(false);
    for (const f of found) expect(violation('main/engine/data/probe.ts', f), f.spec).not.toBeNull();
    // inside the engine, the engine's own files are fine; packages are not layers
    expect(violation('main/engine/data/probe.ts', { spec: '../store/workspace-port', line: 1, typeOnly: true })).toBeNull();
    expect(violation('main/engine/data/probe.ts', { spec: 'onnxruntime-node', line: 1, typeOnly: false })).toBeNull();
    // the preload may import the contract types, type-only
    const ct = '../../main/engine/data/contract-types';
    expect(violation('preload/api/datasets.ts', { spec: ct, line: 1, typeOnly: true })).toBeNull();
    expect(violation('preload/api/datasets.ts', { spec: ct, line: 1, typeOnly: false })).not.toBeNull();
    expect(violation('preload/api/datasets.ts', { spec: '../../main/engine/data/store', line: 1, typeOnly: true })).not.toBeNull();
    // the backend may import the engine and the contract, not the server
    expect(violation('main/backend/service.ts', { spec: '../engine/errors', line: 1, typeOnly: false })).toBeNull();
    expect(violation('main/backend/service.ts', { spec: '../../preload/api/common', line: 1, typeOnly: false })).toBeNull();
    expect(violation('main/backend/service.ts', { spec: '../server/server', line: 1, typeOnly: false })).not.toBeNull();
    expect(violation('renderer/src/api/client.ts', { spec: '../../../main/engine/errors', line: 1, typeOnly: true })).not.toBeNull();
    expect(violation('renderer/src/api/client.ts', { spec: '../../../preload/api/index', line: 1, typeOnly: true })).toBeNull();
  });

  it('no file of the engine, backend, preload or renderer imports a layer above it', () => {
    const files: string[] = [];
    for (const d of ['main/engine', 'main/backend', 'preload', 'renderer']) walk(path.join(ROOT, d), files);
    expect(files.length).toBeGreaterThan(50);
    const offenders: string[] = [];
    for (const file of files) {
      const r = rel(file);
      for (const ref of importsOf(readFileSync(file, 'utf8'))) {
        const why = violation(r, ref);
        if (why) offenders.push(`${r}:${ref.line}: ${why}`);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("the engine's contract-type files are pure types: no imports, no runtime code", () => {
    const files: string[] = [];
    walk(path.join(ROOT, 'main/engine'), files);
    const ct = files.filter((f) => isContractTypes(rel(f).replace(/\.ts$/, '')));
    expect(ct.map(rel)).toContain('main/engine/data/contract-types.ts');
    for (const f of ct) {
      const src = stripComments(readFileSync(f, 'utf8'));
      expect(importsOf(src), rel(f)).toEqual([]);
      expect(src, rel(f)).not.toMatch(/^\s*export\s+(?:const|let|var|function|async|class|enum|default)\b/m);
      expect(src, rel(f)).not.toMatch(/^\s*(?:const|let|var|function|class|enum)\b/m);
    }
  });
});

describe('layering: the ESLint rule', () => {
  const eslint = new ESLint({ cwd: ROOT, overrideConfigFile: path.join(ROOT, 'eslint.config.js') });
  /** messages of no-restricted-imports for `code` linted as if it were the file `filePath` */
  async function restricted(code: string, filePath: string): Promise<string[]> {
    const [res] = await eslint.lintText(code, { filePath: path.join(ROOT, filePath) });
    return res!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
  }

  it('fires on a violating import in each layer and stays quiet on allowed ones', async () => {
    const cases: [file: string, code: string, fires: boolean][] = [
      // engine
      ['main/engine/data/probe.ts', "import type { Workspace } from '../../backend/workspace/types';\nexport type W = Workspace;\n", true],
      ['main/engine/data/probe.ts', "import { ApiError } from '../../../preload/api/common';\nexport const e = ApiError;\n", true],
      ['main/engine/train/probe.ts', "export { startServer } from '../../server/server';\n", true],
      ['main/engine/probe.ts', "export * from '../cli/index';\n", true],
      ['main/engine/probe.ts', "import x from '../../renderer/src/main';\nexport default x;\n", true],
      ['main/engine/probe.ts', "import { app } from 'electron';\nexport const a = app;\n", true],
      ['main/engine/data/probe.ts', "import type { Workspace } from '../store/workspace-port';\nimport { EngineError } from '../errors';\nexport type W = Workspace;\nexport const E = EngineError;\n", false],
      // backend
      ['main/backend/probe.ts', "import { startServer } from '../server/server';\nexport const s = startServer;\n", true],
      ['main/backend/services/probe.ts', "import { COMMANDS } from '../../cli/commands/index';\nexport const c = COMMANDS;\n", true],
      ['main/backend/probe.ts', "import { ipcMain } from 'electron';\nexport const i = ipcMain;\n", true],
      ['main/backend/probe.ts', "import { EngineError } from '../engine/errors';\nimport { ApiError } from '../../preload/api/common';\nexport const x = [EngineError, ApiError];\n", false],
      // preload contract
      ['preload/api/probe.ts', "import { openWorkspace } from '../../main/backend/workspace';\nexport const o = openWorkspace;\n", true],
      ['preload/api/probe.ts', "import { openDataset } from '../../main/engine/data/store';\nexport const o = openDataset;\n", true],
      ['preload/api/probe.ts', "import { ForgetRuleInput } from '../../main/engine/data/contract-types';\nexport const f: ForgetRuleInput | null = null;\n", true],
      ['preload/api/probe.ts', "import { getApi } from '../../renderer/src/api/client';\nexport const g = getApi;\n", true],
      ['preload/api/probe.ts', "import { ipcRenderer } from 'electron';\nexport const i = ipcRenderer;\n", true],
      ['preload/api/probe.ts', "import type { ForgetRuleInput } from '../../main/engine/data/contract-types';\nexport type { ClassRef } from '../../main/engine/data/contract-types';\nexport type F = ForgetRuleInput;\n", false],
      ['preload/index.ts', "import { contextBridge } from 'electron';\nexport const c = contextBridge;\n", false],
      ['preload/index.ts', "import { createBackend } from '../main/backend/service';\nexport const c = createBackend;\n", true],
      // renderer
      ['renderer/src/probe.ts', "import { EngineError } from '../../main/engine/errors';\nexport const e = EngineError;\n", true],
      ['renderer/src/stores/probe.ts', "import type { Workspace } from '../../../main/backend/workspace/types';\nexport type W = Workspace;\n", true],
      ['renderer/src/probe.ts', "import { ipcRenderer } from 'electron';\nexport const i = ipcRenderer;\n", true],
      ['renderer/src/probe.ts', "import type { ApiError } from '../../preload/api/common';\nexport type E = ApiError;\n", false],
      // the Electron glue may import electron and the backend
      ['main/electron/probe.ts', "import { app } from 'electron';\nimport { createBackend } from '../backend/service';\nexport const x = [app, createBackend];\n", false],
    ];
    for (const [file, code, fires] of cases) {
      const msgs = await restricted(code, file);
      if (fires) expect(msgs.length, `${file}: ${code}`).toBeGreaterThan(0);
      else expect(msgs, `${file}: ${code}`).toEqual([]);
    }
  }, 120_000);
});
