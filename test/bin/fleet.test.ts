/**
 * `npm run fleet` (bin/fleet.ts) as an operator runs it: a child process, against dynalite, finding the
 * "local stack" through a stack.json written into a temporary DATA_DIR (or, for the AWS path, through
 * SERVER_REGISTRY_TABLE_NAME and the SDK's default chain pointed at dynalite).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketKey } from '../../adapters/dynamodb/registry-items';
import { DynamoDbServerRegistry } from '../../adapters/dynamodb/server-registry';
import { bucketOf } from '../../domain/fleet-shards';
import { serverRegistryTable } from '../../lib/resources';
import { writeStackFile } from '../../local/stack-file';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb';
import { type FleetCliRun, runFleetCli } from '../support/fleet-cli';

let db: TestDynamoDb;
let root: string;
/** A DATA_DIR whose stack.json points at dynalite and names this (living) test process. */
let dataDir: string;
const TABLE = serverRegistryTable.id;

beforeAll(async () => {
  db = await startTestDynamoDb();
  root = await mkdtemp(join(tmpdir(), 'fleet-cli-'));
  dataDir = join(root, 'running');
  await mkdir(dataDir);
  await writeStackFile(dataDir, {
    dynamoEndpoint: db.endpoint,
    region: 'us-east-1',
    tables: { [serverRegistryTable.envVar]: TABLE },
    pid: process.pid,
    url: 'http://127.0.0.1:1',
    startedAt: Date.now(),
  });
});

