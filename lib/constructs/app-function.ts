import path from 'node:path';
import { type Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { type ITable, TableGrants } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, SystemLogLevel, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { SETTINGS } from '../../settings/settings';
import {
  type QueueDefinition,
  type StopInboxAccess,
  stopInboxes,
  type TableAccess,
  type TableDefinition,
} from '../resources';
import { FUNCTION_BUNDLING, FUNCTION_NODE_OPTIONS } from './function-bundling';
import { FUNCTION_OBSERVABILITY } from './function-observability';

/**
 * DynamoDB actions per access level. Explicit lists rather than `grantReadData`/`grantReadWriteData`:
 * no DescribeTable, no stream actions. Scan stays in `read` because the fleet table (a handful of
 * `SERVER#` items) is read whole. There is no IAM action for transactions: TransactWriteItems is
 * authorised per item by PutItem/UpdateItem/DeleteItem/ConditionCheckItem.
 */
export const TABLE_ACTIONS: Readonly<Record<TableAccess, readonly string[]>> = {
  read: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:Scan',
    'dynamodb:ConditionCheckItem',
  ],
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:Scan',
    'dynamodb:ConditionCheckItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:BatchWriteItem',
  ],
};

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface AppFunctionProps {
  /** Directory holding package-lock.json; the entry must be under it (esbuild runs from here). */
  readonly projectRoot: string;
  /** Entry file relative to `projectRoot`; it exports `handler`. */
  readonly entry: string;
  readonly timeout: Duration;
  readonly memorySize: number;
  /** POWERTOOLS_SERVICE_NAME: groups the logs and metrics of all the app's functions. */
  readonly serviceName: string;
  /** POWERTOOLS_METRICS_NAMESPACE. */
  readonly metricsNamespace: string;
  /** @default 'INFO' */
  readonly logLevel?: LogLevel;
  readonly description?: string;
  readonly environment?: Readonly<Record<string, string>>;
  /** Caps the function's concurrency (and reserves it from the account pool). @default no cap */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * The one way this app builds a Lambda function. Fixed defaults:
 * - Node.js 24 on arm64 (the runtime npm scripts run on here; arm64 is cheaper per GB-second);
 * - ESM bundle built by the local esbuild (no Docker), minified, with source maps enabled at run time;
 * - JSON logs into an explicit log group kept one month; tracing and Lambda's own log lines as
 *   function-observability.ts says.
 *
 * `bindTable` / `bindQueue` grant least privilege and set the env var the handler reads, in one call,
 * so a grant and its variable can never drift apart.
 */
export class AppFunction extends NodejsFunction {
  public constructor(scope: Construct, id: string, props: AppFunctionProps) {
    // Created in `scope` because `this` does not exist before super(); no explicit name, so
    // CloudFormation owns it and a replaced function cannot collide with an orphaned group.
    const logGroup = new LogGroup(scope, `${id}LogGroup`, {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    super(scope, id, {
      entry: path.join(props.projectRoot, props.entry),
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.ARM_64,
      timeout: props.timeout,
      memorySize: props.memorySize,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: FUNCTION_OBSERVABILITY.activeTracing ? Tracing.ACTIVE : Tracing.DISABLED,
      logGroup,
      loggingFormat: LoggingFormat.JSON,
      systemLogLevelV2: SystemLogLevel[FUNCTION_OBSERVABILITY.systemLogLevel],
      environment: {
        NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
        [SETTINGS.serviceName.variable]: props.serviceName,
        [SETTINGS.metricsNamespace.variable]: props.metricsNamespace,
        LOG_LEVEL: props.logLevel ?? 'INFO',
        ...props.environment,
      },
      bundling: FUNCTION_BUNDLING,
    });
  }

  /**
   * Grants `access` on the table and its indexes (taken from the definition, so an imported table
   * still gets its index ARNs) and sets `definition.envVar` to the table name.
   */
  public bindTable(table: ITable, definition: TableDefinition, access: TableAccess): this {
    const hasIndex = definition.globalSecondaryIndexes.length > 0;
    // Tables use the AWS-owned key (no customer-managed KMS key), so no key grant is needed.
    TableGrants.fromTable(table, [], hasIndex).actions(this, ...TABLE_ACTIONS[access]);
    this.addEnvironment(definition.envVar, table.tableName);
    return this;
  }

  /** Grants SendMessage on the queue (SSE-SQS: no key grant) and sets `definition.envVar` to its URL. */
  public bindQueue(queue: IQueue, definition: QueueDefinition): this {
    queue.grantSendMessages(this);
    this.addEnvironment(definition.envVar, queue.queueUrl);
    return this;
  }

  /**
   * Grants what `access` needs on the queues named `<prefix>*` (the containers' stop inboxes, created at
   * run time, so granted by name) and sets STOP_INBOX_PREFIX.
   */
  public bindStopInboxes(prefix: string, access: StopInboxAccess): this {
    const inboxes = Stack.of(this).formatArn({ service: 'sqs', resource: `${prefix}*` });
    this.addToRolePolicy(new PolicyStatement({ actions: STOP_INBOX_ACTIONS[access], resources: [inboxes] }));
    // ListQueues has no resource-level permission; it only lists, and the prefix filters.
    if (access === 'sweep') {
      this.addToRolePolicy(new PolicyStatement({ actions: ['sqs:ListQueues'], resources: ['*'] }));
    }
    this.addEnvironment(stopInboxes.envVar, prefix);
    return this;
  }
}

const STOP_INBOX_ACTIONS: Record<StopInboxAccess, string[]> = {
  own: ['sqs:CreateQueue', 'sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:DeleteQueue'],
  deliver: ['sqs:SendMessage'],
  sweep: ['sqs:DeleteQueue'],
};
