/**
 * The benchmark's processes: the simulated inference fleet (local/fleet/main.ts), the pass-through proxy
 * (proxy-main.ts), dynalite (dynamodb-main.ts) unless it runs inside the stack, and the stack, each a
 * `node --import tsx` child whose CPU is read from /proc. Each prints JSON lines once it listens.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { REPO_ROOT } from '../../local/repo-root';
import { UNMETERED_QUOTAS_ENV } from '../../local/unmetered-quotas';
import { type SpawnedStack, spawnLocalStack } from '../../test/support/local-stack';

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

/** dynalite in its own process, keeping its files under `dir`; resolves with its endpoint. */
export async function spawnDynamoDb(dir: string): Promise<NodeChild & { readonly endpoint: string }> {
  const child = await spawnNode(join(REPO_ROOT, 'bench', 'first-token', 'dynamodb-main.ts'), [dir], {}, 1);
  return { ...child, endpoint: String(child.lines[0]?.endpoint) };
}

export interface BenchProcesses {
  readonly stack: SpawnedStack;
  readonly fleetUrls: readonly string[];
  readonly proxyUrl: string;
  /** The pids whose CPU is read, by name. */
  readonly pids: Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

export interface BenchProcessOptions {
  readonly dataDir: string;
  /** LOCAL_FLEET_* for the fleet process. */
  readonly fleetEnv: Readonly<Record<string, string>>;
  readonly servers: number;
  /** Registered capacity of each server. */
  readonly capacity: number;
  /** dynalite inside the stack's process (as `npm start` runs it) instead of in its own. */
  readonly dynamoDbInProcess: boolean;
  /** Extra environment of the stack (NODE_OPTIONS for a profile). */
  readonly stackEnv: Readonly<Record<string, string>>;
}

/** The fleet, the proxy, dynalite unless in-process, then the stack over them; all stopped on failure. */
export async function startBenchProcesses(options: BenchProcessOptions): Promise<BenchProcesses> {
  const children: NodeChild[] = [];
  const stopChildren = async () => {
    await Promise.all(children.map((child) => child.stop()));
  };
  try {
    const fleet = await spawnFleet(options.fleetEnv, options.servers);
    children.push(fleet);
    const proxy = await spawnProxy(fleet.baseUrls);
    children.push(proxy);
    const dynamo = options.dynamoDbInProcess
      ? undefined
      : await spawnDynamoDb(join(options.dataDir, 'dynamodb-own-process'));
    if (dynamo) children.push(dynamo);
    const stack = await spawnLocalStack({
      dataDir: options.dataDir,
      env: {
        ...UNMETERED_QUOTAS_ENV,
        INFERENCE_SERVERS: fleet.baseUrls
          .map((url, i) => `gpu-${i + 1}=${url}|${options.capacity}`)
          .join(','),
        ...(dynamo ? { LOCAL_DYNAMODB_ENDPOINT: dynamo.endpoint } : {}),
        ...options.stackEnv,
      },
    });
    return {
      stack,
      fleetUrls: fleet.baseUrls,
      proxyUrl: proxy.url,
      pids: {
        stack: stack.child.pid ?? 0,
        ...(dynamo ? { dynamodb: dynamo.pid } : {}),
        fleet: fleet.pid,
        proxy: proxy.pid,
        bench: process.pid,
      },
      stop: async () => {
        await stack.stop();
        await stopChildren();
      },
    };
  } catch (error) {
    await stopChildren();
    throw error;
  }
}
