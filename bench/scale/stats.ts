/** What the simulation measures, per phase of a scenario. */
import type { Tier } from '../../contract/turn';
import { Histogram } from './histogram';

export type Outcome = 'admitted' | 'refused' | 'error';

export class PhaseStats {
  readonly arrivals = { premium: 0, free: 0 };
  readonly admitted = { premium: 0, free: 0 };
  /** Refusals by tier and reason (free_shed, saturated, no_fleet_data, servers_refused …). */
  readonly refused: Record<Tier, Record<string, number>> = { premium: {}, free: {} };
  /** Errors other than a refusal, by name. */
  readonly errors: Record<string, number> = {};
  /** Arrival to first token, admitted prompts (admission + queue wait + prefill), ms. */
  readonly ttft = new Histogram(1, 120_000);
  readonly ttftByTier = { premium: new Histogram(1, 120_000), free: new Histogram(1, 120_000) };
  /** Arrival until admit() and pick() answered (admitted or refused), ms. */
  readonly admissionMs = new Histogram(0.1, 10_000);
  /** Prompts that went to a second server after the first refused (503). */
  failovers = 0;
  /** Per-second samples of Σrunning / Σslots and Σ(running + waiting) / Σcapacity (from the servers). */
  readonly busy: number[] = [];
  readonly occupancy: number[] = [];
  /** Per-second samples of the views' modes (shards in each mode). */
  readonly modes: Record<string, number> = {};
  /** Per-second samples of the stored views: mean free admit ratio and smoothed load over the shards. */
  readonly viewFreeRatio: number[] = [];
  readonly viewSmoothedLoad: number[] = [];
  /** Servers whose load (from the servers themselves) was ever > 1 / ≥ 1 at a sample in this phase. */
  readonly overSafe = new Set<string>();
  readonly atBound = new Set<string>();
  /** Servers that accepted a prompt routed to them while their own load was already ≥ 1 (a routing fault). */
  readonly sentOverSafe = new Set<string>();

  constructor(readonly name: string) {}

  refusedCount(tier: Tier): number {
    return Object.values(this.refused[tier]).reduce((sum, n) => sum + n, 0);
  }
}

export class ScenarioStats {
  readonly phases = new Map<string, PhaseStats>();
  /** Admissions (streams started) per virtual second. */
  readonly admissionsPerSecond = new Map<number, number>();
  /** Servers whose KV gauge passed 1 (the model does not preempt; vLLM would). */
  readonly kvOverflow = new Set<string>();

  phase(name: string): PhaseStats {
    let stats = this.phases.get(name);
    if (!stats) {
      stats = new PhaseStats(name);
      this.phases.set(name, stats);
    }
    return stats;
  }

  countAdmission(second: number): void {
    this.admissionsPerSecond.set(second, (this.admissionsPerSecond.get(second) ?? 0) + 1);
  }

  peakAdmissionsPerSecond(): number {
    let peak = 0;
    for (const n of this.admissionsPerSecond.values()) peak = Math.max(peak, n);
    return peak;
  }
}

/** Sums of several phases (the headline ratios are over the measured phases). */
export function combine(phases: readonly PhaseStats[]) {
  const ttft = new Histogram(1, 120_000);
  const admissionMs = new Histogram(0.1, 10_000);
  const arrivals = { premium: 0, free: 0 };
  const admitted = { premium: 0, free: 0 };
  const refused: Record<Tier, Record<string, number>> = { premium: {}, free: {} };
  for (const phase of phases) {
    ttft.merge(phase.ttft);
    admissionMs.merge(phase.admissionMs);
    for (const tier of ['premium', 'free'] as const) {
      arrivals[tier] += phase.arrivals[tier];
      admitted[tier] += phase.admitted[tier];
      for (const [reason, n] of Object.entries(phase.refused[tier])) {
        refused[tier][reason] = (refused[tier][reason] ?? 0) + n;
      }
    }
  }
  const ratio = (tier: Tier) => (arrivals[tier] === 0 ? 1 : admitted[tier] / arrivals[tier]);
  return {
    ttft,
    admissionMs,
    arrivals,
    admitted,
    refused,
    premiumRatio: ratio('premium'),
    freeRatio: ratio('free'),
  };
}
