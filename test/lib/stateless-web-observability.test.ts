import { Match } from 'aws-cdk-lib/assertions';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TTFT_OBJECTIVE_MS } from '../../lib/constructs/observability';
import { ACCESS_LOG_DAYS, STREAM_READ_TIMEOUT } from '../../lib/constructs/web-hosting';
import { routePaths, routes } from '../../lib/resources';

import {
  ALL_VIEWER_EXCEPT_HOST_HEADER,
  alarmWith,
  CACHING_DISABLED,
  chatTableLogicalId,
  distributionConfig,
  fleetTableLogicalId,
  functionLogicalId,
  origin,
  setUpStatelessStack,
  stack,
  tearDownStatelessStack,
  template,
  topicLogicalId,
  urlLogicalId,
} from './support/stateless-fixture';

beforeAll(setUpStatelessStack);
afterAll(tearDownStatelessStack);

describe('StatelessStack web hosting', () => {
  it('keeps the site bucket private: public access blocked, TLS enforced', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('logs viewer requests and site-bucket access to a private log bucket that expires them', () => {
    const logBucketId = stack.getLogicalId(stack.web.logBucket.node.defaultChild as CfnBucket);
    const logBucket = template.toJSON().Resources[logBucketId].Properties;
    const siteBucketId = stack.getLogicalId(stack.web.bucket.node.defaultChild as CfnBucket);

    expect(JSON.stringify(distributionConfig())).toContain(
      JSON.stringify({
        Bucket: { 'Fn::GetAtt': [logBucketId, 'RegionalDomainName'] },
        Prefix: 'cloudfront/',
      }),
    );
    expect(template.toJSON().Resources[siteBucketId].Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: { Ref: logBucketId },
      LogFilePrefix: 'site-bucket/',
    });
    expect(logBucket.PublicAccessBlockConfiguration.RestrictPublicBuckets).toBe(true);
    expect(logBucket.LifecycleConfiguration.Rules).toEqual([
      expect.objectContaining({ ExpirationInDays: ACCESS_LOG_DAYS, Status: 'Enabled' }),
    ]);
  });

  it('serves the bucket as the default behaviour through Origin Access Control', () => {
    const config = distributionConfig();
    const s3 = origin(config.DefaultCacheBehavior.TargetOriginId);

    expect(config.DefaultRootObject).toBe('index.html');
    expect(config.DefaultCacheBehavior.ViewerProtocolPolicy).toBe('redirect-to-https');
    expect(JSON.stringify(s3.DomainName)).toContain('RegionalDomainName');
    expect(s3.OriginAccessControlId).toBeDefined();
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', {
      OriginAccessControlConfig: Match.objectLike({
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      }),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Action: 's3:GetObject',
            Principal: { Service: 'cloudfront.amazonaws.com' },
          }),
        ]),
      },
    });
  });

  it("routes each route's path to an origin on that route's Function URL domain, uncached", () => {
    const behaviors = distributionConfig().CacheBehaviors;

    expect(behaviors.map((behavior) => behavior.PathPattern).sort()).toEqual(
      routes.flatMap((route) => routePaths(route)).sort(),
    );
    for (const [route, path] of routes.flatMap((route) =>
      routePaths(route).map((path) => [route, path] as const),
    )) {
      const behavior = behaviors.find((candidate) => candidate.PathPattern === path);
      if (!behavior) throw new Error(`no behaviour for ${path}`);
      const target = origin(behavior.TargetOriginId);

      expect(target.DomainName, route.path).toEqual({
        'Fn::Select': [2, { 'Fn::Split': ['/', { 'Fn::GetAtt': [urlLogicalId(route.id), 'FunctionUrl'] }] }],
      });
      expect(target.CustomOriginConfig?.OriginProtocolPolicy, route.path).toBe('https-only');
      expect(behavior.CachePolicyId, route.path).toBe(CACHING_DISABLED);
      expect(behavior.OriginRequestPolicyId, route.path).toBe(ALL_VIEWER_EXCEPT_HOST_HEADER);
      expect(behavior.AllowedMethods, route.path).toEqual(expect.arrayContaining([route.method, 'OPTIONS']));
      expect(behavior.ViewerProtocolPolicy, route.path).toBe('https-only');
    }
  });

  it('adds the security headers to the site: a CSP that forbids framing, HSTS, nosniff, no referrer', () => {
    const policies = Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'));
    expect(policies).toHaveLength(1);
    const headers = policies[0]?.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    const csp = JSON.stringify(headers.ContentSecurityPolicy.ContentSecurityPolicy);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toContain('cognito-idp.');
    expect(headers.ContentTypeOptions).toEqual({ Override: true });
    expect(headers.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    expect(headers.ReferrerPolicy).toEqual({ ReferrerPolicy: 'no-referrer', Override: true });
    expect(headers.StrictTransportSecurity).toMatchObject({ IncludeSubdomains: true, Override: true });
    const config = distributionConfig() as unknown as {
      DefaultCacheBehavior: { ResponseHeadersPolicyId?: unknown };
    };
    expect(config.DefaultCacheBehavior.ResponseHeadersPolicyId).toEqual({
      Ref: Object.keys(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0],
    });
  });

  it('waits 60 s between packets of the chat stream', () => {
    const chat = distributionConfig().CacheBehaviors.find((behavior) => behavior.PathPattern === '/chat');
    if (!chat) throw new Error('no /chat behaviour');

    expect(STREAM_READ_TIMEOUT.toSeconds()).toBe(60);
    expect(origin(chat.TargetOriginId).CustomOriginConfig?.OriginReadTimeout).toBe(60);
  });

  it('deploys the web client and a config.json whose pool ids resolve at deploy time, then invalidates', () => {
    const deployments = Object.values(template.findResources('Custom::CDKBucketDeployment'));
    expect(deployments).toHaveLength(1);
    const properties = deployments[0]?.Properties;
    const markers = JSON.stringify(properties.SourceMarkers);

    expect(properties.SourceObjectKeys).toHaveLength(2);
    expect(markers).toContain('UserPool');
    expect(markers).toContain('WebClient');
    expect(properties.DistributionPaths).toEqual(['/*']);
    expect(properties.Prune).toBe(true);
  });
});

