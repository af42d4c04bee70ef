import { describe, expect, it } from 'vitest';
import { defaultFleetPolicy, type ServerLoad } from '../../domain/fleet';
import { chooseServer } from '../../domain/routing';

function server(id: string, running: number, extra: Partial<ServerLoad> = {}): ServerLoad {
  return {
    id,
    baseUrl: `http://${id}`,
    running,
    waiting: 0,
    capacity: 10,
    healthy: true,
    updatedAt: 0,
    ...extra,
  };
}

/** A seeded generator so the spread is reproducible. */
function seeded(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1_103_515_245 + 12_345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

describe('chooseServer', () => {
  it('keeps a server within the ceiling once the prompt is added', () => {
    const servers = [server('a', 7)];
    const options = { now: 0, policy: defaultFleetPolicy, random: () => 0.5 };
    expect(chooseServer(servers, { ...options, ceiling: 0.8 })?.id).toBe('a');
    expect(chooseServer([server('a', 8)], { ...options, ceiling: 0.8 })).toBeUndefined();
    expect(chooseServer([server('a', 8)], { ...options, ceiling: 1 })?.id).toBe('a');
    expect(chooseServer([server('a', 10)], { ...options, ceiling: 1 })).toBeUndefined();
  });

  it('never picks a server at or above its safe threshold, an unhealthy one or an excluded one', () => {
    const servers = [
      server('full', 10),
      server('kv-full', 0, { kvCacheUsage: 0.95 }),
      server('down', 0, { healthy: false }),
      server('excluded', 0),
      server('ok', 9),
    ];
    const random = seeded(1);
    for (let i = 0; i < 200; i++) {
      expect(
        chooseServer(servers, { now: 0, policy: defaultFleetPolicy, random, exclude: new Set(['excluded']) })
          ?.id,
      ).toBe('ok');
    }
  });

  it('returns undefined when no server is safe', () => {
    expect(
      chooseServer([server('a', 10), server('b', 12)], {
        now: 0,
        policy: defaultFleetPolicy,
        random: Math.random,
      }),
    ).toBeUndefined();
  });

  it('prefers headroom without piling onto the least loaded (headroom once the prompt is added: 9/14, 4/14, 1/14)', () => {
    const servers = [server('idle', 0), server('half', 5), server('busy', 8)];
    const counts = new Map<string, number>();
    const random = seeded(7);
    for (let i = 0; i < 3000; i++) {
      const id = chooseServer(servers, { now: 0, policy: defaultFleetPolicy, random })?.id ?? 'none';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    const idle = counts.get('idle') ?? 0;
    const half = counts.get('half') ?? 0;
    const busy = counts.get('busy') ?? 0;
    expect(idle).toBeGreaterThan(half);
    expect(half).toBeGreaterThan(busy);
    // No server takes a majority share, so containers sharing a stale view do not herd onto one.
    expect(idle / 3000).toBeCloseTo(9 / 14, 1);
    expect(busy / 3000).toBeCloseTo(1 / 14, 1);
  });

  it('credits the sequences a server finished since its report, at its measured rate', () => {
    const full = server('a', 10, { updatedAt: 0, completionRate: 4 });
    const options = { policy: defaultFleetPolicy, random: () => 0.5 };
    expect(chooseServer([full], { ...options, now: 0 })).toBeUndefined();
    // Half a second later about two have finished: room for this prompt.
    expect(chooseServer([full], { ...options, now: 500 })?.id).toBe('a');
    // Never credits more than were running.
    expect(
      chooseServer([server('b', 0, { waiting: 11, completionRate: 100 })], { ...options, now: 5000 }),
    ).toBeUndefined();
  });

  it("counts this container's own recent sends against a server", () => {
    const servers = [server('a', 0), server('b', 0)];
    const extra = new Map([['a', 10]]);
    expect(
      chooseServer(servers, { now: 0, policy: defaultFleetPolicy, random: seeded(3), extraLoad: extra })?.id,
    ).toBe('b');
  });
});

describe('chooseServer on an old view', () => {
  const base = { baseUrl: 'http://x', waiting: 0, capacity: 10, healthy: true, updatedAt: 0 };
  const servers = [
    { ...base, id: 'empty', running: 0 },
    { ...base, id: 'full', running: 10 },
  ];

  it('spreads evenly once the view is not trusted, but never onto a server it last saw full', () => {
    // Prepare: each pick draws twice (blend, then the index): the index draws alternate ends
    const roomy = [...servers, { ...base, id: 'busy', running: 8 }];
    const draws = [0.5, 0.1, 0.5, 0.9];
    let i = 0;
    const random = () => draws[i++ % draws.length] ?? 0;
    // Act
    const picks = new Set(
      Array.from(
        { length: 4 },
        () => chooseServer(roomy, { now: 0, policy: defaultFleetPolicy, random, trust: 0 })?.id,
      ),
    );
    // Assess: headroom no longer weighs (the busy one is drawn as often), the full one stays out
    expect(picks).toEqual(new Set(['empty', 'busy']));
  });

  it('never picks a draining server, whatever the trust', () => {
    const draining = [{ ...base, id: 'd', running: 0, draining: true }];
    for (const trust of [0, 0.5, 1]) {
      expect(chooseServer(draining, { now: 0, policy: defaultFleetPolicy, random: () => 0, trust })).toBe(
        undefined,
      );
    }
  });
});
