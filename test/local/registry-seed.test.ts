import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbServerRegistry } from '../../adapters/dynamodb/server-registry';
import type { RegisteredServer } from '../../domain/ports';
import { serverRegistryTable } from '../../lib/resources';
import { ensureTables } from '../../local/emulators/dynamodb';
import { seedServerRegistry } from '../../local/registry-seed';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb';

let db: TestDynamoDb;
let tables = 0;

beforeAll(async () => {
  db = await startTestDynamoDb({ definitions: [] });
});

afterAll(async () => {
  await db?.close();
});

async function freshRegistry(): Promise<DynamoDbServerRegistry> {
  tables++;
  const id = `SeedRegistry${tables}`;
  await ensureTables(db.client, [{ ...serverRegistryTable, id }]);
  return new DynamoDbServerRegistry(db.doc, id);
}

const registered = (id: string, port: number, status: RegisteredServer['status'] = 'active') => ({
  id,
  baseUrl: `http://127.0.0.1:${port}`,
  capacity: 11,
  status,
});

describe('seedServerRegistry', () => {
  it('registers the simulated servers in an empty registry, active', async () => {
    // Prepare
    const registry = await freshRegistry();

    // Act
    const result = await seedServerRegistry(
      registry,
      [
        { id: 'gpu-1', baseUrl: 'http://127.0.0.1:4001', capacity: 11 },
        { id: 'gpu-2', baseUrl: 'http://127.0.0.1:4002', capacity: 11 },
      ],
      { keepDraining: false },
    );

    // Assess
    expect(result).toEqual({ upserted: ['gpu-1', 'gpu-2'], draining: [], removed: [] });
    expect(await registry.listAll()).toEqual([registered('gpu-1', 4001), registered('gpu-2', 4002)]);
  });

  it("replaces gpu-N with this start's ports (active), removes stale gpu-N and keeps operators' servers", async () => {
    // Prepare: what an earlier start with 4 servers and an operator left behind.
    const registry = await freshRegistry();
    await registry.put(registered('gpu-1', 3001, 'draining'));
    await registry.put(registered('gpu-2', 3002));
    await registry.put(registered('gpu-4', 3004));
    await registry.put(registered('my-vllm', 8000));
    await registry.put(registered('gpu-big', 8001, 'draining'));

    // Act
    const result = await seedServerRegistry(
      registry,
      [
        { id: 'gpu-1', baseUrl: 'http://127.0.0.1:5001', capacity: 11 },
        { id: 'gpu-2', baseUrl: 'http://127.0.0.1:5002', capacity: 11 },
      ],
      { keepDraining: false },
    );

    // Assess
    expect(result).toEqual({ upserted: ['gpu-1', 'gpu-2'], draining: [], removed: ['gpu-4'] });
    expect(await registry.listAll()).toEqual([
      registered('gpu-1', 5001),
      registered('gpu-2', 5002),
      registered('gpu-big', 8001, 'draining'),
      registered('my-vllm', 8000),
    ]);
  });

  it('keeps a drained INFERENCE_SERVERS entry draining (same server), with its new URL and capacity', async () => {
    // Prepare
    const registry = await freshRegistry();
    await registry.put({ id: 'vllm-a', baseUrl: 'http://10.0.0.10:8000', capacity: 16, status: 'draining' });

    // Act
    const result = await seedServerRegistry(
      registry,
      [
        { id: 'vllm-a', baseUrl: 'http://10.0.0.10:8001', capacity: 24 },
        { id: 'vllm-b', baseUrl: 'http://10.0.0.11:8000', capacity: 16 },
      ],
      { keepDraining: true },
    );

    // Assess
    expect(result).toEqual({ upserted: ['vllm-a', 'vllm-b'], draining: ['vllm-a'], removed: [] });
    expect(await registry.listAll()).toEqual([
      { id: 'vllm-a', baseUrl: 'http://10.0.0.10:8001', capacity: 24, status: 'draining' },
      { id: 'vllm-b', baseUrl: 'http://10.0.0.11:8000', capacity: 16, status: 'active' },
    ]);
  });

  it('seeds INFERENCE_SERVERS entries in place of a simulated fleet, removing its gpu-N', async () => {
    // Prepare
    const registry = await freshRegistry();
    await registry.put(registered('gpu-1', 3001));
    await registry.put(registered('gpu-2', 3002));

    // Act
    const result = await seedServerRegistry(
      registry,
      [{ id: 'vllm-a', baseUrl: 'http://10.0.0.10:8000', capacity: 16 }],
      { keepDraining: true },
    );

    // Assess
    expect(result.removed).toEqual(['gpu-1', 'gpu-2']);
    expect(await registry.listAll()).toEqual([
      { id: 'vllm-a', baseUrl: 'http://10.0.0.10:8000', capacity: 16, status: 'active' },
    ]);
  });
});
