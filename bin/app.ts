import { App, Tags } from 'aws-cdk-lib';
import type { LogLevel } from '../lib/constructs/app-function';
import { privateFleetFromContext } from '../lib/constructs/private-fleet-network';
import { EdgeStack } from '../lib/edge-stack';
import { deploySettingsFromContext } from '../lib/fleet-settings';
import { applyNag } from '../lib/nag-suppressions';
import { StatefulStack } from '../lib/stateful-stack';
import { StatelessStack } from '../lib/stateless-stack';

const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];

export const app = new App();

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

function contextInteger(key: string): number | undefined {
  const value: unknown = app.node.tryGetContext(key);
  if (value === undefined) return undefined;
  const parsed = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isInteger(parsed)) throw new Error(`Context ${key} must be an integer`);
  return parsed;
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
  sesFromEmail: contextString('sesFromEmail'),
});

// CloudFront takes only CLOUDFRONT-scoped web ACLs, which live in us-east-1. Deploying there (or
// region-agnostic), the stateless stack holds its own; elsewhere the ChatEdge stack does, pinned to
// us-east-1 and referenced across regions. `-c webAclArn=arn:…` attaches an existing ACL instead.
const firewall = { rateLimit: contextInteger('wafRateLimit') };
const existingWebAclArn = contextString('webAclArn');
const edge =
  existingWebAclArn === undefined && env.region !== undefined && env.region !== 'us-east-1'
    ? new EdgeStack(app, 'ChatEdge', {
        env: { account: env.account, region: 'us-east-1' },
        crossRegionReferences: true,
        description: 'Chat app edge: the WAF web ACL of the CloudFront distribution (us-east-1 only).',
        firewall,
      })
    : undefined;

new StatelessStack(app, 'ChatStateless', {
  env,
  crossRegionReferences: edge !== undefined,
  webAclArn: existingWebAclArn ?? edge?.firewall.webAclArn,
  firewall,
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
  originSecretVersionId: contextString('originSecretVersionId'),
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
applyNag(app);
