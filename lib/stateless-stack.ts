import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, type Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { FunctionUrlAuthType, HttpMethod, InvokeMode } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource, type SqsEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { AppFunction, type LogLevel } from './constructs/app-function';
import { queues, type RouteDefinition, routes, tables } from './resources';
import type { TableId } from './stateful-stack';

type QueueId = (typeof queues)[number]['id'];

/** The repository root: route entries in lib/resources.ts are relative to it. */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What any function needs besides its code: the shape shared by routes, schedules and consumers. */
export type FunctionDefinition = Pick<
  RouteDefinition,
  'id' | 'entry' | 'timeoutSeconds' | 'memoryMb' | 'tables' | 'queues'
>;

export interface StatelessStackProps extends StackProps {
  readonly tables: Readonly<Record<TableId, ITable>>;
  readonly turnWritesQueue: IQueue;
  readonly userPool: IUserPool;
  readonly userPoolClient: IUserPoolClient;
  /** Comma-separated `id=baseUrl` list, e.g. `gpu-1=http://10.0.0.10:8000,gpu-2=http://10.0.0.11:8000`. */
  readonly inferenceServers: string;
  /** Origins allowed by the Function URLs' CORS. @default ['*'] */
  readonly allowedOrigins?: readonly string[];
  /** @default 'INFO' */
  readonly logLevel?: LogLevel;
  /**
   * Where entries and package-lock.json are found. @default the repository root.
   * Tests point it at a directory of stub handlers so they do not depend on the real ones.
   */
  readonly projectRoot?: string;
}

const SERVICE_NAME = 'chat';
const METRICS_NAMESPACE = 'ChatApp';

/** Request headers the browser sends; response headers it must be able to read. */
export const CORS_ALLOWED_HEADERS = ['authorization', 'content-type', 'idempotency-key', 'x-retry-attempt'];
export const CORS_EXPOSED_HEADERS = ['x-message-id', 'retry-after'];

const INFERENCE_SERVERS_PATTERN = /^[A-Za-z0-9_.-]+=https?:\/\/[^\s,=]+$/;

/** Fails synth on a malformed list instead of deploying functions that cannot reach any server. */
export function validateInferenceServers(value: string): string {
  const entries = value.split(',').map((entry) => entry.trim());
  const bad = entries.filter((entry) => !INFERENCE_SERVERS_PATTERN.test(entry));
  if (entries.length === 0 || bad.length > 0) {
    throw new Error(
      `inferenceServers must be a comma-separated list of id=http(s)://host[:port]; bad: ${bad.join(', ')}`,
    );
  }
  return entries.join(',');
}

/**
 * The functions and their Function URLs, generated from `routes` in lib/resources.ts.
 * Holds no data: it can be destroyed and redeployed freely.
 *
 * Adding a function is one call:
 * - `addRoute(route)`: HTTP route with a Function URL (done for every entry of `routes`);
 * - `addScheduledFunction(definition, Schedule.rate(Duration.minutes(1)))`: e.g. the heartbeat;
 * - `addQueueConsumer(definition, props.turnWritesQueue)`: e.g. the turn-writes persister;
 * - `addFunction(definition)`: a bare function with its tables and queues bound.
 */
export class StatelessStack extends Stack {
  /** Every function of the app, by definition id (route ids for the HTTP functions). */
  public readonly functions = new Map<string, AppFunction>();

  private readonly tableResources: Readonly<Record<TableId, ITable>>;
  private readonly queueResources: Readonly<Record<QueueId, IQueue>>;
  private readonly baseEnvironment: Readonly<Record<string, string>>;
  private readonly allowedOrigins: readonly string[];
  private readonly projectRoot: string;
  private readonly logLevel: LogLevel;

