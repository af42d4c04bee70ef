import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { CfnRole } from 'aws-cdk-lib/aws-iam';
import { CfnFunction, CfnUrl } from 'aws-cdk-lib/aws-lambda';
import { CfnTopic } from 'aws-cdk-lib/aws-sns';
import { CfnQueue } from 'aws-cdk-lib/aws-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppFunction } from '../../lib/constructs/app-function';
import { TTFT_OBJECTIVE_MS } from '../../lib/constructs/observability';
import { STREAM_READ_TIMEOUT } from '../../lib/constructs/web-hosting';
import { deploySettingsFromContext } from '../../lib/fleet-settings';
import {
  backgroundFunctions,
  chatTable,
  fleetTable,
  queues,
  routes,
  turnWritesQueue,
} from '../../lib/resources';
import { StatefulStack } from '../../lib/stateful-stack';
import {
  CORS_ALLOWED_HEADERS,
  CORS_EXPOSED_HEADERS,
  StatelessStack,
  type StatelessStackProps,
  TARGETS_PER_RULE,
  VISIBILITY_TIMEOUT_FACTOR,
} from '../../lib/stateless-stack';
import { settingsEnvironment } from '../../settings/environment';
import { SETTINGS } from '../../settings/settings';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

interface CacheBehavior {
  readonly PathPattern: string;
  readonly TargetOriginId: string;
  readonly AllowedMethods: string[];
  readonly CachePolicyId: string;
  readonly OriginRequestPolicyId: string;
  readonly ViewerProtocolPolicy: string;
}

interface Origin {
  readonly Id: string;
  readonly DomainName: unknown;
  readonly OriginAccessControlId?: unknown;
  readonly CustomOriginConfig?: {
    readonly OriginReadTimeout?: number;
    readonly OriginProtocolPolicy: string;
  };
}

/** Managed CloudFront policies (fixed ids, documented by AWS). */
const CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
const ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

let projectRoot: string;
let stateful: StatefulStack;
let stack: StatelessStack;
let template: Template;
let statefulTemplate: Template;

/** Stub handlers, lock file and web folder: these tests depend on neither the real code nor bundling. */
function writeStubProject(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'chat-infra-test-'));
  writeFileSync(path.join(root, 'package-lock.json'), '{}');
  mkdirSync(path.join(root, 'functions'));
  mkdirSync(path.join(root, 'web'));
  for (const { entry } of [...routes, ...backgroundFunctions]) {
    writeFileSync(path.join(root, entry), 'export const handler = async () => {};\n');
  }
  return root;
}

/** An app that never bundles, with a stateful stack and a stateless stack built from it. */
function synthesize(overrides: Partial<StatelessStackProps> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const data = new StatefulStack(app, 'TestStateful');
  const code = new StatelessStack(app, 'TestStateless', {
    tables: data.tables,
    turnWritesQueue: data.turnWritesQueue,
    turnWritesDlq: data.turnWritesDlq,
    userPool: data.userPool,
    userPoolClient: data.userPoolClient,
    alarmTopic: data.alarmTopic,
    otherAlarms: [data.turnWritesDlqAlarm],
    projectRoot,
    ...overrides,
  });
  return { data, code };
}

function fn(id: string): AppFunction {
  const found = stack.functions.get(id);
  if (!found) throw new Error(`no function ${id}`);
  return found;
}

function functionLogicalId(id: string): string {
  const cfn = fn(id).node.defaultChild;
  if (!(cfn instanceof CfnFunction)) throw new Error(`${id} has no CfnFunction`);
  return stack.getLogicalId(cfn);
}

function functionProperties(id: string) {
  return template.toJSON().Resources[functionLogicalId(id)].Properties;
}

function urlLogicalId(routeId: string): string {
  const cfn = stack.functionUrls.get(routeId)?.node.defaultChild;
  if (!(cfn instanceof CfnUrl)) throw new Error(`${routeId} has no CfnUrl`);
  return stack.getLogicalId(cfn);
}

/** Resources of the stateful stack appear in the stateless one as imports naming their logical id. */
function statefulLogicalId(cfn: unknown): string {
  if (!(cfn instanceof CfnTable) && !(cfn instanceof CfnQueue) && !(cfn instanceof CfnTopic)) {
    throw new Error('expected an L1 table, queue or topic');
  }
  return stateful.getLogicalId(cfn);
}

const chatTableLogicalId = () => statefulLogicalId(stateful.tables.ChatTable.node.defaultChild);
const fleetTableLogicalId = () => statefulLogicalId(stateful.tables.FleetTable.node.defaultChild);
const topicLogicalId = () => statefulLogicalId(stateful.alarmTopic.node.defaultChild);

