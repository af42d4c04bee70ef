/**
 * The benchmark's own processes beside the stack: the simulated inference fleet (local/fleet/main.ts)
 * and the pass-through proxy (proxy-main.ts), each a `node --import tsx` child whose CPU is read from
 * /proc like the stack's. Each prints JSON lines once it listens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/repo-root';

export interface NodeChild {
  readonly pid: number;
  /** The JSON lines it printed before it was ready. */
  readonly lines: readonly Record<string, unknown>[];
  stop(): Promise<void>;
}

async function spawnNode(
  script: string,
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  readyLines: number,
): Promise<NodeChild> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines: Record<string, unknown>[] = [];
  await new Promise<void>((resolveReady, rejectReady) => {
    let buffered = '';
    const onExit = (code: number | null) =>
      rejectReady(new Error(`${script} exited (${code}) before it was ready`));
    child.once('exit', onExit);
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (let at = buffered.indexOf('\n'); at >= 0; at = buffered.indexOf('\n')) {
        const line = buffered.slice(0, at).trim();
        buffered = buffered.slice(at + 1);
        if (line.startsWith('{') && lines.length < readyLines)
          lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      if (lines.length === readyLines) {
        child.off('exit', onExit);
        resolveReady();
      }
    });
  });
  if (child.pid === undefined) throw new Error(`${script} has no pid`);
  return {
    pid: child.pid,
    lines,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export interface FleetProcess extends NodeChild {
  /** Every server's base URL (`http://127.0.0.1:PORT`). */
  readonly baseUrls: readonly string[];
}

/** The simulated fleet, configured by the LOCAL_FLEET_* variables in `env`. */
export async function spawnFleet(
  env: Readonly<Record<string, string>>,
  count: number,
): Promise<FleetProcess> {
  const child = await spawnNode(join(REPO_ROOT, 'local', 'fleet', 'main.ts'), [], env, count);
  return { ...child, baseUrls: child.lines.map((line) => String(line.baseUrl)) };
}

/** The pass-through proxy in front of `upstreams` (round robin); resolves with its URL. */
export async function spawnProxy(
  upstreams: readonly string[],
): Promise<NodeChild & { readonly url: string }> {
  const child = await spawnNode(join(REPO_ROOT, 'bench', 'first-token', 'proxy-main.ts'), upstreams, {}, 1);
  return { ...child, url: String(child.lines[0]?.url) };
}
