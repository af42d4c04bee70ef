/** The chat app's one dashboard: the graphs the runbook (README) points at, and every alarm's state. */
import { Duration } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  type IAlarm,
  type IMetric,
  MathExpression,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  type AppAlarms,
  FLEET_MODE,
  FLEET_VIEW_STALE_INTERVALS,
  HTTP_5XX_PERCENT,
  REFUSAL_ALARMS,
  TTFT_OBJECTIVE_MS,
  TURN_WRITE_MAX_AGE_SECONDS,
} from './alarms';
import { type AppMetrics, MINUTE, TIERS } from './metrics';

export interface DashboardProps {
  readonly chatFunction: IFunction;
  readonly functions: ReadonlyMap<string, IFunction>;
  readonly functionUrlIds: readonly string[];
  readonly tables: Readonly<Record<string, ITable>>;
  readonly turnWritesQueue: IQueue;
  readonly turnWritesDlq: IQueue;
  readonly shedFreeAt: number;
  readonly saturatedAt: number;
  readonly heartbeatIntervalSeconds: number;
  readonly distributionId?: string;
  /** Alarms created elsewhere (the stateful stack's DLQ alarm), shown with these. */
  readonly otherAlarms?: readonly IAlarm[];
}

const graph = (
  title: string,
  left: IMetric[],
  extra: Partial<ConstructorParameters<typeof GraphWidget>[0]> = {},
) => new GraphWidget({ title, left, width: 8, ...extra });

