import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  backgroundFunctions,
  chatTable,
  fleetTable,
  originSecret,
  queues,
  routePaths,
  routes,
  turnWritesQueue,
} from '../../lib/resources';
import {
  CORS_ALLOWED_HEADERS,
  CORS_EXPOSED_HEADERS,
  TARGETS_PER_RULE,
  VISIBILITY_TIMEOUT_FACTOR,
} from '../../lib/stateless-stack';
import { SETTINGS } from '../../settings/settings';

import {
  allowedActions,
  chatTableLogicalId,
  fleetTableLogicalId,
  functionLogicalId,
  functionProperties,
  setUpStatelessStack,
  stack,
  stateful,
  statefulLogicalId,
  statefulTemplate,
  synthesize,
  tearDownStatelessStack,
  template,
  urlLogicalId,
} from './support/stateless-fixture';

beforeAll(setUpStatelessStack);
afterAll(tearDownStatelessStack);

describe('StatelessStack functions', () => {
  it('creates one function per route and background function, nodejs24.x arm64, JSON logs', () => {
    for (const definition of [...routes, ...backgroundFunctions]) {
      const properties = functionProperties(definition.id);

      expect(properties.Runtime, definition.id).toBe('nodejs24.x');
      expect(properties.Architectures, definition.id).toEqual(['arm64']);
      expect(properties.Handler, definition.id).toBe('index.handler');
      expect(properties.Timeout, definition.id).toBe(definition.timeoutSeconds);
      expect(properties.MemorySize, definition.id).toBe(definition.memoryMb);
      // Nothing is instrumented, so active tracing would bill for Lambda's own segments only.
      expect(properties.TracingConfig?.Mode, definition.id).not.toBe('Active');
      expect(properties.LoggingConfig.LogFormat, definition.id).toBe('JSON');
      expect(properties.LoggingConfig.LogGroup, definition.id).toBeDefined();
      expect(properties.LoggingConfig.SystemLogLevel, definition.id).toBe('WARN');
    }
  });

  it('runs PostChat, billed for every second of its streams, at 128 MB', () => {
    expect(functionProperties('PostChat').MemorySize).toBe(128);
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
    // DELETE /chat/history hands what it cannot erase at once to an erase job on the queue.
    expect(Object.keys(getHistory)).toContain(turnWritesQueue.envVar);
    const listConversations = functionProperties('ListConversations').Environment.Variables;
    expect(Object.keys(listConversations)).toContain(chatTable.envVar);
    expect(Object.keys(listConversations)).not.toContain(turnWritesQueue.envVar);
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

  it('lets the persister and the sweeper write the chat table (and the sweeper query its byLeases index)', () => {
    for (const id of ['PersistTurns', 'SweepTurns']) {
      expect(allowedActions(id, chatTableLogicalId()), id).toContain('dynamodb:UpdateItem');
      expect(allowedActions(id, fleetTableLogicalId()).size, id).toBe(0);
    }
    expect(allowedActions('SweepTurns', '/index/*')).toContain('dynamodb:Query');
    expect(allowedActions('SweepTurns', chatTableLogicalId())).toContain('dynamodb:BatchGetItem');
  });
});

describe('StatelessStack Function URLs', () => {
  it('streams PostChat, /v1/chat/completions and the export, and buffers the other routes, PostStop included', () => {
    const streamed = ['PostChat', 'PostChatCompletions', 'ExportHistory'];
    for (const route of routes) {
      template.hasResourceProperties('AWS::Lambda::Url', {
        TargetFunctionArn: { 'Fn::GetAtt': [functionLogicalId(route.id), 'Arn'] },
        AuthType: 'NONE',
        InvokeMode: streamed.includes(route.id) ? 'RESPONSE_STREAM' : 'BUFFERED',
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

  it('outputs the site, the dashboard and the user pool settings, never a raw Function URL', () => {
    const outputs: Record<string, { Value: unknown }> = template.toJSON().Outputs;
    const urlIds = routes.map((route) => urlLogicalId(route.id));

    expect(Object.keys(outputs).sort()).toEqual(
      ['DashboardUrl', 'Region', 'SiteUrl', 'UserPoolClientId', 'UserPoolId'].sort(),
    );
    for (const [name, output] of Object.entries(outputs)) {
      for (const urlId of urlIds) expect(JSON.stringify(output.Value), name).not.toContain(urlId);
    }
  });

  it('gives each HTTP function the origin secret to check, and CloudFront the same secret to send', () => {
    const [secretId] = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    expect(secretId).toBeDefined();
    for (const route of routes) {
      expect(functionProperties(route.id).Environment.Variables[originSecret.envVar]).toEqual({
        Ref: secretId,
      });
    }
    const policies = JSON.stringify(template.findResources('AWS::IAM::Policy'));
    expect(policies).toContain('secretsmanager:GetSecretValue');
    const distribution = Object.values(template.findResources('AWS::CloudFront::Distribution'))[0];
    const origins: {
      CustomOriginConfig?: unknown;
      OriginCustomHeaders?: { HeaderName: string; HeaderValue: unknown }[];
    }[] = distribution?.Properties.DistributionConfig.Origins ?? [];
    const apiOrigins = origins.filter((origin) => origin.CustomOriginConfig !== undefined);
    expect(apiOrigins).toHaveLength(routes.flatMap((route) => routePaths(route)).length);
    for (const origin of apiOrigins) {
      const header = origin.OriginCustomHeaders?.find(
        (candidate) => candidate.HeaderName === originSecret.header,
      );
      // A dynamic reference CloudFormation resolves at deploy time: the template holds no secret value.
      expect(JSON.stringify(header?.HeaderValue)).toContain('{{resolve:secretsmanager:');
      expect(JSON.stringify(header?.HeaderValue)).toContain(secretId);
    }
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
  it('lets the conversation list and the export read the chat table and its indexes, and not write it', () => {
    for (const id of ['ListConversations', 'ExportHistory']) {
      const actions = allowedActions(id, chatTableLogicalId());

      expect(actions, id).toContain('dynamodb:Query');
      expect(actions, id).toContain('dynamodb:GetItem');
      for (const write of ['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']) {
        expect(actions, id).not.toContain(`dynamodb:${write}`);
      }
      expect(allowedActions(id, 'TurnWritesQueue').size, id).toBe(0);
    }
    expect(allowedActions('ExportHistory', '/index/*')).toContain('dynamodb:Query');
  });

  it('lets GetHistory erase (DELETE /chat/history: batch deletes, an erase job) but gives it nothing on the fleet table', () => {
    expect(allowedActions('GetHistory', chatTableLogicalId())).toContain('dynamodb:BatchWriteItem');
    expect(allowedActions('GetHistory', 'TurnWritesQueue')).toContain('sqs:SendMessage');
    expect(allowedActions('GetHistory', fleetTableLogicalId()).size).toBe(0);
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

  it('grants the stop inboxes by name prefix: PostChat owns its own, PostStop only sends, the sweeper deletes', () => {
    const prefix = String(functionProperties('PostChat').Environment.Variables.STOP_INBOX_PREFIX);
    expect(prefix).toMatch(/-stop-$/);
    expect(prefix.length + 26).toBeLessThanOrEqual(80);
    expect(functionProperties('PostStop').Environment.Variables.STOP_INBOX_PREFIX).toBe(prefix);
    const own = allowedActions('PostChat', `${prefix}*`);
    expect([...own].sort()).toEqual([
      'sqs:CreateQueue',
      'sqs:DeleteMessage',
      'sqs:DeleteQueue',
      'sqs:ReceiveMessage',
    ]);
    expect([...allowedActions('PostStop', `${prefix}*`)]).toEqual(['sqs:SendMessage']);
    expect([...allowedActions('SweepTurns', `${prefix}*`)]).toEqual(['sqs:DeleteQueue']);
    expect(allowedActions('GetHistory', `${prefix}*`).size).toBe(0);
  });
});