  public constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    this.tableResources = props.tables;
    this.queueResources = { TurnWritesQueue: props.turnWritesQueue };
    this.allowedOrigins = props.allowedOrigins ?? ['*'];
    this.projectRoot = props.projectRoot ?? REPO_ROOT;
    this.logLevel = props.logLevel ?? 'INFO';
    this.baseEnvironment = {
      USER_POOL_ISSUER: `https://cognito-idp.${this.region}.amazonaws.com/${props.userPool.userPoolId}`,
      USER_POOL_CLIENT_ID: props.userPoolClient.userPoolClientId,
      INFERENCE_SERVERS: validateInferenceServers(props.inferenceServers),
    };

    for (const route of routes) {
      this.addRoute(route);
    }

    new CfnOutput(this, 'UserPoolId', { value: props.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: props.userPoolClient.userPoolClientId });
    new CfnOutput(this, 'Region', { value: this.region });
  }

  /** A function with the app's defaults and the tables/queues its definition lists, bound. */
  public addFunction(definition: FunctionDefinition): AppFunction {
    if (this.functions.has(definition.id)) {
      throw new Error(`Function ${definition.id} is defined twice`);
    }
    const fn = new AppFunction(this, definition.id, {
      projectRoot: this.projectRoot,
      entry: definition.entry,
      timeout: Duration.seconds(definition.timeoutSeconds),
      memorySize: definition.memoryMb,
      serviceName: SERVICE_NAME,
      metricsNamespace: METRICS_NAMESPACE,
      logLevel: this.logLevel,
      environment: this.baseEnvironment,
    });
    for (const table of tables) {
      const access = definition.tables[table.id];
      if (access) {
        fn.bindTable(this.tableResources[table.id], table, access);
      }
    }
    for (const queue of queues) {
      if (definition.queues.includes(queue.id)) {
        fn.bindQueue(this.queueResources[queue.id], queue);
      }
    }
    this.functions.set(definition.id, fn);
    return fn;
  }

  /** An HTTP route: the function plus a public Function URL and a CfnOutput `<id>Url`. */
  public addRoute(route: RouteDefinition): AppFunction {
    const fn = this.addFunction(route);
    const url = fn.addFunctionUrl({
      // NONE: the browser calls the URL directly with `Authorization: Bearer <Cognito ID token>`,
      // which AWS_IAM auth cannot accept (it expects SigV4). The handler verifies the JWT itself
      // (issuer USER_POOL_ISSUER, audience USER_POOL_CLIENT_ID) before any other work.
      authType: FunctionUrlAuthType.NONE,
      invokeMode: route.streaming ? InvokeMode.RESPONSE_STREAM : InvokeMode.BUFFERED,
      cors: {
        allowedOrigins: [...this.allowedOrigins],
        allowedMethods: [route.method === 'GET' ? HttpMethod.GET : HttpMethod.POST],
        allowedHeaders: CORS_ALLOWED_HEADERS,
        exposedHeaders: CORS_EXPOSED_HEADERS,
        maxAge: Duration.hours(1),
      },
    });
    new CfnOutput(this, `${route.id}Url`, {
      value: url.url,
      description: `${route.method} ${route.path}`,
    });
    return fn;
  }

  /** A function run by an EventBridge rule. EventBridge fires at most once a minute. */
  public addScheduledFunction(definition: FunctionDefinition, schedule: Schedule): AppFunction {
    const fn = this.addFunction(definition);
    new Rule(this, `${definition.id}Schedule`, { schedule, targets: [new LambdaFunction(fn)] });
    return fn;
  }

  /**
   * A function fed by an SQS queue, reporting partial batch failures (failed records go back to the
   * queue, then to its DLQ). The queue's visibility timeout must be ≥ 6 × the function's timeout.
   */
  public addQueueConsumer(
    definition: FunctionDefinition,
    queue: IQueue,
    options: Omit<SqsEventSourceProps, 'reportBatchItemFailures'> = {},
  ): AppFunction {
    const fn = this.addFunction(definition);
    fn.addEventSource(
      new SqsEventSource(queue, { batchSize: 10, ...options, reportBatchItemFailures: true }),
    );
    return fn;
  }
}
