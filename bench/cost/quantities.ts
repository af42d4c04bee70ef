/**
 * What one turn, one day of heartbeat and one day of sweeping consume, from the measurements, under a
 * configuration (the model's levers): Lambda GB-seconds, DynamoDB requests, units and bytes, SQS
 * requests, log bytes, and bytes through CloudFront. Measured unless a lever says otherwise; the few
 * computed pieces are named where they are made.
 */

import { ENTITLEMENTS } from '../../contract/entitlements';
import { sseData } from '../../functions/http/sse';
import { FUNCTION_OBSERVABILITY } from '../../lib/constructs/function-observability';
import { backgroundFunctions, routes } from '../../lib/resources';
import type { Settings } from '../../settings/settings';
import { itemBytes } from '../shared/dynamodb-size';
import { type DynamoDbConfig, type DynamoDbTotals, dynamodbTotals, scaleTotals } from './dynamodb-totals';
import type { MeteredLine } from './log-meter';
import type { Measurement, TurnSample } from './measure';
import { PRICES } from './prices';
import { type Scenario, TARGET } from './scenario';
import type { MeteredCall } from './sdk-meter';
import { LEASES_TARGET, sweeperWindowReads, windowOpeningShare, withUnits } from './windows';

export interface ModelConfig extends DynamoDbConfig {
  readonly postChatMemoryMb: number;
  /** 'one': only the largest log line of a turn is kept (computed). */
  readonly logLines: 'measured' | 'one';
  /** Content frames as measured, one per token, or coalesced every `flushMs` (the last two computed). */
  readonly sse: 'measured' | 'per-token' | { readonly flushMs: number };
}

/** The deployed shape the model prices: lib/resources.ts and the settings the handlers read. */
export interface Deployment {
  readonly postChatMemoryMb: number;
  readonly heartbeat: { memoryMb: number; runSeconds: number; everyMinutes: number; shards: number };
  readonly sweeper: { memoryMb: number; everyMinutes: number };
  /** STOP_POLL_MS, or the 400 ms it was if the setting is gone. */
  readonly stopPollMs: number;
  readonly fleetServers: number;
}

function everyMinutes(id: (typeof backgroundFunctions)[number]['id']): {
  memoryMb: number;
  everyMinutes: number;
} {
  const definition = backgroundFunctions.find((candidate) => candidate.id === id);
  if (!definition) throw new Error(`No background function ${id}`);
  const trigger = definition.trigger;
  if (trigger.kind !== 'schedule') throw new Error(`${id} is not scheduled`);
  return { memoryMb: definition.memoryMb, everyMinutes: trigger.everyMinutes };
}

export function deploymentOf(settings: Settings, scenario: Scenario): Deployment {
  const postChat = routes.find((route) => route.id === 'PostChat');
  if (!postChat) throw new Error('No PostChat route in lib/resources.ts');
  const stopPollMs: unknown = Reflect.get(settings, 'stopPollMs');
  return {
    postChatMemoryMb: postChat.memoryMb,
    heartbeat: {
      ...everyMinutes('RunHeartbeat'),
      runSeconds: settings.heartbeatRunSeconds,
      shards: settings.fleetShards,
    },
    sweeper: everyMinutes('SweepTurns'),
    stopPollMs: typeof stopPollMs === 'number' ? stopPollMs : 400,
    fleetServers: scenario.fleetShards * scenario.serversPerShard,
  };
}

/**
 * Computed: Lambda's own JSON log events per invocation (platform.start and platform.report), which are
 * INFO: none at a system log level of WARN or above (lib/constructs/function-observability.ts).
 */
