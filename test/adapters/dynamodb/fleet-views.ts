/**
 * Shared by the fleet table's tests: a dynalite with a fresh fleet table per test (shaped by
 * lib/resources.ts), raw reads of the stored view item, and a reference view with every kind of server.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll } from 'vitest';
import { viewKey } from '../../../adapters/dynamodb/fleet-items';
import { DynamoDbFleetRepository } from '../../../adapters/dynamodb/fleet-repository';
import type { FleetState, ServerLoad, ShardTotals } from '../../../domain/fleet';
import { fleetTable } from '../../../lib/resources';
import { ensureTables } from '../../../local/emulators/dynamodb';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';

export const at = 1_750_000_000_000;

/** Starts dynalite for the calling test file (its own beforeAll / afterAll). */
export function useFleetTables() {
  let started: TestDynamoDb | undefined;
  let tableCount = 0;
  beforeAll(async () => {
    started = await startTestDynamoDb({ definitions: [] });
  });
  afterAll(async () => {
    await started?.close();
  });
  const db = (): TestDynamoDb => {
    if (!started) throw new Error('dynalite is not started (use inside a test)');
    return started;
  };
  return {
    get db() {
      return db();
    },
    /** Each test gets its own empty fleet table. */
    async freshRepository(): Promise<{ table: string; repo: DynamoDbFleetRepository }> {
      tableCount++;
      const table = `Fleet${tableCount}`;
      await ensureTables(db().client, [{ ...fleetTable, id: table }]);
      return { table, repo: new DynamoDbFleetRepository(db().doc, table) };
    },
    /** The item as DynamoDB stores it (attribute values, not unmarshalled). */
    async rawItem(table: string, shard: number): Promise<Record<string, AttributeValue> | undefined> {
      const output = await db().client.send(
        new GetItemCommand({ TableName: table, Key: { pk: { S: viewKey(shard) } }, ConsistentRead: true }),
      );
      return output.Item;
    },
    async storedItem(table: string, shard: number): Promise<Record<string, unknown> | undefined> {
      const output = await db().doc.send(
        new GetCommand({ TableName: table, Key: { pk: viewKey(shard) }, ConsistentRead: true }),
      );
      return output.Item;
    },
  };
}

export function server(id: string, overrides: Partial<ServerLoad> = {}): ServerLoad {
  return {
    id,
    baseUrl: `http://10.0.0.${id.length}:8000`,
    running: 3,
    waiting: 1,
    kvCacheUsage: 0.42,
    capacity: 10,
    completedTotal: 1_234,
    completionRate: 2.5,
    healthy: true,
    updatedAt: at - 120,
    ...overrides,
  };
}

export function totals(shard: number, overrides: Partial<ShardTotals> = {}): ShardTotals {
  return { shard, used: 7.5, capacity: 30, safeServers: 2, updatedAt: at, ...overrides };
}

export function view(overrides: Partial<FleetState> = {}): FleetState {
  const shard = overrides.shard ?? 3;
  return {
    shard,
    totals: totals(shard),
    mode: 'shed_free',
    load: 0.85,
    smoothedLoad: 0.83,
    noSafeSince: at - 1_000,
    freeAdmitRatio: 0.4,
    shedSince: at - 30_000,
    belowSince: at - 5_000,
    freeReturnsAt: at + 115_000,
    updatedAt: at,
    version: 1,
    servers: [
      server('gpu-1'),
      // Unhealthy: no KV gauge, counter or rate (what the heartbeat writes for a failed scrape).
      {
        id: 'gpu-2',
        baseUrl: 'http://10.0.0.2:8000',
        running: 0,
        waiting: 0,
        capacity: 12,
        healthy: false,
        updatedAt: at - 2_500,
      },
      // TGI / llama.cpp: no KV gauge, no counter, no rate; and drained by an operator.
      {
        id: 'gpu-3',
        baseUrl: 'https://gpu-3.internal',
        running: 2,
        waiting: 0,
        capacity: 8,
        healthy: true,
        draining: true,
        updatedAt: at,
      },
      // Draining and unhealthy at once.
      {
        id: 'gpu-4',
        baseUrl: 'http://10.0.0.4:8000',
        running: 0,
        waiting: 0,
        capacity: 8,
        healthy: false,
        draining: true,
        updatedAt: at - 40,
      },
    ],
    ...overrides,
  };
}
