/**
 * Heartbeat workers against the simulated inference fleet (local/fleet, vLLM-like /metrics), the server
 * registry and the fleet table in dynalite: real registry queries, real scrapes, real conditional writes of
 * the shard views; an injected clock drives staleness and the cool-down.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbFleetRepository } from '../../../adapters/dynamodb/fleet-repository';
import { DynamoDbServerRegistry } from '../../../adapters/dynamodb/server-registry';
import { MetricsLoadProbe } from '../../../adapters/fleet/metrics-load-probe';
import { defaultFleetPolicy, type FleetPolicy, type ServerLoad } from '../../../domain/fleet';
import { shardOf } from '../../../domain/fleet-shards';
import type { Log } from '../../../domain/ports';
import { fleetTable, serverRegistryTable } from '../../../lib/resources';
import { ensureTables } from '../../../local/emulators/dynamodb';
import {
  type FleetHandle,
  type FleetServer as SimulatedServer,
  startFleet,
} from '../../../local/fleet/fleet';
import { DEFAULT_TOTALS_REFRESH_MS, HeartbeatWorker } from '../../../use-cases/heartbeat-tick';
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
let tableCount = 0;
const clock = { t: Date.now(), now: () => clock.t };
const streams: AbortController[] = [];

beforeAll(async () => {
  db = await startTestDynamoDb({ definitions: [] });
  // Long answers at a slow pace: an opened stream holds its slot until the test lets it go.
  fleet = await startFleet({
    count: 3,
    slots: 2,
    timeToFirstTokenMs: 0,
    tokensPerSecond: 20,
    answerTokens: 100_000,
  });
});

afterAll(async () => {
  for (const stream of streams) stream.abort();
  await fleet?.close();
  await db?.close();
});

class CapturingLog implements Log {
  readonly lines: string[] = [];
  info = (message: string, ...extra: Record<string, unknown>[]) => this.push('info', message, extra);
  warn = (message: string, ...extra: Record<string, unknown>[]) => this.push('warn', message, extra);
  error = (message: string, ...extra: Record<string, unknown>[]) => this.push('error', message, extra);
  private push(level: string, message: string, extra: Record<string, unknown>[]) {
    this.lines.push(`${level} ${message} ${JSON.stringify(Object.assign({}, ...extra))}`);
  }
  /** The mode changes logged, as `from→to`. */
  modeChanges(): string[] {
    return this.lines
      .filter((line) => line.startsWith('info fleet mode changed '))
      .map((line) => JSON.parse(line.slice('info fleet mode changed '.length)))
      .map((extra: { from: string | null; to: string }) => `${extra.from}→${extra.to}`);
  }
}

/** A fresh fleet table and registry table (shaped by lib/resources.ts) for one test. */
async function freshTables() {
  tableCount++;
  const fleetTableName = `Fleet${tableCount}`;
  const registryTableName = `Registry${tableCount}`;
  await ensureTables(db.client, [
    { ...fleetTable, id: fleetTableName },
    { ...serverRegistryTable, id: registryTableName },
  ]);
  return {
    views: new DynamoDbFleetRepository(db.doc, fleetTableName),
    registry: new DynamoDbServerRegistry(db.doc, registryTableName, { clock }),
  };
}

function worker(
  tables: Awaited<ReturnType<typeof freshTables>>,
  shard: number,
  shards: number,
  log: Log = new CapturingLog(),
): HeartbeatWorker {
  return new HeartbeatWorker({
    shard,
    shards,
    registry: tables.registry,
    probe: new MetricsLoadProbe({ clock, timeoutMs: 5_000 }),
    fleet: tables.views,
    clock,
    policy,
    log,
    // A failed scrape shows at once (the grace period has its own unit test).
    unhealthyAfterMs: 0,
    // Every tick reads the registry, so a change shows at the next tick.
    registryRefreshMs: 0,
  });
}

function simulated(index: number): SimulatedServer {
  const server = fleet.servers[index];
  if (!server) throw new Error(`no simulated server ${index}`);
  return server;
}

/**
 * Opens `count` streaming completions on one server; each holds a sequence until released. The bodies are
 * drained: an unread, unreferenced fetch body is cancelled when garbage-collected (undici), which would
 * free the slot behind the test's back.
 */
