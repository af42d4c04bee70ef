import { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it, vi } from 'vitest';
import { createDocumentClient, createDynamoDbClient } from '../../adapters/dynamodb/clients';
import { readSettings } from '../../settings/read';
import { MeteredChat } from '../../use-cases/metered-chat';
import { ChatService } from '../../use-cases/start-turn';

vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
const { createChatService, createMeteredChat } = await import('../../functions/wiring/chat');
const { createTurnStores } = await import('../../functions/wiring/turns');

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const documentClient = createDocumentClient(createDynamoDbClient());
const infrastructure = { documentClient, clock: { now: () => 0 }, log: quiet };
const sqs = new SQSClient({ region: 'us-east-1' });
const clients = { fleetViews: documentClient, sqs, stopInboxSqs: sqs, quota: documentClient };

describe('functions/wiring', () => {
  it('builds ChatService from settings and injected clients, without touching the network', () => {
    // Prepare
    const settings = readSettings({
      CHAT_TABLE_NAME: 'chat',
      FLEET_TABLE_NAME: 'fleet',
      TURN_WRITES_QUEUE_URL: 'http://127.0.0.1:9/queue/turn-writes',
      STOP_INBOX_PREFIX: 'chat-stop-',
    });

    // Act
    const chat = createChatService(settings, infrastructure, clients);

    // Assess
    expect(chat).toBeInstanceOf(ChatService);
    expect(createMeteredChat(settings, infrastructure, clients)).toBeInstanceOf(MeteredChat);
  });

  it('fails at wiring time, naming the variable, when a table the function needs is not set', () => {
    // Act
    const act = () => createTurnStores(readSettings({}), infrastructure);

    // Assess
    expect(act).toThrow('CHAT_TABLE_NAME is required but not set.');
  });
});
