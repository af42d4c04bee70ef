/**
 * `npm run users` (bin/users.ts) as an operator runs it: a child process against a cognito-local, found
 * through a stack.json written into a temporary DATA_DIR that names this (living) test process.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cognitoCall, type LocalCognito, startCognito } from '../../local/emulators/cognito';
import { writeStackFile } from '../../local/stack-file';
import { runFleetCli } from '../support/fleet-cli';

let root: string;
let dataDir: string;
let cognito: LocalCognito;

const users = (args: readonly string[], env: Record<string, string> = { DATA_DIR: dataDir }) =>
  runFleetCli(args, env, 'users.ts');

function groupsClaim(idToken: string): unknown {
  const payload = idToken.split('.')[1] ?? '';
  return (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>)[
    'cognito:groups'
  ];
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'users-cli-'));
  dataDir = join(root, 'running');
  await mkdir(dataDir);
  cognito = await startCognito({ dataDir });
  await writeStackFile(dataDir, {
    dynamoEndpoint: 'http://127.0.0.1:1',
    region: 'us-east-1',
    tables: {},
    pid: process.pid,
    url: 'http://127.0.0.1:1',
    startedAt: Date.now(),
    cognito: { endpoint: cognito.endpoint, userPoolId: cognito.userPoolId },
  });
});

afterAll(async () => {
  await cognito?.close();
  await rm(root, { recursive: true, force: true });
});

describe('npm run users', () => {
  it('makes a signed-up (free) user premium, which their next ID token carries, and free again', async () => {
    // Prepare: a self-service account, confirmed with the code the pool "emailed".
    const ClientId = cognito.userPoolClientId;
    const Password = 'Signed-Up-2026!';
    await cognitoCall(cognito.endpoint, 'SignUp', { ClientId, Username: 'erin@example.com', Password });
    const code = cognito.codes().at(-1)?.code;
    await cognitoCall(cognito.endpoint, 'ConfirmSignUp', {
      ClientId,
      Username: 'erin@example.com',
      ConfirmationCode: code,
    });
    const asFree = await cognito.login('erin@example.com', Password);

    // Act
    const promoted = await users(['premium', 'Erin@Example.com']);
    const again = await users(['premium', 'erin@example.com']);
    const asPremium = await cognito.login('erin@example.com', Password);
    const listed = await users(['list', '--json']);
    const demoted = await users(['free', 'erin@example.com']);
    const afterDemotion = await cognito.login('erin@example.com', Password);

    // Assess
    expect(groupsClaim(asFree.idToken)).toBeUndefined();
    expect(promoted).toMatchObject({ code: 0, stderr: '' });
    expect(promoted.stdout).toContain('erin@example.com is now premium');
    expect(promoted.stdout).toContain('next ID token');
    expect(again.stdout).toContain('already premium');
    expect(groupsClaim(asPremium.idToken)).toEqual(['premium']);
    expect(JSON.parse(listed.stdout)).toEqual(
      expect.arrayContaining([
        { email: 'alice@example.com', status: 'CONFIRMED', tier: 'free' },
        { email: 'bob@example.com', status: 'CONFIRMED', tier: 'premium' },
        { email: 'erin@example.com', status: 'CONFIRMED', tier: 'premium' },
      ]),
    );
    expect(demoted).toMatchObject({ code: 0 });
    expect(demoted.stdout).toContain('erin@example.com is now free');
    expect(groupsClaim(afterDemotion.idToken) ?? []).toEqual([]);
  });

  it('lists users as a table', async () => {
    const run = await users(['list']);

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^EMAIL\s+STATUS\s+TIER$/m);
    expect(run.stdout).toMatch(/^bob@example\.com\s+CONFIRMED\s+premium$/m);
  });

  it('names an unknown user, and refuses bad usage with exit code 2', async () => {
    const unknown = await users(['premium', 'nobody@example.com']);
    const noEmail = await users(['premium']);
    const notEmail = await users(['free', 'bob']);
    const badCommand = await users(['promote', 'bob@example.com']);

    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('No user nobody@example.com');
    expect(noEmail.code).toBe(2);
    expect(notEmail.code).toBe(2);
    expect(notEmail.stderr).toContain('not an email address');
    expect(badCommand.code).toBe(2);
  });

  it('says how to start the stack when none runs, and fails clearly when AWS cannot be reached', async () => {
    const none = await users(['list'], { DATA_DIR: join(root, 'empty') });
    // The AWS path through the real SDK client, to an endpoint where nothing listens.
    const aws = await users(['list', '--user-pool-id', 'us-east-1_abc'], {
      DATA_DIR: dataDir,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER: 'http://127.0.0.1:9',
      AWS_MAX_ATTEMPTS: '1',
    });

    expect(none.code).toBe(1);
    expect(none.stderr).toContain('npm start');
    expect(none.stderr).toContain('--user-pool-id');
    expect(aws.code).toBe(1);
    expect(aws.stderr).toContain('us-east-1_abc');
    expect(aws.stderr).not.toMatch(/^\s+at /m);
  });
});
