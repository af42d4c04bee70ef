/**
 * Quantities × prices (prices.ts) at the target volume: the cost per 1M turns by component and per day.
 * Volume-tiered prices (Lambda GB-seconds, CloudFront data transfer) are taken at the target's monthly
 * volume; fixed daily costs (heartbeat, sweeper, metrics, SQS pollers) are spread over the day's turns.
 * Storage enters the per-turn figure as the first month of what a turn leaves stored (with PITR); the
 * run-rate of all history kept after 1 and 3 years is given per day beside it.
 */
import { WEB_ACL_RULES } from '../../lib/constructs/edge-firewall';
import { FUNCTION_OBSERVABILITY } from '../../lib/constructs/function-observability';
import type { DynamoDbTotals } from './dynamodb-totals';
import { DAYS_PER_MONTH, GB, PRICES, tieredCost } from './prices';
import type { DailyQuantities, ModelConfig, TurnQuantities } from './quantities';
import { SQS_POLLER_REQUESTS_PER_DAY } from './quantities';
import type { Target } from './scenario';
import type { TableClass } from './table-schema';

export const COMPONENTS = [
  'Lambda PostChat',
  'DynamoDB requests',
  'DynamoDB storage, 1st month',
  'CloudWatch Logs',
  'SQS',
  'CloudFront',
  'WAF',
  'X-Ray',
  'CloudWatch metrics',
  'Heartbeat',
  'Sweeper',
] as const;

export type Component = (typeof COMPONENTS)[number];

export interface Costs {
  readonly perMillionTurns: Readonly<Record<Component, number>>;
  readonly usdPerMillionTurns: number;
  readonly perDay: Readonly<Record<Component, number>>;
  readonly usdPerDay: number;
  /** What the history stored by then costs per day (storage + PITR), after 1 and 3 years at the target. */
  readonly storageRunRatePerDay: { readonly afterOneYear: number; readonly afterThreeYears: number };
  /** The average Lambda GB-second price at the target's monthly volume. */
  readonly usdPerGbSecond: number;
}

export interface PricingInput {
  readonly turn: TurnQuantities;
  readonly heartbeat: DailyQuantities;
  readonly sweeper: DailyQuantities;
  readonly metricSeries: number;
  readonly config: ModelConfig;
  readonly target: Target;
}

const classOf = (config: ModelConfig, table: string): TableClass =>
  config.tables[table]?.tableClass ?? 'STANDARD';

/** Request units of every table and index, each at its table's class price. */
export function requestsUsd(totals: DynamoDbTotals, config: ModelConfig): number {
  let usd = 0;
  for (const [target, units] of Object.entries(totals.byTarget)) {
    const prices = PRICES.dynamodb[classOf(config, target.split('.')[0] ?? target)];
    usd += (units.wru * prices.usdPerMillionWru + units.rru * prices.usdPerMillionRru) / 1e6;
  }
  return usd;
}

/**
 * One month of what `totals` left stored: storage at the table's class, PITR on the table's bytes;
 * with `kept`, only what is kept for good (not the items that expire within the month).
 */
export function storageMonthUsd(totals: DynamoDbTotals, config: ModelConfig, kept = false): number {
  let usd = 0;
  for (const [table, storage] of Object.entries(totals.storage)) {
    const perGb = PRICES.dynamodb[classOf(config, table)].usdPerGbMonth;
    const bytes = storage.bytes + (kept ? 0 : storage.transientByteMonths);
    usd += (bytes * perGb + storage.pitrBytes * PRICES.dynamodb.pitrUsdPerGbMonth) / GB;
  }
  return usd;
}

