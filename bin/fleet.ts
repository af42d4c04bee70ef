/**
 * `npm run fleet -- <command>`: adds, drains and removes inference servers in the server registry
 * (adapters/dynamodb/server-registry.ts). The heartbeat reads the registry every couple of seconds, so a
 * change takes effect without a deploy.
 *
 * Which registry:
 * - On AWS: `--table <name>` or SERVER_REGISTRY_TABLE_NAME, with the default AWS credential and region
 *   chain (AWS_PROFILE, AWS_REGION, SSO, instance roles…). The name is the `ServerRegistryTableName`
 *   output of the stateful stack:
 *     aws cloudformation describe-stacks --stack-name ChatStateful \
 *       --query "Stacks[0].Outputs[?OutputKey=='ServerRegistryTableName'].OutputValue" --output text
 *   The caller needs dynamodb:Query, PutItem, UpdateItem and DeleteItem on that table.
 * - Locally (neither given): the running `npm start`, found through `<DATA_DIR>/stack.json` (DATA_DIR as
 *   for `npm start`, default .data), which the local stack writes once it serves and removes on stop.
 *
 * Exit codes: 0 done, 1 failed (unknown server, no stack, AWS error), 2 bad usage.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDocumentClient, requestHandlerOptions } from '../adapters/dynamodb/clients';
import { DynamoDbServerRegistry, type MalformedRegistryItem } from '../adapters/dynamodb/server-registry';
import { bucketOf } from '../domain/fleet-shards';
import type { RegisteredServer } from '../domain/ports';
import {
  InvalidServerRegistration,
  MAX_SERVER_CAPACITY,
  parseServerId,
  parseServerRegistration,
} from '../domain/server-registration';
import { serverRegistryTable } from '../lib/resources';
import { stringFromEnv } from '../local/env';
import { SIMULATED_SERVER_ID } from '../local/registry-seed';
import { isProcessAlive, readStackFile, stackFilePath } from '../local/stack-file';

const USAGE = `Usage: npm run fleet -- <command> [--table <name>]

Commands:
  add <id> <url> <capacity>  register a server, or replace the one with this id (it becomes active)
  drain <id>                 send it no new prompt; its streams finish; the heartbeat keeps scraping it
  undrain <id>               make a draining server active again
  remove <id>                delete it from the registry (drain it first and wait for its streams)
  list [--json]              every registered server: id, url, capacity, status, bucket

  id        letters, digits, '_', '.', '-' (at most 128 characters), e.g. gpu-7
  url       the server's base URL, http(s)://host:port[/path] (the OpenAI API is at <url>/v1)
  capacity  concurrent sequences within the first-token objective (batch slots plus a short
            queue), an integer from 1 to ${MAX_SERVER_CAPACITY}

Options:
  --table <name>  the registry table on AWS (default: $SERVER_REGISTRY_TABLE_NAME; the stateful stack's
                  ServerRegistryTableName output), with the default AWS credentials and region
  -h, --help      this text

Without a table name it uses the local stack that \`npm start\` runs, found in $DATA_DIR/stack.json
(DATA_DIR defaults to .data).`;

/** Bad usage: exit code 2. */
class UsageError extends Error {}
/** The command could not be done: exit code 1. */
class Failure extends Error {}

interface Registry {
  readonly registry: DynamoDbServerRegistry;
  /** For messages: "table X in eu-west-1", or "the local stack's table X (endpoint, data in …)". */
  readonly where: string;
  readonly local: boolean;
  readonly endpoint: string | undefined;
  readonly malformed: MalformedRegistryItem[];
  close(): void;
}

// A registry call answers in milliseconds; over the internet to AWS allow more than inside a Lambda.
const TIMEOUTS = { connectTimeoutMs: 3_000, requestTimeoutMs: 10_000 };
const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

