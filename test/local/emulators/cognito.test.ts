import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PASSWORD, type LocalCognito, startCognito } from '../../../local/emulators/cognito';

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
