import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { fleetStateToItem } from '../../../adapters/dynamodb/fleet-items';
import { DynamoDbFleetRepository } from '../../../adapters/dynamodb/fleet-repository';
import { scenarioSpec, simConfigFromEnv } from '../../../bench/scale/config';
import { DynamoDbModel } from '../../../bench/scale/dynamodb-model';
import { Random } from '../../../bench/scale/random';
import { goalsOf, headline } from '../../../bench/scale/report';
import { runScenario } from '../../../bench/scale/scenario';
import { SharedViews } from '../../../bench/scale/shared-views';
import { VirtualTime } from '../../../bench/scale/virtual-time';
import { realSettingsFromEnv } from '../../../bench/scale/world';
import { defaultFleetPolicy, type FleetState } from '../../../domain/fleet';

describe('a small scenario end to end (real FleetGate, HeartbeatWorker and adapters)', () => {
  it('accounts for every prompt and keeps the fleet within its bound', async () => {
    const config = simConfigFromEnv({ SIM_SERVERS: '40', SIM_SHARDS: '4', SIM_SECONDS_SCALE: '0.1' });
    const settings = realSettingsFromEnv({});
    const result = await runScenario(scenarioSpec('main', config), config, settings, 3);
    const arrivals = result.phases.reduce((sum, p) => sum + p.arrivals.premium + p.arrivals.free, 0);
    expect(arrivals).toBeGreaterThan(1_000);
    expect(result.measured.unresolved).toBe(0);
    expect(result.phases.every((p) => Object.keys(p.errors).length === 0)).toBe(true);
    // Heartbeat views were written and read by the containers.
    expect(result.heartbeat.ticks).toBeGreaterThan(4 * 2 * 20);
    expect(result.dynamo.chatReadUnits).toBeGreaterThan(0);
    expect(result.phases.find((p) => p.name === 'steady')?.premiumRatio).toBe(1);
    // The burst is 3× the base rate: some free prompts must be refused, and the fleet is busier.
    const burst = result.phases.find((p) => p.name === 'burst');
    const steady = result.phases.find((p) => p.name === 'steady');
    expect(burst?.freeRatio).toBeLessThan(1);
    expect(burst?.busyMean).toBeGreaterThan(steady?.busyMean ?? 1);
    const goals = goalsOf(headline([result], config, settings, 1));
    expect(goals.find((g) => g.name === 'largest_item_bytes')?.pass).toBe(true);
    expect(goals.find((g) => g.name === 'outage.premium_admitted_ratio')?.pass).toBe(false);
  }, 20_000);
});

describe('SharedViews', () => {
  it('sends the real adapter request and returns what the real getView decodes, shared per version', async () => {
    const time = new VirtualTime({ epochMs: Date.UTC(2027, 0, 4) });
    const model = new DynamoDbModel({
      time,
      random: new Random(1),
      tables: [{ name: 'F', partitionKey: 'pk' }],
    });
    const doc = model.client('chat');
    const now = time.now();
    const view: FleetState = {
      shard: 2,
      totals: { shard: 2, used: 10, capacity: 72, safeServers: 2, updatedAt: now },
      mode: 'normal',
      load: 0.1388,
      smoothedLoad: 0.12,
      freeAdmitRatio: 1,
      updatedAt: now,
      version: 7,
      servers: [
        {
          id: 'a',
          baseUrl: 'http://a',
          running: 4,
          waiting: 0,
          kvCacheUsage: 0.2,
          capacity: 36,
          healthy: true,
          updatedAt: now - 30,
        },
        {
          id: 'b',
          baseUrl: 'http://b',
          running: 6,
          waiting: 1,
          capacity: 36,
          healthy: true,
          updatedAt: now - 10,
        },
      ],
    };
    const write = doc.send(new PutCommand({ TableName: 'F', Item: fleetStateToItem(view) }));
    await time.run(now + 50);
    await write;
    const shared = new SharedViews(doc, 'F');
    const real = new DynamoDbFleetRepository(doc, 'F');
    const reads = [shared.getView(2), shared.getView(2), real.getView(2), shared.getView(3)];
    await time.run(now + 200);
    const [first, second, direct, missing] = await Promise.all(reads);
    expect(first).toEqual(direct);
    expect(missing).toBeUndefined();
    // Later reads replay the recorded request and reuse the decoded, frozen state.
    const later = shared.getView(2);
    await time.run(now + 400);
    expect(await later).toBe(second);
    expect(Object.isFrozen((await later)?.servers[0])).toBe(true);
    expect(model.totals.get('chat F GetCommand')?.count).toBe(5);
    expect(defaultFleetPolicy.kvSafe).toBeGreaterThan(0);
  });
});
