/**
 * `<DATA_DIR>/stack.json`: how tools outside the local stack's process (the operator CLI, bin/fleet.ts)
 * find the running stack. Written once the stack serves, removed when it stops; a stack killed with
 * SIGKILL leaves it behind, so readers check that `pid` is still alive.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const STACK_FILE = 'stack.json';

export interface StackFile {
  /** The DynamoDB API the stack uses (its dynalite, or LOCAL_DYNAMODB_ENDPOINT). */
  readonly dynamoEndpoint: string;
  readonly region: string;
  /** Table names by the environment variable the handlers read them from (lib/resources.ts). */
  readonly tables: Readonly<Record<string, string>>;
  /** The stack's process. */
  readonly pid: number;
  /** The gateway, e.g. http://127.0.0.1:3000. */
  readonly url: string;
  /** Epoch ms when the stack began starting. */
  readonly startedAt: number;
  /** Its cognito-local, for `npm run users` (bin/users.ts); absent in files of older stacks. */
  readonly cognito?: { readonly endpoint: string; readonly userPoolId: string };
}

export const stackFilePath = (dataDir: string) => join(dataDir, STACK_FILE);

/** Written to a temporary file, then renamed: a reader never sees half a file. */
export async function writeStackFile(dataDir: string, stack: StackFile): Promise<void> {
  const path = stackFilePath(dataDir);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(stack, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}

/**
 * Removes the file if it still names `pid` (a stack that started later on the same data directory —
 * impossible while this one holds dynalite's lock, but cheap to respect — keeps its own).
 */
export async function removeStackFile(dataDir: string, pid: number = process.pid): Promise<void> {
  const current = await readStackFile(dataDir).catch(() => undefined);
  if (current !== undefined && current.pid !== pid) return;
  await rm(stackFilePath(dataDir), { force: true });
}

/** undefined when there is no file; throws, naming the file, when it is not a stack file. */
export async function readStackFile(dataDir: string): Promise<StackFile | undefined> {
  const path = stackFilePath(dataDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not JSON; delete it (the local stack rewrites it when it starts).`);
  }
  const file = value as Partial<StackFile> | null;
  const tables = file?.tables;
  if (
    typeof file?.dynamoEndpoint !== 'string' ||
    typeof file.region !== 'string' ||
    typeof file.pid !== 'number' ||
    typeof tables !== 'object' ||
    tables === null ||
    !Object.values(tables).every((name) => typeof name === 'string')
  ) {
    throw new Error(
      `${path} is not a local stack file; delete it (the local stack rewrites it when it starts).`,
    );
  }
  return {
    dynamoEndpoint: file.dynamoEndpoint,
    region: file.region,
    tables,
    pid: file.pid,
    url: typeof file.url === 'string' ? file.url : '',
    startedAt: typeof file.startedAt === 'number' ? file.startedAt : 0,
    ...(typeof file.cognito?.endpoint === 'string' && typeof file.cognito.userPoolId === 'string'
      ? { cognito: { endpoint: file.cognito.endpoint, userPoolId: file.cognito.userPoolId } }
      : {}),
  };
}

/** Whether a process with this id exists (EPERM: it exists, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
