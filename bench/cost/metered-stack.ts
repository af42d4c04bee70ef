/**
 * The whole local app in this process (local/stack.ts: the real handler modules behind the Function URL
 * gateway, cognito-local, the simulated fleet, local-aws-sqs) on an in-memory dynalite, with the model's
 * meters installed before any of it starts: every SDK call (sdk-meter.ts) and every log line
 * (log-meter.ts) is attributed to the phase being measured. No background task runs on its own: the
 * model invokes the heartbeat and the sweeper handlers itself, each in its own phase.
 *
 * The registry gets the target fleet's shape (FLEET_SHARDS shards of `serversPerShard` servers each, all
 * answering from the simulated servers' /metrics), and `refreshViews()` runs one real heartbeat tick per
 * shard so that every view a chat container may draw is fresh and full-sized.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { createDocumentClient } from '../../adapters/dynamodb/clients';
import { DynamoDbServerRegistry } from '../../adapters/dynamodb/server-registry';
import { shardOf } from '../../domain/fleet-shards';
import { TIMEOUT_MARGIN_MS } from '../../functions/heartbeat/loop';
import { fleetTable, serverRegistryTable } from '../../lib/resources';
import { backgroundFunction } from '../../local/background/definitions';
import { cognitoLogin, LOCAL_PASSWORD } from '../../local/emulators/cognito';
import { createLocalDynamoDbClient, type LocalDynamoDb, startDynamoDb } from '../../local/emulators/dynamodb';
import { createLambdaContext } from '../../local/gateway/lambda-context';
import { loadHandler } from '../../local/handlers';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { UNMETERED_QUOTAS_ENV } from '../../local/unmetered-quotas';
import { readSettings } from '../../settings/read';
import type { Settings } from '../../settings/settings';
import { ShadowInspector } from './dynamodb-effects';
import { LogMeter } from './log-meter';
import type { Scenario } from './scenario';
import { SdkMeter } from './sdk-meter';
import { type StatefulConfig, synthesizedStateful } from './table-schema';

export interface InvocationRecord {
  readonly route: string;
  readonly requestId: string;
  readonly durationMs: number;
  readonly status: number;
  /** Body bytes the gateway sent. */
  readonly bytes: number;
}

export interface MeteredStackOptions {
  readonly scenario: Scenario;
  /** The app's DynamoDB endpoint (e.g. a counting proxy); default: an in-memory dynalite started here. */
  readonly dynamoEndpoint?: string;
  /** Where the model reads items back, bypassing `dynamoEndpoint`. Required with it. */
  readonly inspectEndpoint?: string;
}

/** A trace header of Lambda's shape: with active tracing, Powertools puts its root on every log line. */
const TRACE_HEADER = 'Root=1-6760d3a1-0f3c1e2d4b5a69788796a5b4;Parent=4f1b2c3d5e6f7a8b;Sampled=1';

type Handler = (event: unknown, context: Context) => Promise<unknown>;

const REFRESH_PARALLEL = 4;

/** Phases whose calls are counted but not inspected (item sizes are only needed where the model prices). */
export const UNMEASURED_PHASES: ReadonlySet<string> = new Set(['setup', 'seed', 'idle']);

export class MeteredStack {
  private readonly invocations = new Map<string, InvocationRecord>();
  private readonly waiting = new Map<string, (record: InvocationRecord) => void>();
  private heartbeat: Handler | undefined;

  private constructor(
    readonly sdk: SdkMeter,
    readonly logs: LogMeter,
    readonly stateful: StatefulConfig,
    private readonly inspectClient: DynamoDBClient,
    private readonly serversPerShard: number,
    private readonly cleanups: (() => Promise<void>)[],
  ) {}

  stack!: LocalStack;
  settings!: Settings;

  static async start(options: MeteredStackOptions): Promise<MeteredStack> {
    const stateful = synthesizedStateful();
    const cleanups: (() => Promise<void>)[] = [];
    let dynalite: LocalDynamoDb | undefined;
    if (options.dynamoEndpoint === undefined) {
      dynalite = await startDynamoDb();
      cleanups.push(() => dynalite?.close() ?? Promise.resolve());
    }
    const appEndpoint = options.dynamoEndpoint ?? dynalite?.endpoint ?? '';
    const inspectEndpoint = options.inspectEndpoint ?? appEndpoint;
    const shadow = createLocalDynamoDbClient(inspectEndpoint);
    cleanups.push(async () => shadow.destroy());

    const sdk = new SdkMeter(
      new ShadowInspector(shadow, stateful.tables),
      (phase) => !UNMEASURED_PHASES.has(phase),
    );
    sdk.exclude(shadow);
    const logs = new LogMeter(() => sdk.currentPhase());
    const metered = new MeteredStack(sdk, logs, stateful, shadow, options.scenario.serversPerShard, cleanups);
    sdk.install();
    logs.install();
    cleanups.push(async () => {
      logs.uninstall();
      sdk.uninstall();
    });
    try {
      await metered.boot(options.scenario, appEndpoint);
    } catch (error) {
      await metered.stop();
      throw error;
    }
    return metered;
  }

