/**
 * The heartbeat against the simulated inference fleet (local/fleet, vLLM-like /metrics) and dynalite:
 * real scrapes, real conditional writes; an injected clock drives staleness and the cool-down.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbFleetRepository } from '../../../adapters/dynamodb/fleet-repository';
import { MetricsLoadProbe } from '../../../adapters/fleet/metrics-load-probe';
import { type FleetServer, parseFleetServers } from '../../../adapters/fleet/server-registry';
import { defaultFleetPolicy, type FleetPolicy } from '../../../domain/fleet';
import { type HeartbeatDeps, runHeartbeatTick } from '../../../domain/heartbeat';
import type { Log } from '../../../domain/ports';
import {
  type FleetHandle,
  type FleetServer as SimulatedServer,
  startFleet,
} from '../../../local/fleet/fleet';
import { startTestDynamoDb, type TestDynamoDb } from '../../support/dynamodb';

const CAPACITY = 4; // 2 batch slots + 2 queued
const policy: FleetPolicy = {
  ...defaultFleetPolicy,
  freeCooldownMs: 5_000,
  staleAfterMs: 3_000,
  loadSmoothingMs: 0,
};

let db: TestDynamoDb;
let fleet: FleetHandle;
let servers: FleetServer[];
let deps: HeartbeatDeps;
const clock = { t: Date.now(), now: () => clock.t };
const streams: AbortController[] = [];
const logged: string[] = [];

const log: Log = {
  info: (message, ...extra) => logged.push(`info ${message} ${JSON.stringify(Object.assign({}, ...extra))}`),
  warn: (message, ...extra) => logged.push(`warn ${message} ${JSON.stringify(Object.assign({}, ...extra))}`),
  error: (message, ...extra) =>
    logged.push(`error ${message} ${JSON.stringify(Object.assign({}, ...extra))}`),
};

beforeAll(async () => {
  db = await startTestDynamoDb();
  // Long answers at a slow pace: an opened stream holds its slot until the test lets it go.
  fleet = await startFleet({
    count: 3,
    slots: 2,
    timeToFirstTokenMs: 0,
    tokensPerSecond: 20,
    answerTokens: 100_000,
  });
  servers = parseFleetServers(
    fleet.servers.map((server) => `${server.id}=${server.baseUrl}|${CAPACITY}`).join(','),
    CAPACITY,
  );
  deps = {
    servers,
    probe: new MetricsLoadProbe({ clock, timeoutMs: 5_000 }),
    fleet: new DynamoDbFleetRepository(db.doc, db.tableNames.FleetTable),
    clock,
    policy,
    log,
  };
});

afterAll(async () => {
  for (const stream of streams) stream.abort();
  await fleet?.close();
  await db?.close();
});

function simulated(id: string): SimulatedServer {
  const server = fleet.servers.find((candidate) => candidate.id === id);
  if (!server) throw new Error(`no simulated server ${id}`);
  return server;
}

/**
 * Opens `count` streaming completions on one server; each holds a sequence until released. The bodies are
 * drained: an unread, unreferenced fetch body is cancelled when garbage-collected (undici), which would
 * free the slot behind the test's back.
 */
function openStreams(id: string, count: number): void {
  const { baseUrl } = simulated(id);
  for (let i = 0; i < count; i++) {
    const controller = new AbortController();
    streams.push(controller);
    fetch(`${baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'local-llm',
        stream: true,
        messages: [{ role: 'user', content: 'hold on' }],
      }),
      signal: controller.signal,
    })
      .then((response) => response.body?.pipeTo(new WritableStream()))
      .catch(() => undefined); // aborted on release
  }
}

/** Waits (no deadline of its own: the test time-out bounds it) until the server holds these sequences. */
async function settled(id: string, running: number, waiting: number): Promise<void> {
  const { handle } = simulated(id);
  while (handle.stats().running !== running || handle.stats().waiting !== waiting) await sleep(10);
}

async function serverItem(id: string) {
  const output = await db.doc.send(
    new GetCommand({
      TableName: db.tableNames.FleetTable,
      Key: { pk: `SERVER#${id}` },
      ConsistentRead: true,
    }),
  );
  return output.Item;
}

