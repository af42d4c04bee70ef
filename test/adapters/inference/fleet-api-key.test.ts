/**
 * The fleet's bearer key on the wire, against a simulated server that requires it (vLLM `--api-key`):
 * every request and scrape carries it, the secret is read once per container, and a 401 costs one
 * refresh and at most one retry — never a loop, never a failover.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsLoadProbe } from '../../../adapters/fleet/metrics-load-probe';
import { FleetApiKey } from '../../../adapters/inference/fleet-api-key';
import { OpenAiModelClient } from '../../../adapters/inference/openai-model-client';
import { DomainError } from '../../../domain/errors';
import type { ModelChunk, Secret } from '../../../domain/ports';
import { type SimulatedServerHandle, startSimulatedServer } from '../../../local/fleet/server';

/** A Secret in memory that counts its reads. */
function memorySecret(initial: string) {
  let value = initial;
  const reads = { values: 0, refresh: 0 };
  const secret: Secret = {
    values: async () => {
      reads.values++;
      return [value];
    },
    refresh: async () => {
      reads.refresh++;
      return [value];
    },
  };
  return { secret, reads, rotate: (next: string) => (value = next) };
}

let gpu: SimulatedServerHandle;

beforeAll(async () => {
  gpu = await startSimulatedServer({ id: 'gpu-k', apiKey: 'right', answerTokens: 3, timeToFirstTokenMs: 0 });
});

afterAll(async () => {
  await gpu.close();
});

function client(apiKey?: FleetApiKey) {
  return new OpenAiModelClient({
    connectTimeoutMs: 1000,
    idleTimeoutMs: 2000,
    ...(apiKey ? { apiKey } : {}),
  });
}

async function ask(model: OpenAiModelClient): Promise<ModelChunk[]> {
  const stream = await model.stream(
    { id: gpu.id, baseUrl: gpu.baseUrl },
    {
      model: 'local-llm',
      messages: [{ role: 'user', content: 'hello' }],
      maxTokens: 8,
      signal: new AbortController().signal,
    },
  );
  const chunks: ModelChunk[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

const counts = () => {
  const { authorizedRequests, unauthorizedRequests } = gpu.stats();
  return { authorizedRequests, unauthorizedRequests };
};

describe('the fleet API key on completions', () => {
  it('sends the bearer on every request, reading the secret once', async () => {
    // Prepare
    gpu.setApiKey('right');
    const { secret, reads } = memorySecret('right');
    const model = client(new FleetApiKey(secret));
    const before = counts();

    // Act
    for (let i = 0; i < 3; i++) expect((await ask(model)).at(-1)).toMatchObject({ type: 'done' });

    // Assess
    expect(counts().authorizedRequests - before.authorizedRequests).toBe(3);
    expect(counts().unauthorizedRequests).toBe(before.unauthorizedRequests);
    expect(reads).toEqual({ values: 1, refresh: 0 });
  });

  it('fails a wrong key as upstream_auth after one refresh, without a retry', async () => {
    // Prepare
    gpu.setApiKey('right');
    const { secret, reads } = memorySecret('wrong');
    const model = client(new FleetApiKey(secret));
    const before = counts();

    // Act
    const failure = await ask(model).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(DomainError);
    expect(failure).toMatchObject({
      code: 'upstream_auth',
      details: { upstream_status: 401, key_renewed: false },
    });
    expect(JSON.stringify((failure as DomainError).details)).not.toContain('wrong');
    expect(counts().unauthorizedRequests - before.unauthorizedRequests).toBe(1);
    expect(reads.refresh).toBe(1);
  });

  it('retries once with a rotated key and succeeds', async () => {
    // Prepare: the container holds the old key; the store and the server move to a new one
    gpu.setApiKey('old');
    const { secret, rotate } = memorySecret('old');
    const model = client(new FleetApiKey(secret));
    await ask(model);
    rotate('new');
    gpu.setApiKey('new');
    const before = counts();

    // Act
    const chunks = await ask(model);

    // Assess
    expect(chunks.at(-1)).toMatchObject({ type: 'done' });
    expect(counts().unauthorizedRequests - before.unauthorizedRequests).toBe(1);
    expect(counts().authorizedRequests - before.authorizedRequests).toBe(1);
  });

  it('fails as our own error when the secret cannot be read', async () => {
    // Prepare
    const broken: Secret = {
      values: async () => Promise.reject(new Error('store down')),
      refresh: async () => Promise.reject(new Error('store down')),
    };

    // Act
    const failure = await ask(client(new FleetApiKey(broken))).catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ code: 'internal_error', details: { cause: 'api_key_unavailable' } });
  });

  it('sends no Authorization header without a key', async () => {
    // Prepare
    gpu.setApiKey('right');
    const before = counts();

    // Act
    const failure = await ask(client()).catch((error: unknown) => error);

    // Assess: the server requires one, so the missing key is an auth failure too
    expect(failure).toMatchObject({ code: 'upstream_auth' });
    expect(counts().unauthorizedRequests - before.unauthorizedRequests).toBe(1);
  });
});

describe('the fleet API key on /metrics scrapes', () => {
  const server = () => ({ id: gpu.id, baseUrl: gpu.baseUrl, capacity: 10 });

  it('scrapes with the bearer', async () => {
    // Prepare
    gpu.setApiKey('right');
    const { secret, reads } = memorySecret('right');
    const probe = new MetricsLoadProbe({ apiKey: new FleetApiKey(secret) });

    // Act
    const loads = [await probe.probe(server()), await probe.probe(server())];

    // Assess
    expect(loads.map((load) => load.healthy)).toEqual([true, true]);
    expect(reads.values).toBe(1);
  });

  it('marks a server refusing the key unhealthy, warns, and renews the key for the next scrape', async () => {
    // Prepare: the container read the key before it was rotated in the store
    gpu.setApiKey('right');
    const { secret, reads, rotate } = memorySecret('wrong');
    const apiKey = new FleetApiKey(secret);
    await apiKey.get();
    rotate('right');
    const warnings: { message: string; extra: Record<string, unknown> }[] = [];
    const probe = new MetricsLoadProbe({
      apiKey,
      log: { warn: (message, ...extra) => warnings.push({ message, extra: Object.assign({}, ...extra) }) },
    });

    // Act
    const refused = await probe.probe(server());
    await new Promise((resolve) => setTimeout(resolve, 10));
    const next = await probe.probe(server());

    // Assess
    expect(refused).toMatchObject({ healthy: false, running: 0, waiting: 0 });
    expect(warnings).toEqual([
      { message: 'inference server refused the API key', extra: { server: 'gpu-k', reason: 'http_401' } },
    ]);
    expect(reads.refresh).toBe(1);
    expect(next.healthy).toBe(true);
  });
});
