/**
 * cognito-local as a child process, with a seeded user pool that survives restarts.
 *
 * - Runs `node node_modules/cognito-local/lib/bin/start.js` with cwd `<dataDir>/cognito`, so its
 *   state lands in `<dataDir>/cognito/.cognito`. cognito-local bakes its PORT into the token issuer,
 *   so it cannot take port 0: we pick a free port (preferring the one used last time, so tokens
 *   issued before a restart stay valid).
 * - The child exits when its stdin closes, i.e. when this process dies in any way; `close()` and
 *   this process's normal exit kill it too.
 * - First start: user pool (email verified by code, as on AWS), app client (USER_PASSWORD_AUTH +
 *   REFRESH_TOKEN_AUTH), group `premium`, users alice (free) and bob (premium). Ids are kept in
 *   `<dataDir>/cognito/local-pool.json`.
 * - Sign-up works as on AWS, except that the codes Cognito would email reach `onCode` listeners instead
 *   (local/emulators/cognito-local-child.cjs): the local stack prints them.
 *
 * Its signing key ships in the npm package: such tokens mean nothing outside local use.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { PREMIUM_GROUP } from '../../lib/resources';
import { REPO_ROOT } from '../repo-root';
import { type CodeListener, type DeliveredCode, readCodes } from './cognito-codes';

export const LOCAL_PASSWORD = 'LocalDemo-2026!';
export const SEEDED_USERS = [
  { email: 'alice@example.com', premium: false },
  { email: 'bob@example.com', premium: true },
] as const;

const REGION = 'us-east-1';
const START_SCRIPT = join(REPO_ROOT, 'node_modules', 'cognito-local', 'lib', 'bin', 'start.js');
/** Runs cognito-local: exits when our end of stdin closes, reports codes on fd 3. */
const CHILD_SCRIPT = join(REPO_ROOT, 'local', 'emulators', 'cognito-local-child.cjs');
/** Codes kept for `codes()`: enough for tests, bounded for a long-running stack. */
const KEPT_CODES = 100;
/** As lib/stateful-stack.ts: sign-up sends an email code. cognito-local does not check passwords. */
const POOL_OPTIONS = { AutoVerifiedAttributes: ['email'] } as const;
const READY_ATTEMPTS = 200;
const READY_INTERVAL_MS = 50;

export interface CognitoOptions {
  readonly dataDir: string;
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
}

export interface CognitoTokens {
  readonly idToken: string;
  readonly accessToken: string;
  readonly refreshToken: string;
}

export interface LocalCognito {
  readonly endpoint: string;
  readonly region: string;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  /** `${endpoint}/${userPoolId}`: the `iss` of its tokens. */
  readonly issuer: string;
  /** Creates (or resets) a confirmed user with a permanent password. */
  createUser(email: string, password: string, options?: { premium?: boolean }): Promise<void>;
  login(email: string, password: string): Promise<CognitoTokens>;
  /** Called with every code cognito-local would email; returns the unsubscribe function. */
  onCode(listener: CodeListener): () => void;
  /** The latest codes delivered (oldest first). */
  codes(): readonly DeliveredCode[];
  close(): Promise<void>;
}

interface PoolFile {
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  readonly port?: number;
}

export class CognitoError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(`${type}: ${message}`);
    this.name = 'CognitoError';
  }
}

/** One Cognito API call over plain fetch (the JSON 1.1 protocol). */
export async function cognitoCall<T = Record<string, unknown>>(
  endpoint: string,
  operation: string,
  body: Record<string, unknown>,
): Promise<T> {
  const res = await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `AWSCognitoIdentityProviderService.${operation}`,
    },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const parsed: unknown = text.length > 0 ? JSON.parse(text) : {};
  if (!res.ok) {
    const record = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<string, unknown>;
    throw new CognitoError(String(record.__type ?? `HTTP ${res.status}`), String(record.message ?? text));
  }
  return parsed as T;
}

