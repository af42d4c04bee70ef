/**
 * A browser suite's own local stack, on a fresh data directory, with the simulated fleet tuned by `env`:
 * started before the suite's tests and stopped (its data removed) after them. The hooks register in the
 * describe block that calls this.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { UNMETERED_QUOTAS_ENV } from '../../../local/unmetered-quotas';
import { type SpawnedStack, spawnLocalStack } from '../../support/local-stack';

export function suiteStack(name: string, env: Record<string, string>): { readonly url: string } {
  let dataDir: string | undefined;
  let stack: SpawnedStack | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), `chat-${name}-`));
    stack = await spawnLocalStack({ dataDir, env: { ...UNMETERED_QUOTAS_ENV, ...env } });
  });

  afterAll(async () => {
    await stack?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  return {
    get url() {
      if (!stack) throw new Error('The suite stack is not started');
      return stack.url;
    },
  };
}
