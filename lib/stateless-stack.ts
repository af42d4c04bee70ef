import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnOutput, CfnResource, Duration, SecretValue, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import {
  type FunctionUrl,
  FunctionUrlAuthType,
  type FunctionUrlCorsOptions,
  HttpMethod,
  InvokeMode,
} from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource, type SqsEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { type DeploySettings, resolveDeploySettings, settingsEnvironment } from '../settings/environment';
import {
  DEFAULT_METRICS_NAMESPACE,
  DEFAULT_SERVICE_NAME,
  type FunctionId,
  SETTINGS,
} from '../settings/settings';
import { AppFunction, type LogLevel } from './constructs/app-function';
import { EdgeFirewall } from './constructs/edge-firewall';
import { dashboardUrl, Observability } from './constructs/observability';
import { PrivateFleetNetwork } from './constructs/private-fleet-network';
import { WebHosting, webClientSource } from './constructs/web-hosting';
import {
  type BackgroundFunctionDefinition,
  backgroundFunctions,
  originSecret,
  queues,
  type RouteDefinition,
  routeMethods,
  routePaths,
  routes,
  tables,
} from './resources';
import type { TableId } from './stateful-stack';
import {
  CORS_ALLOWED_HEADERS,
  CORS_EXPOSED_HEADERS,
  type FunctionDefinition,
  type StatelessStackProps,
  TARGETS_PER_RULE,
  VISIBILITY_TIMEOUT_FACTOR,
} from './stateless-stack-props';

export * from './stateless-stack-props';

type QueueId = (typeof queues)[number]['id'];
export type RouteId = (typeof routes)[number]['id'];
export type BackgroundFunctionId = (typeof backgroundFunctions)[number]['id'];

/** The repository root: route entries in lib/resources.ts are relative to it. */
const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const SERVICE_NAME = DEFAULT_SERVICE_NAME;
export const METRICS_NAMESPACE = DEFAULT_METRICS_NAMESPACE;

const FUNCTION_IDS: readonly string[] = [...routes, ...backgroundFunctions].map(
  (definition) => definition.id,
);
const isFunctionId = (id: string): id is FunctionId => FUNCTION_IDS.includes(id);

/** What a function gets beyond its definition: settings only it reads. */
interface FunctionExtras {
  readonly environment?: Readonly<Record<string, string>>;
  readonly reservedConcurrentExecutions?: number;
  /** A scheduled function's inputs: one EventBridge target (one invocation per tick) each. */
  readonly scheduleInputs?: readonly Readonly<Record<string, unknown>>[];
}

/**
 * The functions, their Function URLs and triggers, the site and its distribution, the dashboard and
 * alarms, all generated from lib/resources.ts (`routes`, `backgroundFunctions`).
 * Holds no data: it can be destroyed and redeployed freely.
 *
 * Adding a function is one entry in lib/resources.ts, or one call:
 * - `addRoute(route)`: HTTP route with a Function URL and a path on the distribution
 *   (routes must be added in the constructor, before the distribution is built);
 * - `addBackgroundFunction(definition)`: schedule or queue trigger taken from the definition;
 * - `addScheduledFunction(definition, Schedule.rate(Duration.minutes(1)))`;
 * - `addQueueConsumer(definition, queue, { batchSize })`;
 * - `addFunction(definition)`: a bare function with its tables and queues bound.
 */
export class StatelessStack extends Stack {
  /** Every function of the app, by definition id (route ids for the HTTP functions). */
  public readonly functions = new Map<string, AppFunction>();
  /** The Function URL of every route, by route id. */
  public readonly functionUrls = new Map<string, FunctionUrl>();
  public readonly web: WebHosting;
  public readonly observability: Observability;
  /** The value CloudFront adds to each API request and the HTTP functions require (origin-guard.ts). */
  public readonly originSecret: Secret;

  private readonly tableResources: Readonly<Record<TableId, ITable>>;
  private readonly queueResources: Readonly<Record<QueueId, IQueue>>;
  private readonly baseEnvironment: Readonly<Record<string, string>>;
  private readonly extras: ReadonlyMap<string, FunctionExtras>;
  private readonly cors: FunctionUrlCorsOptions | undefined;
  private readonly projectRoot: string;
  private readonly logLevel: LogLevel;
  private readonly deploySettings: DeploySettings;
  private readonly privateFleet: PrivateFleetNetwork | undefined;

  public constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    this.tableResources = props.tables;
    this.queueResources = { TurnWritesQueue: props.turnWritesQueue };
    this.projectRoot = props.projectRoot ?? REPO_ROOT;
    this.logLevel = props.logLevel ?? 'INFO';
    this.baseEnvironment = {
      [SETTINGS.userPoolIssuer.variable]:
        `https://cognito-idp.${this.region}.amazonaws.com/${props.userPool.userPoolId}`,
      [SETTINGS.userPoolClientId.variable]: props.userPoolClient.userPoolClientId,
    };
    // Without allowedOrigins the URLs get no CORS configuration, so no other site's page may call
    // them from a browser; the web client calls them same-origin through the distribution. (CORS
    // naming the distribution's own domain cannot be declared: the URL would reference the
    // distribution, whose origins reference the URL — a circular dependency CloudFormation rejects.)
    this.cors = props.allowedOrigins
      ? {
          allowedOrigins: [...props.allowedOrigins],
          allowedHeaders: CORS_ALLOWED_HEADERS,
          exposedHeaders: CORS_EXPOSED_HEADERS,
          maxAge: Duration.hours(1),
        }
      : undefined;