/** USER_PASSWORD_AUTH against a Cognito (or cognito-local) endpoint. */
export async function cognitoLogin(
  endpoint: string,
  clientId: string,
  email: string,
  password: string,
): Promise<CognitoTokens> {
  const { AuthenticationResult: result } = await cognitoCall<{
    AuthenticationResult?: { IdToken?: string; AccessToken?: string; RefreshToken?: string };
  }>(endpoint, 'InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH',
    ClientId: clientId,
    AuthParameters: { USERNAME: email, PASSWORD: password },
  });
  if (!result?.IdToken || !result.AccessToken || !result.RefreshToken) {
    throw new CognitoError('NoTokens', `InitiateAuth returned no tokens for ${email} (a challenge?)`);
  }
  return { idToken: result.IdToken, accessToken: result.AccessToken, refreshToken: result.RefreshToken };
}

function isPortFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolvePort) => {
    const probe = createServer();
    probe.once('error', () => resolvePort(false));
    probe.listen(port, host, () => probe.close(() => resolvePort(true)));
  });
}

function freePort(host: string): Promise<number> {
  return new Promise((resolvePort, rejectPort) => {
    const probe = createServer();
    probe.once('error', rejectPort);
    probe.listen(0, host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      probe.close(() => resolvePort(port));
    });
  });
}

async function readPoolFile(file: string): Promise<PoolFile | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const record = parsed as Record<string, unknown>;
    if (typeof record.userPoolId !== 'string' || typeof record.userPoolClientId !== 'string')
      return undefined;
    return {
      userPoolId: record.userPoolId,
      userPoolClientId: record.userPoolClientId,
      ...(typeof record.port === 'number' ? { port: record.port } : {}),
    };
  } catch {
    return undefined;
  }
}

interface Child {
  readonly process: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<void>;
}

function spawnCognitoLocal(cwd: string, host: string, port: number, onCode: CodeListener): Child {
  const child = spawn(process.execPath, [CHILD_SCRIPT, START_SCRIPT], {
    cwd,
    env: { ...process.env, HOST: host, PORT: String(port) },
    stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
  });
  const codePipe = child.stdio[3];
  // A socket pair, so a Duplex: always Readable here.
  if (codePipe instanceof Readable) readCodes(codePipe, onCode);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = once(child, 'exit').then(() => undefined);
  return { process: child, output: () => output, exited };
}

async function waitUntilReady(endpoint: string, child: Child): Promise<void> {
  let gone = false;
  void child.exited.then(() => {
    gone = true;
  });
  for (let attempt = 0; attempt < READY_ATTEMPTS && !gone; attempt += 1) {
    try {
      const res = await fetch(`${endpoint}/health`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, READY_INTERVAL_MS));
  }
  throw new Error(`cognito-local did not start on ${endpoint}:\n${child.output()}`);
}

