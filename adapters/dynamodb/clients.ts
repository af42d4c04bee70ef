/**
 * DynamoDB clients, created once per container (module scope) and reused across invocations.
 * No endpoint branching here: locally, AWS_ENDPOINT_URL_DYNAMODB (or AWS_ENDPOINT_URL) points the
 * SDK at the emulator; the SDK reads it on the first request, not at construction.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { TableDefinition } from '../../lib/resources';

/** Wraps an existing client (tests, local runtime) with the app's marshalling options. */
export function createDocumentClient(client: DynamoDBClient): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true },
  });
}

/** Region, credentials and endpoint come from the environment (Lambda sets them; so does local/). */
export const dynamoDbClient: DynamoDBClient = new DynamoDBClient({});

export const documentClient: DynamoDBDocumentClient = createDocumentClient(dynamoDbClient);

/** The table name a function receives through the definition's environment variable. */
export function tableNameFromEnv(
  definition: Pick<TableDefinition, 'envVar'>,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const name = env[definition.envVar];
  if (!name) throw new Error(`Environment variable ${definition.envVar} is not set`);
  return name;
}
