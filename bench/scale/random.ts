/**
 * Seeded randomness for the simulation: every draw comes from one of these generators, so a run is a
 * pure function of its seed (never Math.random).
 */

/** sfc32: small, fast, good enough statistically for a simulation; 32-bit state words. */
export class Random {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    for (let i = 0; i < 15; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** A function drawing from this generator (what the real code takes as `random`). */
  readonly uniform = (): number => this.next();

  between(low: number, high: number): number {
    return low + (high - low) * this.next();
  }

  /** Standard normal (Box-Muller, the second value kept for the next call). */
  normal(): number {
    const spare = this.spare;
    if (spare !== undefined) {
      this.spare = undefined;
      return spare;
    }
    let u = this.next();
    while (u === 0) u = this.next();
    const v = this.next();
    const radius = Math.sqrt(-2 * Math.log(u));
    this.spare = radius * Math.sin(2 * Math.PI * v);
    return radius * Math.cos(2 * Math.PI * v);
  }

  /** Exponential with the given mean (Poisson inter-arrival times). */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** Lognormal with parameters of the underlying normal. */
  lognormal(mu: number, sigma: number): number {
    return Math.exp(mu + sigma * this.normal());
  }

  /** A new generator seeded from this one (independent streams for independent parts). */
  fork(): Random {
    return new Random(Math.floor(this.next() * 4294967296));
  }
}

/** mu of a lognormal with this mean and sigma. */
export const lognormalMuForMean = (mean: number, sigma: number) => Math.log(mean) - (sigma * sigma) / 2;

/** sigma of a lognormal with this median and 99th percentile (z(0.99) = 2.3263). */
export const lognormalSigmaForP99 = (median: number, p99: number) => Math.log(p99 / median) / 2.3263;
