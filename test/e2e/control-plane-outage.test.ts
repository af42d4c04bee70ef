/**
 * The control plane fails, the data plane serves: for 60 s the fleet table refuses (500) or hangs every
 * write of the heartbeat, while prompts keep flowing over real HTTP. The views the chat function holds
 * age past every staleness threshold; prompts must still be served, and no server pushed past its
 * capacity (the safe threshold).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetTable } from '../../lib/resources';
import { LOCAL_PASSWORD } from '../../local/emulators/cognito';
import { ensureTables, type LocalDynamoDb, startDynamoDb } from '../../local/emulators/dynamodb';
import { type FleetHandle, startFleet } from '../../local/fleet/fleet';
import { UNMETERED_QUOTAS_ENV } from '../../local/unmetered-quotas';
import { type FaultProxy, NO_FAULTS, startFaultProxy } from '../support/fault-proxy';
import { login, type SpawnedStack, spawnLocalStack } from '../support/local-stack';

const CAPACITY = 11;
const OUTAGE_MS = 60_000;

let dataDir: string;
let db: LocalDynamoDb;
let proxy: FaultProxy;
let fleet: FleetHandle;
let stack: SpawnedStack;
const tokens: string[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chat-outage-'));
  db = await startDynamoDb({});
  const client = new DynamoDBClient({
    endpoint: db.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await ensureTables(client);
  client.destroy();
  proxy = await startFaultProxy({ target: db.endpoint, seed: 8 });
  fleet = await startFleet({ count: 2, slots: 8, tokensPerSecond: 100, answerTokens: 20 });
  stack = await spawnLocalStack({
    dataDir,
    env: {
      ...UNMETERED_QUOTAS_ENV,
      LOCAL_DYNAMODB_ENDPOINT: proxy.endpoint,
      INFERENCE_SERVERS: fleet.servers
        .map((server) => `${server.id}=${server.baseUrl}|${CAPACITY}`)
        .join(','),
    },
  });
  for (const user of ['alice@example.com', 'bob@example.com']) {
    tokens.push((await login(stack.url, user, LOCAL_PASSWORD)).idToken);
  }
});

afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
  await fleet?.close();
  await db?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('a control-plane outage', () => {
  it('keeps serving prompts for 60 s of refused and hung heartbeat writes, no server past capacity', async () => {
    // Prepare: a served prompt with a live heartbeat, then the fleet table stops taking writes
    const ask = (token: string) =>
      fetch(`${stack.url}/chat`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'during the outage' }),
      }).then((response) => response.status);
    expect(await ask(tokens[0] ?? '')).toBe(200);
    proxy.setRates({ throttle: 0, serverError: 0.5, hang: 0.5, tables: [fleetTable.id] });
    let peak = 0;
    const sampler = setInterval(() => {
      for (const server of fleet.servers) {
        const stats = server.handle.stats();
        peak = Math.max(peak, stats.running + stats.waiting);
      }
    }, 25);

    // Act: four clients, alice and bob in turn, for the whole outage
    const statuses: number[] = [];
    const until = Date.now() + OUTAGE_MS;
    await Promise.all(
      Array.from({ length: 4 }, async (_, client) => {
        for (let i = 0; Date.now() < until; i++) {
          statuses.push(await ask(tokens[(client + i) % tokens.length] ?? ''));
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }),
    );
    clearInterval(sampler);
    const faults = proxy.stats();
    proxy.setRates(NO_FAULTS);

    // Assess
    const served = statuses.filter((status) => status === 200).length;
    expect(statuses.length).toBeGreaterThan(100);
    expect(served / statuses.length).toBeGreaterThanOrEqual(0.95);
    expect(peak).toBeLessThanOrEqual(CAPACITY);
    // The outage was real: the heartbeat's writes were refused and hung, and its ticks failed.
    expect(faults.serverErrors).toBeGreaterThan(10);
    expect(faults.hung).toBeGreaterThan(10);
    expect(stack.output()).toContain('heartbeat tick failed');
  }, 150_000);
});
