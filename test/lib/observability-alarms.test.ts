/**
 * The alarms the review found missing: refusal rate per tier, a stale fleet view, 5xx at the Function
 * URLs and at CloudFront, the oldest parked turn write. Each reads its metric, has its threshold and
 * publishes to the alarm topic; the CloudFront one exists only where CloudFront's metrics are.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FLEET_VIEW_STALE_INTERVALS,
  HTTP_5XX_PERCENT,
  Observability,
  REFUSAL_ALARMS,
  TURN_WRITE_MAX_AGE_SECONDS,
} from '../../lib/constructs/observability';
import { routes } from '../../lib/resources';
import {
  alarmWith,
  functionLogicalId,
  setUpStatelessStack,
  stack,
  tearDownStatelessStack,
  template,
  topicLogicalId,
} from './support/stateless-fixture';

beforeAll(setUpStatelessStack);
afterAll(tearDownStatelessStack);

/** The alarm's metric-math queries, by id. */
function queries(alarm: Record<string, unknown>): Map<string, Record<string, unknown>> {
  const metrics = (alarm.Metrics ?? []) as Record<string, unknown>[];
  return new Map(metrics.map((metric) => [String(metric.Id), metric]));
}

function expectTopic(alarm: Record<string, unknown>) {
  expect(JSON.stringify(alarm.AlarmActions)).toContain(topicLogicalId());
  expect(JSON.stringify(alarm.OKActions)).toContain(topicLogicalId());
}

const metricNamed = (name: string) =>
  Match.arrayWith([
    Match.objectLike({ MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: name }) }) }),
  ]);