export async function startCognito(options: CognitoOptions): Promise<LocalCognito> {
  const host = options.host ?? '127.0.0.1';
  const cwd = resolve(options.dataDir, 'cognito');
  const poolFile = join(cwd, 'local-pool.json');
  await mkdir(cwd, { recursive: true });
  const saved = await readPoolFile(poolFile);

  const requested = options.port ?? 0;
  let port = requested;
  if (port === 0) {
    port =
      saved?.port !== undefined && (await isPortFree(host, saved.port)) ? saved.port : await freePort(host);
  }
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const listeners = new Set<CodeListener>();
  const delivered: DeliveredCode[] = [];
  const child = spawnCognitoLocal(cwd, host, port, (delivery) => {
    delivered.push(delivery);
    if (delivered.length > KEPT_CODES) delivered.shift();
    for (const listener of listeners) listener(delivery);
  });
  const killChild = () => {
    if (child.process.exitCode === null) child.process.kill('SIGTERM');
  };
  process.once('exit', killChild);
  try {
    await waitUntilReady(endpoint, child);
  } catch (error) {
    process.off('exit', killChild);
    killChild();
    throw error;
  }

  const call = <T = Record<string, unknown>>(operation: string, body: Record<string, unknown>) =>
    cognitoCall<T>(endpoint, operation, body);

  async function poolStillExists(pool: PoolFile): Promise<boolean> {
    try {
      await call('DescribeUserPoolClient', { UserPoolId: pool.userPoolId, ClientId: pool.userPoolClientId });
      return true;
    } catch (error) {
      if (error instanceof CognitoError && error.type === 'ResourceNotFoundException') return false;
      throw error;
    }
  }

  const createUser = (email: string, password: string, userOptions: { premium?: boolean } = {}) =>
    createCognitoUser(endpoint, userPoolId, email, password, userOptions);

  let userPoolId: string;
  let userPoolClientId: string;
  try {
    if (saved !== undefined && (await poolStillExists(saved))) {
      userPoolId = saved.userPoolId;
      userPoolClientId = saved.userPoolClientId;
      // Pools made before sign-up was offered sent no code: UpdateUserPool replaces every option.
      await call('UpdateUserPool', { UserPoolId: userPoolId, ...POOL_OPTIONS });
    } else {
      const { UserPool } = await call<{ UserPool?: { Id?: string } }>('CreateUserPool', {
        PoolName: 'chat-local',
        UsernameAttributes: ['email'],
        ...POOL_OPTIONS,
      });
      if (!UserPool?.Id) throw new Error('CreateUserPool returned no id');
      userPoolId = UserPool.Id;
      const { UserPoolClient } = await call<{ UserPoolClient?: { ClientId?: string } }>(
        'CreateUserPoolClient',
        {
          UserPoolId: userPoolId,
          ClientName: 'chat-web',
          ExplicitAuthFlows: ['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH'],
        },
      );
      if (!UserPoolClient?.ClientId) throw new Error('CreateUserPoolClient returned no id');
      userPoolClientId = UserPoolClient.ClientId;
      await call('CreateGroup', { UserPoolId: userPoolId, GroupName: PREMIUM_GROUP });
      for (const user of SEEDED_USERS)
        await createUser(user.email, LOCAL_PASSWORD, { premium: user.premium });
    }
    const record: PoolFile = { userPoolId, userPoolClientId, port };
    await writeFile(poolFile, `${JSON.stringify(record, null, 2)}\n`);
  } catch (error) {
    process.off('exit', killChild);
    killChild();
    throw error;
  }

  return {
    endpoint,
    region: REGION,
    userPoolId,
    userPoolClientId,
    issuer: `${endpoint}/${userPoolId}`,
    createUser,
    login: (email, password) => cognitoLogin(endpoint, userPoolClientId, email, password),
    onCode(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    codes: () => [...delivered],
    async close() {
      process.off('exit', killChild);
      if (child.process.exitCode !== null || child.process.signalCode !== null) return;
      child.process.kill('SIGTERM');
      await child.exited;
    },
  };
}

/**
 * Creates (or resets) a confirmed user with a permanent password, in the premium group if asked: for the
 * seeded demo users, tests and benchmarks, against any cognito-local by its endpoint.
 */
export async function createCognitoUser(
  endpoint: string,
  userPoolId: string,
  email: string,
  password: string,
  options: { premium?: boolean } = {},
): Promise<void> {
  try {
    await cognitoCall(endpoint, 'AdminCreateUser', {
      UserPoolId: userPoolId,
      Username: email,
      MessageAction: 'SUPPRESS',
      UserAttributes: [
        { Name: 'email', Value: email },
        { Name: 'email_verified', Value: 'true' },
      ],
    });
  } catch (error) {
    if (!(error instanceof CognitoError && error.type === 'UsernameExistsException')) throw error;
  }
  await cognitoCall(endpoint, 'AdminSetUserPassword', {
    UserPoolId: userPoolId,
    Username: email,
    Password: password,
    Permanent: true,
  });
  if (options.premium === true) {
    await cognitoCall(endpoint, 'AdminAddUserToGroup', {
      UserPoolId: userPoolId,
      Username: email,
      GroupName: PREMIUM_GROUP,
    });
  }
}