    // Validated once here (the same parsers and rules the functions apply at cold start).
    const settings = resolveDeploySettings(props.settings);
    this.deploySettings = props.settings ?? {};
    this.originSecret = new Secret(this, originSecret.id, {
      description: 'Header value CloudFront adds to API requests; the functions refuse requests without it',
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    const routeExtras = Object.fromEntries(
      routes.map((route) => [
        route.id,
        { environment: { [originSecret.envVar]: this.originSecret.secretArn } },
      ]),
    );
    const extras: Partial<Record<RouteId | BackgroundFunctionId, FunctionExtras>> = {
      ...routeExtras,
      // One invocation per shard and minute; its servers come from the registry table, never from here.
      // No reserved concurrency: a fresh account (quota 10) refuses to go below 10 unreserved, and the
      // view's version condition already makes overlapping runs of a shard harmless.
      RunHeartbeat: {
        scheduleInputs: Array.from({ length: settings.fleetShards }, (_, shard) => ({ shard })),
      },
    };
    this.extras = new Map(Object.entries(extras));
    this.privateFleet =
      props.privateFleet && new PrivateFleetNetwork(this, 'PrivateFleet', props.privateFleet);

    for (const route of routes) {
      this.addRoute(route);
    }
    for (const definition of backgroundFunctions) {
      this.addBackgroundFunction(definition);
    }

    const region = this.region;
    this.web = new WebHosting(this, 'Web', {
      site: webClientSource(this.projectRoot),
      publicConfig: {
        region,
        userPoolId: props.userPool.userPoolId,
        userPoolClientId: props.userPoolClient.userPoolClientId,
        cognitoEndpoint: `https://cognito-idp.${region}.amazonaws.com/`,
      },
      api: routes.flatMap((route) =>
        routePaths(route).map((pathPattern) => ({
          pathPattern,
          functionUrl: this.functionUrl(route.id),
          streaming: route.streaming,
        })),
      ),
      // A dynamic reference: CloudFormation resolves it at deploy time, the template holds no secret.
      originHeaders: {
        [originSecret.header]: SecretValue.secretsManager(this.originSecret.secretArn, {
          ...(props.originSecretVersionId ? { versionId: props.originSecretVersionId } : {}),
        }).unsafeUnwrap(),
      },
      webAclArn: props.webAclArn ?? new EdgeFirewall(this, 'Firewall', props.firewall).webAclArn,
    });

    this.observability = new Observability(this, 'Observability', {
      namespace: METRICS_NAMESPACE,
      service: SERVICE_NAME,
      chatFunction: this.fn('PostChat'),
      heartbeatFunction: this.fn('RunHeartbeat'),
      functions: this.functions,
      tables: props.tables,
      turnWritesQueue: props.turnWritesQueue,
      turnWritesDlq: props.turnWritesDlq,
      alarmTopic: props.alarmTopic,
      otherAlarms: props.otherAlarms,
      shedFreeAt: settings.shedFreeAt,
      saturatedAt: settings.saturatedAt,
      heartbeatIntervalSeconds: settings.heartbeatIntervalSeconds,
      functionUrlIds: [...this.functionUrls.keys()],
      distributionId: this.web.distribution.distributionId,
    });

    // cfn-lint 1.51's schema predates Tags on AWS::CloudWatch::Dashboard (CloudFormation takes them): that
    // one false positive is ignored on this resource only (.cfnlintrc.yaml keeps E3002 on elsewhere).
    const dashboard = this.observability.dashboard.node.defaultChild;
    if (dashboard instanceof CfnResource) {
      dashboard.addMetadata('cfn-lint', { config: { ignore_checks: ['E3002'] } });
    }

    new CfnOutput(this, 'SiteUrl', {
      value: this.web.url,
      description: 'The web client and the API (same origin)',
    });
    new CfnOutput(this, 'DashboardUrl', { value: dashboardUrl(this.observability.dashboard) });
    new CfnOutput(this, 'UserPoolId', { value: props.userPool.userPoolId });
    new CfnOutput(this, 'UserPoolClientId', { value: props.userPoolClient.userPoolClientId });
    new CfnOutput(this, 'Region', { value: this.region });
  }

  /**
   * A function with the app's defaults, the tables/queues its definition lists bound, and the extra
   * settings this stack keeps for its id (environment, reserved concurrency).
   */
  public addFunction(definition: FunctionDefinition): AppFunction {
    if (this.functions.has(definition.id)) {
      throw new Error(`Function ${definition.id} is defined twice`);
    }
    const extras = this.extras.get(definition.id) ?? {};
    const fn = new AppFunction(this, definition.id, {
      projectRoot: this.projectRoot,
      entry: definition.entry,
      timeout: Duration.seconds(definition.timeoutSeconds),
      memorySize: definition.memoryMb,
      serviceName: SERVICE_NAME,
      metricsNamespace: METRICS_NAMESPACE,
      logLevel: this.logLevel,
      // The settings table decides which deploy-time settings each function reads (the heartbeat and the
      // chat function share the fleet thresholds); a function not in the table gets none.
      environment: {
        ...this.baseEnvironment,
        ...(isFunctionId(definition.id) ? settingsEnvironment(definition.id, this.deploySettings) : {}),
        ...extras.environment,
      },
      reservedConcurrentExecutions: extras.reservedConcurrentExecutions,
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
    if (definition.stopInboxes) {
      // Queue names are at most 80 characters: the prefix leaves room for the 26-character ulid.
      fn.bindStopInboxes(`${this.stackName.slice(0, 40)}-stop-`, definition.stopInboxes);
    }
    if (definition.reachesFleet) this.privateFleet?.attach(fn);
    this.functions.set(definition.id, fn);
    return fn;
  }

  /**
   * An HTTP route: the function plus its Function URL, reached through the distribution (no output:
   * SiteUrl is the way in, behind the web ACL).
   */
  public addRoute(route: RouteDefinition): AppFunction {
    const fn = this.addFunction(route);
    this.originSecret.grantRead(fn);
    const url = fn.addFunctionUrl({
      // NONE: the browser sends `Authorization: Bearer <Cognito ID token>`, which AWS_IAM auth cannot
      // accept (it expects SigV4; see functions/http/origin-guard.ts for why not OAC). The handler first
      // requires the origin secret CloudFront adds, then verifies the JWT (issuer and audience).
      authType: FunctionUrlAuthType.NONE,
      invokeMode: route.streaming ? InvokeMode.RESPONSE_STREAM : InvokeMode.BUFFERED,
      cors: this.cors && {
        ...this.cors,
        allowedMethods: routeMethods(route).map((method) => HttpMethod[method]),
      },
    });
    this.functionUrls.set(route.id, url);
    return fn;
  }

  /** A function triggered as its definition says: a schedule, or a queue with the definition's batch size. */
  public addBackgroundFunction(definition: BackgroundFunctionDefinition): AppFunction {
    const { trigger } = definition;
    switch (trigger.kind) {
      case 'schedule':
        return this.addScheduledFunction(
          definition,
          Schedule.rate(Duration.minutes(trigger.everyMinutes)),
          this.extras.get(definition.id)?.scheduleInputs,
        );
      case 'queue': {
        const queue = queues.find((candidate) => candidate.id === trigger.queue);
        if (!queue) throw new Error(`${definition.id}: no queue ${trigger.queue}`);
        if (queue.visibilityTimeoutSeconds < VISIBILITY_TIMEOUT_FACTOR * definition.timeoutSeconds) {
          throw new Error(
            `${definition.id}: ${queue.id}'s visibility timeout (${queue.visibilityTimeoutSeconds} s) must be ` +
              `at least ${VISIBILITY_TIMEOUT_FACTOR} × the consumer's timeout (${definition.timeoutSeconds} s)`,
          );
        }
        return this.addQueueConsumer(definition, this.queueResources[trigger.queue], {
          batchSize: trigger.batchSize,
        });
      }
    }
  }

  /**
   * A function run by an EventBridge rule (EventBridge fires at most once a minute, asynchronously).
   * A run that could not start within a minute (throttled: Lambda would otherwise retry it for up to
   * 6 h) is dropped, and a failed run is not retried: the next scheduled run supersedes both instead of
   * piling up behind them. With `inputs`, each is one target (one invocation per tick), five to a rule.
   */
  public addScheduledFunction(
    definition: FunctionDefinition,
    schedule: Schedule,
    inputs?: readonly Readonly<Record<string, unknown>>[],
  ): AppFunction {
    const fn = this.addFunction(definition);
    if (!inputs) {
      new Rule(this, `${definition.id}Schedule`, { schedule, targets: [new LambdaFunction(fn)] });
    } else {
      for (let first = 0; first < inputs.length; first += TARGETS_PER_RULE) {
        const targets = inputs
          .slice(first, first + TARGETS_PER_RULE)
          .map((input) => new LambdaFunction(fn, { event: RuleTargetInput.fromObject(input) }));
        const suffix = first === 0 ? '' : String(first / TARGETS_PER_RULE);
        new Rule(this, `${definition.id}Schedule${suffix}`, { schedule, targets });
      }
    }
    fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
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

  private fn(id: RouteId | BackgroundFunctionId): AppFunction {
    const found = this.functions.get(id);
    if (!found) throw new Error(`No function ${id}`);
    return found;
  }

  private functionUrl(id: RouteId): FunctionUrl {
    const found = this.functionUrls.get(id);
    if (!found) throw new Error(`No Function URL for ${id}`);
    return found;
  }
}
