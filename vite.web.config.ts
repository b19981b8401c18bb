import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import vue from '@vitejs/plugin-vue';

// Browser build of the renderer: the same UI the desktop app shows, served by main/server (npm start
// without an Electron binary, and the end-to-end tests). Relative base so it works from any path.
export default defineConfig({
  root: fileURLToPath(new URL('./renderer', import.meta.url)),
  base: './',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('./out/renderer', import.meta.url)),
    emptyOutDir: true,
    // No inlined assets: everything is a file so the strict CSP (no data: scripts/styles) holds.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
    // The plugin-timing report is noise in CI logs: the Vue transform dominates a build this small.
    rolldownOptions: { checks: { bundlerTimings: false } },
  },
});
