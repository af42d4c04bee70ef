/**
 * The three rows of one policy's column in the overload chart, sharing the time axis: (1) prompts per second
 * by what became of them, (2) the fleet's slots busy, queue and heartbeat mode, (3) time to first token.
 */
import type { PolicySeries, PolicySummary } from './analyze';
import {
  type Box,
  band,
  COLORS,
  fmt,
  line,
  MODE_COLORS,
  polyline,
  text,
  timeFrame,
  yAxis,
} from './chart-svg';
import type { PhaseBounds } from './config';
import type { ModeChange } from './run';

export interface ChartPanel {
  readonly summary: PolicySummary;
  readonly series: PolicySeries;
  readonly modes: readonly ModeChange[];
}

export interface ChartInput {
  readonly title: string;
  readonly subtitle: string;
  readonly bounds: PhaseBounds;
  readonly capacity: number;
  readonly objectiveMs: number;
  readonly panels: readonly ChartPanel[];
}

/** Row 1: outcomes per second, 2 s bins, stacked. */
export function ratesPlot(box: Box, panel: ChartPanel, input: ChartInput, maxRate: number): string {
  const { bounds } = input;
  const points = panel.series.perSecond;
  const binSeconds = 2;
  const bins: { t: number; values: number[]; offered: number }[] = [];
  for (let start = 0; start < points.length; start += binSeconds) {
    const slice = points.slice(start, start + binSeconds);
    const sum = (pick: (p: (typeof points)[number]) => number) =>
      slice.reduce((total, point) => total + pick(point), 0) / slice.length;
    bins.push({
      t: start,
      values: [
        sum((p) => p.completedPremium),
        sum((p) => p.completedFree),
        sum((p) => p.lost),
        sum((p) => p.rejectedFree),
        sum((p) => p.rejectedPremium),
      ],
      offered: sum((p) => p.offered),
    });
  }
  const x = (t: number) => box.x + (t / bounds.end) * box.w;
  const y = (value: number) => box.y + box.h - (Math.min(value, maxRate) / maxRate) * box.h;
  const parts = [timeFrame(box, bounds, false)];
  const steps = maxRate % 5 === 0 ? [0, 0.2, 0.4, 0.6, 0.8, 1] : [0, 0.25, 0.5, 0.75, 1];
  const ticks = steps.map((share) => ({
    value: share * maxRate,
    label: fmt(share * maxRate),
  }));
  parts.push(yAxis(box, ticks, y, 'left'));
  // Step-shaped stacked bands.
  const xs: number[] = [];
  const cumulative: number[][] = [[], [], [], [], [], []];
  for (const bin of bins) {
    for (const edge of [bin.t, Math.min(bin.t + binSeconds, bounds.end)]) {
      xs.push(x(edge));
      let total = 0;
      cumulative[0]?.push(y(0));
      bin.values.forEach((value, index) => {
        total += value;
        cumulative[index + 1]?.push(y(total));
      });
    }
  }
  const colors = [COLORS.premium, COLORS.free, COLORS.lost, COLORS.rejectedFree, COLORS.rejectedPremium];
  colors.forEach((color, index) => {
    parts.push(band(xs, cumulative[index] ?? [], cumulative[index + 1] ?? [], color));
  });
  // Offered: the planned rate (smooth), and the fleet's capacity.
  parts.push(
    polyline(
      bins.flatMap((bin): [number, number][] => [
        [x(bin.t), y(bin.offered)],
        [x(Math.min(bin.t + binSeconds, bounds.end)), y(bin.offered)],
      ]),
      COLORS.offered,
      1,
    ),
  );
  parts.push(
    line(
      box.x,
      y(input.capacity),
      box.x + box.w,
      y(input.capacity),
      COLORS.capacity,
      'stroke-dasharray="6 3" stroke-width="1.5"',
    ),
  );
  parts.push(
    text(box.x + box.w - 4, y(input.capacity) - 4, `capacity ${input.capacity.toFixed(1)}/s`, {
      anchor: 'end',
      size: 10,
      color: COLORS.capacity,
    }),
  );
  return parts.join('');
}

/** Fleet samples (every ~250 ms) averaged per second, drawn at the middle of each second: readable at 4 minutes. */
function perSecond(samples: readonly [number, number, number][]): [number, number, number][] {
  const bins = new Map<number, { n: number; share: number; queued: number }>();
  for (const [t, share, queued] of samples) {
    const key = Math.floor(t);
    const bin = bins.get(key) ?? { n: 0, share: 0, queued: 0 };
    bin.n++;
    bin.share += share;
    bin.queued += queued;
    bins.set(key, bin);
  }
  return [...bins.entries()]
    .sort(([a], [b]) => a - b)
    .map(([t, bin]) => [t + 0.5, bin.share / bin.n, bin.queued / bin.n]);
}

