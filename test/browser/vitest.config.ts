import { defineConfig } from 'vitest/config';

/**
 * `npm run test:browser`: the web client in Chromium against the whole local stack (one spawned
 * stack per file), plus the client's pure modules. No awslambda shim: the handlers run in the
 * spawned stack, never in this process. One file at a time: 2 cores, and each file runs a stack.
 */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['test/browser/support/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
