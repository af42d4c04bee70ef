/**
 * The chat app's tables as CloudFormation gets them: keys, global secondary indexes with their
 * projection, table class, point-in-time recovery and TTL, read from a synth of the real StatefulStack
 * (lib/stateful-stack.ts over lib/resources.ts), so a projection or table-class change there shows up
 * in the model without touching it; also the ID tokens' lifetime (Cognito refreshes at the target). Local table names are the definitions' ids (local/emulators/).
 */
import { App, Stack } from 'aws-cdk-lib';
import type { CfnTable } from 'aws-cdk-lib/aws-dynamodb';
import { StatefulStack, type TableId } from '../../lib/stateful-stack';

export type Projection =
  | { readonly type: 'ALL' }
  | { readonly type: 'KEYS_ONLY' }
  | { readonly type: 'INCLUDE'; readonly nonKeyAttributes: readonly string[] };

export interface IndexSchema {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly projection: Projection;
}

export type TableClass = 'STANDARD' | 'STANDARD_INFREQUENT_ACCESS';

export interface TableSchema {
  /** The local table name (= the definition id). */
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly indexes: readonly IndexSchema[];
  readonly tableClass: TableClass;
  readonly pointInTimeRecovery: boolean;
  readonly timeToLiveAttribute?: string;
}

interface KeySchemaElement {
  readonly AttributeName: string;
  readonly KeyType: 'HASH' | 'RANGE';
}

interface CfnTableProperties {
  readonly KeySchema: readonly KeySchemaElement[];
  readonly GlobalSecondaryIndexes?: readonly {
    readonly IndexName: string;
    readonly KeySchema: readonly KeySchemaElement[];
    readonly Projection?: { readonly ProjectionType?: string; readonly NonKeyAttributes?: string[] };
  }[];
  readonly TableClass?: string;
  readonly PointInTimeRecoverySpecification?: { readonly PointInTimeRecoveryEnabled?: boolean };
  readonly TimeToLiveSpecification?: { readonly AttributeName?: string; readonly Enabled?: boolean };
}

function keyNames(schema: readonly KeySchemaElement[], where: string) {
  const partitionKey = schema.find((element) => element.KeyType === 'HASH')?.AttributeName;
  if (partitionKey === undefined) throw new Error(`${where} has no partition key`);
  const sortKey = schema.find((element) => element.KeyType === 'RANGE')?.AttributeName;
  return { partitionKey, ...(sortKey === undefined ? {} : { sortKey }) };
}

function projectionOf(raw: { ProjectionType?: string; NonKeyAttributes?: string[] } | undefined): Projection {
  // CloudFormation's default projection is KEYS_ONLY when none is given.
  switch (raw?.ProjectionType ?? 'KEYS_ONLY') {
    case 'ALL':
      return { type: 'ALL' };
    case 'KEYS_ONLY':
      return { type: 'KEYS_ONLY' };
    case 'INCLUDE':
      return { type: 'INCLUDE', nonKeyAttributes: raw?.NonKeyAttributes ?? [] };
    default:
      throw new Error(`Unknown projection type ${String(raw?.ProjectionType)}`);
  }
}

/** Builds a table's schema from its synthesized CloudFormation properties. */
export function schemaFromCfn(name: string, properties: CfnTableProperties): TableSchema {
  const tableClass = properties.TableClass ?? 'STANDARD';
  if (tableClass !== 'STANDARD' && tableClass !== 'STANDARD_INFREQUENT_ACCESS') {
    throw new Error(`Table ${name}: unknown table class ${tableClass}`);
  }
  const ttl = properties.TimeToLiveSpecification;
  return {
    name,
    ...keyNames(properties.KeySchema, `Table ${name}`),
    indexes: (properties.GlobalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName,
      ...keyNames(index.KeySchema, `Index ${name}.${index.IndexName}`),
      projection: projectionOf(index.Projection),
    })),
    tableClass,
    pointInTimeRecovery: properties.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true,
    ...(ttl?.Enabled && ttl.AttributeName ? { timeToLiveAttribute: ttl.AttributeName } : {}),
  };
}

export interface StatefulConfig {
  readonly tables: Readonly<Record<TableId, TableSchema>>;
  /** How long a Cognito ID token lives: each signed-in user refreshes once per this. */
  readonly idTokenValidityMinutes: number;
}

const MINUTES: Readonly<Record<string, number>> = { seconds: 1 / 60, minutes: 1, hours: 60, days: 1440 };

/** Synthesizes the real StatefulStack (no bundling: it has no functions) and reads its tables and app client. */
export function synthesizedStateful(): StatefulConfig {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new StatefulStack(app, 'CostModelStateful');
  const template = app.synth().getStackByName(stack.stackName).template as {
    Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  };
  const entries = Object.entries(stack.tables).map(([id, table]) => {
    const logicalId = Stack.of(stack).getLogicalId(table.node.defaultChild as CfnTable);
    const resource = template.Resources[logicalId];
    if (resource?.Type !== 'AWS::DynamoDB::Table') throw new Error(`No table ${logicalId} in the template`);
    return [id, schemaFromCfn(id, resource.Properties as unknown as CfnTableProperties)] as const;
  });
  const client = Object.values(template.Resources).find(
    (resource) => resource.Type === 'AWS::Cognito::UserPoolClient',
  );
  const validity = Number(client?.Properties.IdTokenValidity ?? 60);
  const units =
    (client?.Properties.TokenValidityUnits as { IdToken?: string } | undefined)?.IdToken ?? 'minutes';
  return {
    tables: Object.fromEntries(entries) as Record<TableId, TableSchema>,
    idTokenValidityMinutes: validity * (MINUTES[units] ?? 1),
  };
}
