/** The cost model's tables (text) and bench/results/cost.json. */
import type { DynamoDbTotals } from './dynamodb-totals';
import type { LeverRow } from './levers';
import type { Measurement } from './measure';
import { PRICES } from './prices';
import { COMPONENTS, type Costs } from './pricing';
import type { Deployment, TurnQuantities } from './quantities';
import type { QuotaRow } from './quotas';
import { GOALS, type Target } from './scenario';

export interface Report {
  readonly measurement: Measurement;
  readonly deployment: Deployment;
  readonly turn: TurnQuantities;
  readonly costs: Costs;
  readonly levers: readonly LeverRow[];
  readonly quotas: readonly QuotaRow[];
  readonly target: Target;
  readonly heartbeat: { readonly perDay: DynamoDbTotals; readonly ticksPerSecond: number };
  readonly runSeconds: number;
}

const usd = (value: number, digits = 2) =>
  `$${value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}`;
const num = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A text table; a column whose cells are all amounts ($, digits) is right-aligned, the others left. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, i) =>
    Math.max(header.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const numeric = headers.map((_, i) =>
    rows.every((row) => /^[-$≤\d][\d$,.\s%()a-z:/-]*$/.test(row[i] ?? '')),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (numeric[i] ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

export const goalsOf = (costs: Costs, turn: TurnQuantities) => ({
  usd_per_million_turns: {
    target: GOALS.usdPerMillionTurns,
    value: costs.usdPerMillionTurns,
    met: costs.usdPerMillionTurns <= GOALS.usdPerMillionTurns,
  },
  dynamodb_requests_per_turn: {
    target: GOALS.dynamodbRequestsPerTurn,
    value: turn.dynamodb.requests,
    met: turn.dynamodb.requests <= GOALS.dynamodbRequestsPerTurn,
  },
});

export function renderText(report: Report): string {
  const { measurement, turn, costs, deployment, target } = report;
  const { scenario } = measurement;
  const out: string[] = [];
  out.push(
    `Cost model — ${scenario.turns} measured turns through the real stack: ${scenario.promptChars}-character prompt, ` +
      `${scenario.answerTokens}-token streamed answer at ${scenario.tokensPerSecond} tok/s (TTFT ${scenario.timeToFirstTokenMs} ms), ` +
      `${scenario.earlierTurns} earlier turns, Idempotency-Key; ${deployment.heartbeat.shards} fleet shards × ${scenario.serversPerShard} servers. ` +
      `Prices ${PRICES.region} arm64, ${PRICES.asOf} (bench/cost/prices.ts). Run took ${num(report.runSeconds)} s.`,
  );
  const overhead =
    turn.durationMs - scenario.timeToFirstTokenMs - (scenario.answerTokens / scenario.tokensPerSecond) * 1000;
  out.push('', 'Per turn (means, measured)');
  out.push(
    table(
      ['quantity', 'value'],
      [
        [
          'PostChat billed duration',
          `${num(turn.durationMs)} ms = TTFT ${scenario.timeToFirstTokenMs} + tokens/rate ${num((scenario.answerTokens / scenario.tokensPerSecond) * 1000)} + app ${num(overhead)}`,
        ],
        [
          'PostChat memory (lib/resources.ts)',
          `${deployment.postChatMemoryMb} MB → ${num(turn.gbSeconds, 3)} GB-s`,
        ],
        ['first content event after request', `${num(turn.firstContentMs)} ms`],
        ['DynamoDB requests', num(turn.dynamodb.requests, 1)],
        [
          '  by operation',
          Object.entries(turn.dynamodb.byOperation)
            .map(([op, n]) => `${op} ×${num(n, 1)}`)
            .join(', '),
        ],
        [
          'DynamoDB read / write units',
          `${num(turn.dynamodb.rru, 2)} RRU / ${num(turn.dynamodb.wru, 2)} WRU`,
        ],
        [
          '  by table and index',
          Object.entries(turn.dynamodb.byTarget)
            .map(([t, u]) => `${t} ${num(u.rru, 1)} R ${num(u.wru, 1)} W`)
            .join('; '),
        ],
        [
          'bytes left stored (table + indexes)',
          Object.entries(turn.dynamodb.storage)
            .map(([t, s]) => `${t} ${num(s.bytes)} B (PITR on ${num(s.pitrBytes)} B)`)
            .join('; '),
        ],
        [
          'largest item per kind',
          Object.entries(turn.dynamodb.largestItems)
            .map(([k, b]) => `${k} ${num(b)} B`)
            .join(', '),
        ],
        [
          'log events / bytes',
          `${num(turn.logs.lines, 1)} lines (${num(turn.logs.appLines, 1)} app, ${num(turn.logs.metricLines, 1)} EMF) + platform ${num(turn.logs.platformBytes)} B = ${num(turn.logs.bytes)} B`,
        ],
        [
          'SSE content frames / bytes to the client',
          `${num(turn.contentFrames)} frames for ${num(turn.answerChars)} chars / ${num(turn.cloudfront.bytesOut)} B`,
        ],
        ['SQS requests', num(turn.sqsRequests, 1)],
      ],
    ),
  );
  out.push(
    '',
    `Cost at the target: ${num(target.turnsPerDay)} turns/day (peak ${num(target.peakTurnsPerSecond)}/s)`,
  );
  out.push(
    table(
      ['component', '$ per 1M turns', '$ per day'],
      [
        ...COMPONENTS.map((c) => [c, usd(costs.perMillionTurns[c], 3), usd(costs.perDay[c])]),
        ['total', usd(costs.usdPerMillionTurns, 3), usd(costs.usdPerDay)],
      ],
    ),
  );
  out.push(
    `Lambda at ${num((turn.gbSeconds * target.turnsPerDay * (365 / 12)) / 1e9, 2)}B GB-s/month: ${usd(costs.usdPerGbSecond * 1e6, 4)} per 1M GB-s on average (tiered).`,
    `Storage: the per-turn total includes the first month of what a turn leaves stored (with PITR). All history kept: ` +
      `${usd(costs.storageRunRatePerDay.afterOneYear)}/day after 1 year, ${usd(costs.storageRunRatePerDay.afterThreeYears)}/day after 3 years.`,
  );
  const goals = goalsOf(costs, turn);
  out.push('', 'Goals');
  out.push(
    table(
      ['goal', 'target', 'measured', ''],
      [
        [
          '$ per 1M turns',
          `≤ ${GOALS.usdPerMillionTurns}`,
          usd(costs.usdPerMillionTurns, 2),
          goals.usd_per_million_turns.met ? 'met' : 'NOT MET',
        ],
        [
          'DynamoDB requests per turn',
          `≤ ${GOALS.dynamodbRequestsPerTurn}`,
          num(turn.dynamodb.requests, 1),
          goals.dynamodb_requests_per_turn.met ? 'met' : 'NOT MET',
        ],
      ],
    ),
  );
  out.push(
    '',
    'Levers (in the code: saving already in the total, against the lever reverted; next: applied in order from today, each against the row above)',
  );
  out.push(
    table(
      [
        'lever',
        'change',
        'state',
        '$/1M turns saved',
        '$/day saved',
        'storage $/day saved after 3 y',
        '$/1M after',
        'method',
      ],
      report.levers.map((row) => [
        row.lever,
        row.change,
        row.inCode ? 'in the code' : 'next',
        row.savingPerMillionTurns === undefined ? '—' : usd(row.savingPerMillionTurns, 3),
        row.savingPerDay === undefined ? '—' : usd(row.savingPerDay),
        row.savingPerDayAfterThreeYears === undefined ? '—' : usd(row.savingPerDayAfterThreeYears),
        usd(row.totalPerMillionTurns, 3),
        row.method,
      ]),
    ),
  );
  out.push('', 'Concurrency, quotas and limits at the peak');
  out.push(
    table(
      ['quota', 'default', 'needed', 'unit', 'status', 'note'],
      report.quotas.map((row) => [
        row.quota,
        num(row.limit),
        num(row.needed, row.needed < 10 && !Number.isInteger(row.needed) ? 2 : 0),
        row.unit,
        row.status,
        row.note,
      ]),
    ),
  );
  out.push('', 'Raise before launch');
  for (const row of raiseList(report.quotas)) out.push(`- ${row}`);
  out.push(
    '',
    'Measured: calls, units (DynamoDB rules on the items read back), bytes, frames, log lines, durations. Computed: ' +
      'platform log lines, X-Ray sampling, metric cardinality at the target fleet, SQS pollers and persister requests, ' +
      "HTTP framing, every lever's other side, and the heartbeat day (one shard measured, × shards).",
  );
  return out.join('\n');
}

export function raiseList(quotas: readonly QuotaRow[]): string[] {
  return quotas
    .filter((row) => row.status !== 'ok')
    .map((row) =>
      row.status === 'raise'
        ? `${row.quota}: default ${num(row.limit)}, needed ${num(row.needed)} ${row.unit}`
        : `${row.quota}: ${row.note}`,
    );
}

export function resultJson(report: Report) {
  const { costs, turn, measurement } = report;
  return {
    generated_at: new Date().toISOString(),
    scenario: measurement.scenario,
    target: report.target,
    prices: { as_of: PRICES.asOf, region: PRICES.region, file: 'bench/cost/prices.ts' },
    usd_per_million_turns: costs.usdPerMillionTurns,
    usd_per_day: costs.usdPerDay,
    components: Object.fromEntries(COMPONENTS.map((c) => [c, costs.perMillionTurns[c]])),
    components_per_day: Object.fromEntries(COMPONENTS.map((c) => [c, costs.perDay[c]])),
    dynamodb_requests_per_turn: turn.dynamodb.requests,
    goals: goalsOf(costs, turn),
    per_turn: {
      duration_ms: turn.durationMs,
      first_content_ms: turn.firstContentMs,
      gb_seconds: turn.gbSeconds,
      post_chat_memory_mb: report.deployment.postChatMemoryMb,
      dynamodb: turn.dynamodb,
      log_events: turn.logs,
      sse_content_frames: turn.contentFrames,
      bytes_to_client: turn.cloudfront.bytesOut,
      bytes_to_origin: turn.cloudfront.bytesToOrigin,
      sqs_requests: turn.sqsRequests,
      sqs_calls: turn.sqsCalls,
    },
    heartbeat: {
      shards: report.deployment.heartbeat.shards,
      ticks_per_second: report.heartbeat.ticksPerSecond,
      dynamodb_per_day: report.heartbeat.perDay,
    },
    storage_run_rate_per_day: costs.storageRunRatePerDay,
    levers: report.levers,
    quotas: report.quotas,
    raise_before_launch: raiseList(report.quotas),
    unattributed: measurement.unattributed,
  };
}

type ResultJson = ReturnType<typeof resultJson>;

/**
 * Measured savings: today's run against an earlier cost.json (COST_BASELINE=path), e.g. one from before
 * a change landed; the change in each component is what that change did, measured on both sides.
 */
export function renderBaseline(baseline: ResultJson, current: ResultJson, path: string): string {
  const rows = COMPONENTS.map((c) => {
    const before = baseline.components[c] ?? 0;
    const now = current.components[c] ?? 0;
    return [c, usd(before, 3), usd(now, 3), usd(now - before, 3)];
  });
  rows.push(
    [
      'total',
      usd(baseline.usd_per_million_turns, 3),
      usd(current.usd_per_million_turns, 3),
      usd(current.usd_per_million_turns - baseline.usd_per_million_turns, 3),
    ],
    [
      'DynamoDB requests per turn',
      num(baseline.dynamodb_requests_per_turn, 1),
      num(current.dynamodb_requests_per_turn, 1),
      num(current.dynamodb_requests_per_turn - baseline.dynamodb_requests_per_turn, 1),
    ],
    [
      'log bytes per turn',
      num(baseline.per_turn.log_events.bytes),
      num(current.per_turn.log_events.bytes),
      num(current.per_turn.log_events.bytes - baseline.per_turn.log_events.bytes),
    ],
    [
      'SSE content frames per turn',
      num(baseline.per_turn.sse_content_frames),
      num(current.per_turn.sse_content_frames),
      num(current.per_turn.sse_content_frames - baseline.per_turn.sse_content_frames),
    ],
  );
  return [
    `Measured change against ${path} (generated ${baseline.generated_at}), $ per 1M turns`,
    table(['component', 'baseline', 'now', 'change'], rows),
  ].join('\n');
}