export function createDashboard(
  scope: Construct,
  props: DashboardProps,
  metrics: AppMetrics,
  alarms: AppAlarms,
): Dashboard {
  const { chatFunction } = props;
  const dashboard = new Dashboard(scope, 'Dashboard', { defaultInterval: Duration.hours(3) });
  // Alarm states first: the runbook starts from the alarm, then its graph below.
  dashboard.addWidgets(
    new AlarmStatusWidget({
      title: 'Alarms',
      alarms: [...alarms.all, ...(props.otherAlarms ?? [])],
      width: 24,
    }),
  );
  dashboard.addWidgets(
    graph('Chat function: invocations, errors, throttles', [
      chatFunction.metricInvocations({ period: MINUTE, statistic: 'Sum' }),
      chatFunction.metricErrors({ period: MINUTE, statistic: 'Sum' }),
      chatFunction.metricThrottles({ period: MINUTE, statistic: 'Sum' }),
    ]),
    graph(
      'Chat function: duration (ms)',
      ['p50', 'p99', 'Maximum'].map((statistic) =>
        chatFunction.metricDuration({ period: MINUTE, statistic, label: `Duration ${statistic}` }),
      ),
    ),
    graph('Chat function: concurrent executions', [
      chatFunction.metric('ConcurrentExecutions', { period: MINUTE, statistic: 'Maximum' }),
    ]),
  );
  dashboard.addWidgets(
    graph(
      'Prompts admitted / shed, by tier',
      TIERS.flatMap((tier) => [
        metrics.app('PromptsAdmitted', 'Sum', { tier }, `admitted ${tier}`),
        metrics.app('PromptsShed', 'Sum', { tier }, `shed ${tier}`),
      ]),
    ),
    graph(
      'Refusal rate by tier (%)',
      TIERS.map((tier) => metrics.refusalRate(tier, REFUSAL_ALARMS[tier].period)),
      {
        leftAnnotations: TIERS.map((tier) => ({
          value: REFUSAL_ALARMS[tier].percent,
          label: `${tier} alarm`,
        })),
        leftYAxis: { min: 0, max: 100, showUnits: false },
      },
    ),
    graph(
      'Time to first token (ms)',
      ['p50', 'p90', 'p99'].map((s) => metrics.app('TimeToFirstToken', s, {}, `TTFT ${s}`)),
      {
        leftAnnotations: [{ value: TTFT_OBJECTIVE_MS, label: 'objective' }],
      },
    ),
  );
  dashboard.addWidgets(
    graph(
      'Fleet load',
      [
        metrics.app('FleetLoad', 'Average', {}, 'load (avg)'),
        metrics.app('FleetLoad', 'Maximum', {}, 'load (max)'),
      ],
      {
        leftAnnotations: [
          { value: props.shedFreeAt, label: 'SHED_FREE_AT' },
          { value: props.saturatedAt, label: 'SATURATED_AT' },
        ],
      },
    ),
    graph(
      'Fleet mode (0 normal, 1 shed_free, 2 saturated)',
      [
        metrics.app('FleetMode', 'Maximum', {}, 'FleetMode (max)'),
        metrics.app('FleetMode', 'Minimum', {}, 'FleetMode (min)'),
      ],
      { leftYAxis: { min: 0, max: FLEET_MODE.saturated, showUnits: false } },
    ),
    graph(
      'Fleet view age at admission (s)',
      [
        metrics.app('FleetViewAgeSeconds', 'Maximum', {}, 'max'),
        metrics.app('FleetViewAgeSeconds', 'p50', {}, 'p50'),
      ],
      {
        leftAnnotations: [
          { value: FLEET_VIEW_STALE_INTERVALS * props.heartbeatIntervalSeconds, label: 'stale alarm' },
        ],
      },
    ),
  );
  dashboard.addWidgets(
    graph('Turns parked in SQS / interrupted', [
      metrics.app('TurnsParked', 'Sum', {}, 'parked'),
      metrics.app('TurnsInterrupted', 'Sum', {}, 'interrupted'),
    ]),
    graph(
      'Errors, every function',
      [...props.functions].map(([functionId, fn]) =>
        fn.metricErrors({ period: MINUTE, statistic: 'Sum', label: functionId }),
      ),
    ),
    graph('Prompts routed, by server', [
      // A search, so servers added to the registry (npm run fleet) appear without a redeploy.
      new MathExpression({
        expression: `SEARCH('{${metrics.namespace},server,service} MetricName="PromptsRouted"', 'Sum', 60)`,
        label: '',
        period: MINUTE,
      }),
    ]),
  );
  const urlFunctions = props.functionUrlIds.flatMap((id) => {
    const fn = props.functions.get(id);
    return fn ? [[id, fn] as const] : [];
  });
  dashboard.addWidgets(
    graph(
      '5xx at the Function URLs (%, refusals for load aside)',
      urlFunctions.map(([id, fn]) => metrics.functionUrl5xxRate(id, fn, fn === chatFunction)),
      { leftAnnotations: [{ value: HTTP_5XX_PERCENT, label: 'alarm' }] },
    ),
    graph(
      '5xx at the Function URLs (count)',
      urlFunctions.map(([id, fn]) =>
        fn.metric('Url5xxCount', { period: MINUTE, statistic: 'Sum', label: id }),
      ),
    ),
    ...(alarms.cloudFront5xx && props.distributionId
      ? [
          graph(
            '5xx at CloudFront (%, refusals for load aside)',
            [metrics.cloudFront5xxRate(props.distributionId)],
            {
              leftAnnotations: [{ value: HTTP_5XX_PERCENT, label: 'alarm' }],
            },
          ),
        ]
      : []),
  );
  dashboard.addWidgets(
    graph(
      'DynamoDB throttle events',
      Object.entries(props.tables).flatMap(([tableId, table]) =>
        ['ReadThrottleEvents', 'WriteThrottleEvents'].map((metricName) =>
          table.metric(metricName, { period: MINUTE, statistic: 'Sum', label: `${tableId} ${metricName}` }),
        ),
      ),
    ),
    graph(
      'Turn-writes queue',
      [
        props.turnWritesQueue.metricApproximateNumberOfMessagesVisible({
          period: MINUTE,
          statistic: 'Maximum',
          label: 'visible',
        }),
      ],
      {
        right: [
          props.turnWritesQueue.metricApproximateAgeOfOldestMessage({
            period: MINUTE,
            statistic: 'Maximum',
            label: 'oldest (s)',
          }),
        ],
        rightAnnotations: [{ value: TURN_WRITE_MAX_AGE_SECONDS, label: 'oldest alarm' }],
      },
    ),
    graph('Turn-writes DLQ depth', [
      props.turnWritesDlq.metricApproximateNumberOfMessagesVisible({
        period: MINUTE,
        statistic: 'Maximum',
        label: 'DLQ visible',
      }),
    ]),
  );
  return dashboard;
}
