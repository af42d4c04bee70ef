/** The stateless stack's props and the constants its tests hold it to (lib/stateless-stack.ts). */

import type { StackProps } from 'aws-cdk-lib';
import type { IAlarm } from 'aws-cdk-lib/aws-cloudwatch';
import type { IUserPool, IUserPoolClient } from 'aws-cdk-lib/aws-cognito';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { RATE_LIMIT_HEADERS } from '../contract/errors';
import type { DeploySettings } from '../settings/environment';
import type { LogLevel } from './constructs/app-function';
import type { EdgeFirewallProps } from './constructs/edge-firewall';
import type { PrivateFleetProps } from './constructs/private-fleet-network';
import type { RouteDefinition } from './resources';
import type { TableId } from './stateful-stack';

/** What any function needs besides its code: the shape shared by routes, schedules and consumers. */
export type FunctionDefinition = Pick<
  RouteDefinition,
  'id' | 'entry' | 'timeoutSeconds' | 'memoryMb' | 'tables' | 'queues' | 'stopInboxes' | 'reachesFleet'
>;

export interface StatelessStackProps extends StackProps {
  readonly tables: Readonly<Record<TableId, ITable>>;
  readonly turnWritesQueue: IQueue;
  readonly turnWritesDlq: IQueue;
  readonly userPool: IUserPool;
  readonly userPoolClient: IUserPoolClient;
  /** Every alarm publishes here (created in the stateful stack, so email subscriptions survive). */
  readonly alarmTopic: ITopic;
  /** Alarms of other stacks to show on the dashboard (e.g. the DLQ alarm). */
  readonly otherAlarms?: readonly IAlarm[];
  /**
   * Deploy-time settings (fleet thresholds, shard count) by settings-table key.
   * @default each entry's deploy default in settings/settings.ts
   */
  readonly settings?: DeploySettings;
  /**
   * Origins allowed by the Function URLs' CORS, for pages served from elsewhere than the distribution.
   * @default none: no CORS configuration, so browsers reach the API only through the distribution.
   */
  readonly allowedOrigins?: readonly string[];
  /** @default 'INFO' */
  readonly logLevel?: LogLevel;
  /** The fleet's subnets, security groups, API key and endpoints (CDK context). @default a public fleet, no key */
  readonly privateFleet?: PrivateFleetProps;
  /**
   * The origin secret's version CloudFront sends (README "Runbook": rotating the origin secret).
   * @default the version current at deploy time
   */
  readonly originSecretVersionId?: string;
  /**
   * The distribution's CLOUDFRONT-scoped web ACL (from the us-east-1 ChatEdge stack, or an existing one).
   * @default an EdgeFirewall in this stack, which then must deploy to us-east-1 (or be region-agnostic).
   */
  readonly webAclArn?: string;
  /** The rate limit of the EdgeFirewall created here (when no webAclArn is given). */
  readonly firewall?: EdgeFirewallProps;
  /**
   * Where entries, package-lock.json and the web client are found. @default the repository root.
   * Tests point it at a directory of stub handlers so they do not depend on the real ones.
   */
  readonly projectRoot?: string;
}

/** EventBridge allows at most 5 targets per rule: the heartbeat's shards are spread over several rules. */
export const TARGETS_PER_RULE = 5;

/** AWS guidance for SQS event sources: the queue's visibility timeout ≥ 6 × the consumer's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Request headers the browser sends; response headers it must be able to read. */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'idempotency-key',
  'x-retry-attempt',
  'x-conversation-id',
  // The official OpenAI SDKs send these on /v1 from a browser too (dangerouslyAllowBrowser): a preflight
  // that refused them would refuse the client.
  ...['arch', 'lang', 'os', 'package-version', 'retry-count', 'runtime', 'runtime-version', 'timeout'].map(
    (name) => `x-stainless-${name}`,
  ),
];
export const CORS_EXPOSED_HEADERS = [
  'x-message-id',
  'retry-after',
  // POST /chat's quota (contract/errors.ts RATE_LIMIT_HEADERS): the client shows what is left.
  ...Object.values(RATE_LIMIT_HEADERS),
];
