/**
 * Servers come and go without a redeploy: against a running stack, `npm run fleet -- add` registers a
 * second inference server, which receives prompts within 5 s; `drain` then stops new prompts to the
 * first while its stream in flight finishes; `remove` takes it out of the registry.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_PASSWORD } from '../../local/emulators/cognito';
import { type FleetHandle, startFleet } from '../../local/fleet/fleet';
import { fetchSse } from '../support/http';
import { login, type SpawnedStack, spawnLocalStack } from '../support/local-stack';

const run = promisify(execFile);

let dataDir: string;
let fleet: FleetHandle;
let stack: SpawnedStack;
let bob: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chat-registry-'));
  fleet = await startFleet({ count: 2, slots: 8, tokensPerSecond: 50, answerTokens: 10 });
  const [first] = fleet.servers;
  if (!first) throw new Error('no server');
  // Only gpu-1 is known at start; gpu-2 runs but is not registered.
  stack = await spawnLocalStack({
    dataDir,
    env: { INFERENCE_SERVERS: `${first.id}=${first.baseUrl}|10` },
  });
  bob = (await login(stack.url, 'bob@example.com', LOCAL_PASSWORD)).idToken;
});

afterAll(async () => {
  await stack?.stop();
  await fleet?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const server = (index: number) => {
  const found = fleet.servers[index];
  if (!found) throw new Error(`no server ${index}`);
  return found;
};

function fleetCommand(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'bin/fleet.ts', ...args], {
    env: { ...process.env, DATA_DIR: dataDir },
  });
}

async function ask(prompt: string): Promise<number> {
  const response = await fetch(`${stack.url}/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt }),
  });
  await response.text();
  return response.status;
}

describe('the server registry on a running stack', () => {
  it('routes to a server added by the fleet command within 5 s', async () => {
    // Prepare
    const added = server(1);
    expect(await ask('only gpu-1 is known')).toBe(200);
    expect(added.handle.stats().requestsTotal).toBe(0);

    // Act: register gpu-2 while the stack runs
    await fleetCommand('add', added.id, added.baseUrl, '10');
    const addedAt = Date.now();
    while (added.handle.stats().requestsTotal === 0 && Date.now() - addedAt < 5_000) {
      expect(await ask('is gpu-2 there yet?')).toBe(200);
    }

    // Assess
    expect(added.handle.stats().requestsTotal).toBeGreaterThan(0);
    expect(Date.now() - addedAt).toBeLessThan(5_000);
    const listed = await fleetCommand('list', '--json');
    expect(JSON.parse(listed.stdout).map((entry: { id: string }) => entry.id)).toEqual(['gpu-1', 'gpu-2']);
  }, 60_000);

  it('drains a server: its stream in flight finishes, and it gets no new prompt', async () => {
    // Prepare: a long stream on gpu-1 (the only server it may use), then drain it
    const drained = server(0);
    drained.handle.setOptions({ answerTokens: 150 });
    await fleetCommand('drain', server(1).id);
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const inFlight = fetchSse(`${stack.url}/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${bob}`, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a long answer', stream: true }),
    });
    while (drained.handle.stats().running === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await fleetCommand('undrain', server(1).id);
    await fleetCommand('drain', drained.id);

    // Act: wait for the registry refresh and the views, then send prompts
    await new Promise((resolve) => setTimeout(resolve, 3_500));
    const before = drained.handle.stats().requestsTotal;
    const statuses = [];
    for (let i = 0; i < 10; i++) statuses.push(await ask(`after the drain ${i}`));

    // Assess
    expect(statuses).toEqual(Array(10).fill(200));
    expect(drained.handle.stats().requestsTotal).toBe(before);
    const read = await inFlight;
    expect(read.events.at(-1)?.data).toBe('[DONE]');
    expect(read.events.find((event) => event.event === 'end')?.data).toContain('"completed"');

    // And removal takes it out of the registry for good.
    await fleetCommand('remove', drained.id);
    const listed = await fleetCommand('list', '--json');
    expect(JSON.parse(listed.stdout).map((entry: { id: string }) => entry.id)).toEqual(['gpu-2']);
  }, 60_000);
});
