/**
 * The local stack with LOCAL_FLEET_API_KEY: the simulated fleet requires the key, the stack seeds it into
 * the local Secrets Manager and points the functions at it (INFERENCE_API_KEY_SECRET_ID), and a chat
 * works end to end with every completion and scrape carrying the bearer.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PASSWORD } from '../../local/emulators/cognito';
import { type FleetHandle, startFleet } from '../../local/fleet/fleet';
import { login, type SpawnedStack, spawnLocalStack } from '../support/local-stack';

const KEY = 'local-test-fleet-key';

let dataDir: string;
let fleet: FleetHandle;
let stack: SpawnedStack;
let token: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chat-fleet-key-'));
  // The fleet runs in this process so the test can read what each server saw.
  fleet = await startFleet({ count: 1, apiKey: KEY, answerTokens: 5, tokensPerSecond: 200 });
  const servers = fleet.servers.map((server) => `${server.id}=${server.baseUrl}|10`).join(',');
  stack = await spawnLocalStack({ dataDir, env: { INFERENCE_SERVERS: servers, LOCAL_FLEET_API_KEY: KEY } });
  token = (await login(stack.url, 'bob@example.com', LOCAL_PASSWORD)).idToken;
});

afterAll(async () => {
  await stack?.stop();
  await fleet?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('a local fleet that requires an API key', () => {
  it('answers a chat, and the server saw only requests with the right bearer', async () => {
    // Prepare
    const gpu = fleet.servers[0]?.handle;
    if (!gpu) throw new Error('no server');
    // The heartbeat's scrapes carry the key too: the server is seen, so prompts are admitted.
    await expect.poll(() => gpu.stats().authorizedRequests, { timeout: 10_000 }).toBeGreaterThan(0);

    // Act
    const response = await fetch(`${stack.url}/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'Hello behind a key' }),
    });
    const body = (await response.json()) as { response?: string };

    // Assess
    expect(response.status).toBe(200);
    expect(body.response).toMatch(/\w/);
    expect(gpu.stats().requestsTotal).toBe(1);
    expect(gpu.stats().unauthorizedRequests).toBe(0);
    expect(stack.output()).not.toContain(KEY);
  });
});
