/** A fixed-resolution histogram: exact to `resolution`, constant memory, any number of samples. */
export class Histogram {
  private readonly counts: Float64Array;
  private overflow = 0;
  count = 0;
  sum = 0;
  max = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly resolution: number,
    private readonly limit: number,
  ) {
    this.counts = new Float64Array(Math.ceil(limit / resolution) + 1);
  }

  add(value: number): void {
    this.count++;
    this.sum += value;
    if (value > this.max) this.max = value;
    if (value >= this.limit) this.overflow++;
    else {
      const index = Math.max(0, Math.floor(value / this.resolution));
      this.counts[index] = (this.counts[index] ?? 0) + 1;
    }
  }

  merge(other: Histogram): void {
    for (let i = 0; i < this.counts.length; i++)
      this.counts[i] = (this.counts[i] ?? 0) + (other.counts[i] ?? 0);
    this.overflow += other.overflow;
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The q-quantile (0..1), to the upper edge of its bucket; max when it falls in the overflow. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.ceil(q * this.count);
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i] ?? 0;
      if (seen >= rank) return Math.min(this.max, (i + 1) * this.resolution);
    }
    return this.max;
  }
}
