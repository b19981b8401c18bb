// electron-vite build of the desktop app with this repository's own roots:
//   main     main/index.ts (+ serve, job worker and CLI entries, so the packaged app can fork them)
//            -> out/main/{index,serve,worker,cli}.js (ESM; dependencies stay external in node_modules)
//   preload  preload/index.ts -> out/preload/index.cjs (CommonJS: a sandboxed preload cannot be ESM)
//   renderer renderer/index.html -> out/renderer (the same UI that vite.web.config.ts builds for the browser)
// `electron-vite build` works without the Electron binary; `electron-vite dev` needs it.

import { fileURLToPath } from 'node:url';
import { defineConfig } from 'electron-vite';
import { parseAst } from 'vite';
import type { Plugin } from 'vite';
import vue from '@vitejs/plugin-vue';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

/**
 * electron-vite's ESM shim injects `const require = createRequire(import.meta.url)` into any output
 * chunk whose text contains `require(`. ESM modules that create their own `require` the same way
 * (to load JSON or resolve package folders) would then declare it twice in one chunk. Rename the
 * module's own binding before bundling so the two never meet.
 */
function renameOwnRequire(): Plugin {
  const DECL = /\b(?:const|let|var)\s+require\s*=\s*createRequire\(import\.meta\.url\)/;
  return {
    name: 'lethe:rename-own-require',
    enforce: 'post', // after TypeScript is stripped, so the code parses as JavaScript
    transform(code, id) {
      if (id.includes('node_modules') || !DECL.test(code)) return null;
      // Rename identifier nodes only: `require` inside strings or template text (code run in a
      // child process) must stay as it is.
      const spots: number[] = [];
      const walk = (node: unknown, skip?: unknown): void => {
        if (!node || typeof node !== 'object') return;
        if (Array.isArray(node)) return node.forEach((n) => walk(n));
        const n = node as { type?: string; name?: string; start: number; computed?: boolean } & Record<string, unknown>;
        if (n.type === 'Identifier' && n.name === 'require' && n !== skip) spots.push(n.start);
        for (const [k, v] of Object.entries(n)) {
          if (k === 'property' && n.type === 'MemberExpression' && !n.computed) continue;
          if (k === 'key' && (n.type === 'Property' || n.type === 'MethodDefinition' || n.type === 'PropertyDefinition') && !n.computed) continue;
          if (v && typeof v === 'object') walk(v);
        }
      };
      walk(parseAst(code));
      if (spots.length === 0) return null;
      let out = code;
      for (const at of spots.sort((a, b) => b - a)) out = out.slice(0, at) + '__letheRequire' + out.slice(at + 'require'.length);
      return { code: out, map: null };
    },
  };
}

export default defineConfig({
  main: {
    plugins: [renameOwnRequire()],
    build: {
      outDir: here('./out/main'),
      emptyOutDir: true,
      sourcemap: false,
      rolldownOptions: {
        input: {
          index: here('./main/index.ts'),
          serve: here('./main/server/serve.ts'),
          worker: here('./main/backend/jobs/worker.ts'),
          cli: here('./main/cli/index.ts'),
        },
        output: {
          // every entry and shared chunk side by side, so modules that locate siblings through
          // import.meta.url (the job worker entry) find them
          entryFileNames: '[name].js',
          chunkFileNames: '[name]-[hash].js',
        },
        checks: { bundlerTimings: false },
      },
    },
  },
  preload: {
    build: {
      outDir: here('./out/preload'),
      emptyOutDir: true,
      sourcemap: false,
      rolldownOptions: {
        input: { index: here('./preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
        checks: { bundlerTimings: false },
      },
    },
  },
  renderer: {
    root: here('./renderer'),
    base: './',
    plugins: [vue()],
    build: {
      outDir: here('./out/renderer'),
      emptyOutDir: true,
      assetsInlineLimit: 0,
      modulePreload: { polyfill: false },
      sourcemap: false,
      target: 'es2022',
      chunkSizeWarningLimit: 1500,
      rolldownOptions: {
        input: { index: here('./renderer/index.html') },
        checks: { bundlerTimings: false },
      },
    },
  },
});
