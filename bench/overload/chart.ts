/**
 * One SVG, hand-written: a column per policy, three aligned rows sharing their scales —
 * (1) prompts per second by what became of them (stacked, by send time) against the offered load and the
 * fleet's capacity; (2) the fleet: share of slots busy, prompts queued on the servers, the heartbeat's mode;
 * (3) time to first token of admitted prompts (p50, p99, log scale) against the objective.
 * The rows are chart-rows.ts's; this file lays out the columns, their headers and the legend.
 */
import { type ChartInput, fleetPlot, ratesPlot, ttftPlot } from './chart-rows';
import { COLORS, fmt, line, MODE_COLORS, niceMax, text } from './chart-svg';

const POLICY_TITLES: Record<string, string> = {
  admit_all: 'admit_all — admit everyone',
  static_reservation: 'static_reservation — 1 server premium-only',
  load_based: 'load_based — shed free tier by load (ours)',
};

const pctText = (value: number) => (Number.isFinite(value) ? `${(value * 100).toFixed(1)} %` : '–');
const secText = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'timed out');

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
