/**
 * A fleet behind `--api-key`, through ChatService, the local Secrets Manager and a simulated server that
 * requires the key: a wrong key is a prompt, truthful failed turn with an error log (no hang, no loop),
 * and a rotation is picked up by the first turn that meets a 401.
 */
import { randomUUID } from 'node:crypto';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbTurnRepository } from '../../adapters/dynamodb/turn-repository';
import { FleetApiKey } from '../../adapters/inference/fleet-api-key';
import { SecretsManagerSecret } from '../../adapters/secrets/secrets-manager-secret';
import { mapError } from '../../functions/http/errors';
import type { LocalSecretsManager } from '../../local/emulators/secrets-manager';
import { type SimulatedServerHandle, startSimulatedServer } from '../../local/fleet/server';
import type { TurnEvent } from '../../use-cases/start-turn';
import { startTestDynamoDb, type TestDynamoDb } from '../support/dynamodb';
import { startTestSecretsManager, type TestSecretsManager } from '../support/secrets';
import { oneServerChat } from './support/one-server-chat';

let db: TestDynamoDb;
let gpu: SimulatedServerHandle;
let secrets: TestSecretsManager;
let store: LocalSecretsManager;
let client: SecretsManagerClient;
let repository: DynamoDbTurnRepository;

beforeAll(async () => {
  db = await startTestDynamoDb();
  repository = new DynamoDbTurnRepository(db.doc, db.tableNames.ChatTable);
  gpu = await startSimulatedServer({
    id: 'gpu-k',
    answerTokens: 5,
    tokensPerSecond: 500,
    timeToFirstTokenMs: 5,
  });
  secrets = await startTestSecretsManager({ 'fleet-key': 'k1' });
  ({ store, client } = secrets);
});

afterAll(async () => {
  await secrets?.close();
  await gpu?.close();
  await db?.close();
});

type Line = { level: 'info' | 'warn' | 'error'; message: string; extra: Record<string, unknown> };

function recordingLog(lines: Line[]) {
  const at =
    (level: Line['level']) =>
    (message: string, ...extra: Record<string, unknown>[]) =>
      lines.push({ level, message, extra: Object.assign({}, ...extra) });
  return { info: at('info'), warn: at('warn'), error: at('error') };
}

/** A container's chat service: its own key holder, refreshed without the 30 s floor so a test can rotate. */
function container(lines: Line[] = []) {
  const secret = new SecretsManagerSecret(client, store.arn('fleet-key'), { minRefreshMs: 0 });
  return oneServerChat(db, gpu, {}, { apiKey: new FleetApiKey(secret), log: recordingLog(lines) });
}

async function answer(service: ReturnType<typeof container>, userId: string, prompt: string) {
  const turn = await service.begin({ userId, tier: 'free' }, { prompt, stream: true });
  let last: TurnEvent | undefined;
  for await (const event of turn.events()) last = event;
  return { turn, last };
}

describe('a fleet that requires an API key', () => {
  it('answers with the key from Secrets Manager', async () => {
    // Prepare
    store.put('fleet-key', 'k1');
    gpu.setApiKey('k1');
    const before = gpu.stats().authorizedRequests;

    // Act
    const { last } = await answer(container(), randomUUID(), 'Hello there');

    // Assess
    expect(last).toMatchObject({ type: 'end', status: 'completed' });
    expect(gpu.stats().authorizedRequests - before).toBe(1);
  });

  it('fails a turn promptly and truthfully when the server refuses the key', async () => {
    // Prepare: the server's key is not the one in the store
    store.put('fleet-key', 'k1');
    gpu.setApiKey('another');
    const lines: Line[] = [];
    const userId = randomUUID();
    const refusedBefore = gpu.stats().unauthorizedRequests;
    const startedAt = Date.now();

    // Act
    const failure = await container(lines)
      .begin({ userId, tier: 'free' }, { prompt: 'A secret prompt', stream: true })
      .catch((error: unknown) => error);

    // Assess: one refused request, a failed turn, a generic 502 for the client, an error line for operators
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(failure).toMatchObject({ code: 'upstream_auth' });
    expect(gpu.stats().unauthorizedRequests - refusedBefore).toBe(1);
    const mapped = mapError(failure, recordingLog([]));
    expect(mapped.statusCode).toBe(502);
    expect(mapped.body).toEqual({ error: { code: 'upstream_auth', message: 'The model could not answer.' } });
    const { turns } = await repository.listTurns(userId, { limit: 5 });
    expect(turns).toMatchObject([{ status: 'failed', errorCode: 'upstream_auth', assistantResponse: '' }]);
    expect(lines.filter((line) => line.level === 'error')).toEqual([
      {
        level: 'error',
        message: 'inference server refused the API key',
        extra: { server: 'gpu-k', upstream_status: 401, key_renewed: false },
      },
    ]);
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain('k1');
    expect(logged).not.toContain('A secret prompt');
  });

  it('picks up a rotated key on the first 401 and answers', async () => {
    // Prepare: a warm container holds k1; then the store and the server rotate to k2
    store.put('fleet-key', 'k1');
    gpu.setApiKey('k1');
    const service = container();
    await answer(service, randomUUID(), 'Warm up');
    store.put('fleet-key', 'k2');
    gpu.setApiKey('k2');
    const before = gpu.stats();

    // Act
    const { last } = await answer(service, randomUUID(), 'After the rotation');

    // Assess: one refusal, one retry with the new key
    expect(last).toMatchObject({ type: 'end', status: 'completed' });
    const after = gpu.stats();
    expect(after.unauthorizedRequests - before.unauthorizedRequests).toBe(1);
    expect(after.authorizedRequests - before.authorizedRequests).toBe(1);
  });
});
