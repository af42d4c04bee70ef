import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';

let db: TestDynamoDb;
const saved = { ...process.env };

beforeAll(async () => {
  db = await startTestDynamoDb();
});

afterAll(async () => {
  process.env = saved;
  await db?.close();
});

describe('module-scope clients', () => {
  it('reach the endpoint named by AWS_ENDPOINT_URL_DYNAMODB', async () => {
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_PROFILE;
    Object.assign(process.env, db.env);
    // Imported after the environment is set, as a Lambda container would be.
    const { documentClient, tableNameFromEnv } = await import('../../../adapters/dynamodb/clients');
    const { chatTable } = await import('../../../lib/resources');
    const tableName = tableNameFromEnv(chatTable);
    expect(tableName).toBe('ChatTable');

    await documentClient.send(
      new PutCommand({ TableName: tableName, Item: { pk: 'env-test', sk: 'X', note: undefined, n: 1 } }),
    );
    const read = await db.doc.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'env-test', sk: 'X' } }),
    );
    // removeUndefinedValues: the undefined attribute was dropped rather than rejected.
    expect(read.Item).toEqual({ pk: 'env-test', sk: 'X', n: 1 });
  });

  it('names a missing table variable', async () => {
    const { tableNameFromEnv } = await import('../../../adapters/dynamodb/clients');
    expect(() => tableNameFromEnv({ envVar: 'NOT_SET_ANYWHERE' }, {})).toThrow('NOT_SET_ANYWHERE');
  });
});