export function platformLogBytes(memoryMb: number, durationMs: number): number {
  if (!['DEBUG', 'INFO', 'TRACE'].includes(FUNCTION_OBSERVABILITY.systemLogLevel)) return 0;
  const requestId = '8f5d6a3e-2b1c-4d7e-9a0f-6b3c2d1e0f4a';
  const tracing = {
    spanId: '4f1b2c3d5e6f7a8b',
    type: 'X-Amzn-Trace-Id',
    value: 'Root=1-6760d3a1-0f3c1e2d4b5a69788796a5b4;Parent=4f1b2c3d5e6f7a8b;Sampled=1',
  };
  const time = '2026-12-02T13:50:00.000Z';
  const start = { time, type: 'platform.start', record: { requestId, version: '$LATEST', tracing } };
  const metrics = {
    durationMs: durationMs + 0.25,
    billedDurationMs: Math.ceil(durationMs),
    memorySizeMB: memoryMb,
    maxMemoryUsedMB: Math.min(memoryMb, 110),
  };
  const report = {
    time,
    type: 'platform.report',
    record: { requestId, metrics, tracing, status: 'success' },
  };
  return Buffer.byteLength(JSON.stringify(start)) + Buffer.byteLength(JSON.stringify(report));
}

export interface LogTotals {
  lines: number;
  bytes: number;
  appLines: number;
  metricLines: number;
  /** Computed (platformLogBytes), included in `bytes`. */
  platformBytes: number;
  /** Lines and bytes by log message or EMF metrics (measured). */
  byLabel: Record<string, { lines: number; bytes: number }>;
}

function logTotals(
  lines: readonly MeteredLine[],
  mode: ModelConfig['logLines'],
  platformBytes: number,
): LogTotals {
  let kept = [...lines];
  if (mode === 'one') {
    const app = lines.filter((line) => line.kind === 'log');
    const largest = app.reduce<MeteredLine | undefined>(
      (max, line) => (!max || line.bytes > max.bytes ? line : max),
      undefined,
    );
    kept = lines.filter((line) => line.kind !== 'log' || line === largest);
  }
  const byLabel: LogTotals['byLabel'] = {};
  for (const line of kept) {
    const entry = byLabel[line.label] ?? { lines: 0, bytes: 0 };
    entry.lines += 1;
    entry.bytes += line.bytes;
    byLabel[line.label] = entry;
  }
  return {
    lines: kept.length,
    bytes: kept.reduce((sum, line) => sum + line.bytes, 0) + platformBytes,
    appLines: kept.filter((line) => line.kind === 'log').length,
    metricLines: kept.filter((line) => line.kind === 'metric').length,
    platformBytes,
    byLabel,
  };
}

/** SQS requests billed: each 64 KB of a request is one; the persister's receive and delete (computed, 2 per message). */
function sqsRequests(calls: readonly MeteredCall[]): number {
  let billed = 0;
  for (const call of calls) {
    if (call.service !== 'sqs') continue;
    billed += Math.max(1, Math.ceil(call.requestBytes / PRICES.sqs.billedChunkBytes));
    if (call.operation === 'SendMessage') billed += 2;
  }
  return billed;
}

/** Bytes of one `data: {"content":…}` frame around its text: what coalescing saves per frame (computed). */
export const SSE_FRAME_OVERHEAD_BYTES = Buffer.byteLength(sseData({ content: '' }));
/** An HTTP/2 DATA frame header per flushed chunk between CloudFront and the browser (computed). */
const H2_FRAME_BYTES = 9;

export interface TurnQuantities {
  readonly durationMs: number;
  readonly firstContentMs: number;
  readonly gbSeconds: number;
  readonly dynamodb: DynamoDbTotals;
  readonly sqsRequests: number;
  /** SQS calls by operation (measured). */
  readonly sqsCalls: Readonly<Record<string, number>>;
  readonly logs: LogTotals;
  readonly contentFrames: number;
  readonly cloudfront: {
    readonly requests: number;
    readonly bytesOut: number;
    readonly bytesToOrigin: number;
  };
  readonly answerChars: number;
}

function meanCounts(lists: readonly (readonly string[])[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const list of lists)
    for (const name of list) counts[name] = (counts[name] ?? 0) + 1 / Math.max(1, lists.length);
  return counts;
}

function meanByLabel(entries: readonly LogTotals['byLabel'][]): LogTotals['byLabel'] {
  const out: LogTotals['byLabel'] = {};
  for (const byLabel of entries) {
    for (const [label, { lines, bytes }] of Object.entries(byLabel)) {
      const entry = out[label] ?? { lines: 0, bytes: 0 };
      entry.lines += lines / entries.length;
      entry.bytes += bytes / entries.length;
      out[label] = entry;
    }
  }
  return out;
}