/** Allowed actions of the function's role on resources whose reference mentions `resourceHint`. */
function allowedActions(id: string, resourceHint: string): Set<string> {
  const role = fn(id).role?.node.defaultChild;
  if (!(role instanceof CfnRole)) throw new Error(`${id} has no role`);
  const roleRef = { Ref: stack.getLogicalId(role) };
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([roleRef]) },
  });
  const actions = new Set<string>();
  for (const policy of Object.values(policies)) {
    const statements: Statement[] = policy.Properties.PolicyDocument.Statement;
    for (const statement of statements) {
      if (statement.Effect !== 'Allow' || !JSON.stringify(statement.Resource).includes(resourceHint))
        continue;
      for (const action of [statement.Action].flat()) actions.add(action);
    }
  }
  return actions;
}

function distributionConfig(): {
  CacheBehaviors: CacheBehavior[];
  DefaultCacheBehavior: { TargetOriginId: string; ViewerProtocolPolicy: string };
  Origins: Origin[];
  DefaultRootObject: string;
} {
  const distributions = Object.values(template.findResources('AWS::CloudFront::Distribution'));
  expect(distributions).toHaveLength(1);
  return distributions[0]?.Properties.DistributionConfig;
}

function origin(id: string): Origin {
  const found = distributionConfig().Origins.find((candidate) => candidate.Id === id);
  if (!found) throw new Error(`no origin ${id}`);
  return found;
}

/** The one alarm whose properties match, as a plain object. */
function alarmWith(properties: Record<string, unknown>) {
  const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: properties }));
  expect(alarms, JSON.stringify(properties)).toHaveLength(1);
  return alarms[0]?.Properties;
}

beforeAll(() => {
  // Prepare
  projectRoot = writeStubProject();
  ({ data: stateful, code: stack } = synthesize());
  template = Template.fromStack(stack);
  statefulTemplate = Template.fromStack(stateful);
});

afterAll(() => {
  rmSync(projectRoot, { recursive: true, force: true });
});

