import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDocumentClient } from '../../../adapters/dynamodb/clients';
import { DynamoDbTurnRepository } from '../../../adapters/dynamodb/turn-repository';
import { chatTable, fleetTable, serverRegistryTable, tables } from '../../../lib/resources';
import { createLocalDynamoDbClient, ensureTables, startDynamoDb } from '../../../local/emulators/dynamodb';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dynalite-test-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function withDynamo<T>(path: string | undefined, run: (endpoint: string) => Promise<T>): Promise<T> {
  const server = await startDynamoDb(path === undefined ? {} : { path });
  try {
    return await run(server.endpoint);
  } finally {
    await server.close();
  }
}

describe('startDynamoDb and ensureTables', () => {
  it('creates the tables of lib/resources.ts as defined', async () => {
    await withDynamo(undefined, async (endpoint) => {
      expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const client = createLocalDynamoDbClient(endpoint);
      try {
        await ensureTables(client);
        const { TableNames } = await client.send(new ListTablesCommand({}));
        expect(TableNames?.sort()).toEqual(tables.map((table) => table.id).sort());

        const { Table } = await client.send(new DescribeTableCommand({ TableName: chatTable.id }));
        expect(Table?.TableStatus).toBe('ACTIVE');
        expect(Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
        expect(Table?.KeySchema).toEqual([
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ]);
        expect(
          Table?.GlobalSecondaryIndexes?.map((index) => [
            index.IndexName,
            index.Projection?.ProjectionType,
          ]).sort(),
        ).toEqual(
          chatTable.globalSecondaryIndexes.map((index) => [index.indexName, index.projection]).sort(),
        );
        const fleet = await client.send(new DescribeTableCommand({ TableName: fleetTable.id }));
        expect(fleet.Table?.KeySchema).toEqual([{ AttributeName: 'pk', KeyType: 'HASH' }]);
        const registry = await client.send(new DescribeTableCommand({ TableName: serverRegistryTable.id }));
        expect(registry.Table?.KeySchema).toEqual([
          { AttributeName: 'bucket', KeyType: 'HASH' },
          { AttributeName: 'id', KeyType: 'RANGE' },
        ]);

        // Idempotent, and it refuses an existing table that no longer matches its definition.
        await ensureTables(client);
        await expect(
          ensureTables(client, [
            {
              ...chatTable,
              globalSecondaryIndexes: [
                { indexName: 'byOther', partitionKey: { name: 'other', type: 'S' }, projection: 'ALL' },
              ],
            },
          ]),
        ).rejects.toThrow(/ChatTable does not match.*byOther is missing/);
      } finally {
        client.destroy();
      }
    });
  });

  it('keeps data across a restart with the same path', async () => {
    const turn = {
      userId: 'persist-user',
      id: '01ARZ3NDEKTSV4RRFFQ69G5FAV',
      conversationId: 'c',
      userMessage: 'still here?',
      createdAt: '2025-01-01T00:00:00.000Z',
    };
    const useRepo = (endpoint: string, run: (repo: DynamoDbTurnRepository) => Promise<void>) => {
      const client = createLocalDynamoDbClient(endpoint);
      return ensureTables(client)
        .then(() => run(new DynamoDbTurnRepository(createDocumentClient(client), chatTable.id)))
        .finally(() => client.destroy());
    };

    await withDynamo(dir, (endpoint) => useRepo(endpoint, (repo) => repo.startTurn(turn)));
    await withDynamo(dir, (endpoint) =>
      useRepo(endpoint, async (repo) => {
        expect((await repo.getTurn(turn.userId, turn.id))?.userMessage).toBe('still here?');
        expect(
          await repo.finishTurn(turn, {
            status: 'completed',
            assistantResponse: 'yes',
            updatedAt: turn.createdAt,
          }),
        ).toBe(true);
      }),
    );
    await withDynamo(dir, (endpoint) =>
      useRepo(endpoint, async (repo) => {
        const { turns } = await repo.listTurns(turn.userId, { limit: 5, conversationId: 'c' });
        expect(turns.map((t) => [t.id, t.status, t.assistantResponse])).toEqual([
          [turn.id, 'completed', 'yes'],
        ]);
      }),
    );
  });

  it('closes idempotently', async () => {
    const server = await startDynamoDb();
    await Promise.all([server.close(), server.close()]);
  });
});
