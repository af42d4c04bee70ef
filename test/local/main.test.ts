import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PASSWORD } from '../../local/emulators/cognito';
import { readStackFile } from '../../local/stack-file';
import { runFleetCli } from '../support/fleet-cli';
import { login, type SpawnedStack, spawnLocalStack } from '../support/local-stack';

function claims(jwt: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

let dataDir: string;
let stack: SpawnedStack | undefined;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'local-main-'));
  stack = await spawnLocalStack({ dataDir, env: { LOCAL_FLEET_SERVERS: '1' } });
});

afterAll(async () => {
  await stack?.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

function running(): SpawnedStack {
  if (!stack) throw new Error('stack not started');
  return stack;
}

describe('local/main.ts', () => {
  it('serves config.json, the web page and the real handlers on the port it printed', async () => {
    const { url, config } = running();

    const page = await fetch(`${url}/`);
    const history = await fetch(`${url}/chat/history`);
    const unknown = await fetch(`${url}/nope`);

    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);
    expect(config).toMatchObject({ region: 'us-east-1', cognitoEndpoint: expect.stringMatching(/^http:/) });
    expect(page.headers.get('content-type')).toContain('text/html');
    // The real GetHistory handler answered (no token: a client error, not a gateway 404/502).
    expect(history.status).toBeGreaterThanOrEqual(400);
    expect(history.status).toBeLessThan(500);
    expect(history.status).not.toBe(404);
    expect(unknown.status).toBe(404);
  });

  it("signs in seeded users against the stack's Cognito", async () => {
    const bob = await login(running().url, 'bob@example.com', LOCAL_PASSWORD);

    expect(claims(bob.idToken)['cognito:groups']).toContain('premium');
  });

  it('writes stack.json, through which `npm run fleet` finds the registry it seeded with the simulated fleet', async () => {
    // Prepare
    const { child } = running();

    // Act
    const file = await readStackFile(dataDir);
    const list = await runFleetCli(['list', '--json'], { DATA_DIR: dataDir });

    // Assess
    expect(file).toMatchObject({
      pid: child.pid,
      url: running().url,
      dynamoEndpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      tables: { SERVER_REGISTRY_TABLE_NAME: 'ServerRegistryTable', CHAT_TABLE_NAME: 'ChatTable' },
    });
    expect(list).toMatchObject({ code: 0, stderr: '' });
    // One simulated server (LOCAL_FLEET_SERVERS=1), capacity = 8 slots + a queue of 3.
    expect(JSON.parse(list.stdout)).toEqual([
      expect.objectContaining({
        id: 'gpu-1',
        baseUrl: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
        capacity: 11,
        status: 'active',
      }),
    ]);
  });

  it('stops with exit code 0 on SIGTERM, taking cognito-local down, and restarts on the same data', async () => {
    // Prepare
    const first = running();

    // Act
    const code = await first.stop();
    stack = undefined;
    const stackFileAfterStop = await readStackFile(dataDir);
    const cognitoAfterStop = await fetch(`${first.config.cognitoEndpoint}/health`).then(
      () => 'answering',
      () => 'gone',
    );
    stack = await spawnLocalStack({ dataDir, env: { LOCAL_FLEET_SERVERS: '1' } });

    // Assess
    expect(code).toBe(0);
    expect(stackFileAfterStop).toBeUndefined();
    expect(first.output()).toMatch(/^Chat app listening on http:\/\/127\.0\.0\.1:\d+ \(data in .+\)$/m);
    expect(cognitoAfterStop).toBe('gone');
    expect(stack.config.userPoolId).toBe(first.config.userPoolId);
    expect(stack.config.userPoolClientId).toBe(first.config.userPoolClientId);
  });
});
