/**
 * Concurrency, quotas and limits at the target's peak, from the measured turn: what each AWS default
 * allows against what the peak needs, and the list of what to raise before launch. Limits are the AWS
 * defaults in ../shared/NOTES.md ("AWS limits that shape the design") unless a row names another source.
 * Partition load follows the key design: a user's partition serves one stream at a time, a fleet view is
 * one item per shard, the quota windows' lease index has LEASE_SHARDS partition keys.
 */
import { LEASE_INDEX } from '../../adapters/dynamodb/quota-items';
import { LEASE_SHARDS } from '../../lib/resources';
import { MAX_ITEM_BYTES } from '../shared/dynamodb-size';
import type { DynamoDbTotals, Units } from './dynamodb-totals';
import type { DailyQuantities, Deployment, TurnQuantities } from './quantities';
import type { Target } from './scenario';

export interface QuotaRow {
  readonly quota: string;
  readonly limit: number;
  readonly needed: number;
  readonly unit: string;
  /** ok: within the default with room (< 80 %); raise: above it; plan: a rate to ramp traffic by. */
  readonly status: 'ok' | 'raise' | 'plan';
  readonly note: string;
}

export interface QuotaInput {
  readonly turn: TurnQuantities;
  readonly heartbeat: DailyQuantities;
  readonly sweeper: DailyQuantities;
  readonly deployment: Deployment;
  readonly target: Target;
  readonly idTokenValidityMinutes: number;
}

/** Assumption (not measured): how many prompts an active user sends in an hour of use. */
export const TURNS_PER_ACTIVE_USER_HOUR = 20;

const LAMBDA_CONCURRENCY = 1_000;
const LAMBDA_BURST_PER_10_SECONDS = 1_000;
const TABLE_UNITS = 40_000;
const PARTITION_RCU = 3_000;
const PARTITION_WCU = 1_000;
const ON_DEMAND_WARM = { wru: 4_000, rru: 12_000 };
const COGNITO_AUTH_PER_SECOND = 120;
const SQS_IN_FLIGHT = 120_000;
const CLOUDFRONT_REQUESTS_PER_SECOND = 250_000;
const CLOUDFRONT_GBPS = 150;

const units = (totals: DynamoDbTotals, target: string): Units =>
  totals.byTarget[target] ?? { requests: 0, rru: 0, wru: 0 };

function status(needed: number, limit: number): QuotaRow['status'] {
  return needed > limit * 0.8 ? 'raise' : 'ok';
}