async function tickAfter(ms: number) {
  clock.t += ms;
  return runHeartbeatTick(deps);
}

describe('heartbeat on the simulated fleet and dynalite', () => {
  it('follows load, a killed server, overload and the cool-down back to normal', async () => {
    // Idle fleet: three healthy servers, normal mode.
    const idle = await tickAfter(0);
    expect(idle).toMatchObject({ mode: 'normal', load: 0, version: 1 });
    expect(await serverItem('gpu-2')).toMatchObject({
      id: 'gpu-2',
      base_url: simulated('gpu-2').baseUrl,
      running: 0,
      waiting: 0,
      capacity: CAPACITY,
      healthy: true,
      updated_at: clock.t,
    });

    // Load on one server: 2 running + 1 waiting on gpu-1 shows in its item and in the fleet load.
    openStreams('gpu-1', 3);
    await settled('gpu-1', 2, 1);
    const loaded = await tickAfter(1000);
    expect(await serverItem('gpu-1')).toMatchObject({ running: 2, waiting: 1, healthy: true });
    expect((await serverItem('gpu-1'))?.kv_cache_usage).toBeGreaterThan(0);
    expect(loaded.mode).toBe('normal');
    expect(loaded.load).toBeCloseTo(3 / 12);

    // A killed server turns unhealthy, keeps no numbers, and leaves the load to the others.
    await simulated('gpu-3').handle.kill();
    const degraded = await tickAfter(1000);
    expect(await serverItem('gpu-3')).toMatchObject({ running: 0, waiting: 0, healthy: false });
    expect(degraded.servers.find((server) => server.id === 'gpu-3')?.healthy).toBe(false);
    expect(degraded.load).toBeCloseTo(3 / 8);
    expect(logged.some((line) => line.startsWith('warn inference server unhealthy {"server":"gpu-3"}'))).toBe(
      true,
    );

    // Overload: gpu-2 full (2 + 2) → 7 of 8 → free tier shed.
    openStreams('gpu-2', 4);
    await settled('gpu-2', 2, 2);
    const shedding = await tickAfter(1000);
    expect(shedding.mode).toBe('shed_free');
    expect(shedding.load).toBeCloseTo(7 / 8);

    // One more on gpu-1 → 8 of 8 → saturated.
    openStreams('gpu-1', 1);
    await settled('gpu-1', 2, 2);
    const saturated = await tickAfter(1000);
    expect(saturated.mode).toBe('saturated');
    expect(saturated.load).toBeCloseTo(1);

    // Release: the load drops, but free tier waits for the cool-down.
    for (const stream of streams.splice(0)) stream.abort();
    await settled('gpu-1', 0, 0);
    await settled('gpu-2', 0, 0);
    const released = await tickAfter(1000);
    expect(released).toMatchObject({ mode: 'shed_free', load: 0, belowSince: clock.t });
    await simulated('gpu-3').handle.restart();
    const almost = await tickAfter(policy.freeCooldownMs - 1);
    expect(almost.mode).toBe('shed_free');
    expect(almost.servers.every((server) => server.healthy)).toBe(true);

    const back = await tickAfter(1);
    expect(back).toMatchObject({ mode: 'normal', freeAdmitRatio: 1, load: 0 });

    // The stored state is the one the last tick returned, and versions went up by one a tick.
    expect(await deps.fleet.getState()).toEqual(back);
    expect(back.version).toBe(8);
    const changes = logged
      .filter((line) => line.startsWith('info fleet mode changed'))
      .map((line) => JSON.parse(line.slice('info fleet mode changed '.length)))
      .map((extra: { from: string | null; to: string }) => `${extra.from}→${extra.to}`);
    expect(changes).toEqual([
      'null→normal',
      'normal→shed_free',
      'shed_free→saturated',
      'saturated→shed_free',
      'shed_free→normal',
    ]);
  });
});
