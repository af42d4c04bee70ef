/**
 * Local DynamoDB: dynalite in this process, on loopback, plus table creation from the one
 * definition in lib/resources.ts (local table name = the definition's `id`).
 * dynalite lacks transactions, TTL and ReturnValuesOnConditionCheckFailure: see the shared engineering notes, "Emulators".
 */
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  type KeySchemaElement,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { type TableDefinition, tables } from '../../lib/resources';

export interface StartDynamoDbOptions {
  /** Directory for the LevelDB store; data survives restarts. In memory when absent. */
  readonly path?: string;
  readonly host?: string;
  /** 0 picks a free port. */
  readonly port?: number;
}

export interface LocalDynamoDb {
  /** e.g. http://127.0.0.1:54321 — give it to clients as AWS_ENDPOINT_URL_DYNAMODB or `endpoint`. */
  readonly endpoint: string;
  /** Stops the server and closes the store (required before reopening the same path). */
  close(): Promise<void>;
}

export async function startDynamoDb(options: StartDynamoDbOptions = {}): Promise<LocalDynamoDb> {
  const { path, host = '127.0.0.1', port = 0 } = options;
  if (path !== undefined) await mkdir(path, { recursive: true });
  const server = dynalite(path === undefined ? { createTableMs: 0 } : { createTableMs: 0, path });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostPart = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://${hostPart}:${address.port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error?: Error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets of SDK clients would otherwise hold close() open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A client for a local endpoint: fixed region and dummy credentials (dynalite checks neither). */
export function createLocalDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

const ACTIVE_TIMEOUT_MS = 30_000;

/**
 * Creates each table that is missing (PAY_PER_REQUEST, key schema, GSIs projecting ALL) and waits
 * until every table and index is ACTIVE. Idempotent: existing tables are kept, after checking that
 * their keys and indexes still match the definition (a mismatch throws, naming the table).
 * TTL is not configured: dynalite has no UpdateTimeToLive; readers filter expired items themselves.
 */
export async function ensureTables(
  client: DynamoDBClient,
  definitions: readonly TableDefinition[] = tables,
): Promise<void> {
  for (const definition of definitions) {
    const existing = await describe(client, definition.id);
    if (existing) {
      assertMatches(definition, existing);
    } else {
      try {
        await client.send(new CreateTableCommand(createTableInput(definition)));
      } catch (error) {
        // Another process created it between our describe and create.
        if (!(error instanceof Error && error.name === 'ResourceInUseException')) throw error;
      }
    }
    await waitUntilActive(client, definition.id);
  }
}

function keySchema(partitionKey: { name: string }, sortKey?: { name: string }): KeySchemaElement[] {
  const schema: KeySchemaElement[] = [{ AttributeName: partitionKey.name, KeyType: 'HASH' }];
  if (sortKey) schema.push({ AttributeName: sortKey.name, KeyType: 'RANGE' });
  return schema;
}

function createTableInput(definition: TableDefinition) {
  const attributes = new Map<string, AttributeDefinition>();
  const addAttribute = (key?: { name: string; type: 'S' | 'N' }) => {
    if (key) attributes.set(key.name, { AttributeName: key.name, AttributeType: key.type });
  };
  addAttribute(definition.partitionKey);
  addAttribute(definition.sortKey);
  for (const index of definition.globalSecondaryIndexes) {
    addAttribute(index.partitionKey);
    addAttribute(index.sortKey);
  }
  return {
    TableName: definition.id,
    BillingMode: 'PAY_PER_REQUEST' as const,
    AttributeDefinitions: [...attributes.values()],
    KeySchema: keySchema(definition.partitionKey, definition.sortKey),
    ...(definition.globalSecondaryIndexes.length > 0
      ? {
          GlobalSecondaryIndexes: definition.globalSecondaryIndexes.map((index) => ({
            IndexName: index.indexName,
            KeySchema: keySchema(index.partitionKey, index.sortKey),
            Projection: { ProjectionType: index.projection },
          })),
        }
      : {}),
  };
}

async function describe(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    const output = await client.send(new DescribeTableCommand({ TableName: tableName }));
    return output.Table;
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

const schemaText = (schema: readonly KeySchemaElement[] | undefined) =>
  (schema ?? []).map((element) => `${element.AttributeName}:${element.KeyType}`).join(',');

function assertMatches(definition: TableDefinition, table: TableDescription): void {
  const problems: string[] = [];
  const wantKeys = schemaText(keySchema(definition.partitionKey, definition.sortKey));
  const haveKeys = schemaText(table.KeySchema);
  if (wantKeys !== haveKeys) problems.push(`key schema is ${haveKeys}, expected ${wantKeys}`);
  const haveIndexes = new Map(
    (table.GlobalSecondaryIndexes ?? []).map((index) => [index.IndexName, schemaText(index.KeySchema)]),
  );
  for (const index of definition.globalSecondaryIndexes) {
    const want = schemaText(keySchema(index.partitionKey, index.sortKey));
    const have = haveIndexes.get(index.indexName);
    if (have !== want) problems.push(`index ${index.indexName} is ${have ?? 'missing'}, expected ${want}`);
  }
  if (problems.length > 0) {
    throw new Error(
      `Local table ${definition.id} does not match lib/resources.ts (${problems.join('; ')}). ` +
        'Delete the local data directory to recreate it.',
    );
  }
}

async function waitUntilActive(client: DynamoDBClient, tableName: string): Promise<void> {
  const deadline = Date.now() + ACTIVE_TIMEOUT_MS;
  for (;;) {
    const table = await describe(client, tableName);
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    if (table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() > deadline) {
      throw new Error(`Table ${tableName} not ACTIVE after ${ACTIVE_TIMEOUT_MS} ms`);
    }
    await sleep(20);
  }
}
