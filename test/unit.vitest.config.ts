import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the pure policies, use cases over in-memory ports, the contract, the simulation's
 * models and the web client's pure modules (CDK template tests synthesize for tens of seconds: npm test). No emulator is started and no
 * socket may be opened (test/setup/no-network.ts), so it runs in seconds; `npm test` runs everything.
 */
export default defineConfig({
  test: {
    include: [
      'test/domain/**/*.test.ts',
      'test/use-cases/**/*.test.ts',
      'test/contract/**/*.test.ts',
      'test/bench/**/*.test.ts',
      'test/browser/unit/**/*.test.ts',
      'test/**/*.unit.test.ts',
    ],
    // chat-service runs the real DynamoDB adapters against dynalite.
    exclude: ['test/use-cases/chat-service.test.ts', 'node_modules/**'],
    setupFiles: ['test/setup/awslambda.ts', 'test/setup/no-network.ts'],
    testTimeout: 30_000,
    pool: 'threads',
  },
});
