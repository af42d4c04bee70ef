/**
 * Runs the whole local app (`node --import tsx local/main.ts`) as a child process, for tests that
 * need the real handlers behind the gateway. One stack per process: spawn one per test file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import type { PublicConfig } from '../../contract/public-config';
import { type CognitoTokens, cognitoLogin } from '../../local/emulators/cognito';
import { REPO_ROOT } from '../../local/repo-root';

const READY_LINE = /Chat app listening on (http:\/\/\S+) \(data in (.+)\)/;

export interface SpawnedStack {
  readonly url: string;
  readonly config: PublicConfig;
  readonly child: ChildProcess;
  /** Everything the process printed so far (stdout and stderr, interleaved). */
  output(): string;
  /** Sends a signal and resolves when the process has exited. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then the exit code (0 for a clean stop). */
  stop(): Promise<number | null>;
}

export interface SpawnOptions {
  readonly dataDir: string;
  /** Extra environment (LOCAL_FLEET_*, handler settings…). PORT is 0 unless given. */
  readonly env?: Readonly<Record<string, string>>;
  /** How long to wait for the ready line. Default 60 s. */
  readonly readyTimeoutMs?: number;
}

export async function spawnLocalStack(options: SpawnOptions): Promise<SpawnedStack> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'local', 'main.ts')], {
    cwd: REPO_ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: '0', DATA_DIR: options.dataDir, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // Always drain both pipes, or a chatty child blocks on a full pipe.
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;

  const url = await new Promise<string>((resolveUrl, rejectUrl) => {
    const timer = setTimeout(() => {
      cleanup();
      child.kill('SIGKILL');
      rejectUrl(new Error(`local stack not ready after ${options.readyTimeoutMs ?? 60_000} ms:\n${output}`));
    }, options.readyTimeoutMs ?? 60_000);
    const onData = () => {
      const match = READY_LINE.exec(output);
      if (match?.[1]) {
        cleanup();
        resolveUrl(match[1]);
      }
    };
    const onExit = (code: number | null) => {
      cleanup();
      rejectUrl(new Error(`local stack exited (${code}) before it was ready:\n${output}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
    };
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });

  const config = (await (await fetch(`${url}/config.json`)).json()) as PublicConfig;

  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    const [code, exitSignal] = await exited;
    return { code, signal: exitSignal };
  };
  return {
    url,
    config,
    child,
    output: () => output,
    kill,
    stop: async () => (await kill('SIGTERM')).code,
  };
}

/** Signs a user in against the stack's Cognito (URL of a running stack, or its config). */
export async function login(
  stack: string | PublicConfig,
  email: string,
  password: string,
): Promise<CognitoTokens> {
  const config =
    typeof stack === 'string'
      ? ((await (await fetch(`${stack}/config.json`)).json()) as PublicConfig)
      : stack;
  return cognitoLogin(config.cognitoEndpoint, config.userPoolClientId, email, password);
}
