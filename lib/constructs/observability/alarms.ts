/**
 * The chat app's alarms, every one publishing ALARM and OK to the alarm topic. What each means and what
 * to do: README, "Runbook".
 */
import { Duration, Stack, Token } from 'aws-cdk-lib';
import { Alarm, type AlarmProps, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { turnWritesQueue } from '../../resources';
import { type AppMetrics, MINUTE, TIERS, type Tier } from './metrics';

/** FleetMode values emitted by the heartbeat. */
export const FLEET_MODE = { normal: 0, shedFree: 1, saturated: 2 } as const;

/** The first-token objective the p99 alarm guards, in milliseconds. */
export const TTFT_OBJECTIVE_MS = 2_000;

/**
 * Refusal rate (%) per tier that pages, and for how long. Free prompts are shed by design once the
 * fleet passes SHED_FREE_AT, so only a lasting majority of refusals (the fleet is too small for its
 * demand) pages, over 5-minute periods. A premium prompt is refused only when no server has room even
 * after it was held: the fleet is saturated, worth a page within minutes.
 */
export const REFUSAL_ALARMS: Readonly<
  Record<Tier, { percent: number; period: Duration; evaluationPeriods: number; datapointsToAlarm: number }>
> = {
  free: { percent: 50, period: Duration.minutes(5), evaluationPeriods: 3, datapointsToAlarm: 3 },
  premium: { percent: 5, period: MINUTE, evaluationPeriods: 5, datapointsToAlarm: 3 },
};

/**
 * A view is written every heartbeat interval and reused by a chat container for one more: about two
 * intervals old at worst when all is well. Ten intervals (5 s at the default 0.5 s) means a shard's
 * heartbeat stopped writing or the chat function cannot read the fleet table: admission then runs on
 * an old picture (it grows conservative, see viewTrust in domain/fleet.ts).
 */
export const FLEET_VIEW_STALE_INTERVALS = 10;

/** 5xx answers (faults, refusals for load taken out) in % of requests, at a Function URL or CloudFront. */
export const HTTP_5XX_PERCENT = 5;

/**
 * A parked turn write is retried every visibility timeout and goes to the DLQ after maxReceiveCount
 * receives: a message older than that was never received at all, so PersistTurns is not consuming.
 */
export const TURN_WRITE_MAX_AGE_SECONDS =
  turnWritesQueue.visibilityTimeoutSeconds * turnWritesQueue.deadLetter.maxReceiveCount;

export interface AlarmsProps {
  readonly chatFunction: IFunction;
  readonly heartbeatFunction: IFunction;
  /** Every function of the app, by id. */
  readonly functions: ReadonlyMap<string, IFunction>;
  /** The ids of the functions behind a Function URL. */
  readonly functionUrlIds: readonly string[];
  readonly tables: Readonly<Record<string, ITable>>;
  readonly turnWritesQueue: IQueue;
  readonly alarmTopic: ITopic;
  readonly heartbeatIntervalSeconds: number;
  /** The CloudFront distribution in front of the app (its 5xx alarm lives in us-east-1 only). */
  readonly distributionId?: string;
}

/** The alarms by what they watch; `all` lists every one. */
export class AppAlarms {
  public readonly chatErrors: Alarm;
  public readonly heartbeatErrors: Alarm;
  public readonly heartbeatMissing: Alarm;
  public readonly timeToFirstToken: Alarm;
  public readonly fleetSaturated: Alarm;
  public readonly tableThrottles: Readonly<Record<string, Alarm>>;
  public readonly refusalRate: Readonly<Record<Tier, Alarm>>;
  public readonly fleetViewStale: Alarm;
  public readonly functionUrl5xx: Readonly<Record<string, Alarm>>;
  /** Absent outside us-east-1 (CloudFront's metrics exist only there) or without a distribution. */
  public readonly cloudFront5xx?: Alarm;
  public readonly turnWritesOldest: Alarm;

  public constructor(
    private readonly scope: Construct,
    private readonly props: AlarmsProps,
    metrics: AppMetrics,
  ) {
    const { chatFunction, heartbeatFunction } = props;
    // Errors are failed invocations (crash, time-out): the handlers turn their own errors into HTTP
    // answers, so any Lambda error is a user who got a broken stream. 3 of 5 minutes: a lasting fault,
    // not one bad request.
    this.chatErrors = this.alarm('ChatErrors', {
      description: 'The chat function fails invocations (crash or time-out) in 3 of the last 5 minutes.',
      metric: chatFunction.metricErrors({ period: MINUTE, statistic: 'Sum' }),
      ...above(0, 5, 3),
    });
    // The heartbeat catches failures per tick, so an invocation error is a run that died: the fleet
    // state goes stale within seconds and the chat function then refuses everyone.
    this.heartbeatErrors = this.alarm('HeartbeatErrors', {
      description: 'Heartbeat runs fail in 2 of the last 5 minutes: the fleet state may go stale.',
      metric: heartbeatFunction.metricErrors({ period: MINUTE, statistic: 'Sum' }),
      ...above(0, 5, 2),
    });
    // Lambda emits no Invocations datapoint for a minute without runs: missing data is the failure.
    // Three minutes, because a scheduled rule fires "within the minute" and one minute may hold 0 runs.
    this.heartbeatMissing = this.alarm('HeartbeatMissing', {
      description:
        'No heartbeat run for 3 minutes (rule disabled, throttled or deleted): views age (admission grows conservative, never refuses everyone).',
      metric: heartbeatFunction.metricInvocations({ period: MINUTE, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.BREACHING,
    });
    // No prompts, no datapoints: quiet hours are not an incident (the `above` default).
    this.timeToFirstToken = this.alarm('TimeToFirstTokenP99', {
      description: `p99 time to first token above ${TTFT_OBJECTIVE_MS} ms in 3 of the last 5 minutes.`,
      metric: metrics.app('TimeToFirstToken', 'p99', {}, 'TTFT p99'),
      ...above(TTFT_OBJECTIVE_MS, 5, 3),
    });
    // Minimum over each minute: every tick of the minute saw the fleet saturated; five such minutes in a
    // row means everyone has been refused for five minutes. A silent heartbeat is HeartbeatMissing's job.
    this.fleetSaturated = this.alarm('FleetSaturated', {
      description: 'The fleet has been saturated (nobody admitted) for 5 minutes: add inference capacity.',
      metric: metrics.app('FleetMode', 'Minimum', {}, 'FleetMode (min)'),
      threshold: FLEET_MODE.saturated,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // On-demand tables throttle when a partition (or a GSI) runs hot. Final turn writes
    // then park in SQS; sustained throttling is worth a look before the DLQ fills.
    this.tableThrottles = Object.fromEntries(
      Object.entries(props.tables).map(([tableId, table]) => [
        tableId,
        this.alarm(`${tableId}Throttles`, {
          description: `${tableId} throttles reads or writes in 3 of the last 5 minutes.`,
          metric: metrics.tableThrottles(table),
          ...above(0, 5, 3),
        }),
      ]),
    );
    this.refusalRate = Object.fromEntries(
      TIERS.map((tier) => {
        const rule = REFUSAL_ALARMS[tier];
        const minutes = rule.period.toMinutes() * rule.evaluationPeriods;
        return [
          tier,
          this.alarm(`RefusalRate${capitalized(tier)}`, {
            description: `More than ${rule.percent} % of ${tier} prompts refused for load (503) in ${rule.datapointsToAlarm} of the last ${minutes} minutes' periods.`,
            metric: metrics.refusalRate(tier, rule.period),
            ...above(rule.percent, rule.evaluationPeriods, rule.datapointsToAlarm),
          }),
        ];
      }),
    ) as Record<Tier, Alarm>;
    const staleSeconds = FLEET_VIEW_STALE_INTERVALS * props.heartbeatIntervalSeconds;
    // Maximum over the containers: one container stuck on an old view admits on a wrong picture.
    this.fleetViewStale = this.alarm('FleetViewStale', {
      description: `Prompts admitted on a fleet view older than ${staleSeconds} s (${FLEET_VIEW_STALE_INTERVALS} heartbeat intervals) in 3 of the last 5 minutes.`,
      metric: metrics.app('FleetViewAgeSeconds', 'Maximum', {}, 'view age (max, s)'),
      ...above(staleSeconds, 5, 3),
    });
    this.functionUrl5xx = Object.fromEntries(
      props.functionUrlIds.map((id) => {
        const fn = props.functions.get(id);
        if (!fn) throw new Error(`No function ${id} for its Function URL alarm`);
        return [
          id,
          this.alarm(`${id}Url5xx`, {
            description: `More than ${HTTP_5XX_PERCENT} % of ${id}'s Function URL requests answered 5xx (refusals for load aside) in 3 of the last 5 minutes.`,
            metric: metrics.functionUrl5xxRate(id, fn, fn === chatFunction),
            ...above(HTTP_5XX_PERCENT, 5, 3),
          }),
        ];
      }),
    );
    const region = Stack.of(scope).region;
    if (props.distributionId && (Token.isUnresolved(region) || region === 'us-east-1')) {
      this.cloudFront5xx = this.alarm('CloudFront5xx', {
        description: `More than ${HTTP_5XX_PERCENT} % of CloudFront requests answered 5xx (refusals for load aside) in 3 of the last 5 minutes.`,
        metric: metrics.cloudFront5xxRate(props.distributionId),
        ...above(HTTP_5XX_PERCENT, 5, 3),
      });
    }
    this.turnWritesOldest = this.alarm('TurnWritesOldestMessage', {
      description: `A parked turn write has waited over ${TURN_WRITE_MAX_AGE_SECONDS} s on the turn-writes queue for 3 minutes: PersistTurns is not consuming.`,
      metric: props.turnWritesQueue.metricApproximateAgeOfOldestMessage({
        period: MINUTE,
        statistic: 'Maximum',
      }),
      ...above(TURN_WRITE_MAX_AGE_SECONDS, 3, 3),
    });
  }

  /** Every alarm created here. */
  public get all(): Alarm[] {
    return [
      this.chatErrors,
      this.heartbeatErrors,
      this.heartbeatMissing,
      this.timeToFirstToken,
      this.fleetSaturated,
      ...Object.values(this.tableThrottles),
      ...Object.values(this.refusalRate),
      this.fleetViewStale,
      ...Object.values(this.functionUrl5xx),
      ...(this.cloudFront5xx ? [this.cloudFront5xx] : []),
      this.turnWritesOldest,
    ];
  }

  private alarm(
    id: string,
    options: Omit<AlarmProps, 'alarmDescription'> & { readonly description: string },
  ): Alarm {
    const { description, ...props } = options;
    const alarm = new Alarm(this.scope, id, { ...props, alarmDescription: description });
    const action = new SnsAction(this.props.alarmTopic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    return alarm;
  }
}

/** Above `threshold` in `datapoints` of `periods`; no data (no traffic) is not an incident. */
function above(threshold: number, periods: number, datapoints: number) {
  return {
    threshold,
    comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: periods,
    datapointsToAlarm: datapoints,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  };
}

const capitalized = (text: string) => `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
