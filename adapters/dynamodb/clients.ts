/**
 * DynamoDB clients, created once per container (module scope) and reused across invocations.
 * No endpoint branching here: locally, AWS_ENDPOINT_URL_DYNAMODB (or AWS_ENDPOINT_URL) points the
 * SDK at the emulator; the SDK reads it on the first request, not at construction.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Wraps an existing client (tests, local runtime) with the app's marshalling options. */
export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/**
 * Time-outs that actually abort: the SDK has none by default, and its request time-out only warns unless
 * `throwOnRequestTimeout` is set. A hung call then fails fast and the SDK's retry (or the caller's
 * fallback) takes over, instead of stalling a heartbeat loop or a prompt.
 */
export interface SdkTimeouts {
  readonly connectTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Attempts including the first (the SDK's retries with backoff). */
  readonly maxAttempts?: number;
}

/** Defaults for the chat table and the heartbeat: a DynamoDB call answers in milliseconds when healthy. */
export const DEFAULT_SDK_TIMEOUTS: SdkTimeouts = { connectTimeoutMs: 1_000, requestTimeoutMs: 3_000 };

/** The `requestHandler` option of any SDK v3 client with these time-outs. */
export function requestHandlerOptions(timeouts: SdkTimeouts) {
  return {
    connectionTimeout: timeouts.connectTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
}

/** Region, credentials and endpoint come from the environment (Lambda sets them; so does local/). */
export function createDynamoDbClient(timeouts: SdkTimeouts = DEFAULT_SDK_TIMEOUTS): DynamoDBClient {
  return new DynamoDBClient({
    requestHandler: requestHandlerOptions(timeouts),
    ...(timeouts.maxAttempts === undefined ? {} : { maxAttempts: timeouts.maxAttempts }),
  });
}

const dynamoDbClient: DynamoDBClient = createDynamoDbClient();

export const documentClient: DynamoDBDocumentClient = createDocumentClient(dynamoDbClient);
