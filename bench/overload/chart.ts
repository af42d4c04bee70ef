/**
 * One SVG, hand-written: a column per policy, three aligned rows sharing their scales —
 * (1) prompts per second by what became of them (stacked, by send time) against the offered load and the
 * fleet's capacity; (2) the fleet: share of slots busy, prompts queued on the servers, the heartbeat's mode;
 * (3) time to first token of admitted prompts (p50, p99, log scale) against the objective.
 */
import type { PolicySeries, PolicySummary } from './analyze';
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

const COLORS = {
  premium: '#1f4e99',
  free: '#6fa8dc',
  lost: '#e69138',
  rejectedFree: '#cfcfcf',
  rejectedPremium: '#cc0000',
  offered: '#111111',
  capacity: '#555555',
  utilisation: '#93c47d',
  utilisationLine: '#38761d',
  queue: '#990000',
  p50: '#8e7cc3',
  p99: '#351c75',
  objective: '#38761d',
  overload: '#fff2cc',
  grid: '#e6e6e6',
  text: '#222222',
  muted: '#666666',
} as const;

const MODE_COLORS: Record<string, string> = {
  normal: '#b6d7a8',
  shed_free: '#ffd966',
  saturated: '#e06666',
};

const POLICY_TITLES: Record<string, string> = {
  admit_all: 'admit_all — admit everyone',
  static_reservation: 'static_reservation — 1 server premium-only',
  load_based: 'load_based — shed free tier by load (ours)',
};

const esc = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const fmt = (value: number) => (Math.round(value * 10) / 10).toString();
const pctText = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : '–');
const secText = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'timed out');

interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

function text(
  x: number,
  y: number,
  content: string,
  options: { size?: number; anchor?: 'start' | 'middle' | 'end'; color?: string; weight?: string } = {},
): string {
  return `<text x="${fmt(x)}" y="${fmt(y)}" font-size="${options.size ?? 11}" text-anchor="${options.anchor ?? 'start'}" fill="${options.color ?? COLORS.text}"${options.weight ? ` font-weight="${options.weight}"` : ''}>${esc(content)}</text>`;
}

function line(x1: number, y1: number, x2: number, y2: number, color: string, extra = ''): string {
  return `<line x1="${fmt(x1)}" y1="${fmt(y1)}" x2="${fmt(x2)}" y2="${fmt(y2)}" stroke="${color}" ${extra}/>`;
}

function polyline(points: readonly [number, number][], color: string, width = 1.5, extra = ''): string {
  if (points.length === 0) return '';
  const d = points.map(([x, y], index) => `${index === 0 ? 'M' : 'L'}${fmt(x)},${fmt(y)}`).join('');
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}" stroke-linejoin="round" ${extra}/>`;
}

/** A filled band between two step lines (lower and upper y per x). */
function band(
  xs: readonly number[],
  lower: readonly number[],
  upper: readonly number[],
  color: string,
): string {
  if (xs.length === 0) return '';
  const top = xs.map((x, index) => `${index === 0 ? 'M' : 'L'}${fmt(x)},${fmt(upper[index] ?? 0)}`).join('');
  const bottom = [...xs]
    .reverse()
    .map((x, index) => `L${fmt(x)},${fmt(lower[xs.length - 1 - index] ?? 0)}`)
    .join('');
  return `<path d="${top}${bottom}Z" fill="${color}" stroke="none"/>`;
}

/** The shared time axis: phases shaded, drop marked, ticks every 30 s. */
function timeFrame(box: Box, bounds: PhaseBounds, withLabels: boolean): string {
  const x = (t: number) => box.x + (t / bounds.end) * box.w;
  const parts = [
    `<rect x="${fmt(x(bounds.holdStart))}" y="${box.y}" width="${fmt(x(bounds.dropAt) - x(bounds.holdStart))}" height="${box.h}" fill="${COLORS.overload}"/>`,
  ];
  const step = bounds.end > 150 ? 30 : 10;
  for (let t = 0; t <= bounds.end + 0.001; t += step) {
    parts.push(line(x(t), box.y, x(t), box.y + box.h, COLORS.grid));
    if (withLabels)
      parts.push(text(x(t), box.y + box.h + 13, `${t}`, { anchor: 'middle', size: 10, color: COLORS.muted }));
  }
  parts.push(
    line(x(bounds.dropAt), box.y, x(bounds.dropAt), box.y + box.h, COLORS.muted, 'stroke-dasharray="4 3"'),
  );
  parts.push(
    `<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" fill="none" stroke="#999"/>`,
  );
  return parts.join('');
}

function yAxis(
  box: Box,
  ticks: readonly { value: number; label: string }[],
  y: (value: number) => number,
  side: 'left' | 'right',
  color: string = COLORS.muted,
): string {
  return ticks
    .map((tick) => {
      const ty = y(tick.value);
      const tx = side === 'left' ? box.x - 4 : box.x + box.w + 4;
      return (
        (side === 'left' ? line(box.x, ty, box.x + box.w, ty, COLORS.grid) : '') +
        text(tx, ty + 3.5, tick.label, { anchor: side === 'left' ? 'end' : 'start', size: 10, color })
      );
    })
    .join('');
}

function niceMax(value: number): number {
  const candidates = [5, 10, 20, 25, 40, 50, 60, 80, 100, 150, 200, 250, 300, 400, 500, 1000, 2000, 5000];
  return candidates.find((candidate) => candidate >= value) ?? Math.ceil(value);
}