async function openRegistry(table: string | undefined, env: NodeJS.ProcessEnv): Promise<Registry> {
  const malformed: MalformedRegistryItem[] = [];
  const open = (client: DynamoDBClient, name: string, where: string, local: boolean, endpoint?: string) => ({
    registry: new DynamoDbServerRegistry(createDocumentClient(client), name, {
      onMalformedItem: (item) => malformed.push(item),
    }),
    where,
    local,
    endpoint,
    malformed,
    close: () => client.destroy(),
  });
  const requestHandler = requestHandlerOptions(TIMEOUTS);
  const awsTable = table ?? (env[serverRegistryTable.envVar]?.trim() || undefined);
  if (awsTable !== undefined) {
    const client = new DynamoDBClient({ requestHandler });
    const region = await client.config.region().catch(() => undefined);
    if (!region) {
      client.destroy();
      throw new Failure('No AWS region: set AWS_REGION, or AWS_PROFILE with a region in ~/.aws/config.');
    }
    return open(client, awsTable, `table ${awsTable} in ${region}`, false, env.AWS_ENDPOINT_URL_DYNAMODB);
  }

  const dataDir = resolve(stringFromEnv(env, 'DATA_DIR', '.data'));
  const path = stackFilePath(dataDir);
  const stack = await readStackFile(dataDir).catch((error: unknown) => {
    throw new Failure(error instanceof Error ? error.message : String(error));
  });
  const start = `Start it with \`npm start\`${env.DATA_DIR ? ` (DATA_DIR=${env.DATA_DIR})` : ''} and retry`;
  const orAws = `for the registry on AWS, set ${serverRegistryTable.envVar} or pass --table`;
  if (stack === undefined) {
    if (existsSync(join(dataDir, 'dynamodb'))) {
      throw new Failure(
        `The local stack is not running: ${path} is missing, though ${join(dataDir, 'dynamodb')} holds its data. ${start}; ${orAws}.`,
      );
    }
    throw new Failure(`No local stack in ${dataDir} (no ${path}) and no table named. ${start}, or ${orAws}.`);
  }
  if (!isProcessAlive(stack.pid)) {
    throw new Failure(
      `The local stack is not running: ${path} names process ${stack.pid}, which has exited (killed?). ${start}.`,
    );
  }
  const name = stack.tables[serverRegistryTable.envVar];
  if (name === undefined) {
    throw new Failure(
      `${path} names no ${serverRegistryTable.envVar}: restart the local stack to create it.`,
    );
  }
  const client = new DynamoDBClient({
    endpoint: stack.dynamoEndpoint,
    region: stack.region,
    credentials: LOCAL_CREDENTIALS,
    requestHandler,
    maxAttempts: 2,
  });
  const where = `the local stack's table ${name} (${stack.dynamoEndpoint}, data in ${dataDir})`;
  return open(client, name, where, true, stack.dynamoEndpoint);
}