const mean = (values: readonly number[]) =>
  values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

function sseBytes(turn: TurnSample, config: ModelConfig, scenario: Scenario) {
  const { response } = turn;
  const streamMs = turn.invocation.durationMs - response.firstContentMs;
  let frames = response.contentFrames;
  if (config.sse === 'per-token') frames = Math.max(frames, scenario.answerTokens);
  else if (config.sse !== 'measured')
    frames = Math.min(frames, Math.max(1, Math.ceil(streamMs / config.sse.flushMs)));
  const saved = (response.contentFrames - frames) * SSE_FRAME_OVERHEAD_BYTES;
  const events = response.events - response.contentFrames + frames;
  return {
    frames,
    bytesOut: response.responseHeaderBytes + response.responseBodyBytes - saved + H2_FRAME_BYTES * events,
  };
}

export function turnQuantities(measurement: Measurement, config: ModelConfig): TurnQuantities {
  const { turns, scenario } = measurement;
  const n = Math.max(1, turns.length);
  const durationMs = mean(turns.map((turn) => Math.ceil(turn.invocation.durationMs)));
  const firstContentMs = mean(turns.map((turn) => turn.response.firstContentMs));
  const measured = scaleTotals(
    dynamodbTotals(
      turns.flatMap((turn) => turn.calls),
      {
        ...config,
        stopReads:
          typeof config.stopReads === 'object'
            ? { ...config.stopReads, streamMs: (durationMs - firstContentMs) * n }
            : config.stopReads,
      },
      turns[0]?.startedAtEpochMs ?? Date.now(),
    ),
    1 / n,
  );
  // Computed (windows.ts): the turn's share of its quota window's opening write.
  const opening = dynamodbTotals(
    measurement.windowOpening.calls,
    { ...config, stopReads: 'measured' },
    Date.now(),
  );
  const dynamodb = withUnits(
    measured,
    LEASES_TARGET,
    windowOpeningShare(opening, measured, scenario.turnsPerWindow),
  );
  const logs = turns.map((turn) =>
    logTotals(
      turn.lines,
      config.logLines,
      platformLogBytes(config.postChatMemoryMb, turn.invocation.durationMs),
    ),
  );
  const sse = turns.map((turn) => sseBytes(turn, config, scenario));
  return {
    durationMs,
    firstContentMs,
    gbSeconds: (config.postChatMemoryMb / 1024) * (durationMs / 1000),
    dynamodb,
    sqsRequests: mean(turns.map((turn) => sqsRequests(turn.calls))),
    sqsCalls: meanCounts(
      turns.map((turn) => turn.calls.filter((call) => call.service === 'sqs').map((call) => call.operation)),
    ),
    logs: {
      lines: mean(logs.map((log) => log.lines)),
      bytes: mean(logs.map((log) => log.bytes)),
      appLines: mean(logs.map((log) => log.appLines)),
      metricLines: mean(logs.map((log) => log.metricLines)),
      platformBytes: mean(logs.map((log) => log.platformBytes)),
      byLabel: meanByLabel(logs.map((log) => log.byLabel)),
    },
    contentFrames: mean(sse.map((entry) => entry.frames)),
    cloudfront: {
      requests: 1,
      bytesOut: mean(sse.map((entry) => entry.bytesOut)),
      bytesToOrigin: mean(turns.map((turn) => turn.response.requestBytes)),
    },
    answerChars: mean(turns.map((turn) => turn.response.answerChars)),
  };
}

export interface DailyQuantities {
  readonly invocations: number;
  readonly gbSeconds: number;
  /** Requests and units; no storage: background work rewrites a fixed set of small items. */
  readonly dynamodb: DynamoDbTotals;
  readonly logBytes: number;
  readonly sqsRequests: number;
}

/** A view rewritten in place may grow a few bytes in the window measured: that is no storage per day. */
const withoutStorage = (totals: DynamoDbTotals): DynamoDbTotals => ({ ...totals, storage: {} });

const lineBytes = (lines: readonly MeteredLine[]) => lines.reduce((sum, line) => sum + line.bytes, 0);