export function quotaRows(input: QuotaInput): QuotaRow[] {
  const { turn, heartbeat, sweeper, deployment, target } = input;
  const peak = target.peakTurnsPerSecond;
  const streamSeconds = turn.durationMs / 1000;
  const perSecond = (daily: DailyQuantities, key: string) => {
    const u = units(daily.dynamodb, key);
    return { rru: u.rru / 86_400, wru: u.wru / 86_400 };
  };
  const rows: QuotaRow[] = [];
  const chatConcurrency = peak * streamSeconds;
  const concurrency =
    chatConcurrency +
    (deployment.heartbeat.shards * deployment.heartbeat.runSeconds) /
      (deployment.heartbeat.everyMinutes * 60);
  rows.push({
    quota: 'Lambda concurrent executions (account, region)',
    limit: LAMBDA_CONCURRENCY,
    needed: Math.ceil(concurrency),
    unit: 'environments',
    status: status(concurrency, LAMBDA_CONCURRENCY),
    note: `PostChat ${peak}/s × ${streamSeconds.toFixed(2)} s per streamed turn, plus the heartbeat loops`,
  });
  rows.push({
    quota: 'Lambda scaling rate (per function)',
    limit: LAMBDA_BURST_PER_10_SECONDS,
    needed: Math.ceil(chatConcurrency),
    // (the limit is a rate: the row says how long the ramp to `needed` takes)
    unit: `environments, reached at +${LAMBDA_BURST_PER_10_SECONDS.toLocaleString('en-US')} per 10 s`,
    status: 'plan',
    note: `from cold, PostChat reaches its peak concurrency in ${Math.ceil(chatConcurrency / LAMBDA_BURST_PER_10_SECONDS) * 10} s: ramp launch traffic no faster`,
  });

  const tableRows: [string, string, Units][] = [];
  for (const key of Object.keys(turn.dynamodb.byTarget)) {
    const u = units(turn.dynamodb, key);
    const background = [perSecond(heartbeat, key), perSecond(sweeper, key)];
    tableRows.push([
      key,
      key.includes('.') ? 'index' : 'table',
      {
        requests: 0,
        rru: u.rru * peak + background.reduce((sum, b) => sum + b.rru, 0),
        wru: u.wru * peak + background.reduce((sum, b) => sum + b.wru, 0),
      },
    ]);
  }
  for (const key of Object.keys(heartbeat.dynamodb.byTarget)) {
    if (key in turn.dynamodb.byTarget) continue;
    const hb = perSecond(heartbeat, key);
    tableRows.push([key, key.includes('.') ? 'index' : 'table', { requests: 0, ...hb }]);
  }
  for (const [key, kind, load] of tableRows) {
    for (const [measure, value] of [
      ['RRU', load.rru],
      ['WRU', load.wru],
    ] as const) {
      if (value === 0) continue;
      const warm = measure === 'RRU' ? ON_DEMAND_WARM.rru : ON_DEMAND_WARM.wru;
      const overWarm = kind === 'table' && value > warm;
      rows.push({
        quota: `DynamoDB ${key} ${measure}/s (per ${kind}, on-demand maximum)`,
        limit: TABLE_UNITS,
        needed: Math.ceil(value),
        unit: `${measure}/s`,
        status: value > TABLE_UNITS * 0.8 ? 'raise' : overWarm ? 'plan' : 'ok',
        note:
          kind === 'table'
            ? `a new on-demand table is warm for ${warm.toLocaleString('en-US')}/s${overWarm ? ': pre-warm it (warm throughput) to the peak' : ''}`
            : 'an index has its own throughput; a throttled index write throttles the table write',
      });
    }
  }

  const chat = units(turn.dynamodb, 'ChatTable');
  const leases = units(turn.dynamodb, `ChatTable.${LEASE_INDEX}`);
  const fleet = units(turn.dynamodb, 'FleetTable');
  const fleetHeartbeat = perSecond(heartbeat, 'FleetTable');
  const partitions: [string, number, number, string][] = [
    [
      'ChatTable, one user',
      chat.rru / streamSeconds,
      chat.wru / streamSeconds,
      'a user streams one turn at a time: its units spread over the turn',
    ],
    [
      `ChatTable.${LEASE_INDEX}, one of ${LEASE_SHARDS} shards`,
      0,
      (leases.wru * peak) / LEASE_SHARDS,
      "a user's quota window enters one of these partitions at its first grant, not every turn",
    ],
    [
      `FleetTable, one of ${deployment.heartbeat.shards} views`,
      (fleet.rru * peak + fleetHeartbeat.rru) / deployment.heartbeat.shards,
      fleetHeartbeat.wru / deployment.heartbeat.shards,
      'each chat container reads one random view per admission',
    ],
  ];
  for (const [name, rru, wru, note] of partitions) {
    rows.push({
      quota: `DynamoDB partition: ${name}, RCU/s`,
      limit: PARTITION_RCU,
      needed: Math.ceil(rru),
      unit: 'RCU/s',
      status: rru > PARTITION_RCU * 0.8 ? 'raise' : 'ok',
      note: `${note} (a partition cannot be raised: re-key if over)`,
    });
    rows.push({
      quota: `DynamoDB partition: ${name}, WCU/s`,
      limit: PARTITION_WCU,
      needed: Math.ceil(wru),
      unit: 'WCU/s',
      status: wru > PARTITION_WCU * 0.8 ? 'raise' : 'ok',
      note: `${note} (a partition cannot be raised: re-key if over)`,
    });
  }
  const [largestKind, largest] = [
    ...Object.entries(turn.dynamodb.largestItems),
    ...Object.entries(heartbeat.dynamodb.largestItems),
  ].reduce<[string, number]>((max, entry) => (entry[1] > max[1] ? entry : max), ['none', 0]);
  rows.push({
    quota: 'DynamoDB item size',
    limit: MAX_ITEM_BYTES,
    needed: largest,
    unit: 'bytes',
    status: status(largest, MAX_ITEM_BYTES),
    note: `largest item seen: ${largestKind} (sizes per kind in cost.json)`,
  });

  const activeUsers = (peak * 3600) / TURNS_PER_ACTIVE_USER_HOUR;
  const refreshes = activeUsers / (input.idTokenValidityMinutes * 60);
  rows.push({
    quota: 'Cognito sign-in + token refresh (UserAuthentication)',
    limit: COGNITO_AUTH_PER_SECOND,
    needed: Math.ceil(refreshes),
    unit: 'requests/s',
    status: status(refreshes, COGNITO_AUTH_PER_SECOND),
    note: `assumed ${TURNS_PER_ACTIVE_USER_HOUR} turns per active user-hour: ${Math.round(activeUsers).toLocaleString('en-US')} users each refreshing every ${input.idTokenValidityMinutes} min (sign-ins on top)`,
  });
  const parkedPerSecond = peak * 2;
  rows.push({
    quota: 'SQS standard queue, messages in flight',
    limit: SQS_IN_FLIGHT,
    needed: parkedPerSecond,
    unit: 'messages/s if DynamoDB refuses every write',
    status: 'ok',
    note: 'throughput is unlimited; in flight = received, not yet deleted: the persister must keep up',
  });
  rows.push({
    quota: 'CloudFront requests per distribution',
    limit: CLOUDFRONT_REQUESTS_PER_SECOND,
    needed: peak,
    unit: 'requests/s',
    status: status(peak, CLOUDFRONT_REQUESTS_PER_SECOND),
    note: 'POST /chat only; history and static files add to it',
  });
  const gbps = (peak * turn.cloudfront.bytesOut * 8) / 1e9;
  rows.push({
    quota: 'CloudFront data transfer per distribution',
    limit: CLOUDFRONT_GBPS,
    needed: Number(gbps.toFixed(2)),
    unit: 'Gbit/s',
    status: status(gbps, CLOUDFRONT_GBPS),
    note: 'the streamed answers at the peak rate',
  });
  return rows;
}
