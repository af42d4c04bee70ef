/**
 * The levers: changes of configuration or code that cut the cost, each priced by the model against the
 * configuration before it. A lever the code already has is priced by reverting it (today's total already
 * holds its saving); the others are applied one after another from today's configuration, so each row's
 * saving is against the row above and the last row is the total with every lever.
 * Measured: what today's code does (its calls, bytes, frames, lines). Computed: the other side of each
 * lever, from those measurements (same durations, same items re-sized, fewer calls).
 */
import { CONVERSATION_INDEX } from '../../adapters/dynamodb/chat-items';
import { LEASE_INDEX } from '../../adapters/dynamodb/quota-items';
import { stopChecksIn } from './dynamodb-totals';
import type { Measurement } from './measure';
import type { Costs } from './pricing';
import type { Deployment, ModelConfig } from './quantities';
import type { IndexSchema, TableSchema } from './table-schema';

export interface LeverRow {
  readonly lever: string;
  readonly change: string;
  readonly inCode: boolean;
  /** How the side that is not today's code was obtained. */
  readonly method: string;
  /** Undefined when the configuration before the lever cannot be rebuilt from today's run. */
  readonly savingPerMillionTurns?: number;
  readonly savingPerDay?: number;
  /** The storage run-rate saving per day after 3 years (table class only). */
  readonly savingPerDayAfterThreeYears?: number;
  readonly totalPerMillionTurns: number;
}

interface Lever {
  readonly lever: string;
  readonly change: (deployment: Deployment) => string;
  readonly method: string | ((measurement: Measurement) => string);
  readonly inCode: (config: ModelConfig, measurement: Measurement) => boolean;
  readonly apply: (config: ModelConfig) => ModelConfig;
  /** The configuration before the lever; undefined when it cannot be reconstructed from today's run. */
  readonly revert: (config: ModelConfig, deployment: Deployment) => ModelConfig | undefined;
}

const CHAT_TABLE = 'ChatTable';

function withChatTable(config: ModelConfig, change: (table: TableSchema) => TableSchema): ModelConfig {
  const table = config.tables[CHAT_TABLE];
  if (!table) throw new Error('No ChatTable schema');
  return { ...config, tables: { ...config.tables, [CHAT_TABLE]: change(table) } };
}

function withProjection(config: ModelConfig, indexName: string, type: 'ALL' | 'KEYS_ONLY'): ModelConfig {
  return withChatTable(config, (table) => ({
    ...table,
    indexes: table.indexes.map((index) =>
      index.name === indexName ? { ...index, projection: { type } } : index,
    ),
  }));
}

/** The sparse in-flight index the sweeper read before the quota windows' leases (keys only). */
const INFLIGHT_INDEX: IndexSchema = {
  name: 'byInflight',
  partitionKey: 'inflight',
  sortKey: 'sk',
  projection: { type: 'KEYS_ONLY' },
};
const LEASES_INDEX: IndexSchema = {
  name: LEASE_INDEX,
  partitionKey: 'leases',
  sortKey: 'sweep_at',
  projection: { type: 'KEYS_ONLY' },
};

/**
 * The chat table with the in-flight index and its turns carrying its key, or (`false`) without it and the
 * quota windows carrying theirs. Reverted, byLeases stays defined: the sweeper's measured queries are
 * priced on it, as they were on byInflight (a Query per shard either way), and no item has its key.
 */
function withInflightIndex(config: ModelConfig, inflight: boolean): ModelConfig {
  const changed = withChatTable(config, (table) => {
    const others = table.indexes.filter(
      (index) => index.name !== INFLIGHT_INDEX.name && index.name !== LEASES_INDEX.name,
    );
    return {
      ...table,
      indexes: inflight ? [...others, LEASES_INDEX, INFLIGHT_INDEX] : [...others, LEASES_INDEX],
    };
  });
  const { crashEvidence: _measured, ...rest } = changed;
  return inflight ? { ...rest, crashEvidence: 'inflightIndex' } : rest;
}

const hasIndex = (config: ModelConfig, name: string) =>
  config.tables[CHAT_TABLE]?.indexes.some((index) => index.name === name) === true;

const storesBinaryText = (measurement: Measurement) =>
  measurement.turns.some((turn) =>
    turn.calls.some((call) =>
      (call.effects ?? []).some(
        (effect) =>
          effect.kind === 'write' &&
          Object.values(effect.after ?? {}).some(
            (value) => value instanceof Uint8Array && value.byteLength > 64,
          ),
      ),
    ),
  );

const appLinesPerTurn = (measurement: Measurement) =>
  measurement.turns.reduce((sum, turn) => sum + turn.lines.filter((line) => line.kind === 'log').length, 0) /
  Math.max(1, measurement.turns.length);

const framesPerToken = (measurement: Measurement) =>
  measurement.turns.reduce((sum, turn) => sum + turn.response.contentFrames, 0) /
  Math.max(1, measurement.turns.length * measurement.scenario.answerTokens);

