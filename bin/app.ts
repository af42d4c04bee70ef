import { App, Tags } from 'aws-cdk-lib';
import type { LogLevel } from '../lib/constructs/app-function';
import { privateFleetFromContext } from '../lib/constructs/private-fleet-network';
import { deploySettingsFromContext } from '../lib/fleet-settings';
import { StatefulStack } from '../lib/stateful-stack';
import { StatelessStack } from '../lib/stateless-stack';

const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

const app = new App();

/** A context value given on the command line is a string; one from cdk.json may be an array. */
function contextList(key: string): string[] | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return undefined;
  if (typeof value === 'string') {
    return value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item.length > 0);
  }
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value;
  throw new Error(`Context ${key} must be a comma-separated string or an array of strings`);
}

function contextString(key: string): string | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined || typeof value === 'string') return value;
  throw new Error(`Context ${key} must be a string`);
}

function contextLogLevel(): LogLevel {
  const value = contextString('logLevel') ?? 'INFO';
  const level = LOG_LEVELS.find((candidate) => candidate === value.toUpperCase());
  if (!level) throw new Error(`Context logLevel must be one of ${LOG_LEVELS.join(', ')}`);
  return level;
}

// Unset without credentials: the stacks are then environment-agnostic and synth still works.
const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };

const stateful = new StatefulStack(app, 'ChatStateful', {
  env,
  description: 'Chat app data: tables, turn-writes queue and DLQ, Cognito user pool, alarm topic (retained).',
  alarmEmail: contextString('alarmEmail'),
});

new StatelessStack(app, 'ChatStateless', {
  env,
  description:
    'Chat app code: Lambda functions, Function URLs, web client on S3 + CloudFront, dashboard, alarms.',
  tables: stateful.tables,
  turnWritesQueue: stateful.turnWritesQueue,
  turnWritesDlq: stateful.turnWritesDlq,
  userPool: stateful.userPool,
  userPoolClient: stateful.userPoolClient,
  alarmTopic: stateful.alarmTopic,
  otherAlarms: [stateful.turnWritesDlqAlarm],
  // The fleet thresholds and shard count (`-c fleetShards=4`, …), parsed by the settings table; each
  // unset one keeps its deploy default there. The servers themselves live in the registry table.
  settings: deploySettingsFromContext((key) => app.node.tryGetContext(key)),
  // Unset: no CORS, the browser reaches the API through the distribution only.
  allowedOrigins: contextList('allowedOrigins'),
  logLevel: contextLogLevel(),
  // A fleet in private subnets behind `--api-key` (README, "Private inference fleet"); unset: neither.
  privateFleet: privateFleetFromContext({
    subnetIds: contextList('inferenceSubnetIds'),
    securityGroupIds: contextList('inferenceSecurityGroupIds'),
    apiKeySecretArn: contextString('inferenceApiKeySecretArn'),
    vpcId: contextString('inferenceVpcId'),
    routeTableIds: contextList('inferenceRouteTableIds'),
  }),
});

Tags.of(app).add('app', 'chat-serverless');
Tags.of(app).add('managed-by', 'cdk');
