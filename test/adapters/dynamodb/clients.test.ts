import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDynamoDbClient } from '../../../adapters/dynamodb/clients';
import { createSqsClient } from '../../../adapters/sqs/clients';

/** An endpoint that takes every request and never answers: a hung call. */
let hung: Server;
let endpoint: string;
let requests = 0;

beforeAll(async () => {
  hung = createServer(() => {
    requests++;
  });
  await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
  vi.stubEnv('AWS_REGION', 'us-east-1');
  vi.stubEnv('AWS_ACCESS_KEY_ID', 'local');
  vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'local');
});

afterAll(async () => {
  vi.unstubAllEnvs();
  hung.closeAllConnections();
  await new Promise((resolve) => hung.close(resolve));
});

const timeouts = { connectTimeoutMs: 200, requestTimeoutMs: 300, maxAttempts: 2 };

describe('SDK clients with time-outs', () => {
  it('aborts a hung DynamoDB call with a TimeoutError after its retries, instead of waiting forever', async () => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL_DYNAMODB', endpoint);
    const client = createDynamoDbClient(timeouts);
    const before = requests;
    // Act
    const call = client.send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'x' } } }));
    // Assess: the SDK gave up on its own, after both attempts reached the server
    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
    expect(requests - before).toBe(2);
    client.destroy();
  });

  it('aborts a hung SQS call the same way', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_SQS', endpoint);
    const client = createSqsClient(timeouts);
    const call = client.send(new ReceiveMessageCommand({ QueueUrl: `${endpoint}/000000000000/q` }));
    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
    client.destroy();
  });
});