describe('StatelessStack observability', () => {
  it('has a dashboard with the time-to-first-token widget and the chat function metrics', () => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties.DashboardBody);

    expect(body).toContain('Time to first token');
    expect(body).toContain(String.raw`\"ChatApp\",\"TimeToFirstToken\",\"service\",\"chat\"`);
    expect(body).toContain(String.raw`\"ChatApp\",\"PromptsShed\",\"service\",\"chat\",\"tier\",\"free\"`);
    expect(body).toContain('ConcurrentExecutions');
    // Prompts per chosen server, found by a search so new servers appear without a redeploy.
    expect(body).toMatch(/SEARCH\('\{ChatApp,server,service\} MetricName=\\+"PromptsRouted\\+"'/);
    expect(body).toContain('ApproximateNumberOfMessagesVisible');
    expect(body).toContain('WriteThrottleEvents');
    expect(body).toContain(functionLogicalId('PostChat'));
  });

  it('alarms on p99 time to first token above 2000 ms in 3 of 5 minutes', () => {
    const alarm = alarmWith({
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Namespace: 'ChatApp', MetricName: 'TimeToFirstToken' }),
            Stat: 'p99',
            Period: 60,
          }),
        }),
      ]),
    });

    expect(TTFT_OBJECTIVE_MS).toBe(2000);
    expect(alarm).toMatchObject({
      Threshold: 2000,
      ComparisonOperator: 'GreaterThanThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
    });
  });

  it('alarms when the fleet stays saturated (FleetMode ≥ 2) for 5 minutes', () => {
    const alarm = alarmWith({
      Metrics: Match.arrayWith([
        Match.objectLike({
          MetricStat: Match.objectLike({
            Metric: Match.objectLike({ Namespace: 'ChatApp', MetricName: 'FleetMode' }),
          }),
        }),
      ]),
    });

    expect(alarm).toMatchObject({
      Threshold: 2,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
    });
  });

  it('alarms when the heartbeat stops running (missing data breaches) or fails', () => {
    const heartbeat = [{ Name: 'FunctionName', Value: { Ref: functionLogicalId('RunHeartbeat') } }];

    expect(alarmWith({ MetricName: 'Invocations', Dimensions: heartbeat })).toMatchObject({
      ComparisonOperator: 'LessThanThreshold',
      Threshold: 1,
      TreatMissingData: 'breaching',
    });
    expect(alarmWith({ MetricName: 'Errors', Dimensions: heartbeat })).toMatchObject({
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
  });

  it('alarms on chat function errors and on throttles of each table', () => {
    alarmWith({
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId('PostChat') } }],
    });
    for (const tableLogicalId of [chatTableLogicalId(), fleetTableLogicalId()]) {
      const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter((alarm) => {
        const metrics = JSON.stringify(alarm.Properties.Metrics ?? []);
        return metrics.includes('WriteThrottleEvents') && metrics.includes(tableLogicalId);
      });
      expect(alarms, tableLogicalId).toHaveLength(1);
    }
  });

  it('sends every alarm, ALARM and OK, to the alarm topic', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));

    expect(alarms.length).toBeGreaterThanOrEqual(7);
    for (const alarm of alarms) {
      expect(JSON.stringify(alarm.Properties.AlarmActions)).toContain(topicLogicalId());
      expect(JSON.stringify(alarm.Properties.OKActions)).toContain(topicLogicalId());
    }
  });
});
