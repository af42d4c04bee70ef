import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CognitoError,
  cognitoCall,
  LOCAL_PASSWORD,
  type LocalCognito,
  startCognito,
} from '../../../local/emulators/cognito';
import type { DeliveredCode } from '../../../local/emulators/cognito-codes';

function claims(jwt: string): Record<string, unknown> {
  const payload = jwt.split('.')[1] ?? '';
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
}

let dataDir: string;
let cognito: LocalCognito | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cognito-test-'));
  cognito = await startCognito({ dataDir, host: '127.0.0.1' });
});

afterAll(async () => {
  await cognito?.close();
  await rm(dataDir, { recursive: true, force: true });
});

function running(): LocalCognito {
  if (!cognito) throw new Error('cognito-local not started');
  return cognito;
}

describe('startCognito', () => {
  it('seeds alice (free) and bob (premium), who log in with the local password', async () => {
    const alice = await running().login('alice@example.com', LOCAL_PASSWORD);
    const bob = await running().login('bob@example.com', LOCAL_PASSWORD);

    expect(claims(alice.idToken)).toMatchObject({ email: 'alice@example.com', iss: running().issuer });
    expect(claims(alice.idToken)['cognito:groups']).toBeUndefined();
    expect(claims(bob.idToken)['cognito:groups']).toContain('premium');
    expect(claims(bob.idToken).aud).toBe(running().userPoolClientId);
    expect(bob.refreshToken.length).toBeGreaterThan(0);
  });

  it('creates more users for tests', async () => {
    await running().createUser('carol@example.com', 'Another-Pass-1!', { premium: true });

    const carol = await running().login('carol@example.com', 'Another-Pass-1!');

    expect(claims(carol.idToken)['cognito:groups']).toContain('premium');
  });

  it('reports the sign-up code it would email, which confirms the account; passwords never pass', async () => {
    // Prepare
    const { endpoint, userPoolClientId: ClientId } = running();
    const seen: DeliveredCode[] = [];
    const unsubscribe = running().onCode((delivery) => seen.push(delivery));
    const Password = 'Signed-Up-2026!';

    // Act
    await cognitoCall(endpoint, 'SignUp', { ClientId, Username: 'dave@example.com', Password });
    const refused = await running()
      .login('dave@example.com', Password)
      .catch((error: unknown) => error);
    await cognitoCall(endpoint, 'ResendConfirmationCode', { ClientId, Username: 'dave@example.com' });
    const [first, resent] = seen;
    const stale = await cognitoCall(endpoint, 'ConfirmSignUp', {
      ClientId,
      Username: 'dave@example.com',
      ConfirmationCode: first?.code === resent?.code ? '000000x' : first?.code,
    }).catch((error: unknown) => error);
    await cognitoCall(endpoint, 'ConfirmSignUp', {
      ClientId,
      Username: 'dave@example.com',
      ConfirmationCode: resent?.code,
    });
    unsubscribe();

    // Assess
    expect(refused).toBeInstanceOf(CognitoError);
    expect((refused as CognitoError).type).toBe('UserNotConfirmedException');
    expect(seen).toEqual([
      { email: 'dave@example.com', code: expect.stringMatching(/^\d{6}$/), purpose: 'verification' },
      { email: 'dave@example.com', code: expect.stringMatching(/^\d{6}$/), purpose: 'verification' },
    ]);
    expect((stale as CognitoError).type).toBe('CodeMismatchException');
    const dave = await running().login('dave@example.com', Password);
    expect(claims(dave.idToken)).toMatchObject({ email: 'dave@example.com' });
    expect(claims(dave.idToken)['cognito:groups']).toBeUndefined();
    expect(JSON.stringify(running().codes())).not.toContain(Password);
  });

  it('reports the forgot-password code, which sets the new password; resend refuses a confirmed user', async () => {
    // Prepare
    const { endpoint, userPoolClientId: ClientId } = running();

    // Act
    await cognitoCall(endpoint, 'ForgotPassword', { ClientId, Username: 'alice@example.com' });
    const reset = running().codes().at(-1);
    await cognitoCall(endpoint, 'ConfirmForgotPassword', {
      ClientId,
      Username: 'alice@example.com',
      ConfirmationCode: reset?.code,
      Password: 'Reset-Alice-2026!',
    });
    const resend = await cognitoCall(endpoint, 'ResendConfirmationCode', {
      ClientId,
      Username: 'alice@example.com',
    }).catch((error: unknown) => error);

    // Assess
    expect(reset).toMatchObject({ email: 'alice@example.com', purpose: 'password-reset' });
    await expect(running().login('alice@example.com', 'Reset-Alice-2026!')).resolves.toBeDefined();
    expect((resend as CognitoError).type).toBe('InvalidParameterException');
    await running().createUser('alice@example.com', LOCAL_PASSWORD);
  });

  it('reuses the pool, its users and its port after a restart with the same dataDir', async () => {
    // Prepare
    const before = running();
    const saved = JSON.parse(await readFile(join(dataDir, 'cognito', 'local-pool.json'), 'utf8')) as unknown;
    await before.close();
    cognito = undefined;

    // Act
    cognito = await startCognito({ dataDir, host: '127.0.0.1' });

    // Assess
    expect(saved).toMatchObject({ userPoolId: before.userPoolId, userPoolClientId: before.userPoolClientId });
    expect(cognito.userPoolId).toBe(before.userPoolId);
    expect(cognito.userPoolClientId).toBe(before.userPoolClientId);
    expect(cognito.endpoint).toBe(before.endpoint);
    const carol = await cognito.login('carol@example.com', 'Another-Pass-1!');
    expect(claims(carol.idToken).iss).toBe(before.issuer);
  });
});