describe('StatelessStack functions', () => {
  it('creates one function per route and background function, nodejs22.x arm64, tracing, JSON logs', () => {
    for (const definition of [...routes, ...backgroundFunctions]) {
      const properties = functionProperties(definition.id);

      expect(properties.Runtime, definition.id).toBe('nodejs22.x');
      expect(properties.Architectures, definition.id).toEqual(['arm64']);
      expect(properties.Handler, definition.id).toBe('index.handler');
      expect(properties.Timeout, definition.id).toBe(definition.timeoutSeconds);
      expect(properties.MemorySize, definition.id).toBe(definition.memoryMb);
      expect(properties.TracingConfig, definition.id).toEqual({ Mode: 'Active' });
      expect(properties.LoggingConfig.LogFormat, definition.id).toBe('JSON');
      expect(properties.LoggingConfig.LogGroup, definition.id).toBeDefined();
    }
  });

  it('keeps function logs one month', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('sets the env vars named by the definitions, plus auth and runtime settings', () => {
    const postChat = functionProperties('PostChat').Environment.Variables;
    const getHistory = functionProperties('GetHistory').Environment.Variables;

    expect(Object.keys(postChat)).toEqual(
      expect.arrayContaining([chatTable.envVar, fleetTable.envVar, turnWritesQueue.envVar]),
    );
    expect(Object.keys(getHistory)).toContain(chatTable.envVar);
    expect(Object.keys(getHistory)).not.toContain(fleetTable.envVar);
    expect(Object.keys(getHistory)).not.toContain(turnWritesQueue.envVar);
    expect(JSON.stringify(postChat[chatTable.envVar])).toContain(chatTableLogicalId());
    expect(postChat).toMatchObject({
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'chat',
      POWERTOOLS_METRICS_NAMESPACE: 'ChatApp',
      LOG_LEVEL: 'INFO',
    });
    expect(JSON.stringify(postChat.USER_POOL_ISSUER)).toContain('https://cognito-idp.');
    expect(postChat.USER_POOL_CLIENT_ID).toBeDefined();
  });

  it('puts no server list in any environment: servers live in the registry table', () => {
    for (const definition of [...routes, ...backgroundFunctions]) {
      const variables: Record<string, unknown> = functionProperties(definition.id).Environment.Variables;
      expect(variables.INFERENCE_SERVERS, definition.id).toBeUndefined();
      // Nothing that grows with the fleet: every value is short.
      for (const [name, value] of Object.entries(variables)) {
        expect(JSON.stringify(value).length, `${definition.id} ${name}`).toBeLessThan(400);
      }
    }
  });

  it('sets on each function every required setting the settings table says it reads, and nothing unknown', () => {
    const known = new Set([
      ...Object.values(SETTINGS).map((definition) => definition.variable),
      'NODE_OPTIONS',
      'LOG_LEVEL',
    ]);
    for (const definition of [...routes, ...backgroundFunctions]) {
      const variables = Object.keys(functionProperties(definition.id).Environment.Variables);
      const required = Object.values(SETTINGS)
        .filter((setting) => setting.default === undefined && setting.readBy.includes(definition.id))
        .map((setting) => setting.variable);
      expect(variables, definition.id).toEqual(expect.arrayContaining(required));
      expect(
        variables.filter((name) => !known.has(name)),
        definition.id,
      ).toEqual([]);
    }
  });

  it('gives the heartbeat and the chat function the same fleet thresholds, at their defaults', () => {
    const expected = {
      HEARTBEAT_INTERVAL_SECONDS: '0.5',
      SHED_FREE_AT: '0.8',
      SATURATED_AT: '1',
      FREE_COOLDOWN_SECONDS: '120',
      FLEET_SHARDS: '4',
    };

    expect(functionProperties('RunHeartbeat').Environment.Variables).toMatchObject(expected);
    expect(functionProperties('PostChat').Environment.Variables).toMatchObject(expected);
  });
});

describe('StatelessStack background functions', () => {
  it('runs each scheduled function from an EventBridge rule at its rate', () => {
    for (const definition of backgroundFunctions) {
      if (definition.trigger.kind !== 'schedule') continue;
      const minutes = definition.trigger.everyMinutes;

      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: minutes === 1 ? 'rate(1 minute)' : `rate(${minutes} minutes)`,
        State: 'ENABLED',
        Targets: Match.arrayWith([
          Match.objectLike({ Arn: { 'Fn::GetAtt': [functionLogicalId(definition.id), 'Arn'] } }),
        ]),
      });
    }
  });

  it('drops a scheduled run that could not start within a minute, and does not retry a failed one', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionLogicalId('RunHeartbeat') },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('feeds each queue consumer from its queue, with its batch size and partial batch failures', () => {
    for (const definition of backgroundFunctions) {
      if (definition.trigger.kind !== 'queue') continue;
      const queue = stateful.turnWritesQueue;
      expect(definition.trigger.queue).toBe(turnWritesQueue.id);

      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: functionLogicalId(definition.id) },
        EventSourceArn: Match.objectLike({
          'Fn::ImportValue': Match.stringLikeRegexp(statefulLogicalId(queue.node.defaultChild)),
        }),
        BatchSize: definition.trigger.batchSize,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
      expect(allowedActions(definition.id, turnWritesQueue.id)).toContain('sqs:ReceiveMessage');
      expect(allowedActions(definition.id, turnWritesQueue.id)).toContain('sqs:DeleteMessage');
    }
  });

  it('keeps each consumed queue invisible for at least 6 × its consumer timeout (deployed values)', () => {
    const queueResources = statefulTemplate.toJSON().Resources;
    for (const definition of backgroundFunctions) {
      if (definition.trigger.kind !== 'queue') continue;
      const { trigger } = definition;
      const queueDefinition = queues.find((queue) => queue.id === trigger.queue);
      const queueId = statefulLogicalId(stateful.turnWritesQueue.node.defaultChild);
      const visibility: number = queueResources[queueId].Properties.VisibilityTimeout;
      const timeout: number = functionProperties(definition.id).Timeout;

      expect(queueDefinition?.visibilityTimeoutSeconds).toBe(visibility);
      expect(visibility).toBeGreaterThanOrEqual(VISIBILITY_TIMEOUT_FACTOR * timeout);
    }
  });

  it('reserves no concurrency anywhere: a fresh account (quota 10) could not deploy it', () => {
    for (const definition of [...routes, ...backgroundFunctions]) {
      expect(functionProperties(definition.id).ReservedConcurrentExecutions, definition.id).toBeUndefined();
    }
  });

  it('invokes the heartbeat once per shard and minute, five targets to a rule', () => {
    const shards = 64;
    const { code } = synthesize({ settings: { fleetShards: shards } });
    const rules = Object.values(Template.fromStack(code).findResources('AWS::Events::Rule')).filter((rule) =>
      JSON.stringify(rule).includes('RunHeartbeat'),
    );
    const inputs = rules.flatMap((rule) =>
      (rule.Properties.Targets as { Input: string }[]).map((target) => JSON.parse(target.Input).shard),
    );
    expect(inputs.sort((a, b) => a - b)).toEqual(Array.from({ length: shards }, (_, shard) => shard));
    expect(rules).toHaveLength(Math.ceil(shards / TARGETS_PER_RULE));
  });

  it('refuses a shard count that does not divide the registry buckets', () => {
    expect(() => synthesize({ settings: { fleetShards: 3 } })).toThrow(/shard count/);
  });

  it('lets the heartbeat read the server registry, and nothing else write it', () => {
    const registry = statefulLogicalId(stateful.tables.ServerRegistryTable.node.defaultChild);
    const heartbeat = allowedActions('RunHeartbeat', registry);
    expect(heartbeat).toContain('dynamodb:Query');
    expect(heartbeat).not.toContain('dynamodb:PutItem');
    for (const definition of [...routes, ...backgroundFunctions]) {
      if (definition.id !== 'RunHeartbeat') expect(allowedActions(definition.id, registry).size).toBe(0);
    }
  });

  it('lets the heartbeat write the fleet table and nothing on the chat table', () => {
    const fleet = allowedActions('RunHeartbeat', fleetTableLogicalId());

    expect(fleet).toContain('dynamodb:PutItem');
    expect(fleet).toContain('dynamodb:UpdateItem');
    expect(fleet).toContain('dynamodb:GetItem');
    expect(allowedActions('RunHeartbeat', chatTableLogicalId()).size).toBe(0);
  });

  it('lets the persister and the sweeper write the chat table (and its byInflight index)', () => {
    for (const id of ['PersistTurns', 'SweepTurns']) {
      expect(allowedActions(id, chatTableLogicalId()), id).toContain('dynamodb:UpdateItem');
      expect(allowedActions(id, fleetTableLogicalId()).size, id).toBe(0);
    }
    expect(allowedActions('SweepTurns', '/index/*')).toContain('dynamodb:Query');
  });
});

