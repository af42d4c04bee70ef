/**
 * Must-show 5 of issue 12 over HTTP, as any client would do it: a new user signs up against the spawned
 * stack's cognito-local, confirms with the code the stack PRINTED (read from its output), logs in on the
 * free tier and chats; then `npm run users -- premium` finds the running stack through its stack.json and
 * the user's next ID token is premium. The web client's version of this is test/browser/signup.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cognitoCall } from '../../local/emulators/cognito';
import { runFleetCli } from '../support/fleet-cli';
import { fetchSse } from '../support/http';
import { login, type SpawnedStack, spawnLocalStack } from '../support/local-stack';
import { claimsOf } from '../support/tokens';

const EMAIL = 'frank@example.com';
const PASSWORD = 'Frank-Signs-Up-2026!';

let dataDir: string;
let stack: SpawnedStack;

async function printedCode(email: string): Promise<string> {
  const line = new RegExp(`^Verification code for ${email.replace(/[.]/g, '\\.')}: (\\d{6})$`, 'm');
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const code = line.exec(stack.output())?.[1];
    if (code) return code;
    await new Promise((resolveWait) => setTimeout(resolveWait, 50));
  }
  throw new Error(`the stack printed no code for ${email}:\n${stack.output()}`);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chat-accounts-'));
  stack = await spawnLocalStack({
    dataDir,
    env: { LOCAL_FLEET_TOKENS_PER_SECOND: '200', LOCAL_FLEET_ANSWER_TOKENS: '20' },
  });
});

afterAll(async () => {
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

describe('self-service accounts on the local stack', () => {
  it('signs up with the printed code, logs in as free tier, and chats', async () => {
    // Prepare
    const { cognitoEndpoint, userPoolClientId: ClientId } = stack.config;
    await cognitoCall(cognitoEndpoint, 'SignUp', {
      ClientId,
      Username: EMAIL,
      Password: PASSWORD,
      UserAttributes: [{ Name: 'email', Value: EMAIL }],
    });

    // Act
    const code = await printedCode(EMAIL);
    await cognitoCall(cognitoEndpoint, 'ConfirmSignUp', {
      ClientId,
      Username: EMAIL,
      ConfirmationCode: code,
    });
    const tokens = await login(stack.config, EMAIL, PASSWORD);
    const read = await fetchSse(`${stack.url}/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.idToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'My first prompt as a new user', stream: true }),
    });

    // Assess
    expect(claimsOf(tokens.idToken)['cognito:groups']).toBeUndefined();
    expect(read.status).toBe(200);
    const end = read.events.find((event) => event.event === 'end');
    expect(JSON.parse(end?.data ?? '{}')).toMatchObject({ status: 'completed', stored: true });
    expect(stack.output()).toMatch(/^Verification code for frank@example\.com: \d{6}$/m);
    expect(stack.output()).not.toContain(PASSWORD);
  });

  it('is made premium by `npm run users` through the running stack; the next ID token says so', async () => {
    // Act
    const run = await runFleetCli(['premium', EMAIL], { DATA_DIR: dataDir }, 'users.ts');
    const tokens = await login(stack.config, EMAIL, PASSWORD);

    // Assess
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`${EMAIL} is now premium`);
    expect(claimsOf(tokens.idToken)['cognito:groups']).toEqual(['premium']);
  });
});