/** Row 1: outcomes per second, 2 s bins, stacked. */
function ratesPlot(box: Box, panel: ChartPanel, input: ChartInput, maxRate: number): string {
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
function fleetPlot(box: Box, panel: ChartPanel, input: ChartInput, maxQueue: number): string {
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
function ttftPlot(box: Box, panel: ChartPanel, input: ChartInput, withLabels: boolean): string {
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

function legend(x: number, y: number): string {
  const items: [string, string, 'box' | 'line' | 'dash'][] = [
    ['premium completed', COLORS.premium, 'box'],
    ['free completed', COLORS.free, 'box'],
    ['admitted, then timed out / failed', COLORS.lost, 'box'],
    ['free refused (503)', COLORS.rejectedFree, 'box'],
    ['premium refused (503)', COLORS.rejectedPremium, 'box'],
    ['offered', COLORS.offered, 'line'],
    ['capacity', COLORS.capacity, 'dash'],
    ['slots busy', COLORS.utilisation, 'box'],
    ['95 % busy goal', COLORS.utilisationLine, 'dash'],
    ['queued on servers (right axis)', COLORS.queue, 'line'],
    ['TTFT p50', COLORS.p50, 'line'],
    ['TTFT p99', COLORS.p99, 'line'],
    ['2 s objective', COLORS.objective, 'dash'],
    ['mode: normal', MODE_COLORS.normal ?? '', 'box'],
    ['shed_free', MODE_COLORS.shed_free ?? '', 'box'],
    ['saturated', MODE_COLORS.saturated ?? '', 'box'],
    ['overload window', COLORS.overload, 'box'],
  ];
  const parts: string[] = [];
  let cx = x;
  let cy = y;
  for (const [label, color, kind] of items) {
    const width = 22 + label.length * 5.8;
    if (cx + width > x + 1460) {
      cx = x;
      cy += 18;
    }
    if (kind === 'box')
      parts.push(
        `<rect x="${fmt(cx)}" y="${fmt(cy - 9)}" width="14" height="10" fill="${color}" stroke="#999" stroke-width="0.5"/>`,
      );
    else
      parts.push(
        line(
          cx,
          cy - 4,
          cx + 14,
          cy - 4,
          color,
          `stroke-width="2"${kind === 'dash' ? ' stroke-dasharray="4 2"' : ''}`,
        ),
      );
    parts.push(text(cx + 18, cy, label, { size: 11 }));
    cx += width + 12;
  }
  return parts.join('');
}

export function renderChart(input: ChartInput): string {
  const columns = Math.max(1, input.panels.length);
  const width = 1500;
  const left = 60;
  const gap = 62;
  const columnWidth = (width - left - 50 - gap * (columns - 1)) / columns;
  const top = 70;
  const headerHeight = 58;
  const rows = { rates: 190, fleet: 130, ttft: 130 };
  const rowGap = 26;
  const height = top + headerHeight + rows.rates + rows.fleet + rows.ttft + rowGap * 2 + 100;

  const maxRate = niceMax(
    Math.max(
      input.capacity * 1.2,
      ...input.panels.flatMap((panel) => panel.series.perSecond.map((point) => point.offered)),
    ) * 0.9,
  );
  const maxQueue = niceMax(
    Math.max(10, ...input.panels.flatMap((panel) => panel.series.fleet.map(([, , q]) => q))),
  );

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    text(left, 28, input.title, { size: 18, weight: 'bold' }),
    text(left, 48, input.subtitle, { size: 12, color: COLORS.muted }),
  ];
  input.panels.forEach((panel, index) => {
    const x = left + index * (columnWidth + gap);
    const s = panel.summary;
    const o = s.overload;
    let y = top;
    parts.push(text(x, y + 6, POLICY_TITLES[s.policy] ?? s.policy, { size: 14, weight: 'bold' }));
    parts.push(
      text(
        x,
        y + 24,
        `overload: premium ${pctText(o.premium.successRate)} served · free ${pctText(o.free.successRate)} served`,
        { size: 11 },
      ),
    );
    parts.push(
      text(
        x,
        y + 40,
        `slots busy ${pctText(s.utilisation)} · TTFT p99 ${secText(o.ttftP99Ms)} · free back ${s.freeReturnAdmittedS === null ? 'never' : `${s.freeReturnAdmittedS} s`} after the drop`,
        { size: 11 },
      ),
    );
    if (s.checks.length > 0) {
      parts.push(
        text(x, y + 54, `⚠ ${s.checks.length} check(s) failed: policy not applied?`, {
          size: 11,
          color: COLORS.rejectedPremium,
          weight: 'bold',
        }),
      );
    }
    y += headerHeight;
    parts.push(ratesPlot({ x, y, w: columnWidth, h: rows.rates }, panel, input, maxRate));
    if (index === 0) parts.push(text(x - 44, y - 6, 'prompts/s', { size: 10, color: COLORS.muted }));
    y += rows.rates + rowGap;
    parts.push(fleetPlot({ x, y, w: columnWidth, h: rows.fleet }, panel, input, maxQueue));
    if (index === 0)
      parts.push(
        text(
          x - 44,
          y - 6,
          'fleet, 1 s means: slots busy, queue; top strip = heartbeat mode (only load_based acts on it)',
          { size: 10, color: COLORS.muted },
        ),
      );
    y += rows.fleet + rowGap;
    parts.push(ttftPlot({ x, y, w: columnWidth, h: rows.ttft }, panel, input, true));
    if (index === 0)
      parts.push(text(x - 44, y - 6, 'time to first token (log)', { size: 10, color: COLORS.muted }));
    parts.push(
      text(x + columnWidth / 2, y + rows.ttft + 28, 'seconds since the load started (by send time)', {
        anchor: 'middle',
        size: 10,
        color: COLORS.muted,
      }),
    );
  });
  parts.push(legend(left, height - 36));
  parts.push('</svg>');
  return parts.join('\n');
}