/** "gpu-1  http://…  16  active  12" columns, padded. */
function table(servers: readonly RegisteredServer[]): string {
  const rows = [
    ['ID', 'URL', 'CAPACITY', 'STATUS', 'BUCKET'],
    ...servers.map((s) => [s.id, s.baseUrl, String(s.capacity), s.status, String(bucketOf(s.id))]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function serverId(raw: string | undefined, command: string): string {
  if (raw === undefined)
    throw new UsageError(`${command} needs the server id: npm run fleet -- ${command} <id>`);
  try {
    return parseServerId(raw);
  } catch (error) {
    if (error instanceof InvalidServerRegistration)
      throw new UsageError(`Invalid server id "${raw}": ${error.message}.`);
    throw error;
  }
}

function expectArguments(command: string, args: readonly string[], count: number, shape: string): void {
  if (args.length !== count) {
    throw new UsageError(
      `${command} takes ${shape}, got ${args.length} argument${args.length === 1 ? '' : 's'}.`,
    );
  }
}

function validateArguments(command: string, args: readonly string[]): void {
  if (command === 'add') {
    expectArguments(command, args, 3, 'three arguments, <id> <url> <capacity>');
    parseAdd(args[0] ?? '', args[1] ?? '', args[2] ?? '');
  } else if (command === 'list') {
    expectArguments(command, args, 0, 'no argument');
  } else {
    if (args.length === 0) serverId(undefined, command);
    expectArguments(command, args, 1, 'one argument, the server id');
    serverId(args[0], command);
  }
}

/** Runs a command whose arguments validateArguments accepted; returns what to print. */
async function run(command: string, args: string[], registry: Registry, json: boolean): Promise<string> {
  const unknown = (id: string) =>
    new Failure(
      `No server "${id}" in ${registry.where}. \`npm run fleet -- list\` shows the registered ones.`,
    );
  switch (command) {
    case 'add': {
      const [id = '', url = '', capacity = ''] = args;
      const server = { ...parseAdd(id, url, capacity), status: 'active' as const };
      const all = await registry.registry.listAll();
      const sameUrl = all.find((other) => other.baseUrl === server.baseUrl && other.id !== server.id);
      if (sameUrl) {
        throw new Failure(
          `${sameUrl.id} is already registered with ${server.baseUrl} (its capacity would count twice): remove it first, or use that id.`,
        );
      }
      const before = all.find((other) => other.id === server.id);
      await registry.registry.put(server);
      const was = before ? ` (was ${before.baseUrl}, capacity ${before.capacity}, ${before.status})` : '';
      const note =
        registry.local && SIMULATED_SERVER_ID.test(server.id)
          ? `\nNote: gpu-<n> ids belong to the local simulated fleet; the next \`npm start\` replaces or removes this entry. Use another id for a server of your own.`
          : '';
      return `${before ? 'Replaced' : 'Registered'} ${server.id}: ${server.baseUrl}, capacity ${server.capacity}, active, bucket ${bucketOf(server.id)}${was}.\nThe heartbeat scrapes it from its next registry read (within a few seconds).${note}`;
    }
    case 'drain':
    case 'undrain': {
      const id = serverId(args[0], command);
      if (!(await registry.registry.setStatus(id, command === 'drain' ? 'draining' : 'active')))
        throw unknown(id);
      return command === 'drain'
        ? `Draining ${id}: it gets no new prompt; the streams it serves finish; the heartbeat keeps scraping it.\nOnce it is idle: npm run fleet -- remove ${id}`
        : `${id} is active again: routing sends it prompts from the next heartbeat.`;
    }
    case 'remove': {
      const id = serverId(args[0], command);
      if (!(await registry.registry.remove(id))) throw unknown(id);
      return `Removed ${id}. The heartbeat stops scraping it and routing stops using it within a few seconds.`;
    }
    case 'list': {
      const servers = await registry.registry.listAll();
      if (json) return JSON.stringify(servers.map((s) => ({ ...s, bucket: bucketOf(s.id) })));
      if (servers.length === 0) return `No server registered in ${registry.where}.`;
      const draining = servers.filter((s) => s.status === 'draining').length;
      const capacity = servers.filter((s) => s.status === 'active').reduce((sum, s) => sum + s.capacity, 0);
      return `${table(servers)}\n\n${servers.length} server${servers.length === 1 ? '' : 's'} (${draining} draining), active capacity ${capacity}, in ${registry.where}.`;
    }
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

function parseAdd(id: string, url: string, capacity: string) {
  try {
    return parseServerRegistration(id, url, capacity);
  } catch (error) {
    if (error instanceof InvalidServerRegistration) throw new UsageError(`Invalid server: ${error.message}.`);
    throw error;
  }
}

/** A message an operator can act on, for an error from the SDK. */
function explain(error: unknown, registry: Registry): string {
  const name = error instanceof Error ? error.name : 'Error';
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  if (name === 'ResourceNotFoundException') {
    return registry.local
      ? `${registry.where} does not exist: restart the local stack (it creates its tables).`
      : `No ${registry.where}: check --table or ${serverRegistryTable.envVar} (the stateful stack's ServerRegistryTableName output) and AWS_REGION.`;
  }
  if (name === 'CredentialsProviderError') {
    return `No AWS credentials (${message}). Set AWS_PROFILE, run \`aws sso login\`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.`;
  }
  if (['AccessDeniedException', 'UnrecognizedClientException', 'ExpiredTokenException'].includes(name)) {
    return `AWS refused the call (${name}): ${message}`;
  }
  // Network failures carry a Node error code (ECONNREFUSED, ENOTFOUND…); SDK time-outs are TimeoutError.
  if (typeof code === 'string' || name === 'TimeoutError') {
    const reason = typeof code === 'string' ? code : 'timed out';
    const hint = registry.local ? ': is the local stack still running?' : '.';
    return `Cannot reach ${registry.endpoint ?? 'DynamoDB'} (${reason})${hint}`;
  }
  return `${name}: ${message}`;
}

async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const fail = (code: 1 | 2, message: string) => {
    process.stderr.write(code === 2 ? `${message}\n\n${USAGE}\n` : `${message}\n`);
    return code;
  };
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    return fail(2, error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals[0] === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [command, ...args] = positionals;
  if (command === undefined) return fail(2, 'No command given.');
  if (!['add', 'drain', 'undrain', 'remove', 'list'].includes(command)) {
    return fail(2, `Unknown command "${command}".`);
  }
  if (values.json && command !== 'list') return fail(2, '--json applies to list only.');
  if (values.table !== undefined && values.table.trim() === '') return fail(2, '--table needs a table name.');
  // Every usage error comes before any connection (exit 2 even with no stack running).
  try {
    validateArguments(command, args);
  } catch (error) {
    if (error instanceof UsageError) return fail(2, error.message);
    throw error;
  }

  let registry: Registry;
  try {
    registry = await openRegistry(values.table?.trim(), env);
  } catch (error) {
    if (error instanceof Failure) return fail(1, error.message);
    throw error;
  }
  try {
    const output = await run(command, args, registry, values.json === true);
    for (const item of registry.malformed) {
      process.stderr.write(
        `warning: skipped a malformed registry item in ${item.bucket}${item.id === undefined ? '' : ` (id ${JSON.stringify(item.id)})`}: ${item.reason}\n`,
      );
    }
    process.stdout.write(`${output}\n`);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) return fail(2, error.message);
    if (error instanceof Failure) return fail(1, error.message);
    return fail(1, explain(error, registry));
  } finally {
    registry.close();
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      table: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

process.exitCode = await main(process.argv.slice(2), process.env);
