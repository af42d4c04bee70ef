/**
 * The composition root: the one place where settings, SDK clients, adapters and use cases are wired.
 * Each function entry takes what it serves from `composition()` (built on first use, once per
 * container); tests build their own with `createComposition(readSettings({...}), testInfrastructure)`.
 * Everything is built lazily, so a function creates only the clients and adapters it uses.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  createDocumentClient,
  createDynamoDbClient,
  documentClient as defaultDocumentClient,
} from '../adapters/dynamodb/clients';
import { DynamoDbFleetRepository } from '../adapters/dynamodb/fleet-repository';
import { DynamoDbIdempotencyClaims } from '../adapters/dynamodb/idempotency-claims';
import { DynamoDbServerRegistry } from '../adapters/dynamodb/server-registry';
import { DynamoDbStopFlags } from '../adapters/dynamodb/stop-flags';
import { DynamoDbTurnRepository } from '../adapters/dynamodb/turn-repository';
import { MetricsLoadProbe } from '../adapters/fleet/metrics-load-probe';
import { gptTokenizer } from '../adapters/inference/gpt-tokenizer';
import { OpenAiModelClient } from '../adapters/inference/openai-model-client';
import { createSqsClient } from '../adapters/sqs/clients';
import { SqsTurnWriteQueue } from '../adapters/sqs/sqs-turn-write-queue';
import { ChatService } from '../domain/chat';
import { FleetGate } from '../domain/fleet-gate';
import { validateShard } from '../domain/fleet-shards';
import { HeartbeatWorker } from '../domain/heartbeat';
import { type Clock, type Log, systemClock } from '../domain/ports';
import {
  admissionPolicy,
  backoffPolicy,
  fleetPolicy,
  heartbeatIntervalMs,
  maxTurnMs,
} from '../settings/policies';
import type { Settings } from '../settings/settings';
import { logger } from './commons/logger';
import { recordFleet } from './commons/metrics';
import { fleetMetricsEvery, type ShardHeartbeat } from './heartbeat/loop';
import { createAuthenticator } from './http/auth';
import { settings as processSettings } from './settings';

/** What the adapters run on; tests pass emulator clients and a quiet log. */
export interface Infrastructure {
  /** Chat, registry and fleet writes: the default time-outs (adapters/dynamodb/clients.ts). */
  readonly documentClient: DynamoDBDocumentClient;
  /** Fleet view reads, on their own short leash (below). */
  readonly fleetViewsClient: () => DynamoDBDocumentClient;
  readonly sqsClient: () => SQSClient;
  readonly clock: Clock;
  readonly log: Log;
}

/** Built at most once, on first call. */
function once<T>(build: () => T): () => T {
  let built: { readonly value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}

/** The clients a Lambda container uses: endpoints, region and credentials from the SDK's own chain. */
export function awsInfrastructure(): Infrastructure {
  return {
    documentClient: defaultDocumentClient,
    // One attempt and a retry within ~1 s. A slow read costs the prompt its first token, and a failed one
    // is no loss: the gate keeps its last view (static stability).
    fleetViewsClient: once(() =>
      createDocumentClient(
        createDynamoDbClient({ connectTimeoutMs: 300, requestTimeoutMs: 400, maxAttempts: 2 }),
      ),
    ),
    sqsClient: once(() => createSqsClient()),
    clock: systemClock,
    log: logger,
  };
}

export function createComposition(settings: Settings, infrastructure: Infrastructure) {
  const { documentClient, clock, log } = infrastructure;

  const turnRepository = once(() => new DynamoDbTurnRepository(documentClient, settings.chatTableName));
  const stopFlags = once(() => new DynamoDbStopFlags(documentClient, settings.chatTableName, clock));
  const turnWriteQueue = once(
    () => new SqsTurnWriteQueue(infrastructure.sqsClient(), settings.turnWritesQueueUrl),
  );

  const fleetGate = once(
    () =>
      new FleetGate({
        admissionPolicy: admissionPolicy(settings),
        fleet: new DynamoDbFleetRepository(infrastructure.fleetViewsClient(), settings.fleetTableName),
        shards: settings.fleetShards,
        clock,
        random: Math.random,
        policy: fleetPolicy(settings),
        backoff: backoffPolicy(settings),
        // The chat function reuses one view for one heartbeat interval.
        cacheMs: heartbeatIntervalMs(settings),
        premiumWaitMs: settings.premiumAdmissionWaitMs,
      }),
  );

  const chatService = once(
    () =>
      new ChatService({
        repository: turnRepository(),
        stopFlags: stopFlags(),
        idempotency: new DynamoDbIdempotencyClaims(documentClient, settings.chatTableName, clock),
        model: new OpenAiModelClient({
          connectTimeoutMs: settings.inferenceConnectTimeoutMs,
          idleTimeoutMs: settings.inferenceIdleTimeoutMs,
        }),
        admission: fleetGate(),
        tokenizer: gptTokenizer,
        writeQueue: turnWriteQueue(),
        clock,
        log,
        config: {
          model: settings.modelId,
          contextTokenBudget: settings.contextTokenBudget,
          contextTurnsToRead: settings.contextTurnsToRead,
          maxAnswerTokens: settings.maxAnswerTokens,
          firstTokenTimeoutMs: settings.firstTokenTimeoutMs,
          maxTurnMs: maxTurnMs(settings),
          stopPollMs: settings.stopPollMs,
        },
      }),
  );

  const serverRegistry = once(
    () => new DynamoDbServerRegistry(documentClient, settings.serverRegistryTableName),
  );
  const fleetRepository = once(() => new DynamoDbFleetRepository(documentClient, settings.fleetTableName));

  /** Everything the heartbeat worker of `shard` needs; throws for a shard outside FLEET_SHARDS. */
  const heartbeatForShard = (shard: number): ShardHeartbeat => {
    const shards = settings.fleetShards;
    const intervalMs = heartbeatIntervalMs(settings);
    const worker = new HeartbeatWorker({
      shard: validateShard(shard, shards),
      shards,
      registry: serverRegistry(),
      probe: new MetricsLoadProbe({ clock, timeoutMs: settings.heartbeatProbeTimeoutMs, log }),
      fleet: fleetRepository(),
      clock,
      policy: fleetPolicy(settings),
      log,
      registryRefreshMs: settings.registryRefreshSeconds * 1000,
    });
    return {
      worker,
      clock,
      log,
      intervalMs,
      // Shard k of n ticks at k/n of the interval, so the workers do not all scrape at the same instant.
      phaseMs: (shard / shards) * intervalMs,
      tickTimeoutMs: settings.heartbeatTickTimeoutMs,
      onState: fleetMetricsEvery(10_000, recordFleet),
      runForMs: settings.heartbeatRunSeconds * 1000,
    };
  };

  return {
    settings,
    clock,
    log,
    authenticate: once(() => createAuthenticator(settings)),
    turnRepository,
    stopFlags,
    chatService,
    heartbeatForShard,
  };
}

export type Composition = ReturnType<typeof createComposition>;

/** This process's composition: its settings (read once, functions/settings.ts) and the AWS clients. */
export const composition = once(() => createComposition(processSettings, awsInfrastructure()));
