import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Browser and fault suites have their own npm scripts (they need Chromium / minutes).
    exclude: ['test/browser/**', 'test/faults/**', 'node_modules/**'],
    // middy reads globalThis.awslambda at module load: install the shim before any handler import.
    setupFiles: ['test/setup/awslambda.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
