import { describe, expect, it } from 'vitest';
import { Histogram } from '../../../bench/scale/histogram';
import { Random } from '../../../bench/scale/random';
import {
  defaultServerConfig,
  type Sequence,
  SimLoadProbe,
  SimServer,
} from '../../../bench/scale/server-model';
import { VirtualTime } from '../../../bench/scale/virtual-time';

function sequence(promptTokens: number, answerTokens: number, log: string[] = []) {
  const s: Sequence & { firstTokenAt?: number; doneAt?: number } = {
    promptTokens,
    answerTokens,
    onStart(firstTokenAt) {
      s.firstTokenAt = firstTokenAt;
      log.push('start');
    },
    onDone() {
      log.push('done');
    },
  };
  return s;
}

describe('SimServer', () => {
  it('refuses a request once running + waiting reaches its capacity (32 slots + 4 queued)', () => {
    const time = new VirtualTime({ epochMs: 0 });
    const server = new SimServer('s', 'http://s', defaultServerConfig, time);
    const accepted = Array.from({ length: 36 }, () => server.offer(sequence(100, 100)));
    expect(accepted.every(Boolean)).toBe(true);
    expect(server.metrics(0)).toMatchObject({ running: 32, waiting: 4 });
    expect(server.offer(sequence(100, 100))).toBe(false);
    expect(server.refusedTotal).toBe(1);
  });

  it('frees a slot when a sequence ends: the queue head starts, and a new request fits again', async () => {
    const time = new VirtualTime({ epochMs: 0 });
    const server = new SimServer('s', 'http://s', defaultServerConfig, time);
    // The first one is short: prefill 50 + 0.1 × 100 = 60 ms, then 50 tokens at 50/s = 1 s.
    const short = sequence(100, 50);
    server.offer(short);
    for (let i = 0; i < 35; i++) server.offer(sequence(100, 500));
    expect(short.firstTokenAt).toBe(60);
    expect(server.offer(sequence(100, 100))).toBe(false);
    await time.run(1_059);
    expect(server.completedTotal).toBe(0);
    await time.run(1_060);
    expect(server.completedTotal).toBe(1);
    expect(server.metrics(1_060)).toMatchObject({ running: 32, waiting: 3, completedTotal: 1 });
    expect(server.offer(sequence(100, 100))).toBe(true);
    expect(server.offer(sequence(100, 100))).toBe(false);
  });

  it('a queued request gets its first token after its wait plus its prefill', async () => {
    const time = new VirtualTime({ epochMs: 0 });
    const server = new SimServer('s', 'http://s', { ...defaultServerConfig, slots: 1, capacity: 2 }, time);
    server.offer(sequence(200, 100)); // prefill 70 ms, decode 2 s: ends at 2,070
    const queued = sequence(300, 10); // starts at 2,070, prefill 80 ms
    server.offer(queued);
    expect(queued.firstTokenAt).toBeUndefined();
    await time.run(3_000);
    expect(queued.firstTokenAt).toBe(2_150);
  });

  it('reserve admission starts a sequence only while prompts + max_tokens fit in the safe share of KV', async () => {
    const time = new VirtualTime({ epochMs: 0 });
    // Safe share 0.9 × 10,000 = 9,000 tokens; each reservation is prompt + 1,024.
    const config = { ...defaultServerConfig, kvCapacityTokens: 10_000, maxAnswerTokens: 1_024 };
    const server = new SimServer('s', 'http://s', config, time);
    for (let i = 0; i < 4; i++) server.offer(sequence(1_000, 100)); // 4 × 2,024 = 8,096
    expect(server.metrics(0)).toMatchObject({ running: 4, waiting: 0 });
    server.offer(sequence(1_000, 100)); // 10,120 > 9,000: waits, though the cache holds only 4,000 now
    expect(server.metrics(0)).toMatchObject({ running: 4, waiting: 1 });
    await time.run(60_000);
    expect(server.completedTotal).toBe(5);
    for (let t = 0; t <= 60_000; t += 100) expect(server.loadNow(t)).toBeLessThanOrEqual(1);

    const overcommit = new SimServer('o', 'http://o', { ...config, kvAdmission: 'overcommit' }, time);
    for (let i = 0; i < 5; i++) overcommit.offer(sequence(1_000, 100));
    expect(overcommit.metrics(time.now())).toMatchObject({ running: 5, waiting: 0 });
  });

  it('reports KV use from the prompts and the tokens generated so far', () => {
    const time = new VirtualTime({ epochMs: 0 });
    const config = { ...defaultServerConfig, kvCapacityTokens: 10_000 };
    const server = new SimServer('s', 'http://s', config, time);
    server.offer(sequence(1_000, 1_000)); // decodes from 150 ms at 50 tokens/s
    expect(server.kvUsage(0)).toBeCloseTo(0.1);
    expect(server.kvUsage(1_150)).toBeCloseTo(0.105); // + 50 tokens
    expect(server.kvUsage(100_000)).toBeCloseTo(0.2); // capped at the answer's length
  });
});

describe('SimLoadProbe', () => {
  it('answers the gauges after a scrape latency, and healthy:false after the time-out', async () => {
    const time = new VirtualTime({ epochMs: 0 });
    const server = new SimServer('s', 'http://s', defaultServerConfig, time);
    server.offer(sequence(100, 100));
    const servers = new Map([['s', server]]);
    const ticks = new Histogram(0.1, 10_000);
    const config = { medianMs: 8, p99Ms: 60, timeoutShare: 0, timeoutMs: 250 };
    const probe = new SimLoadProbe(servers, time, new Random(1), config, ticks);
    const answer = probe.probe({ id: 's', baseUrl: 'http://s', capacity: 36 });
    await time.run(1_000);
    const load = await answer;
    expect(load).toMatchObject({ id: 's', running: 1, waiting: 0, healthy: true, completedTotal: 0 });
    expect(load.updatedAt).toBeGreaterThan(0);
    expect(load.updatedAt).toBeLessThan(250);

    const failing = new SimLoadProbe(servers, time, new Random(2), { ...config, timeoutShare: 1 }, ticks);
    const start = time.now();
    const down = failing.probe({ id: 's', baseUrl: 'http://s', capacity: 36 });
    await time.run(start + 1_000);
    expect(await down).toMatchObject({ healthy: false, running: 0, updatedAt: start + 250 });
    failing.flush();
    probe.flush();
    expect(ticks.count).toBe(2);
    expect(ticks.max).toBeCloseTo(250);
  });
});