/** The heartbeat fleet for a day: the measured shard's rates × shards × 86,400 s; its run length configured. */
export function heartbeatDaily(
  measurement: Measurement,
  config: ModelConfig,
  deployment: Deployment,
): DailyQuantities {
  const { heartbeat } = measurement;
  const { memoryMb, runSeconds, shards } = deployment.heartbeat;
  const perDay = (shards * 86_400) / (heartbeat.durationMs / 1000);
  const invocations = shards * ((24 * 60) / deployment.heartbeat.everyMinutes);
  return {
    invocations,
    gbSeconds: invocations * runSeconds * (memoryMb / 1024),
    dynamodb: withoutStorage(
      scaleTotals(dynamodbTotals(heartbeat.calls, { ...config, stopReads: 'measured' }, Date.now()), perDay),
    ),
    logBytes:
      lineBytes(heartbeat.lines) * perDay + invocations * platformLogBytes(memoryMb, runSeconds * 1000),
    sqsRequests: 0,
  };
}

/** A keys-only byLeases entry: a user id, the window's key and the two index attributes (computed). */
const LEASE_ENTRY_BYTES = itemBytes({
  pk: '5f0c8e52-8d1a-4c4e-9b7a-2f6d3e1c0a9b',
  sk: 'QUOTA#1767225600000',
  leases: 'LEASES#15',
  sweep_at: 1_767_240_060_000,
});

/** The sweeper for a day: its measured invocation × its schedule. */
export function sweeperDaily(
  measurement: Measurement,
  config: ModelConfig,
  deployment: Deployment,
): DailyQuantities {
  const { sweeper, scenario } = measurement;
  const { memoryMb } = deployment.sweeper;
  const invocations = (24 * 60) / deployment.sweeper.everyMinutes;
  let dynamodb = withoutStorage(
    scaleTotals(dynamodbTotals(sweeper.calls, { ...config, stopReads: 'measured' }, Date.now()), invocations),
  );
  if (config.crashEvidence !== 'inflightIndex') {
    // Computed (windows.ts): the day's windows at the target, which the measured run does not have.
    const turnWindows = dynamodbTotals(
      measurement.turns.flatMap((turn) => turn.calls),
      { ...config, stopReads: 'measured' },
      Date.now(),
    );
    const reads = sweeperWindowReads({
      windowsPerDay: TARGET.turnsPerDay / scenario.turnsPerWindow,
      windowItemBytes: turnWindows.largestItems.QUOTA ?? 0,
      indexEntryBytes: LEASE_ENTRY_BYTES,
    });
    dynamodb = withUnits(withUnits(dynamodb, LEASES_TARGET, reads.index), 'ChatTable', reads.table);
  }
  return {
    invocations,
    gbSeconds: invocations * (Math.ceil(sweeper.durationMs) / 1000) * (memoryMb / 1024),
    dynamodb,
    logBytes: invocations * (lineBytes(sweeper.lines) + platformLogBytes(memoryMb, sweeper.durationMs)),
    sqsRequests: 0,
  };
}

/** Computed: the SQS event source mapping's pollers on an empty queue (5 pollers, 20 s long polls). */
export const SQS_POLLER_REQUESTS_PER_DAY = 5 * 3 * 24 * 60;

/** CloudWatch metrics (name + dimension values) the EMF lines create at the target fleet (computed). */
export function metricSeries(measurement: Measurement, deployment: Deployment): number {
  const cardinality: Record<string, number> = {
    server: deployment.fleetServers,
    tier: Object.keys(ENTITLEMENTS).length,
  };
  const labels = new Set(
    [measurement.turns.flatMap((turn) => turn.lines), measurement.heartbeat.lines, measurement.sweeper.lines]
      .flat()
      .filter((line) => line.kind === 'metric')
      .flatMap((line) => line.label.split('+')),
  );
  let series = 0;
  for (const label of labels) {
    const dimensions = /\[(.*)\]$/.exec(label)?.[1]?.split(',').filter(Boolean) ?? [];
    series += dimensions.reduce((product, dimension) => product * (cardinality[dimension] ?? 1), 1);
  }
  return series;
}