  private async boot(scenario: Scenario, dynamoEndpoint: string): Promise<void> {
    const dataDir = await mkdtemp(join(tmpdir(), 'cost-model-'));
    this.cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    this.stack = await startLocalStack({
      dataDir,
      port: 0,
      backgroundTasks: [],
      fleet: {
        count: 2,
        slots: 64,
        answerTokens: scenario.answerTokens,
        tokensPerSecond: scenario.tokensPerSecond,
        timeToFirstTokenMs: scenario.timeToFirstTokenMs,
      },
      env: {
        // The counter's writes are measured; its limits must not refuse the seeding.
        ...UNMETERED_QUOTAS_ENV,
        LOCAL_DYNAMODB_ENDPOINT: dynamoEndpoint,
        FLEET_SHARDS: String(scenario.fleetShards),
        LOG_LEVEL: 'INFO',
        _X_AMZN_TRACE_ID: TRACE_HEADER,
      },
      log: (entry) => {
        if (entry.msg === 'invoke') this.recordInvocation(entry);
      },
    });
    const stack = this.stack;
    this.cleanups.push(() => stack.stop());
    this.settings = readSettings(process.env);
    await this.registerFleet(scenario, dynamoEndpoint);
    this.heartbeat = (await loadHandler(backgroundFunction('RunHeartbeat').entry)) as Handler;
  }

  /** `serversPerShard` registrations in every shard, answering from the simulated servers. */
  private async registerFleet(scenario: Scenario, dynamoEndpoint: string): Promise<void> {
    const client = createLocalDynamoDbClient(dynamoEndpoint);
    try {
      const registry = new DynamoDbServerRegistry(createDocumentClient(client), serverRegistryTable.id);
      const servers = this.stack.fleet?.servers ?? [];
      const perShard = new Array<number>(scenario.fleetShards).fill(0);
      const ids: string[] = [];
      for (let n = 0; ids.length < scenario.fleetShards * scenario.serversPerShard; n++) {
        const id = `gpu-use1-${String(n).padStart(4, '0')}`;
        const shard = shardOf(id, scenario.fleetShards);
        if ((perShard[shard] ?? 0) >= scenario.serversPerShard) continue;
        perShard[shard] = (perShard[shard] ?? 0) + 1;
        ids.push(id);
      }
      for (let i = 0; i < ids.length; i += 32) {
        await Promise.all(
          ids.slice(i, i + 32).map((id, j) => {
            const server = servers[(i + j) % servers.length];
            if (!server) throw new Error('The local stack started no simulated server');
            return registry.put({ id, baseUrl: server.baseUrl, capacity: 36, status: 'active' });
          }),
        );
      }
    } finally {
      client.destroy();
    }
  }

  /**
   * One real heartbeat invocation per shard, each ending after its first tick; a few at a time, so that
   * no scrape misses its time-out on a busy machine (a view of unreachable servers would refuse prompts).
   */
  async refreshViews(): Promise<void> {
    const shards = Array.from({ length: this.settings.fleetShards }, (_, shard) => shard);
    for (let attempt = 1; ; attempt++) {
      for (let i = 0; i < shards.length; i += REFRESH_PARALLEL) {
        await Promise.all(
          shards.slice(i, i + REFRESH_PARALLEL).map((shard) => this.invokeHeartbeat(shard, 0)),
        );
      }
      // The first scrapes of a fresh stack may miss their time-out while connections open: tick again.
      const safe = await this.safeServersPerView();
      if (safe.length === shards.length && safe.every((count) => count >= this.serversPerShard)) return;
      if (attempt === 5) throw new Error(`Fleet views not all healthy after 5 ticks: ${safe.join(',')}`);
    }
  }

  private async safeServersPerView(): Promise<number[]> {
    const output = await this.inspectClient.send(new ScanCommand({ TableName: fleetTable.id }));
    return (output.Items ?? []).map((item) => Number(item.t_safe?.N ?? 0));
  }

  /** The heartbeat handler for `shard` with `runMs` to run before its time-out margin (0: one tick). */
  async invokeHeartbeat(shard: number, runMs: number): Promise<unknown> {
    if (!this.heartbeat) throw new Error('The metered stack is not started');
    const definition = backgroundFunction('RunHeartbeat');
    const context = createLambdaContext(definition);
    // The loop stops once less than interval + TIMEOUT_MARGIN_MS would remain at the next tick, as near
    // a Lambda time-out: just under that from the start means one tick.
    const deadline =
      Date.now() + runMs + this.settings.heartbeatIntervalSeconds * 1000 + TIMEOUT_MARGIN_MS - 1;
    return this.heartbeat(
      { shard },
      { ...context, getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) },
    );
  }

  async login(email: string): Promise<string> {
    const { config } = this.stack;
    return (await cognitoLogin(config.cognitoEndpoint, config.userPoolClientId, email, LOCAL_PASSWORD))
      .idToken;
  }

  /** Runs `work` as phase `name`: every SDK call and log line in it is attributed to it. */
  async phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    this.sdk.setPhase(name);
    try {
      return await work();
    } finally {
      await this.sdk.settle();
      this.sdk.setPhase('idle');
    }
  }

  /** The gateway's record of an invocation, once it has ended. */
  invocation(requestId: string): Promise<InvocationRecord> {
    const known = this.invocations.get(requestId);
    if (known) return Promise.resolve(known);
    return new Promise((resolve) => this.waiting.set(requestId, resolve));
  }

  async stop(): Promise<void> {
    while (this.cleanups.length > 0) await this.cleanups.pop()?.();
  }

  private recordInvocation(entry: Readonly<Record<string, unknown>>): void {
    const record: InvocationRecord = {
      route: String(entry.route),
      requestId: String(entry.requestId),
      durationMs: Number(entry.durationMs),
      status: Number(entry.status),
      bytes: Number(entry.bytes),
    };
    this.invocations.set(record.requestId, record);
    this.waiting.get(record.requestId)?.(record);
    this.waiting.delete(record.requestId);
  }
}
