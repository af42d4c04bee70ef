import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { Schedule } from 'aws-cdk-lib/aws-events';
import { CfnRole } from 'aws-cdk-lib/aws-iam';
import { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppFunction } from '../../lib/constructs/app-function';
import { chatTable, fleetTable, routes, turnWritesQueue } from '../../lib/resources';
import { StatefulStack } from '../../lib/stateful-stack';
import {
  CORS_ALLOWED_HEADERS,
  CORS_EXPOSED_HEADERS,
  type FunctionDefinition,
  StatelessStack,
  validateInferenceServers,
} from '../../lib/stateless-stack';

interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

const INFERENCE_SERVERS = 'gpu-1=http://10.0.0.10:8000,gpu-2=https://gpu-2.example.com';

// Extra definitions exercising the one-call extension points (heartbeat, persister).
const heartbeat: FunctionDefinition = {
  id: 'Heartbeat',
  entry: 'functions/heartbeat.ts',
  timeoutSeconds: 60,
  memoryMb: 256,
  tables: { FleetTable: 'readWrite' },
  queues: [],
};
const persister: FunctionDefinition = {
  id: 'PersistTurns',
  entry: 'functions/persist-turns.ts',
  timeoutSeconds: 10,
  memoryMb: 256,
  tables: { ChatTable: 'readWrite' },
  queues: [],
};

let projectRoot: string;
let stateful: StatefulStack;
let stack: StatelessStack;
let template: Template;

/** Stub handlers and lock file, so these tests depend on neither the real handlers nor bundling. */
function writeStubProject(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'chat-infra-test-'));
  writeFileSync(path.join(root, 'package-lock.json'), '{}');
  mkdirSync(path.join(root, 'functions'));
  for (const { entry } of [...routes, heartbeat, persister]) {
    writeFileSync(path.join(root, entry), 'export const handler = async () => {};\n');
  }
  return root;
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

/** The chat table is in the other stack: the statements reference it through an import of its ARN. */
function chatTableLogicalId(): string {
  const cfn = stateful.tables.ChatTable.node.defaultChild;
  if (!(cfn instanceof CfnTable)) throw new Error('no CfnTable');
  return stateful.getLogicalId(cfn);
}

function fleetTableLogicalId(): string {
  const cfn = stateful.tables.FleetTable.node.defaultChild;
  if (!(cfn instanceof CfnTable)) throw new Error('no CfnTable');
  return stateful.getLogicalId(cfn);
}

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

beforeAll(() => {
  // Prepare
  projectRoot = writeStubProject();
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  stateful = new StatefulStack(app, 'TestStateful');
  stack = new StatelessStack(app, 'TestStateless', {
    tables: stateful.tables,
    turnWritesQueue: stateful.turnWritesQueue,
    userPool: stateful.userPool,
    userPoolClient: stateful.userPoolClient,
    inferenceServers: INFERENCE_SERVERS,
    projectRoot,
  });
  stack.addScheduledFunction(heartbeat, Schedule.rate(Duration.minutes(1)));
  stack.addQueueConsumer(persister, stateful.turnWritesQueue);
  template = Template.fromStack(stack);
});

afterAll(() => {
  rmSync(projectRoot, { recursive: true, force: true });
});

describe('StatelessStack functions', () => {
  it('creates one function per route, on nodejs22.x arm64 with tracing and JSON logs', () => {
    for (const route of routes) {
      const properties = functionProperties(route.id);

      expect(properties.Runtime, route.id).toBe('nodejs22.x');
      expect(properties.Architectures, route.id).toEqual(['arm64']);
      expect(properties.Handler, route.id).toBe('index.handler');
      expect(properties.Timeout, route.id).toBe(route.timeoutSeconds);
      expect(properties.MemorySize, route.id).toBe(route.memoryMb);
      expect(properties.TracingConfig, route.id).toEqual({ Mode: 'Active' });
      expect(properties.LoggingConfig.LogFormat, route.id).toBe('JSON');
      expect(properties.LoggingConfig.LogGroup, route.id).toBeDefined();
    }
  });

  it('keeps function logs one month', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('sets the env vars named by the definitions, plus auth, inference and runtime settings', () => {
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
      INFERENCE_SERVERS: INFERENCE_SERVERS,
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'chat',
      LOG_LEVEL: 'INFO',
    });
    expect(JSON.stringify(postChat.USER_POOL_ISSUER)).toContain('https://cognito-idp.');
    expect(postChat.USER_POOL_CLIENT_ID).toBeDefined();
  });
});

describe('StatelessStack Function URLs', () => {
  it('streams PostChat and buffers the other routes', () => {
    for (const route of routes) {
      template.hasResourceProperties('AWS::Lambda::Url', {
        TargetFunctionArn: { 'Fn::GetAtt': [functionLogicalId(route.id), 'Arn'] },
        AuthType: 'NONE',
        InvokeMode: route.id === 'PostChat' ? 'RESPONSE_STREAM' : 'BUFFERED',
      });
    }
  });

  it('allows the app headers in and exposes x-message-id and retry-after', () => {
    template.hasResourceProperties('AWS::Lambda::Url', {
      TargetFunctionArn: { 'Fn::GetAtt': [functionLogicalId('PostChat'), 'Arn'] },
      Cors: Match.objectLike({
        AllowOrigins: ['*'],
        AllowMethods: ['POST'],
        AllowHeaders: Match.arrayWith(CORS_ALLOWED_HEADERS),
        ExposeHeaders: Match.arrayWith(CORS_EXPOSED_HEADERS),
      }),
    });
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

  it('outputs each URL and the user pool settings for the web client', () => {
    const outputs = Object.keys(template.toJSON().Outputs);

    expect(outputs).toEqual(
      expect.arrayContaining([
        ...routes.map((route) => `${route.id}Url`),
        'UserPoolId',
        'UserPoolClientId',
        'Region',
      ]),
    );
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
    expect(fleet).not.toContain('dynamodb:PutItem');
    expect(fleet).not.toContain('dynamodb:UpdateItem');
    expect(queue).toContain('sqs:SendMessage');
    expect(queue).not.toContain('sqs:ReceiveMessage');
  });
});

describe('StatelessStack extension points', () => {
  it('adds a scheduled function in one call', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [functionLogicalId('Heartbeat'), 'Arn'] } })],
    });
  });

  it('adds an SQS consumer reporting partial batch failures in one call', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionLogicalId('PersistTurns') },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(allowedActions('PersistTurns', 'TurnWritesQueue')).toContain('sqs:ReceiveMessage');
  });
});

describe('validateInferenceServers', () => {
  it('accepts a comma-separated id=url list', () => {
    expect(validateInferenceServers('a=http://10.0.0.1:8000, b=https://b.example.com')).toBe(
      'a=http://10.0.0.1:8000,b=https://b.example.com',
    );
  });

  it('rejects entries without an id or an http(s) URL', () => {
    expect(() => validateInferenceServers('http://10.0.0.1:8000')).toThrow(/inferenceServers/);
    expect(() => validateInferenceServers('a=ftp://x')).toThrow(/inferenceServers/);
    expect(() => validateInferenceServers('')).toThrow(/inferenceServers/);
  });
});
