import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Vitest configuration for the whole suite (`npm test`). */
export default defineConfig({
  root,
  // Electron's binary cannot run in the suite: the shell's tests get a fake `electron`.
  resolve: {
    alias: [
      {
        find: /^electron$/,
        replacement: fileURLToPath(new URL('./electron/fake-electron.ts', import.meta.url)),
      },
    ],
  },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    // Separate processes: NODE_EXTRA_CA_CERTS (set by the global setup) is read at process start.
    pool: 'forks',
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Failing tests must fail in CI; retries would hide flakiness.
    retry: 0,
  },
});
