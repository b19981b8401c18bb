import { defineConfig } from 'vitest/config';
import vue from '@vitejs/plugin-vue';

// Two projects: engine/backend/transport tests under plain Node, and renderer (Vue/Pinia) tests in jsdom.
// End-to-end tests in Chromium live in test/e2e and run through scripts/e2e.mjs, not here.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/renderer/**', 'test/e2e/**', 'node_modules/**'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          pool: 'forks',
        },
      },
      {
        plugins: [vue()],
        test: {
          name: 'renderer',
          environment: 'jsdom',
          include: ['test/renderer/**/*.test.ts'],
        },
      },
    ],
  },
});
