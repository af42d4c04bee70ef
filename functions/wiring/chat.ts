import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient, createDynamoDbClient } from '../../adapters/dynamodb/clients';
import { DynamoDbConversationRepository } from '../../adapters/dynamodb/conversation-repository';
import { DynamoDbFleetRepository } from '../../adapters/dynamodb/fleet-repository';
import { DynamoDbIdempotencyClaims } from '../../adapters/dynamodb/idempotency-claims';
import { DynamoDbQuotaCounter } from '../../adapters/dynamodb/quota-counter';
import { OpenAiModelClient } from '../../adapters/inference/openai-model-client';
import { createSqsClient } from '../../adapters/sqs/clients';
import { SqsTurnWriteQueue } from '../../adapters/sqs/sqs-turn-write-queue';
import { SqsStopInbox } from '../../adapters/sqs/stop-inbox';
import {
  admissionPolicy,
  backoffPolicy,
  fleetPolicy,
  heartbeatIntervalMs,
  maxTurnMs,
  quotaPolicy,
} from '../../settings/policies';
import type { Settings } from '../../settings/settings';
import { FleetGate } from '../../use-cases/fleet-gate';
import { MeteredChat } from '../../use-cases/metered-chat';
import { ChatService } from '../../use-cases/start-turn';
import { createFleetApiKey } from './fleet-api-key';
import type { Infrastructure } from './infrastructure';
import { createTurnStores } from './turns';

/** The chat function's own clients; tests pass emulator ones. */
export interface ChatClients {
  /** Fleet view reads, on a short leash of their own. */
  readonly fleetViews: DynamoDBDocumentClient;
  readonly sqs: SQSClient;
  /** The stop inbox's long polls: 20 s each, so a time-out above that. */
  readonly stopInboxSqs: SQSClient;
  /** Quota counter writes, on a short leash: a slow counter admits uncounted rather than delay a prompt. */
  readonly quota: DynamoDBDocumentClient;
}

export function awsChatClients(): ChatClients {
  return {
    // One attempt and a retry within ~1 s. A slow read costs the prompt its first token, and a failed one
    // is no loss: the gate keeps its last view (static stability).
    fleetViews: createDocumentClient(
      createDynamoDbClient({ connectTimeoutMs: 300, requestTimeoutMs: 400, maxAttempts: 2 }),
    ),
    sqs: createSqsClient(),
    stopInboxSqs: createSqsClient({ connectTimeoutMs: 1_000, requestTimeoutMs: 25_000, maxAttempts: 1 }),
    quota: createDocumentClient(
      createDynamoDbClient({ connectTimeoutMs: 300, requestTimeoutMs: 500, maxAttempts: 2 }),
    ),
  };
}

/** Admission by the fleet views, with the heartbeat's thresholds. */
export function createFleetGate(settings: Settings, infrastructure: Infrastructure, clients: ChatClients) {
  return new FleetGate({
    admissionPolicy: admissionPolicy(settings),
    fleet: new DynamoDbFleetRepository(clients.fleetViews, settings.fleetTableName),
    shards: settings.fleetShards,
    clock: infrastructure.clock,
    random: Math.random,
    policy: fleetPolicy(settings),
    backoff: backoffPolicy(settings),
    // The chat function reuses one view for one heartbeat interval.
    cacheMs: heartbeatIntervalMs(settings),
    premiumWaitMs: settings.premiumAdmissionWaitMs,
  });
}

/** POST /chat's use cases: ChatService wired to DynamoDB, the fleet gate, the model and the write queue. */
export function createChatService(
  settings: Settings,
  infrastructure: Infrastructure,
  clients: ChatClients = awsChatClients(),
): ChatService {
  const { documentClient, clock, log } = infrastructure;
  const { repository, stopFlags } = createTurnStores(settings, infrastructure);
  return new ChatService({
    repository,
    conversations: new DynamoDbConversationRepository(documentClient, settings.chatTableName),
    stopFlags,
    stopInbox: new SqsStopInbox(clients.stopInboxSqs, { prefix: settings.stopInboxPrefix, clock, log }),
    idempotency: new DynamoDbIdempotencyClaims(documentClient, settings.chatTableName, clock),
    model: new OpenAiModelClient({
      connectTimeoutMs: settings.inferenceConnectTimeoutMs,
      idleTimeoutMs: settings.inferenceIdleTimeoutMs,
      apiKey: createFleetApiKey(settings),
    }),
    admission: createFleetGate(settings, infrastructure, clients),
    writeQueue: new SqsTurnWriteQueue(clients.sqs, settings.turnWritesQueueUrl),
    clock,
    log,
    config: {
      model: settings.modelId,
      contextTokenBudget: settings.contextTokenBudget,
      contextTurnsToRead: settings.contextTurnsToRead,
      maxAnswerTokens: settings.maxAnswerTokens,
      maxAnswerBytes: settings.maxAnswerBytes,
      firstTokenTimeoutMs: settings.firstTokenTimeoutMs,
      maxTurnMs: maxTurnMs(settings),
      stopPollMs: settings.stopPollMs,
    },
  });
}

/** POST /chat as the function serves it: ChatService under each caller's quota (counted in the chat table). */
export function createMeteredChat(
  settings: Settings,
  infrastructure: Infrastructure,
  clients: ChatClients = awsChatClients(),
): MeteredChat {
  return new MeteredChat({
    chat: createChatService(settings, infrastructure, clients),
    quota: new DynamoDbQuotaCounter(clients.quota, settings.chatTableName),
    turns: createTurnStores(settings, infrastructure).repository,
    policy: quotaPolicy(settings),
    clock: infrastructure.clock,
    log: infrastructure.log,
  });
}
