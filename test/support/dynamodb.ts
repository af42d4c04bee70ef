/**
 * For integration tests: dynalite on a random loopback port with the app's tables created.
 *
 *   let db: TestDynamoDb;
 *   beforeAll(async () => { db = await startTestDynamoDb(); });
 *   afterAll(() => db.close());
 *   new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable);
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../adapters/dynamodb/clients';
import { type TableDefinition, tables } from '../../lib/resources';
import { createLocalDynamoDbClient, ensureTables, startDynamoDb } from '../../local/emulators/dynamodb';

export interface TestDynamoDb {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  readonly doc: DynamoDBDocumentClient;
  /** Local table names by definition id (they are equal: 'ChatTable' → 'ChatTable'). */
  readonly tableNames: Readonly<Record<(typeof tables)[number]['id'], string>>;
  /** Environment for code that reads table names and the endpoint from process.env. */
  readonly env: Readonly<Record<string, string>>;
  /** Destroys the client and stops dynalite. */
  close(): Promise<void>;
}

export async function startTestDynamoDb(
  options: { path?: string; definitions?: readonly TableDefinition[] } = {},
): Promise<TestDynamoDb> {
  const server = await startDynamoDb(options.path === undefined ? {} : { path: options.path });
  const client = createLocalDynamoDbClient(server.endpoint);
  try {
    await ensureTables(client, options.definitions ?? tables);
  } catch (error) {
    client.destroy();
    await server.close();
    throw error;
  }
  const tableNames = Object.fromEntries(tables.map((table) => [table.id, table.id])) as Record<
    (typeof tables)[number]['id'],
    string
  >;
  return {
    endpoint: server.endpoint,
    client,
    doc: createDocumentClient(client),
    tableNames,
    env: {
      AWS_ENDPOINT_URL_DYNAMODB: server.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ...Object.fromEntries(tables.map((table) => [table.envVar, table.id])),
    },
    async close() {
      client.destroy();
      await server.close();
    },
  };
}
