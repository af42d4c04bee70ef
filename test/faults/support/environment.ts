/**
 * The fault suite's world: everything the product talks to is started here, in the test process, so
 * the test can break it from outside the product code —
 * - dynalite (in memory, owned by the test: its data outlives any number of stack restarts),
 * - the fault proxy in front of it (test/support/fault-proxy.ts), given to the stack as LOCAL_DYNAMODB_ENDPOINT,
 * - a simulated inference fleet (kill / restart / stall), given to the stack as INFERENCE_SERVERS,
 * - the local stack itself as a child process (local/main.ts), which can be SIGKILLed and started again.
 * The test reads the chat table directly (AWS SDK against dynalite, not through the proxy or the API).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { brotliDecompressSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../../adapters/dynamodb/clients';
import { chatTable } from '../../../lib/resources';
import { LOCAL_PASSWORD } from '../../../local/emulators/cognito';
import { ensureTables, type LocalDynamoDb, startDynamoDb } from '../../../local/emulators/dynamodb';
import { type FleetHandle, startFleet } from '../../../local/fleet/fleet';
import type { TunableOptions } from '../../../local/fleet/options';
import { generateAnswerTokens } from '../../../local/fleet/text';
import { UNMETERED_QUOTAS_ENV } from '../../../local/unmetered-quotas';
import { type FaultProxy, startFaultProxy } from '../../support/fault-proxy';
import { login, type SpawnedStack, spawnLocalStack } from '../../support/local-stack';

export const USERS = { alice: 'alice@example.com', bob: 'bob@example.com' } as const;
export type UserName = keyof typeof USERS;

export interface FleetSettings
  extends Pick<TunableOptions, 'slots' | 'tokensPerSecond' | 'answerTokens' | 'timeToFirstTokenMs'> {
  readonly count: number;
  /** The capacity each server is given in INFERENCE_SERVERS (batch slots plus a short queue). */
  readonly capacity: number;
}

export interface FaultEnvironmentOptions {
  readonly fleet: FleetSettings;
  /** Handler settings for the stack (STOP_POLL_MS, INFERENCE_IDLE_TIMEOUT_MS…). */
  readonly stackEnv?: Readonly<Record<string, string>>;
  readonly proxySeed?: number;
}

/** A turn item as stored, read straight from dynalite. */
export interface StoredTurn {
  readonly userId: string;
  readonly id: string;
  readonly status: string;
  readonly userMessage: string;
  readonly assistantResponse: string;
  readonly finishReason?: string;
  readonly completionTokens?: number;
  readonly errorCode?: string;
  readonly server?: string;
}

