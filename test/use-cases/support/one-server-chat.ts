/**
 * ChatService on dynalite and one simulated OpenAI-compatible server, admitted straight to it: for use
 * case tests about what a turn stores (its counts, its caps), not about admission. No SQS: the stop inbox
 * is unavailable (stops would poll the flag) and a parked write fails the test.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDbConversationRepository } from '../../../adapters/dynamodb/conversation-repository';
import { DynamoDbIdempotencyClaims } from '../../../adapters/dynamodb/idempotency-claims';
import { DynamoDbQuotaCounter } from '../../../adapters/dynamodb/quota-counter';
import { DynamoDbStopFlags } from '../../../adapters/dynamodb/stop-flags';
import { DynamoDbTurnRepository } from '../../../adapters/dynamodb/turn-repository';
import type { FleetApiKey } from '../../../adapters/inference/fleet-api-key';
import { OpenAiModelClient } from '../../../adapters/inference/openai-model-client';
import { SqsStopInbox } from '../../../adapters/sqs/stop-inbox';
import { DomainError } from '../../../domain/errors';
import {
  type Log,
  type ModelClient,
  type QuotaCounter,
  type ServerSelector,
  systemClock,
} from '../../../domain/ports';
import type { QuotaPolicy } from '../../../domain/quota';
import type { ChatMessage } from '../../../domain/turn';
import type { SimulatedServerHandle } from '../../../local/fleet/server';
import type { ChatConfig } from '../../../use-cases/chat-turn';
import { MeteredChat } from '../../../use-cases/metered-chat';
import { ChatService } from '../../../use-cases/start-turn';
import type { TestDynamoDb } from '../../support/dynamodb';

const silent: Log = { info: () => undefined, warn: () => undefined, error: () => undefined };
const noSqs = new SQSClient({
  endpoint: 'http://127.0.0.1:9',
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  maxAttempts: 1,
});

const DEFAULT_CONFIG: ChatConfig = {
  model: 'local-llm',
  contextTokenBudget: 1000,
  contextTurnsToRead: 10,
  maxAnswerTokens: 256,
  maxAnswerBytes: 100_000,
  firstTokenTimeoutMs: 2000,
  maxTurnMs: 20_000,
  stopPollMs: 50,
};

export interface OneServerChatOptions {
  /** The fleet's bearer key; none by default. */
  readonly apiKey?: FleetApiKey;
  /** Where the service logs; silent by default. */
  readonly log?: Log;
  /** Wraps the model client (to record what is sent upstream). */
  readonly wrapModel?: (model: ModelClient) => ModelClient;
}

/** A wrapModel that records the messages of each request sent upstream in `sent`, in order. */
export const recordingMessages =
  (sent: (readonly ChatMessage[])[]) =>
  (model: ModelClient): ModelClient => ({
    stream: (server, request) => {
      sent.push(request.messages);
      return model.stream(server, request);
    },
  });

export function oneServerChat(
  db: TestDynamoDb,
  gpu: Pick<SimulatedServerHandle, 'id' | 'baseUrl'>,
  config: Partial<ChatConfig> = {},
  options: OneServerChatOptions = {},
): ChatService {
  const log = options.log ?? silent;
  const selector: ServerSelector = {
    attempts: 1,
    pick: async () => ({ id: gpu.id, baseUrl: gpu.baseUrl }),
    overloaded: () => new DomainError('overloaded', 'busy'),
    release: () => undefined,
  };
  return new ChatService({
    repository: new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable),
    conversations: new DynamoDbConversationRepository(db.doc, db.tableNames.ChatTable),
    model: (options.wrapModel ?? ((model) => model))(
      new OpenAiModelClient({
        connectTimeoutMs: 1000,
        idleTimeoutMs: 2000,
        ...(options.apiKey ? { apiKey: options.apiKey } : {}),
      }),
    ),
    admission: { admit: async () => selector },
    writeQueue: {
      enqueue: async () => {
        throw new Error('no write should be parked here');
      },
    },
    stopFlags: new DynamoDbStopFlags(db.doc, db.tableNames.ChatTable, systemClock),
    stopInbox: new SqsStopInbox(noSqs, { prefix: 'test-stop-', clock: systemClock, log }),
    idempotency: new DynamoDbIdempotencyClaims(db.doc, db.tableNames.ChatTable, systemClock),
    clock: systemClock,
    log,
    config: { ...DEFAULT_CONFIG, ...config },
  });
}

/** Roomy quotas, so tests about something else never meet them. */
export const ROOMY_QUOTAS: QuotaPolicy = {
  windowSeconds: 10_800,
  promptsPerWindow: { free: 1_000, premium: 1_000 },
  concurrentStreams: { free: 100, premium: 100 },
  promptsPerMinute: { free: 1_000, premium: 1_000 },
  maxTurnMs: 20_000,
};

/** That service under quotas counted in the same table (or by `quota`, to inject a fault). */
export function meteredChat(
  db: TestDynamoDb,
  chat: ChatService,
  options: { readonly quota?: QuotaCounter; readonly policy?: QuotaPolicy; readonly log?: Log } = {},
): MeteredChat {
  return new MeteredChat({
    chat,
    quota: options.quota ?? new DynamoDbQuotaCounter(db.doc, db.tableNames.ChatTable),
    turns: new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable),
    policy: options.policy ?? ROOMY_QUOTAS,
    clock: systemClock,
    log: options.log ?? silent,
  });
}