describe('the alarms of the review', () => {
  it('alarm on the refusal rate of each tier, free later and higher than premium', () => {
    expect(REFUSAL_ALARMS.free.percent).toBeGreaterThan(REFUSAL_ALARMS.premium.percent);
    for (const tier of ['free', 'premium'] as const) {
      const alarm = alarmWith({ AlarmDescription: Match.stringLikeRegexp(`of ${tier} prompts refused`) });
      const rule = REFUSAL_ALARMS[tier];
      const byId = queries(alarm);
      const expression = [...byId.values()].find((query) => query.Expression);
      expect(String(expression?.Expression)).toContain(
        `100 * FILL(shed_${tier}, 0) / (FILL(admitted_${tier}, 0)`,
      );
      for (const [id, name] of [
        [`admitted_${tier}`, 'PromptsAdmitted'],
        [`shed_${tier}`, 'PromptsShed'],
      ] as const) {
        expect(byId.get(id)).toMatchObject({
          MetricStat: {
            Metric: {
              Namespace: 'ChatApp',
              MetricName: name,
              Dimensions: expect.arrayContaining([{ Name: 'tier', Value: tier }]),
            },
            Period: rule.period.toSeconds(),
            Stat: 'Sum',
          },
        });
      }
      expect(alarm).toMatchObject({
        Threshold: rule.percent,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: rule.evaluationPeriods,
        DatapointsToAlarm: rule.datapointsToAlarm,
      });
      expectTopic(alarm);
    }
  });

  it('alarms when prompts are admitted on a fleet view older than N heartbeat intervals', () => {
    const alarm = alarmWith({ Metrics: metricNamed('FleetViewAgeSeconds') });
    expect(alarm.Metrics[0]).toMatchObject({
      MetricStat: { Metric: { Namespace: 'ChatApp' }, Stat: 'Maximum', Period: 60 },
    });
    expect(alarm).toMatchObject({
      Threshold: FLEET_VIEW_STALE_INTERVALS * 0.5, // the default interval
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expectTopic(alarm);
  });

  it('alarms on 5xx at every Function URL, the chat function’s refusals for load taken out', () => {
    for (const route of routes) {
      const alarm = alarmWith({
        Metrics: metricNamed('Url5xxCount'),
        AlarmDescription: Match.stringLikeRegexp(`of ${route.id}'s`),
      });
      const text = JSON.stringify(alarm.Metrics);
      expect(text).toContain(functionLogicalId(route.id));
      expect(text).toContain('UrlRequestCount');
      expect(text.includes('PromptsShed'), route.id).toBe(route.id === 'PostChat');
      expect(alarm).toMatchObject({
        Threshold: HTTP_5XX_PERCENT,
        ComparisonOperator: 'GreaterThanThreshold',
      });
      expectTopic(alarm);
    }
  });

  it('alarms on CloudFront 5xx of the distribution (region-agnostic stack)', () => {
    const alarm = alarmWith({ Metrics: metricNamed('5xxErrorRate') });
    const rate = [...queries(alarm).values()].find(
      (query) =>
        (query.MetricStat as { Metric?: { MetricName?: string } })?.Metric?.MetricName === '5xxErrorRate',
    );
    expect(rate).toMatchObject({
      MetricStat: {
        Metric: {
          Namespace: 'AWS/CloudFront',
          Dimensions: expect.arrayContaining([
            { Name: 'DistributionId', Value: { Ref: expect.stringContaining('Distribution') } },
            { Name: 'Region', Value: 'Global' },
          ]),
        },
      },
    });
    expect(stack.observability.appAlarms.cloudFront5xx).toBeDefined();
    expect(alarm).toMatchObject({ Threshold: HTTP_5XX_PERCENT });
    expectTopic(alarm);
  });

  it('alarms when the oldest parked turn write outlives its retries', () => {
    const alarm = alarmWith({ MetricName: 'ApproximateAgeOfOldestMessage' });
    expect(TURN_WRITE_MAX_AGE_SECONDS).toBe(300);
    expect(alarm).toMatchObject({
      Namespace: 'AWS/SQS',
      Statistic: 'Maximum',
      Threshold: TURN_WRITE_MAX_AGE_SECONDS,
      ComparisonOperator: 'GreaterThanThreshold',
    });
    expectTopic(alarm);
  });

  it('shows every alarm in the dashboard’s status widget, and graphs the new ones', () => {
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    for (const alarm of stack.observability.alarms) {
      const logicalId = stack.getLogicalId(alarm.node.defaultChild as never);
      expect(body, logicalId).toContain(logicalId);
    }
    for (const title of [
      'Refusal rate by tier',
      'Fleet view age',
      '5xx at the Function URLs',
      '5xx at CloudFront',
    ]) {
      expect(body).toContain(title);
    }
  });
});

/** Observability alone in a stack of `region`, over imported resources. */
function observabilityIn(region: string): Template {
  const app = new App();
  const scope = new Stack(app, 'Ops', { env: { account: '123456789012', region } });
  const fn = (id: string) =>
    LambdaFunction.fromFunctionArn(scope, id, `arn:aws:lambda:${region}:123456789012:function:${id}`);
  const chat = fn('PostChat');
  new Observability(scope, 'Observability', {
    namespace: 'ChatApp',
    service: 'chat',
    chatFunction: chat,
    heartbeatFunction: fn('RunHeartbeat'),
    functions: new Map([['PostChat', chat]]),
    functionUrlIds: ['PostChat'],
    tables: { ChatTable: Table.fromTableName(scope, 'Chat', 'chat') },
    turnWritesQueue: Queue.fromQueueArn(scope, 'Q', `arn:aws:sqs:${region}:123456789012:q`),
    turnWritesDlq: Queue.fromQueueArn(scope, 'D', `arn:aws:sqs:${region}:123456789012:d`),
    alarmTopic: Topic.fromTopicArn(scope, 'T', `arn:aws:sns:${region}:123456789012:t`),
    shedFreeAt: 0.8,
    saturatedAt: 1,
    heartbeatIntervalSeconds: 0.5,
    distributionId: 'E123',
  });
  return Template.fromStack(scope);
}

describe('the CloudFront 5xx alarm', () => {
  const cloudFrontAlarms = (region: string) =>
    Object.values(observabilityIn(region).findResources('AWS::CloudWatch::Alarm')).filter((alarm) =>
      JSON.stringify(alarm.Properties.Metrics ?? []).includes('AWS/CloudFront'),
    );

  it('exists in us-east-1, where CloudFront publishes its metrics', () => {
    expect(cloudFrontAlarms('us-east-1')).toHaveLength(1);
  });

  it('is left out elsewhere: it would never see a datapoint', () => {
    expect(cloudFrontAlarms('eu-west-1')).toEqual([]);
  });
});
