/**
 * The settings the stacks wire rather than tune: resource names, the issuer, the service name. Part of the
 * one settings table (settings/settings.ts), kept apart so each file stays readable.
 */
import {
  chatTable,
  fleetTable,
  originSecret,
  serverRegistryTable,
  stopInboxes,
  turnWritesQueue,
} from '../lib/resources';
import { CHAT_READERS, type FunctionId, type SettingsTable } from './definition';
import { text } from './parsers';

export const DEFAULT_SERVICE_NAME = 'chat';
export const DEFAULT_METRICS_NAMESPACE = 'ChatApp';

type DeploymentKey =
  | 'chatTableName'
  | 'fleetTableName'
  | 'serverRegistryTableName'
  | 'turnWritesQueueUrl'
  | 'stopInboxPrefix'
  | 'userPoolIssuer'
  | 'userPoolClientId'
  | 'originSecretId'
  | 'serviceName'
  | 'metricsNamespace'
  | 'inferenceApiKeySecretId';

export function deploymentSettings(readers: {
  readonly fleet: readonly FunctionId[];
  readonly http: readonly FunctionId[];
  readonly all: readonly FunctionId[];
}): Pick<SettingsTable, DeploymentKey> {
  const FLEET_READERS = readers.fleet;
  const HTTP_READERS = readers.http;
  const ALL_FUNCTIONS = readers.all;
  return {
    chatTableName: {
      variable: chatTable.envVar,
      parse: text,
      doc: 'the chat table (`bindTable`)',
      readBy: [
        ...CHAT_READERS,
        'ListModels',
        'ManageKeys',
        'GetHistory',
        'ListConversations',
        'EditConversation',
        'ExportHistory',
        'PostStore',
        'PostStop',
        'PersistTurns',
        'SweepTurns',
      ],
      kind: 'deployment',
    },
    fleetTableName: {
      variable: fleetTable.envVar,
      parse: text,
      doc: 'the fleet views table (`bindTable`)',
      readBy: FLEET_READERS,
      kind: 'deployment',
    },
    serverRegistryTableName: {
      variable: serverRegistryTable.envVar,
      parse: text,
      doc: 'the server registry (`bindTable`; also `npm run fleet`)',
      readBy: ['RunHeartbeat'],
      kind: 'deployment',
    },
    turnWritesQueueUrl: {
      variable: turnWritesQueue.envVar,
      parse: text,
      doc: 'the durable buffer for turn writes and erase jobs (`bindQueue`)',
      readBy: [...CHAT_READERS, 'PostStore', 'GetHistory', 'EditConversation', 'PersistTurns'],
      kind: 'deployment',
    },
    stopInboxPrefix: {
      variable: stopInboxes.envVar,
      parse: text,
      doc: 'name prefix of the per-container stop inboxes (SQS queues the chat function creates)',
      readBy: [...CHAT_READERS, 'PostStop', 'SweepTurns'],
      kind: 'deployment',
    },
    userPoolIssuer: {
      variable: 'USER_POOL_ISSUER',
      parse: text,
      doc: 'the Cognito issuer ID tokens must carry',
      readBy: HTTP_READERS,
      kind: 'deployment',
    },
    userPoolClientId: {
      variable: 'USER_POOL_CLIENT_ID',
      parse: text,
      doc: 'the app client ID tokens must be issued to',
      readBy: HTTP_READERS,
      kind: 'deployment',
    },
    originSecretId: {
      variable: originSecret.envVar,
      parse: text,
      doc: 'Secrets Manager id of the header value CloudFront adds; a request without it is refused with 403',
      readBy: HTTP_READERS,
      kind: 'deployment',
    },
    serviceName: {
      variable: 'POWERTOOLS_SERVICE_NAME',
      parse: text,
      default: DEFAULT_SERVICE_NAME,
      doc: 'service name on every log line and metric',
      readBy: ALL_FUNCTIONS,
      kind: 'deployment',
    },
    metricsNamespace: {
      variable: 'POWERTOOLS_METRICS_NAMESPACE',
      parse: text,
      default: DEFAULT_METRICS_NAMESPACE,
      doc: 'CloudWatch namespace of the app’s metrics',
      readBy: ALL_FUNCTIONS,
      kind: 'deployment',
    },
    inferenceApiKeySecretId: {
      variable: 'INFERENCE_API_KEY_SECRET_ID',
      parse: text,
      default: '',
      defaultText: 'none',
      doc: 'Secrets Manager secret (ARN or name) holding the fleet’s bearer key (vLLM `--api-key`), sent on every request and `/metrics` scrape; unset: no key. CDK sets it from context `inferenceApiKeySecretArn`',
      readBy: FLEET_READERS,
      kind: 'deployment',
    },
  };
}
