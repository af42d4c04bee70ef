/**
 * SVG primitives, the palette and the axes shared by the overload chart's rows (chart-rows.ts, chart.ts).
 * Strings, not a DOM: the benchmark writes the file from Node.
 */
import type { PhaseBounds } from './config';

export const COLORS = {
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

export const MODE_COLORS: Record<string, string> = {
  normal: '#b6d7a8',
  shed_free: '#ffd966',
  saturated: '#e06666',
};

const esc = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
export const fmt = (value: number) => (Math.round(value * 10) / 10).toString();

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export function text(
  x: number,
  y: number,
  content: string,
  options: { size?: number; anchor?: 'start' | 'middle' | 'end'; color?: string; weight?: string } = {},
): string {
  return `<text x="${fmt(x)}" y="${fmt(y)}" font-size="${options.size ?? 11}" text-anchor="${options.anchor ?? 'start'}" fill="${options.color ?? COLORS.text}"${options.weight ? ` font-weight="${options.weight}"` : ''}>${esc(content)}</text>`;
}

export function line(x1: number, y1: number, x2: number, y2: number, color: string, extra = ''): string {
  return `<line x1="${fmt(x1)}" y1="${fmt(y1)}" x2="${fmt(x2)}" y2="${fmt(y2)}" stroke="${color}" ${extra}/>`;
}

export function polyline(
  points: readonly [number, number][],
  color: string,
  width = 1.5,
  extra = '',
): string {
  if (points.length === 0) return '';
  const d = points.map(([x, y], index) => `${index === 0 ? 'M' : 'L'}${fmt(x)},${fmt(y)}`).join('');
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}" stroke-linejoin="round" ${extra}/>`;
}

/** A filled band between two step lines (lower and upper y per x). */
export function band(
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
export function timeFrame(box: Box, bounds: PhaseBounds, withLabels: boolean): string {
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

export function yAxis(
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

export function niceMax(value: number): number {
  const candidates = [5, 10, 20, 25, 40, 50, 60, 80, 100, 150, 200, 250, 300, 400, 500, 1000, 2000, 5000];
  return candidates.find((candidate) => candidate >= value) ?? Math.ceil(value);
}