describe('StatelessStack Function URLs', () => {
  it('streams PostChat and buffers the other routes, PostStop included', () => {
    for (const route of routes) {
      template.hasResourceProperties('AWS::Lambda::Url', {
        TargetFunctionArn: { 'Fn::GetAtt': [functionLogicalId(route.id), 'Arn'] },
        AuthType: 'NONE',
        InvokeMode: route.id === 'PostChat' ? 'RESPONSE_STREAM' : 'BUFFERED',
      });
    }
    expect(stack.functionUrls.has('PostStop')).toBe(true);
  });

  // CORS naming the distribution's domain would make each URL reference the distribution that references
  // it: Template.fromStack (in beforeAll) rejects such a cycle, as CloudFormation would.
  it('sets no CORS without allowedOrigins: browsers reach the API through the distribution only', () => {
    const urls = Object.values(template.findResources('AWS::Lambda::Url'));

    expect(urls).toHaveLength(routes.length);
    for (const url of urls) expect(url.Properties.Cors).toBeUndefined();
  });

  it('grants both InvokeFunctionUrl and InvokeFunction (via URL) to the public', () => {
    const functionArn = { 'Fn::GetAtt': [functionLogicalId('PostChat'), 'Arn'] };

    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: functionArn,
      Action: 'lambda:InvokeFunctionUrl',
      FunctionUrlAuthType: 'NONE',
      Principal: '*',
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      FunctionName: functionArn,
      Action: 'lambda:InvokeFunction',
      InvokedViaFunctionUrl: true,
      Principal: '*',
    });
  });

  it('outputs each URL, the site, the dashboard and the user pool settings', () => {
    const outputs = Object.keys(template.toJSON().Outputs);

    expect(outputs).toEqual(
      expect.arrayContaining([
        ...routes.map((route) => `${route.id}Url`),
        'SiteUrl',
        'DashboardUrl',
        'UserPoolId',
        'UserPoolClientId',
        'Region',
      ]),
    );
  });
});

describe('StatelessStack Function URLs with allowedOrigins', () => {
  it('allows those origins, the app headers in, and exposes x-message-id and retry-after', () => {
    // Prepare
    const { code } = synthesize({ allowedOrigins: ['https://chat.example.com'] });

    // Act
    const withCors = Template.fromStack(code);

    // Assess
    withCors.hasResourceProperties('AWS::Lambda::Url', {
      InvokeMode: 'RESPONSE_STREAM',
      Cors: Match.objectLike({
        AllowOrigins: ['https://chat.example.com'],
        AllowMethods: ['POST'],
        AllowHeaders: Match.arrayWith(CORS_ALLOWED_HEADERS),
        ExposeHeaders: Match.arrayWith(CORS_EXPOSED_HEADERS),
      }),
    });
  });
});