/** Row 2: slots busy (area, left), queued prompts (line, right), heartbeat mode (strip on top). */
export function fleetPlot(box: Box, panel: ChartPanel, input: ChartInput, maxQueue: number): string {
  const { bounds } = input;
  const x = (t: number) => box.x + (Math.max(0, Math.min(t, bounds.end)) / bounds.end) * box.w;
  const strip = 10;
  const inner: Box = { x: box.x, y: box.y + strip, w: box.w, h: box.h - strip };
  const y = (share: number) => inner.y + inner.h - share * inner.h;
  const yQueue = (queued: number) => inner.y + inner.h - (Math.min(queued, maxQueue) / maxQueue) * inner.h;
  const parts = [timeFrame(box, bounds, false)];
  parts.push(
    yAxis(
      inner,
      [0, 0.25, 0.5, 0.75, 1].map((share) => ({ value: share, label: `${share * 100}%` })),
      y,
      'left',
    ),
  );
  parts.push(
    yAxis(
      inner,
      [0, 0.5, 1].map((share) => ({ value: share * maxQueue, label: fmt(share * maxQueue) })),
      yQueue,
      'right',
      COLORS.queue,
    ),
  );
  const fleet = perSecond(panel.series.fleet.filter(([t]) => t >= 0 && t <= bounds.end));
  if (fleet.length > 0) {
    const xs = fleet.map(([t]) => x(t));
    parts.push(
      band(
        xs,
        xs.map(() => y(0)),
        fleet.map(([, share]) => y(share)),
        COLORS.utilisation,
      ),
    );
    parts.push(
      polyline(
        fleet.map(([t, share]) => [x(t), y(share)]),
        COLORS.utilisationLine,
        1,
      ),
    );
    parts.push(
      polyline(
        fleet.map(([t, , queued]) => [x(t), yQueue(queued)]),
        COLORS.queue,
        1.3,
      ),
    );
  }
  parts.push(
    line(inner.x, y(0.95), inner.x + inner.w, y(0.95), COLORS.utilisationLine, 'stroke-dasharray="2 3"'),
  );
  // Mode strip: each change holds until the next one.
  const modes = [...panel.modes].sort((a, b) => a.t - b.t);
  modes.forEach((change, index) => {
    const from = x(change.t);
    const to = x(modes[index + 1]?.t ?? bounds.end);
    if (to <= from) return;
    parts.push(
      `<rect x="${fmt(from)}" y="${box.y}" width="${fmt(to - from)}" height="${strip}" fill="${MODE_COLORS[change.mode] ?? '#999'}"/>`,
    );
  });
  return parts.join('');
}

/** Row 3: TTFT p50 / p99 of admitted prompts per 2 s of send time, log scale. */
export function ttftPlot(box: Box, panel: ChartPanel, input: ChartInput, withLabels: boolean): string {
  const { bounds } = input;
  const low = 0.1;
  const high = 60;
  const x = (t: number) => box.x + (t / bounds.end) * box.w;
  const y = (seconds: number) => {
    const clamped = Math.max(low, Math.min(high, seconds));
    return box.y + box.h - (Math.log10(clamped / low) / Math.log10(high / low)) * box.h;
  };
  const parts = [timeFrame(box, bounds, withLabels)];
  parts.push(
    yAxis(
      box,
      [0.1, 0.5, 2, 10, 60].map((value) => ({ value, label: `${value}s` })),
      y,
      'left',
    ),
  );
  parts.push(
    line(
      box.x,
      y(input.objectiveMs / 1000),
      box.x + box.w,
      y(input.objectiveMs / 1000),
      COLORS.objective,
      'stroke-dasharray="6 3" stroke-width="1.5"',
    ),
  );
  const bins = panel.series.ttft.filter((point) => point.count > 0);
  const series = (pick: (point: (typeof bins)[number]) => number, color: string, width: number) => {
    const segments: [number, number][][] = [[]];
    for (const point of bins) {
      const value = pick(point);
      segments.at(-1)?.push([x(point.t + 1), y(Number.isFinite(value) ? value / 1000 : high)]);
    }
    return segments.map((segment) => polyline(segment, color, width)).join('');
  };
  parts.push(series((point) => point.p50Ms, COLORS.p50, 1.3));
  parts.push(series((point) => point.p99Ms, COLORS.p99, 1.6));
  // Bins whose p99 never got a first token (timed out): marked at the top.
  for (const point of bins) {
    if (!Number.isFinite(point.p99Ms)) {
      parts.push(
        `<circle cx="${fmt(x(point.t + 1))}" cy="${fmt(y(high))}" r="2.2" fill="${COLORS.rejectedPremium}"/>`,
      );
    }
  }
  return parts.join('');
}
