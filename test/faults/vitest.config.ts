import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: the local stack under injected faults (DynamoDB refusals through a proxy,
 * inference servers killed and stalled, the stack SIGKILLed, clients that hang up, stop, or retry).
 * Minutes, not seconds, and each file runs its own stack: one file at a time, in one fork.
 * FAULT_TURNS (default 1000) sizes the accounting run.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    setupFiles: ['test/setup/awslambda.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
  },
});
