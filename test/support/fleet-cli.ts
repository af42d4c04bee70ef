/**
 * Runs an operator CLI (`npm run fleet`, bin/fleet.ts; `npm run users`, bin/users.ts) as a child process,
 * as an operator would.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { serverRegistryTable } from '../../lib/resources';
import { REPO_ROOT } from '../../local/repo-root';

export interface FleetCliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * `env` is applied over the test's environment, from which every AWS_* variable,
 * SERVER_REGISTRY_TABLE_NAME and USER_POOL_ID are removed first, so nothing from a developer's shell leaks in.
 */
export async function runFleetCli(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  script = 'fleet.ts',
): Promise<FleetCliRun> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !name.startsWith('AWS_') && name !== serverRegistryTable.envVar && name !== 'USER_POOL_ID',
    ),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bin', script), ...args], {
    cwd: REPO_ROOT,
    env: { ...base, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stdout, stderr };
}