export const LEVERS: readonly Lever[] = [
  {
    lever: 'PostChat memory',
    change: () => '1024 MB → 128 MB',
    method: (measurement) => {
      // The app's own time (the turn minus the model's time to first token and its tokens/rate) is kept
      // as measured; were it all CPU at one vCPU, 128 MB (0.07 vCPU) would stretch it 14-fold.
      const { scenario, turns } = measurement;
      const modelMs = scenario.timeToFirstTokenMs + (scenario.answerTokens / scenario.tokensPerSecond) * 1000;
      const appMs =
        turns.reduce((sum, turn) => sum + turn.invocation.durationMs, 0) / Math.max(1, turns.length) -
        modelMs;
      return `computed: same duration; the app's own ${Math.round(appMs)} ms, if all CPU, would be ≤ ${Math.round((appMs * 1769) / 128)} ms at 128 MB`;
    },
    inCode: (config) => config.postChatMemoryMb <= 128,
    apply: (config) => ({ ...config, postChatMemoryMb: 128 }),
    revert: (config) => ({ ...config, postChatMemoryMb: 1024 }),
  },
  {
    lever: 'Stop signal',
    change: (deployment) => `GetItem every ${deployment.stopPollMs} ms → no DynamoDB read while streaming`,
    method: 'computed: the measured stop reads dropped, or one 1-RRU read per poll interval',
    inCode: (config, measurement) =>
      stopChecksIn(
        measurement.turns.flatMap((turn) => turn.calls),
        config.tables,
      ) === 0,
    apply: (config) => ({ ...config, stopReads: 'none' }),
    revert: (config, deployment) => ({ ...config, stopReads: { pollMs: deployment.stopPollMs } }),
  },
  {
    lever: 'Crash evidence',
    change: () =>
      `sparse ${INFLIGHT_INDEX.name} index entered and left by every turn → unreleased stream slots on the quota window (${LEASE_INDEX}, written once per window)`,
    method:
      "computed: the measured turn writes with the in-flight index's key while in_progress, the quota writes without the window's",
    inCode: (config) => hasIndex(config, LEASE_INDEX) && !hasIndex(config, INFLIGHT_INDEX.name),
    apply: (config) => withInflightIndex(config, false),
    revert: (config) => withInflightIndex(config, true),
  },
  {
    lever: 'Conversation index',
    change: () => `${CONVERSATION_INDEX} ALL → KEYS_ONLY, context by BatchGetItem`,
    // Reverted, the writes are re-sized; the reads are not: with ALL the context is one Query of its
    // items (2 RRU for 10 turns here) and no BatchGetItem (5 RRU), so ALL's real cost is ~$0.44 lower.
    method: 'computed: the measured writes into an index of the other projection (reads kept as measured)',
    inCode: (config) =>
      config.tables[CHAT_TABLE]?.indexes.find((index) => index.name === CONVERSATION_INDEX)?.projection
        .type === 'KEYS_ONLY',
    apply: (config) => withProjection(config, CONVERSATION_INDEX, 'KEYS_ONLY'),
    revert: (config) => withProjection(config, CONVERSATION_INDEX, 'ALL'),
  },
  {
    lever: 'Compressed text',
    change: () => 'prompt and answer as text → brotli Binary',
    method: 'computed: the measured texts compressed (or decompressed) and re-sized',
    inCode: (_config, measurement) => storesBinaryText(measurement),
    apply: (config) => ({ ...config, text: 'compressed' }),
    revert: (config) => ({ ...config, text: 'plain' }),
  },
  {
    lever: 'Log lines',
    change: () => 'every app log line → one line per turn (the largest)',
    method: 'computed: the other lines dropped (when in the code: compare with a run before it)',
    inCode: (_config, measurement) => appLinesPerTurn(measurement) <= 1,
    apply: (config) => ({ ...config, logLines: 'one' }),
    revert: () => undefined,
  },
  {
    lever: 'SSE frames',
    change: () => 'one frame per token → coalesced every 100 ms',
    method: 'computed: the measured frames merged, saving their framing bytes',
    inCode: (_config, measurement) => framesPerToken(measurement) < 0.5,
    apply: (config) => ({ ...config, sse: { flushMs: 100 } }),
    revert: (config) => ({ ...config, sse: 'per-token' }),
  },
  {
    lever: 'Standard-IA',
    change: () => 'ChatTable Standard → Standard-IA (storage −60 %, requests +25 %)',
    method: 'computed: the same units and bytes at the other table class',
    inCode: (config) => config.tables[CHAT_TABLE]?.tableClass === 'STANDARD_INFREQUENT_ACCESS',
    apply: (config) =>
      withChatTable(config, (table) => ({ ...table, tableClass: 'STANDARD_INFREQUENT_ACCESS' })),
    revert: (config) => withChatTable(config, (table) => ({ ...table, tableClass: 'STANDARD' })),
  },
];

export function leverRows(
  measurement: Measurement,
  deployment: Deployment,
  current: ModelConfig,
  evaluate: (config: ModelConfig) => Costs,
): LeverRow[] {
  const today = evaluate(current);
  const rows: LeverRow[] = [];
  const row = (
    lever: Lever,
    inCode: boolean,
    before: Costs | undefined,
    after: Costs,
    total: number,
  ): LeverRow => ({
    lever: lever.lever,
    change: lever.change(deployment),
    inCode,
    method: typeof lever.method === 'string' ? lever.method : lever.method(measurement),
    ...(before
      ? {
          savingPerMillionTurns: before.usdPerMillionTurns - after.usdPerMillionTurns,
          savingPerDay: before.usdPerDay - after.usdPerDay,
          savingPerDayAfterThreeYears:
            before.storageRunRatePerDay.afterThreeYears - after.storageRunRatePerDay.afterThreeYears,
        }
      : {}),
    totalPerMillionTurns: total,
  });
  for (const lever of LEVERS.filter((candidate) => candidate.inCode(current, measurement))) {
    const reverted = lever.revert(current, deployment);
    rows.push(row(lever, true, reverted ? evaluate(reverted) : undefined, today, today.usdPerMillionTurns));
  }
  let config = current;
  let before = today;
  for (const lever of LEVERS.filter((candidate) => !candidate.inCode(current, measurement))) {
    config = lever.apply(config);
    const after = evaluate(config);
    rows.push(row(lever, false, before, after, after.usdPerMillionTurns));
    before = after;
  }
  return rows;
}
