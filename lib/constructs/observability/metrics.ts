/** The metrics the alarms and the dashboard share: the app's EMF metrics and the derived rates. */
import { Duration } from 'aws-cdk-lib';
import { type IMetric, MathExpression, Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';

/** The app's tiers, as emitted in the `tier` dimension of PromptsAdmitted / PromptsShed. */
export const TIERS = ['free', 'premium'] as const;
export type Tier = (typeof TIERS)[number];

export const MINUTE = Duration.minutes(1);

/**
 * Below this many requests in a period a rate says nothing (one refusal of two prompts at night is
 * 50 %): the rate expressions report 0 then.
 */
export const MIN_REQUESTS_FOR_RATE = 10;

export interface AppMetricsProps {
  /** POWERTOOLS_METRICS_NAMESPACE of the functions. */
  readonly namespace: string;
  /** POWERTOOLS_SERVICE_NAME: Powertools adds it as the `service` dimension of every metric. */
  readonly service: string;
}

/**
 * Custom metrics come from EMF lines (functions/commons/metrics.ts): namespace `ChatApp`, and the
 * `service` dimension on every metric, so each one here carries `service` plus its own dimensions
 * (CloudWatch matches the exact dimension set).
 */
export class AppMetrics {
  public constructor(private readonly props: AppMetricsProps) {}

  public get namespace(): string {
    return this.props.namespace;
  }

  /** A metric of the app: namespace, `service` dimension, one-minute period unless given. */
  public app(
    metricName: string,
    statistic: string,
    dimensions: Readonly<Record<string, string>> = {},
    label?: string,
    period: Duration = MINUTE,
  ): Metric {
    return new Metric({
      namespace: this.props.namespace,
      metricName,
      dimensionsMap: { service: this.props.service, ...dimensions },
      statistic,
      period,
      label,
    });
  }

  /** Read plus write throttle events of the table (gaps filled with 0 so the sum exists). */
  public tableThrottles(table: ITable): IMetric {
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

  /** Prompts of the tier refused (503), in % of its prompts: PromptsShed / (PromptsAdmitted + PromptsShed). */
  public refusalRate(tier: Tier, period: Duration): IMetric {
    // Ids carry the tier: one graph holds both tiers' expressions, and ids are graph-wide.
    const [admitted, shed] = [`admitted_${tier}`, `shed_${tier}`];
    return new MathExpression({
      expression: `IF(FILL(${admitted}, 0) + FILL(${shed}, 0) >= ${MIN_REQUESTS_FOR_RATE}, 100 * FILL(${shed}, 0) / (FILL(${admitted}, 0) + FILL(${shed}, 0)), 0)`,
      usingMetrics: {
        [admitted]: this.app('PromptsAdmitted', 'Sum', { tier }, undefined, period),
        [shed]: this.app('PromptsShed', 'Sum', { tier }, undefined, period),
      },
      label: `refused ${tier} (%)`,
      period,
    });
  }

  /** Every refusal for load, both tiers: a 503 the function means, not a fault. */
  private refusals(): Record<string, IMetric> {
    return Object.fromEntries(
      TIERS.map((tier) => [`refused_${tier}`, this.app('PromptsShed', 'Sum', { tier })]),
    );
  }

  private refusalsSum(): string {
    return TIERS.map((tier) => `FILL(refused_${tier}, 0)`).join(' - ');
  }

  /**
   * 5xx answers of a Function URL in % of its requests. The chat function answers a refusal for load
   * with 503 by design (counted as PromptsShed): those are taken out, so only faults remain.
   */
  public functionUrl5xxRate(id: string, fn: IFunction, answersRefusals: boolean): IMetric {
    // Ids carry the function: one graph holds every function's expression, and ids are graph-wide.
    const [errors, requests, faults] = [`errors_${id}`, `requests_${id}`, `faults_${id}`];
    const url5xx = fn.metric('Url5xxCount', { period: MINUTE, statistic: 'Sum' });
    const faultCount = answersRefusals
      ? new MathExpression({
          expression: `FILL(${errors}, 0) - ${this.refusalsSum()}`,
          usingMetrics: { [errors]: url5xx, ...this.refusals() },
          period: MINUTE,
        })
      : url5xx;
    return new MathExpression({
      expression: `IF(FILL(${requests}, 0) >= ${MIN_REQUESTS_FOR_RATE}, 100 * IF(${faults} > 0, ${faults}, 0) / ${requests}, 0)`,
      usingMetrics: {
        [requests]: fn.metric('UrlRequestCount', { period: MINUTE, statistic: 'Sum' }),
        [faults]: faultCount,
      },
      label: `${id} 5xx (%)`,
      period: MINUTE,
    });
  }

  /**
   * CloudFront's 5xx in % of its requests, refusals for load taken out as for the chat function's URL.
   * CloudFront publishes these only in us-east-1 (dimension Region=Global).
   */
  public cloudFront5xxRate(distributionId: string): IMetric {
    const dimensionsMap = { DistributionId: distributionId, Region: 'Global' };
    const cloudFront = (metricName: string, statistic: string) =>
      new Metric({ namespace: 'AWS/CloudFront', metricName, dimensionsMap, statistic, period: MINUTE });
    return new MathExpression({
      expression: `IF(FILL(requests, 0) >= ${MIN_REQUESTS_FOR_RATE}, 100 * IF(requests * FILL(rate, 0) / 100 - ${this.refusalsSum()} > 0, requests * FILL(rate, 0) / 100 - ${this.refusalsSum()}, 0) / requests, 0)`,
      usingMetrics: {
        requests: cloudFront('Requests', 'Sum'),
        rate: cloudFront('5xxErrorRate', 'Average'),
        ...this.refusals(),
      },
      label: 'CloudFront 5xx (%)',
      period: MINUTE,
    });
  }
}