afterAll(async () => {
  await db?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** The CLI against the running "local stack" of `dataDir`, with no AWS configuration of the machine's. */
function fleet(args: readonly string[], env: Record<string, string> = {}): Promise<FleetCliRun> {
  return runFleetCli(args, {
    DATA_DIR: dataDir,
    AWS_CONFIG_FILE: join(root, 'no-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(root, 'no-credentials'),
    ...env,
  });
}

const registry = () => new DynamoDbServerRegistry(db.doc, TABLE);

describe('npm run fleet', () => {
  it('adds, lists, drains, undrains and removes a server in the local stack', async () => {
    // Act
    const add = await fleet(['add', 'cli-1', 'http://10.1.0.1:8000/', '16']);
    const list = await fleet(['list']);
    const drain = await fleet(['drain', 'cli-1']);
    const drained = await fleet(['list', '--json']);
    const undrain = await fleet(['undrain', 'cli-1']);
    const stored = await registry().listAll();
    const remove = await fleet(['remove', 'cli-1']);
    const removedTwice = await fleet(['remove', 'cli-1']);

    // Assess
    expect(add).toMatchObject({ code: 0, stderr: '' });
    expect(add.stdout).toContain(
      `Registered cli-1: http://10.1.0.1:8000, capacity 16, active, bucket ${bucketOf('cli-1')}.`,
    );
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^ID\s+URL\s+CAPACITY\s+STATUS\s+BUCKET$/m);
    expect(list.stdout).toMatch(
      new RegExp(`^cli-1\\s+http://10\\.1\\.0\\.1:8000\\s+16\\s+active\\s+${bucketOf('cli-1')}$`, 'm'),
    );
    expect(list.stdout).toContain("1 server (0 draining), active capacity 16, in the local stack's table");
    expect(drain).toMatchObject({ code: 0 });
    expect(drain.stdout).toContain('Draining cli-1');
    expect(JSON.parse(drained.stdout)).toEqual([
      {
        id: 'cli-1',
        baseUrl: 'http://10.1.0.1:8000',
        capacity: 16,
        status: 'draining',
        bucket: bucketOf('cli-1'),
      },
    ]);
    expect(undrain).toMatchObject({ code: 0 });
    expect(stored).toEqual([
      { id: 'cli-1', baseUrl: 'http://10.1.0.1:8000', capacity: 16, status: 'active' },
    ]);
    expect(remove).toMatchObject({ code: 0 });
    expect(remove.stdout).toContain('Removed cli-1.');
    expect(removedTwice.code).toBe(1);
    expect(removedTwice.stderr).toContain(
      'No server "cli-1" in the local stack\'s table ServerRegistryTable',
    );
    expect(await registry().listAll()).toEqual([]);
  });

  it('replaces a server added again, and refuses a second id for a URL already registered', async () => {
    // Prepare
    await fleet(['add', 'cli-2', 'http://10.1.0.2:8000', '8']);
    await fleet(['drain', 'cli-2']);

    // Act
    const replace = await fleet(['add', 'cli-2', 'http://10.1.0.2:8000', '12']);
    const duplicate = await fleet(['add', 'cli-3', 'http://10.1.0.2:8000/', '12']);

    // Assess
    expect(replace.code).toBe(0);
    expect(replace.stdout).toContain('Replaced cli-2: http://10.1.0.2:8000, capacity 12, active');
    expect(replace.stdout).toContain('(was http://10.1.0.2:8000, capacity 8, draining)');
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toContain('cli-2 is already registered with http://10.1.0.2:8000');
    expect((await registry().listAll()).map((s) => [s.id, s.capacity])).toEqual([['cli-2', 12]]);
    await registry().remove('cli-2');
  });

  it('fails with exit code 1 on an id it does not hold', async () => {
    // Act
    const runs = await Promise.all([
      fleet(['drain', 'nope']),
      fleet(['undrain', 'nope']),
      fleet(['remove', 'nope']),
    ]);

    // Assess
    for (const run of runs) {
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(
        /^No server "nope" in the local stack's table ServerRegistryTable .*npm run fleet -- list/,
      );
    }
  });

  it.each([
    [[], /^No command given\./],
    [['frob'], /^Unknown command "frob"\./],
    [['add', 'x', 'http://h:1'], /^add takes three arguments, <id> <url> <capacity>, got 2 arguments\./],
    [['add', 'x', 'ftp://h:1', '3'], /^Invalid server: the URL must be http\(s\)\./],
    [['add', 'x', 'http://h:1', '0'], /^Invalid server: the capacity must be an integer >= 1 and <= 10000\./],
    [['add', 'x y', 'http://h:1', '3'], /^Invalid server: the id may hold only letters/],
    [['drain'], /^drain needs the server id: npm run fleet -- drain <id>/],
    [['remove', 'a', 'b'], /^remove takes one argument, the server id, got 2 arguments\./],
    [['undrain', 'a/b'], /^Invalid server id "a\/b": the id may hold only letters/],
    [['list', 'extra'], /^list takes no argument, got 1 argument\./],
    [['drain', 'a', '--json'], /^--json applies to list only\./],
    [['list', '--bogus'], /^Unknown option '--bogus'/],
    [['list', '--table', ' '], /^--table needs a table name\./],
  ])('exits 2 on bad usage %j, with the reason and the usage text', async (args, message) => {
    // Act
    const run = await fleet(args);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('Usage: npm run fleet -- <command>');
    expect(run.stdout).toBe('');
  });

  it('prints the usage on --help, with exit code 0', async () => {
    const run = await fleet(['--help']);

    expect(run.code).toBe(0);
    expect(run.stdout).toContain('add <id> <url> <capacity>');
    expect(run.stdout).toContain('ServerRegistryTableName');
  });

  it('says the local stack is not running: data without stack.json, no data, or a dead pid', async () => {
    // Prepare
    const stopped = join(root, 'stopped');
    await mkdir(join(stopped, 'dynamodb'), { recursive: true });
    const empty = join(root, 'empty');
    const killed = join(root, 'killed');
    await mkdir(killed);
    const gone = spawn(process.execPath, ['-e', '']);
    await once(gone, 'exit');
    await writeStackFile(killed, {
      dynamoEndpoint: db.endpoint,
      region: 'us-east-1',
      tables: { [serverRegistryTable.envVar]: TABLE },
      pid: gone.pid ?? 0,
      url: '',
      startedAt: 0,
    });

    // Act
    const [noStackFile, noData, deadPid] = await Promise.all([
      fleet(['list'], { DATA_DIR: stopped }),
      fleet(['list'], { DATA_DIR: empty }),
      fleet(['list'], { DATA_DIR: killed }),
    ]);

    // Assess
    expect(noStackFile.code).toBe(1);
    expect(noStackFile.stderr).toMatch(/^The local stack is not running: .*stopped\/stack\.json is missing/);
    expect(noStackFile.stderr).toContain('Start it with `npm start`');
    expect(noData.code).toBe(1);
    expect(noData.stderr).toMatch(/^No local stack in .*empty .*SERVER_REGISTRY_TABLE_NAME or pass --table/);
    expect(deadPid.code).toBe(1);
    expect(deadPid.stderr).toContain(`names process ${gone.pid}, which has exited`);
  });

  it('says so when the local stack does not answer', async () => {
    // Prepare: a stack file naming a live process but a DynamoDB endpoint nobody listens on.
    const silent = join(root, 'silent');
    await mkdir(silent);
    const closed = await startTestDynamoDb({ definitions: [] });
    const endpoint = closed.endpoint;
    await closed.close();
    await writeStackFile(silent, {
      dynamoEndpoint: endpoint,
      region: 'us-east-1',
      tables: { [serverRegistryTable.envVar]: TABLE },
      pid: process.pid,
      url: '',
      startedAt: 0,
    });

    // Act
    const run = await fleet(['list'], { DATA_DIR: silent });

    // Assess
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      `Cannot reach ${endpoint} (ECONNREFUSED): is the local stack still running?`,
    );
  });

  it('uses SERVER_REGISTRY_TABLE_NAME or --table with the default AWS chain, and names a missing table', async () => {
    // Prepare: the AWS path, pointed at dynalite through the SDK's own endpoint variable.
    await registry().put({
      id: 'aws-1',
      baseUrl: 'https://aws-1.internal:8000',
      capacity: 32,
      status: 'active',
    });
    const aws = {
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      DATA_DIR: join(root, 'nowhere'),
    };

    // Act
    const byEnv = await fleet(['list', '--json'], { ...aws, SERVER_REGISTRY_TABLE_NAME: TABLE });
    const byOption = await fleet(['drain', 'aws-1', '--table', TABLE], aws);
    const missing = await fleet(['list', '--table', 'NoSuchTable'], aws);
    const noRegion = await fleet(['list', '--table', TABLE], { ...aws, AWS_REGION: '' });

    // Assess
    expect(byEnv.code).toBe(0);
    expect(JSON.parse(byEnv.stdout)).toEqual([expect.objectContaining({ id: 'aws-1', capacity: 32 })]);
    expect(byOption.code).toBe(0);
    expect((await registry().listAll())[0]?.status).toBe('draining');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(
      'No table NoSuchTable in eu-west-1: check --table or SERVER_REGISTRY_TABLE_NAME',
    );
    expect(noRegion.code).toBe(1);
    expect(noRegion.stderr).toContain('No AWS region');
    await registry().remove('aws-1');
  });

  it('lists the valid servers and warns of a malformed item', async () => {
    // Prepare
    await registry().put({ id: 'cli-ok', baseUrl: 'http://10.1.0.9:8000', capacity: 4, status: 'active' });
    await db.doc.send(
      new PutCommand({
        TableName: TABLE,
        Item: {
          bucket: bucketKey(bucketOf('cli-bad')),
          id: 'cli-bad',
          base_url: 'http://h:1',
          capacity: -1,
          status: 'active',
        },
      }),
    );

    // Act
    const run = await fleet(['list']);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^cli-ok\s+http:\/\/10\.1\.0\.9:8000\s+4\s+active/m);
    expect(run.stdout).not.toContain('cli-bad');
    expect(run.stderr).toContain(
      `warning: skipped a malformed registry item in ${bucketKey(bucketOf('cli-bad'))} (id "cli-bad"): the capacity must be`,
    );
  });
});
