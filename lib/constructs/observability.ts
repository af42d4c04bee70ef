import { Stack } from 'aws-cdk-lib';
import type { Alarm, Dashboard, IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AppAlarms } from './observability/alarms';
import { createDashboard } from './observability/dashboard';
import { AppMetrics } from './observability/metrics';

export {
  FLEET_MODE,
  FLEET_VIEW_STALE_INTERVALS,
  HTTP_5XX_PERCENT,
  REFUSAL_ALARMS,
  TTFT_OBJECTIVE_MS,
  TURN_WRITE_MAX_AGE_SECONDS,
} from './observability/alarms';

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
  /** The ids (in `functions`) of those behind a Function URL: a 5xx alarm each. @default none */
  readonly functionUrlIds?: readonly string[];
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
  /** HEARTBEAT_INTERVAL_SECONDS: the stale-view alarm counts in intervals. */
  readonly heartbeatIntervalSeconds: number;
  /**
   * The CloudFront distribution in front of the app. Its 5xx alarm is made only when the stack is in
   * us-east-1 or region-agnostic: CloudFront publishes its metrics in us-east-1 alone. @default no alarm
   */
  readonly distributionId?: string;
}

/**
 * One CloudWatch dashboard and the alarms of the chat app, all publishing to one SNS topic: the metrics
 * (observability/metrics.ts), the alarms with their thresholds (observability/alarms.ts) and the
 * dashboard (observability/dashboard.ts). What each alarm means and what to do: README, "Runbook".
 */
export class Observability extends Construct {
  public readonly dashboard: Dashboard;
  /** Every alarm, by what it watches. */
  public readonly appAlarms: AppAlarms;

  public constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    const metrics = new AppMetrics(props);
    const functionUrlIds = props.functionUrlIds ?? [];
    this.appAlarms = new AppAlarms(this, { ...props, functionUrlIds }, metrics);
    this.dashboard = createDashboard(this, { ...props, functionUrlIds }, metrics, this.appAlarms);
  }

  /** Every alarm created here. */
  public get alarms(): Alarm[] {
    return this.appAlarms.all;
  }
}

/** The console address of a dashboard, for a stack output. */
export function dashboardUrl(dashboard: Dashboard): string {
  const { region } = Stack.of(dashboard);
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${dashboard.dashboardName}`;
}
