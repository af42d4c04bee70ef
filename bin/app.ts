import { App, Tags } from 'aws-cdk-lib';
import type { LogLevel } from '../lib/constructs/app-function';
import { StatefulStack } from '../lib/stateful-stack';
import { StatelessStack } from '../lib/stateless-stack';

/**
 * PLACEHOLDER, to be replaced per deployment: `cdk deploy -c inferenceServers=gpu-1=http://…,gpu-2=http://…`
 * (or set it in cdk.json context). Each entry is `id=baseUrl` of an OpenAI-compatible server.
 * The functions run outside any VPC: the URLs must be reachable from the Lambda service.
 */
const PLACEHOLDER_INFERENCE_SERVERS = 'gpu-1=http://10.0.0.10:8000';

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
  description: 'Chat app data: tables, turn-writes queue and DLQ, Cognito user pool (retained).',
});

new StatelessStack(app, 'ChatStateless', {
  env,
  description: 'Chat app code: Lambda functions and their Function URLs.',
  tables: stateful.tables,
  turnWritesQueue: stateful.turnWritesQueue,
  userPool: stateful.userPool,
  userPoolClient: stateful.userPoolClient,
  inferenceServers: contextString('inferenceServers') ?? PLACEHOLDER_INFERENCE_SERVERS,
  allowedOrigins: contextList('allowedOrigins') ?? ['*'],
  logLevel: contextLogLevel(),
});

Tags.of(app).add('app', 'chat-serverless');
Tags.of(app).add('managed-by', 'cdk');
