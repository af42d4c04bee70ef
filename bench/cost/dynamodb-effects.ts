/**
 * What each DynamoDB call read and wrote, seen by reading the items it touched back from the same
 * table with a separate, unmetered client: for a write the item before (awaited before the call) and
 * after it; for a GetItem the whole item (a projection does not change its cost); for a Query or Scan
 * every item it read, by re-running it without its filter and projection. Units are computed from these
 * later (dynamodb-units.ts), so the model can also price the same calls under another configuration.
 */
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  type QueryCommandInput,
  ScanCommand,
  type ScanCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { Item } from '../shared/dynamodb-size';
import { fromWire, type WireItem, wireKey } from './dynamodb-wire';
import type { DynamoDbInspector } from './sdk-meter';
import type { TableSchema } from './table-schema';

export type CallOutcome = 'applied' | 'condition_failed' | 'failed';

export type DynamoDbEffect =
  | {
      readonly kind: 'read';
      readonly operation: 'get' | 'query' | 'scan';
      readonly table: string;
      readonly index?: string;
      readonly consistent: boolean;
      /** get: the key asked for. */
      readonly key?: Item;
      /** get: the one item (undefined when missing); query/scan: every item read. */
      readonly items: readonly (Item | undefined)[];
    }
  | {
      readonly kind: 'write';
      readonly table: string;
      readonly key: Item;
      readonly before?: Item;
      readonly after?: Item;
      readonly outcome: CallOutcome;
    };

type Body = Readonly<Record<string, unknown>>;

/** The names (#n) and values (:v) an expression uses, so a re-run sends no unused ones. */
function usedIn(expression: string, map: unknown, sigil: '#' | ':'): Record<string, unknown> | undefined {
  if (typeof map !== 'object' || map === null) return undefined;
  const used = Object.entries(map).filter(([token]) => expression.includes(token) && token.startsWith(sigil));
  return used.length > 0 ? Object.fromEntries(used) : undefined;
}

function toSdk(key: WireItem): Record<string, AttributeValue> {
  for (const value of Object.values(key)) {
    if (!('S' in value) && !('N' in value)) throw new Error('Only string and number keys are modelled');
  }
  return key as unknown as Record<string, AttributeValue>;
}

