import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  isProcessAlive,
  readStackFile,
  removeStackFile,
  type StackFile,
  stackFilePath,
  writeStackFile,
} from '../../local/stack-file';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'stack-file-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const stack: StackFile = {
  dynamoEndpoint: 'http://127.0.0.1:4567',
  region: 'us-east-1',
  tables: { SERVER_REGISTRY_TABLE_NAME: 'ServerRegistryTable', CHAT_TABLE_NAME: 'ChatTable' },
  pid: process.pid,
  url: 'http://127.0.0.1:3000',
  startedAt: 1_750_000_000_000,
};

describe('stack.json', () => {
  it('is written whole (no temporary file left), read back, and absent reads as undefined', async () => {
    // Act
    const before = await readStackFile(dir);
    await writeStackFile(dir, stack);
    const after = await readStackFile(dir);

    // Assess
    expect(before).toBeUndefined();
    expect(after).toEqual(stack);
    expect(await readdir(dir)).toEqual(['stack.json']);
    expect(JSON.parse(await readFile(stackFilePath(dir), 'utf8'))).toEqual(stack);
  });

  it('is removed by the process it names, and kept when it names another', async () => {
    // Prepare
    await writeStackFile(dir, { ...stack, pid: process.pid + 100_000 });

    // Act
    await removeStackFile(dir, process.pid);
    const kept = await readStackFile(dir);
    await writeStackFile(dir, stack);
    await removeStackFile(dir, process.pid);

    // Assess
    expect(kept?.pid).toBe(process.pid + 100_000);
    expect(await readStackFile(dir)).toBeUndefined();
  });

  it.each([
    ['not JSON', '{', /stack\.json is not JSON; delete it/],
    ['another shape', '{"pid":"1"}', /stack\.json is not a local stack file; delete it/],
    [
      'a table name that is not a string',
      JSON.stringify({ ...stack, tables: { A: 1 } }),
      /not a local stack file/,
    ],
  ])('refuses a file that is %s, naming it', async (_case, text, message) => {
    // Prepare
    await writeFile(stackFilePath(dir), text);

    // Act / Assess
    await expect(readStackFile(dir)).rejects.toThrow(message);
    await rm(stackFilePath(dir));
  });

  it('tells a living process from an exited one', async () => {
    // Prepare
    const child = spawn(process.execPath, ['-e', '']);
    await once(child, 'exit');

    // Act / Assess
    expect(isProcessAlive(process.pid)).toBe(true);
    expect(isProcessAlive(child.pid ?? 0)).toBe(false);
    expect(isProcessAlive(0)).toBe(false);
    expect(isProcessAlive(-1)).toBe(false);
  });
});
