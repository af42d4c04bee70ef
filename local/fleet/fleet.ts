// A fleet of simulated inference servers ("GPUs") on loopback, one port each.

import type { SimulatedServerHandle } from './handle';
import type { SimulatedServerOptions, TunableOptions } from './options';
import { startSimulatedServer } from './server';

export interface FleetServer {
  /** `gpu-1`, `gpu-2`, … */
  id: string;
  /** `http://127.0.0.1:PORT` (OpenAI baseURL: `${baseUrl}/v1`). */
  baseUrl: string;
  handle: SimulatedServerHandle;
}

export interface FleetOptions extends Partial<TunableOptions> {
  /** Number of servers. Default 3. */
  count?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Served model id of every server. Default 'local-llm'. */
  model?: string;
  /** Per-server overrides, by index (0 → gpu-1), e.g. a slower or smaller server. */
  perServer?: ReadonlyArray<Partial<TunableOptions> | undefined>;
  /** The bearer key every server requires (LOCAL_FLEET_API_KEY); unset: none. */
  apiKey?: string;
}

export interface FleetHandle {
  servers: FleetServer[];
  close(): Promise<void>;
}

export async function startFleet(options: FleetOptions = {}): Promise<FleetHandle> {
  const { count = 3, host, model, perServer = [], apiKey, ...shared } = options;
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`fleet count must be an integer >= 1, got ${count}`);
  const servers: FleetServer[] = [];
  const close = async () => {
    await Promise.all(servers.map((server) => server.handle.close()));
  };
  try {
    for (let i = 0; i < count; i++) {
      const id = `gpu-${i + 1}`;
      const serverOptions: SimulatedServerOptions = { ...shared, ...perServer[i], id, port: 0 };
      if (host !== undefined) serverOptions.host = host;
      if (model !== undefined) serverOptions.model = model;
      if (apiKey !== undefined) serverOptions.apiKey = apiKey;
      const handle = await startSimulatedServer(serverOptions);
      servers.push({ id, baseUrl: handle.baseUrl, handle });
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { servers, close };
}

export interface FleetEnvOptions {
  count: number;
  slots: number;
  tokensPerSecond: number;
  answerTokens: number;
  timeToFirstTokenMs: number;
  /** Absent = unlimited queue. */
  maxQueue?: number;
  /** Absent = no key required. */
  apiKey?: string;
}

type Env = Readonly<Record<string, string | undefined>>;

type NumberKind = 'positive-int' | 'non-negative-int' | 'positive' | 'non-negative';

/** The variable's number, or undefined when unset or empty; throws an Error naming it when malformed. */
function readNumber(env: Env, name: string, kind: NumberKind): number | undefined {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return undefined;
  const value = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(raw) ? Number(raw) : Number.NaN;
  const integer = kind.endsWith('-int');
  const positive = kind.startsWith('positive');
  const ok =
    Number.isFinite(value) &&
    (integer ? Number.isInteger(value) : true) &&
    (positive ? value > 0 : value >= 0);
  if (!ok) {
    const expected = `${positive ? 'a positive' : 'a non-negative'} ${integer ? 'integer' : 'number'}`;
    throw new Error(`${name} must be ${expected}, got ${JSON.stringify(env[name])}`);
  }
  return value;
}

/**
 * Fleet options from the environment: LOCAL_FLEET_SERVERS (3), LOCAL_FLEET_SLOTS (8),
 * LOCAL_FLEET_TOKENS_PER_SECOND (50), LOCAL_FLEET_ANSWER_TOKENS (200), LOCAL_FLEET_TTFT_MS (150),
 * LOCAL_FLEET_MAX_QUEUE (unset or empty = unlimited), LOCAL_FLEET_API_KEY (unset or empty = no key). Throws an Error naming a malformed variable.
 */
export function fleetOptionsFromEnv(env: Env = process.env): FleetEnvOptions {
  const options: FleetEnvOptions = {
    count: readNumber(env, 'LOCAL_FLEET_SERVERS', 'positive-int') ?? 3,
    slots: readNumber(env, 'LOCAL_FLEET_SLOTS', 'positive-int') ?? 8,
    tokensPerSecond: readNumber(env, 'LOCAL_FLEET_TOKENS_PER_SECOND', 'positive') ?? 50,
    answerTokens: readNumber(env, 'LOCAL_FLEET_ANSWER_TOKENS', 'positive-int') ?? 200,
    timeToFirstTokenMs: readNumber(env, 'LOCAL_FLEET_TTFT_MS', 'non-negative') ?? 150,
  };
  const maxQueue = readNumber(env, 'LOCAL_FLEET_MAX_QUEUE', 'non-negative-int');
  if (maxQueue !== undefined) options.maxQueue = maxQueue;
  const apiKey = env.LOCAL_FLEET_API_KEY?.trim();
  if (apiKey) options.apiKey = apiKey;
  return options;
}