export class ShadowInspector implements DynamoDbInspector {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tables: Readonly<Record<string, TableSchema>>,
  ) {}

  async begin(operation: string, body: Body) {
    switch (operation) {
      case 'GetItem':
        return this.reads([{ table: String(body.TableName), key: body.Key as WireItem, body }]);
      case 'BatchGetItem': {
        const requests = Object.entries(body.RequestItems as Record<string, Body>).flatMap(
          ([table, request]) => (request.Keys as WireItem[]).map((key) => ({ table, key, body: request })),
        );
        return this.reads(requests);
      }
      case 'Query':
      case 'Scan':
        return { after: (outcome: CallOutcome) => this.query(operation, body, outcome) };
      case 'PutItem':
        return this.writes([
          { table: String(body.TableName), key: this.keyOf(String(body.TableName), body.Item) },
        ]);
      case 'UpdateItem':
      case 'DeleteItem':
        return this.writes([{ table: String(body.TableName), key: body.Key as WireItem }]);
      case 'BatchWriteItem': {
        const writes = Object.entries(body.RequestItems as Record<string, Body[]>).flatMap(
          ([table, requests]) =>
            requests.map((request) => {
              const put = request.PutRequest as Body | undefined;
              const remove = request.DeleteRequest as Body | undefined;
              return { table, key: put ? this.keyOf(table, put.Item) : (remove?.Key as WireItem) };
            }),
        );
        return this.writes(writes);
      }
      case 'TransactWriteItems':
      case 'TransactGetItems':
      case 'ExecuteStatement':
      case 'BatchExecuteStatement':
      case 'ExecuteTransaction':
        throw new Error(`The cost model does not price ${operation} yet`);
      default:
        // Control plane (CreateTable, DescribeTable…): no items, no request units.
        return { after: async () => [] };
    }
  }

  private schema(table: string): TableSchema {
    const schema = this.tables[table];
    if (!schema) throw new Error(`No schema for table ${table}`);
    return schema;
  }

  private keyOf(table: string, item: unknown): WireItem {
    const schema = this.schema(table);
    return wireKey(item as WireItem, [schema.partitionKey, schema.sortKey]);
  }

  private async get(table: string, key: WireItem): Promise<Item | undefined> {
    const output = await this.client.send(
      new GetItemCommand({ TableName: table, Key: toSdk(key), ConsistentRead: true }),
    );
    return output.Item ? fromWire(output.Item as unknown as WireItem) : undefined;
  }

  private reads(requests: readonly { table: string; key: WireItem; body: Body }[]) {
    return {
      after: async (outcome: CallOutcome): Promise<DynamoDbEffect[]> => {
        if (outcome === 'failed') return [];
        return Promise.all(
          requests.map(async ({ table, key, body }) => ({
            kind: 'read' as const,
            operation: 'get' as const,
            table,
            consistent: body.ConsistentRead === true,
            key: fromWire(key),
            items: [await this.get(table, key)],
          })),
        );
      },
    };
  }

  private async writes(targets: readonly { table: string; key: WireItem }[]) {
    const befores = await Promise.all(targets.map(({ table, key }) => this.get(table, key)));
    return {
      after: async (outcome: CallOutcome): Promise<DynamoDbEffect[]> =>
        Promise.all(
          targets.map(async ({ table, key }, i) => {
            const before = befores[i];
            const after = outcome === 'applied' ? await this.get(table, key) : before;
            return {
              kind: 'write' as const,
              table,
              key: fromWire(key),
              ...(before ? { before } : {}),
              ...(after ? { after } : {}),
              outcome,
            };
          }),
        ),
    };
  }

  /** Re-runs a Query or Scan page without filter or projection: the items it read. */
  private async query(
    operation: 'Query' | 'Scan',
    body: Body,
    outcome: CallOutcome,
  ): Promise<DynamoDbEffect[]> {
    if (outcome === 'failed') return [];
    const table = String(body.TableName);
    const keyCondition = typeof body.KeyConditionExpression === 'string' ? body.KeyConditionExpression : '';
    const names = usedIn(keyCondition, body.ExpressionAttributeNames, '#');
    const values = usedIn(keyCondition, body.ExpressionAttributeValues, ':');
    const common = {
      TableName: table,
      ...(typeof body.IndexName === 'string' ? { IndexName: body.IndexName } : {}),
      ...(typeof body.Limit === 'number' ? { Limit: body.Limit } : {}),
      ...(body.ExclusiveStartKey ? { ExclusiveStartKey: toSdk(body.ExclusiveStartKey as WireItem) } : {}),
      ...(body.ConsistentRead === true ? { ConsistentRead: true } : {}),
      ...(names ? { ExpressionAttributeNames: names as Record<string, string> } : {}),
      ...(values ? { ExpressionAttributeValues: values as Record<string, AttributeValue> } : {}),
    };
    const output =
      operation === 'Query'
        ? await this.client.send(
            new QueryCommand({
              ...common,
              KeyConditionExpression: keyCondition,
              ...(body.ScanIndexForward === false ? { ScanIndexForward: false } : {}),
            } satisfies QueryCommandInput),
          )
        : await this.client.send(
            new ScanCommand({
              ...common,
              ...(typeof body.Segment === 'number' ? { Segment: body.Segment } : {}),
              ...(typeof body.TotalSegments === 'number' ? { TotalSegments: body.TotalSegments } : {}),
            } satisfies ScanCommandInput),
          );
    return [
      {
        kind: 'read',
        operation: operation === 'Query' ? 'query' : 'scan',
        table,
        ...(typeof body.IndexName === 'string' ? { index: body.IndexName } : {}),
        consistent: body.ConsistentRead === true,
        items: (output.Items ?? []).map((item) => fromWire(item as unknown as WireItem)),
      },
    ];
  }
}