export function price(input: PricingInput): Costs {
  const { turn, heartbeat, sweeper, config, target } = input;
  const turnsPerMonth = target.turnsPerDay * DAYS_PER_MONTH;
  const monthlyGbSeconds =
    turn.gbSeconds * turnsPerMonth + (heartbeat.gbSeconds + sweeper.gbSeconds) * DAYS_PER_MONTH;
  const usdPerGbSecond = tieredCost(monthlyGbSeconds, PRICES.lambda.gbSecondTiers) / monthlyGbSeconds;
  const lambdaUsd = (gbSeconds: number, invocations: number) =>
    gbSeconds * usdPerGbSecond + (invocations * PRICES.lambda.usdPerMillionRequests) / 1e6;
  const logsUsd = (bytes: number) => (bytes / GB) * PRICES.cloudwatch.logsUsdPerGbIngested;
  const dailyUsd = (daily: DailyQuantities) =>
    lambdaUsd(daily.gbSeconds, daily.invocations) +
    requestsUsd(daily.dynamodb, config) +
    logsUsd(daily.logBytes);

  const monthlyOutGb = (turn.cloudfront.bytesOut * turnsPerMonth) / GB;
  const usdPerGbOut = tieredCost(monthlyOutGb, PRICES.cloudfront.dataTransferOutTiers) / monthlyOutGb;
  const perTurn = {
    'Lambda PostChat': lambdaUsd(turn.gbSeconds, 1),
    'DynamoDB requests': requestsUsd(turn.dynamodb, config),
    'DynamoDB storage, 1st month': storageMonthUsd(turn.dynamodb, config),
    'CloudWatch Logs': logsUsd(turn.logs.bytes),
    SQS: (turn.sqsRequests * PRICES.sqs.usdPerMillionRequests) / 1e6,
    CloudFront:
      (turn.cloudfront.requests * PRICES.cloudfront.usdPerMillionHttpsRequests) / 1e6 +
      (turn.cloudfront.bytesOut / GB) * usdPerGbOut +
      (turn.cloudfront.bytesToOrigin / GB) * PRICES.cloudfront.toOriginUsdPerGb,
    // Every request CloudFront takes is inspected by the web ACL.
    WAF: (turn.cloudfront.requests * PRICES.waf.usdPerMillionRequests) / 1e6,
    'X-Ray': FUNCTION_OBSERVABILITY.activeTracing
      ? (PRICES.xray.defaultSampledShare * PRICES.xray.usdPerMillionTracesRecorded) / 1e6
      : 0,
  };
  const fixedPerDay = {
    'CloudWatch metrics': (input.metricSeries * PRICES.cloudwatch.usdPerMetricMonth) / DAYS_PER_MONTH,
    WAF:
      (PRICES.waf.usdPerWebAclMonth + Object.keys(WEB_ACL_RULES).length * PRICES.waf.usdPerRuleMonth) /
      DAYS_PER_MONTH,
    Heartbeat: dailyUsd(heartbeat),
    Sweeper: dailyUsd(sweeper),
    SQS: (SQS_POLLER_REQUESTS_PER_DAY * PRICES.sqs.usdPerMillionRequests) / 1e6,
  };
  const perDay = {} as Record<Component, number>;
  const perMillionTurns = {} as Record<Component, number>;
  for (const component of COMPONENTS) {
    const variable =
      component in perTurn ? perTurn[component as keyof typeof perTurn] * target.turnsPerDay : 0;
    const fixed = component in fixedPerDay ? fixedPerDay[component as keyof typeof fixedPerDay] : 0;
    perDay[component] = variable + fixed;
    perMillionTurns[component] = (perDay[component] / target.turnsPerDay) * 1e6;
  }
  const sum = (record: Record<Component, number>) => COMPONENTS.reduce((total, c) => total + record[c], 0);

  const runRate = (years: number) => {
    const turnsKept = target.turnsPerDay * 365 * years;
    return (storageMonthUsd(turn.dynamodb, config, true) * turnsKept) / DAYS_PER_MONTH;
  };
  return {
    perMillionTurns,
    usdPerMillionTurns: sum(perMillionTurns),
    perDay,
    usdPerDay: sum(perDay),
    storageRunRatePerDay: { afterOneYear: runRate(1), afterThreeYears: runRate(3) },
    usdPerGbSecond,
  };
}