export interface FaultEnvironment {
  readonly proxy: FaultProxy;
  readonly fleet: FleetHandle;
  readonly settings: FleetSettings;
  /** Base URL of the stack running now (changes with each restart). */
  url(): string;
  token(user: UserName): string;
  stack(): SpawnedStack;
  /** Kills the stack (SIGKILL: no clean-up at all; SIGTERM: clean stop) and starts it again on the same data. */
  restartStack(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
  /** Everything every stack of this environment printed, in order. */
  output(): string;
  /** The full answer the simulated servers give to a prompt (deterministic: local/fleet/text.ts). */
  expectedAnswer(prompt: string): string;
  /** Every turn item of the chat table (not idempotency claims, stop flags or store claims). */
  scanTurns(): Promise<StoredTurn[]>;
  /** Idempotency-Key claims of POST /chat in the table: key → the message id it is bound to. */
  scanClaims(): Promise<Map<string, string>>;
  /** Polls the table until `check` accepts the turn with this id, or the deadline passes. */
  waitForTurn(
    id: string,
    check: (turn: StoredTurn | undefined) => boolean,
    timeoutMs?: number,
  ): Promise<StoredTurn | undefined>;
  close(): Promise<void>;
}

export async function startFaultEnvironment(options: FaultEnvironmentOptions): Promise<FaultEnvironment> {
  const settings = options.fleet;
  const dataDir = await mkdtemp(join(tmpdir(), 'chat-faults-'));
  const cleanups: (() => Promise<void>)[] = [() => rm(dataDir, { recursive: true, force: true })];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    const db: LocalDynamoDb = await startDynamoDb({});
    cleanups.push(() => db.close());
    const client = new DynamoDBClient({
      endpoint: db.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 5,
    });
    cleanups.push(async () => client.destroy());
    await ensureTables(client);
    const doc: DynamoDBDocumentClient = createDocumentClient(client);

    const proxy = await startFaultProxy({ target: db.endpoint, seed: options.proxySeed ?? 1 });
    cleanups.push(() => proxy.close());

    const fleet = await startFleet({
      count: settings.count,
      slots: settings.slots,
      tokensPerSecond: settings.tokensPerSecond,
      answerTokens: settings.answerTokens,
      timeToFirstTokenMs: settings.timeToFirstTokenMs,
    });
    cleanups.push(() => fleet.close());

    const env: Record<string, string> = {
      ...UNMETERED_QUOTAS_ENV,
      LOCAL_DYNAMODB_ENDPOINT: proxy.endpoint,
      INFERENCE_SERVERS: fleet.servers
        .map((server) => `${server.id}=${server.baseUrl}|${settings.capacity}`)
        .join(','),
      ...options.stackEnv,
    };
    const outputs: string[] = [];
    let stack = await spawnLocalStack({ dataDir, env });
    const tokens = new Map<UserName, string>();
    const signIn = async () => {
      for (const user of Object.keys(USERS) as UserName[]) {
        tokens.set(user, (await login(stack.config, USERS[user], LOCAL_PASSWORD)).idToken);
      }
    };
    await signIn();
    cleanups.push(async () => {
      await stack.kill('SIGKILL');
    });

    const scanPrefix = async (prefix: string): Promise<Record<string, unknown>[]> => {
      const items: Record<string, unknown>[] = [];
      let startKey: Record<string, unknown> | undefined;
      for (let page = 0; page < 10_000; page++) {
        const output = await doc.send(
          new ScanCommand({
            TableName: chatTable.id,
            ConsistentRead: true,
            FilterExpression: 'begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':prefix': prefix },
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        );
        items.push(...(output.Items ?? []));
        startKey = output.LastEvaluatedKey;
        if (!startKey) break;
      }
      return items;
    };
    const scanTurns = async (): Promise<StoredTurn[]> => (await scanPrefix('TURN#')).map(toStoredTurn);

    return {
      proxy,
      fleet,
      settings,
      url: () => stack.url,
      token: (user) => {
        const token = tokens.get(user);
        if (!token) throw new Error(`no token for ${user}`);
        return token;
      },
      stack: () => stack,
      async restartStack(signal) {
        await stack.kill(signal);
        outputs.push(stack.output());
        stack = await spawnLocalStack({ dataDir, env });
        await signIn();
      },
      output: () => [...outputs, stack.output()].join(''),
      expectedAnswer: (prompt) => generateAnswerTokens(prompt, settings.answerTokens).join(''),
      scanTurns,
      async scanClaims() {
        const claims = new Map<string, string>();
        for (const item of await scanPrefix('IDEM#')) {
          const { sk, message_id } = item;
          if (typeof sk === 'string' && typeof message_id === 'string') {
            claims.set(sk.slice('IDEM#'.length), message_id);
          }
        }
        return claims;
      },
      async waitForTurn(id, check, timeoutMs = 10_000) {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const turn = (await scanTurns()).find((candidate) => candidate.id === id);
          if (check(turn) || Date.now() > deadline) return turn;
          await sleep(100);
        }
      },
      close: cleanUp,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}

function toStoredTurn(item: Record<string, unknown>): StoredTurn {
  const text = (name: string): string | undefined => {
    const value = item[name];
    // Long prompts and answers are stored brotli-compressed (a binary attribute): read them as stored.
    if (value instanceof Uint8Array) return brotliDecompressSync(value).toString('utf8');
    return typeof value === 'string' ? value : undefined;
  };
  const usage = item.usage;
  const completionTokens =
    typeof usage === 'object' && usage !== null
      ? (usage as Record<string, unknown>).completion_tokens
      : undefined;
  const finishReason = text('finish_reason');
  const errorCode = text('error_code');
  const server = text('server');
  return {
    userId: text('pk') ?? '',
    id: text('id') ?? '',
    status: text('status') ?? '',
    userMessage: text('user_message') ?? '',
    assistantResponse: text('assistant_response') ?? '',
    ...(finishReason === undefined ? {} : { finishReason }),
    ...(typeof completionTokens === 'number' ? { completionTokens } : {}),
    ...(errorCode === undefined ? {} : { errorCode }),
    ...(server === undefined ? {} : { server }),
  };
}

/**
 * Message ids the stack logged as parked on the write queue, and as applied by the persister
 * (`redelivered`: applied on a second or later receive, i.e. after the persister itself was refused).
 */
export function parkedWrites(output: string): {
  parked: Set<string>;
  applied: Set<string>;
  redelivered: Set<string>;
} {
  const parked = new Set<string>();
  const applied = new Set<string>();
  const redelivered = new Set<string>();
  for (const line of output.split('\n')) {
    if (!line.startsWith('{') || !line.includes('message_id')) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const id = entry.message_id;
    if (typeof id !== 'string') continue;
    const message = entry.message;
    if (typeof message !== 'string') continue;
    if (message.startsWith('final turn write failed')) parked.add(id);
    else if (message === 'parked turn write applied') {
      applied.add(id);
      if (Number(entry.receive_count) > 1) redelivered.add(id);
    }
  }
  return { parked, applied, redelivered };
}
