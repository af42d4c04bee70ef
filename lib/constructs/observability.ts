import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  type AlarmProps,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** The app's tiers, as emitted in the `tier` dimension of PromptsAdmitted / PromptsShed. */
const TIERS = ['free', 'premium'] as const;

/** FleetMode values emitted by the heartbeat. */
export const FLEET_MODE = { normal: 0, shedFree: 1, saturated: 2 } as const;

/** The first-token objective the p99 alarm guards, in milliseconds. */
export const TTFT_OBJECTIVE_MS = 2_000;

const MINUTE = Duration.minutes(1);

export interface ObservabilityProps {
  /** POWERTOOLS_METRICS_NAMESPACE of the functions. */
  readonly namespace: string;
  /** POWERTOOLS_SERVICE_NAME: Powertools adds it as the `service` dimension of every metric. */
  readonly service: string;
  /** The streaming chat function (PostChat). */
  readonly chatFunction: IFunction;
  /** The fleet heartbeat (RunHeartbeat). */
  readonly heartbeatFunction: IFunction;
  /** Every function of the app, by id: one errors graph for all. */
  readonly functions: ReadonlyMap<string, IFunction>;
  readonly tables: Readonly<Record<string, ITable>>;
  readonly turnWritesQueue: IQueue;
  readonly turnWritesDlq: IQueue;
  /** Receives every alarm's ALARM and OK transitions. */
  readonly alarmTopic: ITopic;
  /** Alarms created elsewhere (e.g. the DLQ alarm of the stateful stack), shown in the status widget. */
  readonly otherAlarms?: readonly IAlarm[];
  /** The fleet thresholds in force: drawn on the fleet-load graph. */
  readonly shedFreeAt: number;
  readonly saturatedAt: number;
}

/**
 * One CloudWatch dashboard and the alarms of the chat app, all publishing to one SNS topic.
 *
 * Custom metrics come from Powertools Metrics (EMF in the functions' logs): namespace `ChatApp`, and
 * the `service` dimension on every metric, so each metric here carries `service` plus its own dimensions
 * (CloudWatch matches the exact dimension set).
 */
export class Observability extends Construct {
  public readonly dashboard: Dashboard;
  public readonly chatErrorsAlarm: Alarm;
  public readonly heartbeatErrorsAlarm: Alarm;
  public readonly heartbeatMissingAlarm: Alarm;
  public readonly timeToFirstTokenAlarm: Alarm;
  public readonly fleetSaturatedAlarm: Alarm;
  public readonly tableThrottlesAlarms: Readonly<Record<string, Alarm>>;

  private readonly props: ObservabilityProps;

  public constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    this.props = props;
    const { chatFunction, heartbeatFunction } = props;

    const timeToFirstToken = (statistic: string) =>
      this.appMetric('TimeToFirstToken', statistic, {}, `TTFT ${statistic}`);
    const fleetMode = this.appMetric('FleetMode', 'Minimum', {}, 'FleetMode (min)');