function openStreams(index: number, count: number): void {
  const { baseUrl } = simulated(index);
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

async function releaseStreams(): Promise<void> {
  for (const stream of streams.splice(0)) stream.abort();
  for (let index = 0; index < fleet.servers.length; index++) await settled(index, 0, 0);
}

/** Waits (no deadline of its own: the test time-out bounds it) until the server holds these sequences. */
async function settled(index: number, running: number, waiting: number): Promise<void> {
  const { handle } = simulated(index);
  while (handle.stats().running !== running || handle.stats().waiting !== waiting) await sleep(10);
}

function find(servers: readonly ServerLoad[] | undefined, id: string): ServerLoad | undefined {
  return servers?.find((server) => server.id === id);
}

describe('HeartbeatWorker, one shard, on the simulated fleet and dynalite', () => {
  it('follows load, a killed server, overload and the cool-down back to normal', async () => {
    // Prepare: three healthy servers in the registry.
    await releaseStreams();
    const tables = await freshTables();
    const log = new CapturingLog();
    for (const [index, id] of ['gpu-1', 'gpu-2', 'gpu-3'].entries()) {
      await tables.registry.put({
        id,
        baseUrl: simulated(index).baseUrl,
        capacity: CAPACITY,
        status: 'active',
      });
    }
    const heartbeat = worker(tables, 0, 1, log);
    const tickAfter = (ms: number) => {
      clock.t += ms;
      return heartbeat.tick();
    };

    // Act + Assess, step by step. Idle fleet: three healthy servers, normal mode.
    const idle = await tickAfter(0);
    expect(idle).toMatchObject({ shard: 0, mode: 'normal', load: 0, version: 1 });
    expect(find((await tables.views.getView(0, { consistent: true }))?.servers, 'gpu-2')).toEqual({
      id: 'gpu-2',
      baseUrl: simulated(1).baseUrl,
      running: 0,
      waiting: 0,
      kvCacheUsage: 0,
      completedTotal: 0,
      capacity: CAPACITY,
      healthy: true,
      updatedAt: clock.t,
    });

    // Load on one server: 2 running + 1 waiting on gpu-1 shows in the stored view and in the fleet load.
    openStreams(0, 3);
    await settled(0, 2, 1);
    const loaded = await tickAfter(1000);
    const loadedServer = find((await tables.views.getView(0, { consistent: true }))?.servers, 'gpu-1');
    expect(loadedServer).toMatchObject({ running: 2, waiting: 1, healthy: true });
    expect(loadedServer?.kvCacheUsage).toBeGreaterThan(0);
    expect(loaded.mode).toBe('normal');
    expect(loaded.load).toBeCloseTo(3 / 12);
    expect(loaded.totals).toMatchObject({ shard: 0, used: 3, capacity: 12, safeServers: 3 });

    // A killed server turns unhealthy, keeps no numbers, and leaves the load to the others.
    await simulated(2).handle.kill();
    const degraded = await tickAfter(1000);
    expect(find((await tables.views.getView(0, { consistent: true }))?.servers, 'gpu-3')).toMatchObject({
      running: 0,
      waiting: 0,
      healthy: false,
    });
    expect(find(degraded.servers, 'gpu-3')).not.toHaveProperty('kvCacheUsage');
    expect(degraded.load).toBeCloseTo(3 / 8);
    expect(log.lines).toContain('warn inference server unhealthy {"server":"gpu-3"}');

    // Overload: gpu-2 full (2 + 2) → 7 of 8 → free tier shed.
    openStreams(1, 4);
    await settled(1, 2, 2);
    const shedding = await tickAfter(1000);
    expect(shedding.mode).toBe('shed_free');
    expect(shedding.load).toBeCloseTo(7 / 8);

    // One more on gpu-1 → 8 of 8 → saturated.
    openStreams(0, 1);
    await settled(0, 2, 2);
    const saturated = await tickAfter(1000);
    expect(saturated.mode).toBe('saturated');
    expect(saturated.load).toBeCloseTo(1);

    // Release: the load drops, but free tier waits for the cool-down.
    for (const stream of streams.splice(0)) stream.abort();
    await settled(0, 0, 0);
    await settled(1, 0, 0);
    const released = await tickAfter(1000);
    expect(released).toMatchObject({ mode: 'shed_free', load: 0, belowSince: clock.t });
    await simulated(2).handle.restart();
    const almost = await tickAfter(policy.freeCooldownMs - 1);
    expect(almost.mode).toBe('shed_free');
    expect(almost.servers.every((server) => server.healthy)).toBe(true);
    expect(log.lines).toContain('info inference server recovered {"server":"gpu-3"}');

    const back = await tickAfter(1);
    expect(back).toMatchObject({ mode: 'normal', freeAdmitRatio: 1, load: 0 });

    // The stored view is the one the last tick returned, and versions went up by one a tick.
    expect(await tables.views.getView(0, { consistent: true })).toEqual(back);
    expect(back.version).toBe(8);
    expect(log.modeChanges()).toEqual([
      'null→normal',
      'normal→shed_free',
      'shed_free→saturated',
      'saturated→shed_free',
      'shed_free→normal',
    ]);
  });

  it('follows the registry: a drained server is scraped but carries no load, a removed one leaves', async () => {
    // Prepare
    await releaseStreams();
    const tables = await freshTables();
    for (const [index, id] of ['gpu-1', 'gpu-2', 'gpu-3'].entries()) {
      await tables.registry.put({
        id,
        baseUrl: simulated(index).baseUrl,
        capacity: CAPACITY,
        status: 'active',
      });
    }
    const heartbeat = worker(tables, 0, 1);
    openStreams(0, 2);
    await settled(0, 2, 0);
    clock.t += 1000;
    const before = await heartbeat.tick();

    // Act
    await tables.registry.setStatus('gpu-1', 'draining');
    await tables.registry.remove('gpu-3');
    clock.t += 1000;
    const after = await heartbeat.tick();

    // Assess
    expect(before.load).toBeCloseTo(2 / 12);
    expect(after.servers.map((server) => server.id)).toEqual(['gpu-1', 'gpu-2']);
    expect(find(after.servers, 'gpu-1')).toMatchObject({ draining: true, healthy: true, running: 2 });
    expect(after.totals).toMatchObject({ used: 0, capacity: CAPACITY, safeServers: 1 });
    expect(after.load).toBe(0);
    expect(find((await tables.views.getView(0))?.servers, 'gpu-1')?.draining).toBe(true);
  });
});

describe('HeartbeatWorker, two shards, on the simulated fleet and dynalite', () => {
  it('scrapes only its shard, and every view carries the fleet-wide load from both shards', async () => {
    // Prepare: gpu-0 and gpu-2 hash to shard 0 of 2, gpu-1 to shard 1 (domain/fleet-shards.ts).
    await releaseStreams();
    const tables = await freshTables();
    const ids = ['gpu-0', 'gpu-1', 'gpu-2'];
    expect(ids.map((id) => shardOf(id, 2))).toEqual([0, 1, 0]);
    for (const [index, id] of ids.entries()) {
      await tables.registry.put({
        id,
        baseUrl: simulated(index).baseUrl,
        capacity: CAPACITY,
        status: 'active',
      });
    }
    const first = worker(tables, 0, 2);
    const second = worker(tables, 1, 2);
    openStreams(1, 3);
    await settled(1, 2, 1);

    // Act: shard 0 ticks before shard 1 has a view, then both once more.
    clock.t += 1000;
    const lonely = await first.tick();
    const secondView = await second.tick();
    // One totals refresh later, shard 0 has read shard 1's totals.
    clock.t += DEFAULT_TOTALS_REFRESH_MS;
    const firstView = await first.tick();

    // Assess
    expect(lonely.load).toBe(0);
    expect(firstView.servers.map((server) => server.id)).toEqual(['gpu-0', 'gpu-2']);
    expect(secondView.servers.map((server) => server.id)).toEqual(['gpu-1']);
    expect(secondView.totals).toMatchObject({ shard: 1, used: 3, capacity: 4 });
    expect(firstView.totals).toMatchObject({ shard: 0, used: 0, capacity: 8 });
    // 3 sequences of 12 fleet-wide, in both views.
    expect(secondView.load).toBeCloseTo(3 / 12);
    expect(firstView.load).toBeCloseTo(3 / 12);
    const stored = await tables.views.getShardTotals(2);
    expect(stored.map((totals) => totals.shard).sort()).toEqual([0, 1]);
  });

  it('leaves a shard whose heartbeat stopped out of the fleet load once its totals are stale', async () => {
    // Prepare
    await releaseStreams();
    const tables = await freshTables();
    const ids = ['gpu-0', 'gpu-1', 'gpu-2'];
    for (const [index, id] of ids.entries()) {
      await tables.registry.put({
        id,
        baseUrl: simulated(index).baseUrl,
        capacity: CAPACITY,
        status: 'active',
      });
    }
    const first = worker(tables, 0, 2);
    const second = worker(tables, 1, 2);
    openStreams(0, 2);
    await settled(0, 2, 0);
    clock.t += 1000;
    await second.tick();
    const withBoth = await first.tick();

    // Act: shard 1's heartbeat is gone for longer than staleAfterMs plus a totals refresh.
    clock.t += policy.staleAfterMs + DEFAULT_TOTALS_REFRESH_MS + 1;
    const alone = await first.tick();

    // Assess: 2 of 12 with both shards; 2 of shard 0's 8 once shard 1 no longer counts.
    expect(withBoth.load).toBeCloseTo(2 / 12);
    expect(alone.load).toBeCloseTo(2 / 8);
    expect(alone.servers.map((server) => server.id)).toEqual(['gpu-0', 'gpu-2']);
  });
});