describe('StatelessStack least privilege', () => {
  it('lets GetHistory read the chat table and its indexes, and not write it', () => {
    const actions = allowedActions('GetHistory', chatTableLogicalId());

    expect(actions).toContain('dynamodb:Query');
    expect(actions).toContain('dynamodb:GetItem');
    for (const write of ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']) {
      expect(actions).not.toContain(`dynamodb:${write}`);
    }
    expect(allowedActions('GetHistory', '/index/*')).toContain('dynamodb:Query');
  });

  it('gives GetHistory nothing on the fleet table or the queue', () => {
    expect(allowedActions('GetHistory', fleetTableLogicalId()).size).toBe(0);
    expect(allowedActions('GetHistory', 'TurnWritesQueue').size).toBe(0);
  });

  it('lets PostChat write the chat table, only read the fleet table, and send to the queue', () => {
    const chat = allowedActions('PostChat', chatTableLogicalId());
    const fleet = allowedActions('PostChat', fleetTableLogicalId());
    const queue = allowedActions('PostChat', 'TurnWritesQueue');

    expect(chat).toContain('dynamodb:PutItem');
    expect(chat).toContain('dynamodb:UpdateItem');
    expect(fleet).toContain('dynamodb:GetItem');
    for (const write of ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']) {
      expect(fleet).not.toContain(`dynamodb:${write}`);
    }
    expect(queue).toContain('sqs:SendMessage');
    expect(queue).not.toContain('sqs:ReceiveMessage');
  });
});

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
      routes.map((route) => route.path).sort(),
    );
    for (const route of routes) {
      const behavior = behaviors.find((candidate) => candidate.PathPattern === route.path);
      if (!behavior) throw new Error(`no behaviour for ${route.path}`);
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

describe('settingsEnvironment', () => {
  it('fills unset deploy-time settings with the table’s deploy defaults', () => {
    expect(settingsEnvironment('RunHeartbeat', { shedFreeAt: 0.7, saturatedAt: undefined })).toEqual({
      HEARTBEAT_INTERVAL_SECONDS: '0.5',
      SHED_FREE_AT: '0.7',
      SATURATED_AT: '1',
      FREE_COOLDOWN_SECONDS: '120',
      FLEET_SHARDS: '4',
    });
  });

  it('gives a function only the deploy-time settings the table says it reads', () => {
    expect(settingsEnvironment('GetHistory')).toEqual({});
    for (const [name] of Object.entries(settingsEnvironment('PostChat'))) {
      const entry = Object.values(SETTINGS).find((definition) => definition.variable === name);
      expect(entry?.readBy, name).toContain('PostChat');
    }
  });

  it('rejects values the functions would refuse, and thresholds in the wrong order', () => {
    expect(() => settingsEnvironment('PostChat', { heartbeatIntervalSeconds: 0 })).toThrow(
      /HEARTBEAT_INTERVAL_SECONDS/,
    );
    expect(() => settingsEnvironment('PostChat', { heartbeatIntervalSeconds: 61 })).toThrow(/at most 60/);
    expect(() => settingsEnvironment('PostChat', { freeCooldownSeconds: Number.NaN })).toThrow(
      /FREE_COOLDOWN_SECONDS/,
    );
    expect(() => settingsEnvironment('PostChat', { shedFreeAt: 1, saturatedAt: 1 })).toThrow(
      /SHED_FREE_AT \(1\) must be below SATURATED_AT/,
    );
  });
});

describe('deploySettingsFromContext', () => {
  it('parses context given on the command line (strings) or in cdk.json (numbers)', () => {
    const context: Record<string, unknown> = { fleetShards: '8', shedFreeAt: 0.75 };
    expect(deploySettingsFromContext((key) => context[key])).toEqual({ fleetShards: 8, shedFreeAt: 0.75 });
  });

  it('fails synth on a context value the functions would refuse', () => {
    expect(() => deploySettingsFromContext((key) => (key === 'fleetShards' ? '3' : undefined))).toThrow(
      /fleetShards/,
    );
    expect(() => deploySettingsFromContext((key) => (key === 'shedFreeAt' ? 'high' : undefined))).toThrow(
      /shedFreeAt/,
    );
  });
});