    // Errors are failed invocations (crash, time-out): the handlers turn their own errors into HTTP
    // answers, so any Lambda error is a user who got a broken stream. 3 of 5 minutes: a lasting fault,
    // not one bad request.
    this.chatErrorsAlarm = this.alarm('ChatErrors', {
      description: 'The chat function fails invocations (crash or time-out) in 3 of the last 5 minutes.',
      metric: chatFunction.metricErrors({ period: MINUTE, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // The heartbeat catches failures per tick, so an invocation error is a run that died: the fleet
    // state goes stale within seconds and the chat function then refuses everyone.
    this.heartbeatErrorsAlarm = this.alarm('HeartbeatErrors', {
      description: 'Heartbeat runs fail in 2 of the last 5 minutes: the fleet state may go stale.',
      metric: heartbeatFunction.metricErrors({ period: MINUTE, statistic: 'Sum' }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 2,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // Lambda emits no Invocations datapoint for a minute without runs: missing data is the failure.
    // Three minutes, because a scheduled rule fires "within the minute" and one minute may hold 0 runs.
    this.heartbeatMissingAlarm = this.alarm('HeartbeatMissing', {
      description:
        'No heartbeat run for 3 minutes (rule disabled, throttled or deleted): views age (admission grows conservative, never refuses everyone).',
      metric: heartbeatFunction.metricInvocations({ period: MINUTE, statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: TreatMissingData.BREACHING,
    });
    this.timeToFirstTokenAlarm = this.alarm('TimeToFirstTokenP99', {
      description: `p99 time to first token above ${TTFT_OBJECTIVE_MS} ms in 3 of the last 5 minutes.`,
      metric: timeToFirstToken('p99'),
      threshold: TTFT_OBJECTIVE_MS,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      // No prompts, no datapoints: quiet hours are not an incident.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // Minimum over each minute: every tick of the minute saw the fleet saturated; five such minutes in a
    // row means everyone has been refused for five minutes. A silent heartbeat is HeartbeatMissing's job.
    this.fleetSaturatedAlarm = this.alarm('FleetSaturated', {
      description: 'The fleet has been saturated (nobody admitted) for 5 minutes: add inference capacity.',
      metric: fleetMode,
      threshold: FLEET_MODE.saturated,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 5,
      datapointsToAlarm: 5,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // On-demand tables throttle when a partition (or the byInflight GSI) runs hot. Final turn writes
    // then park in SQS; sustained throttling is worth a look before the DLQ fills.
    const throttles: Record<string, Alarm> = {};
    for (const [tableId, table] of Object.entries(props.tables)) {
      throttles[tableId] = this.alarm(`${tableId}Throttles`, {
        description: `${tableId} throttles reads or writes in 3 of the last 5 minutes.`,
        metric: this.tableThrottles(table),
        threshold: 0,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 5,
        datapointsToAlarm: 3,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }
    this.tableThrottlesAlarms = throttles;

    this.dashboard = new Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
    });
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Chat function: invocations, errors, throttles',
        left: [
          chatFunction.metricInvocations({ period: MINUTE, statistic: 'Sum' }),
          chatFunction.metricErrors({ period: MINUTE, statistic: 'Sum' }),
          chatFunction.metricThrottles({ period: MINUTE, statistic: 'Sum' }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Chat function: duration (ms)',
        left: ['p50', 'p99', 'Maximum'].map((statistic) =>
          chatFunction.metricDuration({ period: MINUTE, statistic, label: `Duration ${statistic}` }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'Chat function: concurrent executions',
        left: [chatFunction.metric('ConcurrentExecutions', { period: MINUTE, statistic: 'Maximum' })],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Prompts admitted / shed, by tier',
        left: TIERS.flatMap((tier) => [
          this.appMetric('PromptsAdmitted', 'Sum', { tier }, `admitted ${tier}`),
          this.appMetric('PromptsShed', 'Sum', { tier }, `shed ${tier}`),
        ]),
        width: 8,
      }),
      new GraphWidget({
        title: 'Time to first token (ms)',
        left: ['p50', 'p90', 'p99'].map(timeToFirstToken),
        leftAnnotations: [{ value: TTFT_OBJECTIVE_MS, label: 'objective' }],
        width: 8,
      }),
      new GraphWidget({
        title: 'Fleet load',
        left: [
          this.appMetric('FleetLoad', 'Average', {}, 'load (avg)'),
          this.appMetric('FleetLoad', 'Maximum', {}, 'load (max)'),
        ],
        leftAnnotations: [
          { value: props.shedFreeAt, label: 'SHED_FREE_AT' },
          { value: props.saturatedAt, label: 'SATURATED_AT' },
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Fleet mode (0 normal, 1 shed_free, 2 saturated)',
        left: [this.appMetric('FleetMode', 'Maximum', {}, 'FleetMode (max)'), fleetMode],
        leftYAxis: { min: 0, max: FLEET_MODE.saturated, showUnits: false },
        width: 8,
      }),
      new GraphWidget({
        title: 'Turns parked in SQS / interrupted',
        left: [
          this.appMetric('TurnsParked', 'Sum', {}, 'parked'),
          this.appMetric('TurnsInterrupted', 'Sum', {}, 'interrupted'),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Errors, every function',
        left: [...props.functions].map(([functionId, fn]) =>
          fn.metricErrors({ period: MINUTE, statistic: 'Sum', label: functionId }),
        ),
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'Prompts routed, by server',
        // A search, so servers added to the registry (npm run fleet) appear without a redeploy.
        left: [
          new MathExpression({
            expression: `SEARCH('{${props.namespace},server,service} MetricName="PromptsRouted"', 'Sum', 60)`,
            label: '',
            period: MINUTE,
          }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'DynamoDB throttle events',
        left: Object.entries(props.tables).flatMap(([tableId, table]) =>
          ['ReadThrottleEvents', 'WriteThrottleEvents'].map((metricName) =>
            table.metric(metricName, { period: MINUTE, statistic: 'Sum', label: `${tableId} ${metricName}` }),
          ),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: 'Turn-writes queue',
        left: [
          props.turnWritesQueue.metricApproximateNumberOfMessagesVisible({
            period: MINUTE,
            statistic: 'Maximum',
            label: 'visible',
          }),
        ],
        right: [
          props.turnWritesQueue.metricApproximateAgeOfOldestMessage({
            period: MINUTE,
            statistic: 'Maximum',
            label: 'oldest (s)',
          }),
        ],
        width: 8,
      }),
      new GraphWidget({
        title: 'Turn-writes DLQ depth',
        left: [
          props.turnWritesDlq.metricApproximateNumberOfMessagesVisible({
            period: MINUTE,
            statistic: 'Maximum',
            label: 'DLQ visible',
          }),
        ],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new AlarmStatusWidget({
        title: 'Alarms',
        alarms: [...this.alarms, ...(props.otherAlarms ?? [])],
        width: 24,
      }),
    );
  }

  /** Every alarm created here. */
  public get alarms(): Alarm[] {
    return [
      this.chatErrorsAlarm,
      this.heartbeatErrorsAlarm,
      this.heartbeatMissingAlarm,
      this.timeToFirstTokenAlarm,
      this.fleetSaturatedAlarm,
      ...Object.values(this.tableThrottlesAlarms),
    ];
  }

  /** A Powertools EMF metric of the app: namespace, `service` dimension, one-minute period. */
  private appMetric(
    metricName: string,
    statistic: string,
    dimensions: Readonly<Record<string, string>> = {},
    label?: string,
  ): Metric {
    return new Metric({
      namespace: this.props.namespace,
      metricName,
      dimensionsMap: { service: this.props.service, ...dimensions },
      statistic,
      period: MINUTE,
      label,
    });
  }

  /** Read plus write throttle events of the table (gaps filled with 0 so the sum exists). */
  private tableThrottles(table: ITable): IMetric {
    return new MathExpression({
      expression: 'FILL(reads, 0) + FILL(writes, 0)',
      usingMetrics: {
        reads: table.metric('ReadThrottleEvents', { period: MINUTE, statistic: 'Sum' }),
        writes: table.metric('WriteThrottleEvents', { period: MINUTE, statistic: 'Sum' }),
      },
      label: 'throttle events',
      period: MINUTE,
    });
  }

  private alarm(
    id: string,
    options: Omit<AlarmProps, 'alarmDescription'> & { readonly description: string },
  ): Alarm {
    const { description, ...props } = options;
    const alarm = new Alarm(this, id, { ...props, alarmDescription: description });
    const action = new SnsAction(this.props.alarmTopic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    return alarm;
  }
}

/** The console address of a dashboard, for a stack output. */
export function dashboardUrl(dashboard: Dashboard): string {
  const { region } = Stack.of(dashboard);
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${dashboard.dashboardName}`;
}
