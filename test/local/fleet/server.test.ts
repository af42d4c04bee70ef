import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type SimulatedServerHandle,
  type SimulatedServerOptions,
  startSimulatedServer,
} from '../../../local/fleet/server';

// Fast settings: tests assert behaviour (order, counts, states), never durations.
const FAST: SimulatedServerOptions = { timeToFirstTokenMs: 0, tokensPerSecond: 5000, answerTokens: 20 };
const PROMPT = 'How should I water tomato plants during a hot summer?';

const servers: SimulatedServerHandle[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function start(options: SimulatedServerOptions = {}): Promise<SimulatedServerHandle> {
  const server = await startSimulatedServer({ ...FAST, ...options });
  servers.push(server);
  return server;
}

function clientFor(server: SimulatedServerHandle): OpenAI {
  return new OpenAI({ apiKey: 'local', baseURL: `${server.baseUrl}/v1`, maxRetries: 0 });
}

/** Polls a condition on the next turns of the event loop (the test timeout bounds it). */
async function waitFor(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 2));
}

function postChat(server: SimulatedServerHandle, body: unknown, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

function chatBody(extra: Record<string, unknown> = {}) {
  return { model: 'local-llm', messages: [{ role: 'user', content: PROMPT }], ...extra };
}

function expectOpenAiError(body: unknown) {
  expect(body).toEqual({
    error: {
      message: expect.any(String),
      type: expect.any(String),
      param: expect.toSatisfy((value: unknown) => value === null || typeof value === 'string'),
      code: expect.toSatisfy(
        (value: unknown) => value === null || ['string', 'number'].includes(typeof value),
      ),
    },
  });
}

// A strict reader of the Prometheus text format 0.0.4, written from the format's rules (not from the server).
interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}
function parsePrometheus(text: string): { types: Map<string, string>; samples: PromSample[] } {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: PromSample[] = [];
  const metricName = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleLine = new RegExp(`^(${metricName})(?:\\{(.*)\\})? (\\S+)$`);
  const labelPair = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/;
  expect(text.endsWith('\n')).toBe(true);
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const meta = new RegExp(`^# (HELP|TYPE) (${metricName}) (.*)$`).exec(line);
      if (!meta) throw new Error(`bad comment line: ${line}`);
      const [, kind, name = '', rest = ''] = meta;
      if (kind === 'HELP') helps.add(name);
      else {
        expect(['counter', 'gauge', 'histogram', 'summary', 'untyped']).toContain(rest);
        expect(types.has(name)).toBe(false);
        types.set(name, rest);
      }
      continue;
    }
    const match = sampleLine.exec(line);
    if (!match) throw new Error(`bad sample line: ${line}`);
    const [, name = '', rawLabels = '', rawValue = ''] = match;
    const labels: Record<string, string> = {};
    let rest = rawLabels;
    while (rest !== '') {
      const pair = labelPair.exec(rest);
      if (!pair) throw new Error(`bad labels: ${rawLabels}`);
      labels[pair[1] ?? ''] = (pair[2] ?? '').replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest = rest.slice(pair[0].length);
    }
    const value = rawValue === '+Inf' ? Number.POSITIVE_INFINITY : Number(rawValue);
    if (rawValue !== 'NaN' && Number.isNaN(value)) throw new Error(`bad value: ${line}`);
    const family = [name, name.replace(/_(bucket|sum|count)$/, '')].find((candidate) => types.has(candidate));
    if (family === undefined) throw new Error(`sample before its TYPE line: ${line}`);
    expect(helps.has(family)).toBe(true);
    samples.push({ name, labels, value });
  }
  return { types, samples };
}

function metricValue(samples: PromSample[], name: string): number {
  const found = samples.filter((sample) => sample.name === name);
  expect(found.length).toBeGreaterThan(0);
  for (const sample of found) expect(sample.labels.model_name).toBe('local-llm');
  return found.reduce((sum, sample) => sum + sample.value, 0);
}

async function scrape(server: SimulatedServerHandle) {
  const response = await fetch(`${server.baseUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return parsePrometheus(await response.text());
}

describe('OpenAI-compatible API, through the official openai client', () => {
  it('answers a non-streamed chat completion with content, usage and finish_reason', async () => {
    const server = await start();
    const completion = await clientFor(server).chat.completions.create({
      model: 'local-llm',
      messages: [{ role: 'user', content: PROMPT }],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('local-llm');
    const choice = completion.choices[0];
    expect(choice?.finish_reason).toBe('stop');
    expect(choice?.message.role).toBe('assistant');
    const content = choice?.message.content ?? '';
    expect(content.trim().length).toBeGreaterThan(0);
    expect(content).toMatch(/tomato|water|plants|summer/);
    expect(completion.usage?.completion_tokens).toBe(20);
    expect(completion.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(completion.usage?.total_tokens).toBe(
      (completion.usage?.prompt_tokens ?? 0) + (completion.usage?.completion_tokens ?? 0),
    );
  });

  it('cuts the answer at max_tokens with finish_reason length', async () => {
    const server = await start();
    const completion = await clientFor(server).chat.completions.create({
      model: 'local-llm',
      messages: [{ role: 'user', content: PROMPT }],
      max_tokens: 5,
    });
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.usage?.completion_tokens).toBe(5);
  });

  it('streams one token per chunk, then finish_reason, then a usage chunk when include_usage is set', async () => {
    const server = await start();
    const client = clientFor(server);
    const whole = await client.chat.completions.create({
      model: 'local-llm',
      messages: [{ role: 'user', content: PROMPT }],
    });
    const stream = await client.chat.completions.create({
      model: 'local-llm',
      messages: [{ role: 'user', content: PROMPT }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    const finishReasons: string[] = [];
    let role: string | undefined;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunksAfterUsage = 0;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      expect(chunk.model).toBe('local-llm');
      if (usage) chunksAfterUsage++;
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (!choice) continue;
      role ??= choice.delta.role ?? undefined;
      if (choice.delta.content) pieces.push(choice.delta.content);
      if (choice.finish_reason) finishReasons.push(choice.finish_reason);
    }
    expect(role).toBe('assistant');
    expect(pieces.length).toBe(20);
    expect(pieces.slice(1).every((piece) => /^\s+\S+$/.test(piece))).toBe(true);
    expect(pieces.join('')).toBe(whole.choices[0]?.message.content);
    expect(finishReasons).toEqual(['stop']);
    expect(usage).toEqual({
      prompt_tokens: whole.usage?.prompt_tokens,
      completion_tokens: 20,
      total_tokens: (whole.usage?.prompt_tokens ?? 0) + 20,
    });
    expect(chunksAfterUsage).toBe(0);
  });

  it('sends no usage without stream_options.include_usage, and ends the SSE body with [DONE]', async () => {
    const server = await start();
    const response = await postChat(server, chatBody({ stream: true, max_tokens: 3 }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = (await response.text()).split('\n\n').filter((event) => event !== '');
    expect(events.every((event) => event.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const chunks = events.slice(0, -1).map((event) => JSON.parse(event.slice('data: '.length)));
    expect(chunks.every((chunk) => !('usage' in chunk))).toBe(true);
    expect(chunks.at(-1).choices[0]).toMatchObject({ delta: {}, finish_reason: 'length' });
    const contents = chunks.flatMap((chunk) =>
      chunk.choices[0].delta.content ? [chunk.choices[0].delta.content] : [],
    );
    expect(contents.length).toBe(3);
  });

  it('lists the served model and answers /health', async () => {
    const server = await start({ model: 'tiny-test-model' });
    const models = await clientFor(server).models.list();
    expect(models.data.map((model) => model.id)).toEqual(['tiny-test-model']);
    const health = await fetch(`${server.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
  });

  it('answers 400 in the OpenAI error shape for bad JSON and bad messages', async () => {
    const server = await start();
    const cases: unknown[] = [
      '{not json',
      '[1,2]',
      { model: 'local-llm' },
      { messages: [] },
      { messages: ['hi'] },
    ];
    for (const body of cases) {
      const response = await postChat(server, body);
      expect(response.status).toBe(400);
      expectOpenAiError(await response.json());
    }
    const missing = await postChat(server, { model: 'local-llm' });
    expect((await missing.json()).error.param).toBe('messages');
    const viaClient = clientFor(server).chat.completions.create({ model: 'local-llm', messages: [] });
    await expect(viaClient).rejects.toMatchObject({ status: 400 });
    expect(server.stats().badRequests).toBe(cases.length + 2);
    expect(server.stats().requestsTotal).toBe(0);
  });
});

describe('slots and queue', () => {
  it('with one slot, the second stream gets its first token only after the first stream finished', async () => {
    // One token per second until the second request is queued, so the first cannot finish before.
    const server = await start({ slots: 1, timeToFirstTokenMs: 5, tokensPerSecond: 1, answerTokens: 30 });
    const client = clientFor(server);
    const log: string[] = [];
    const consume = async (name: string) => {
      const stream = await client.chat.completions.create({
        model: 'local-llm',
        messages: [{ role: 'user', content: `${name}: ${PROMPT}` }],
        stream: true,
      });
      let first = true;
      for await (const chunk of stream) {
        const choice = chunk.choices[0];
        if (choice?.delta.content && first) {
          first = false;
          log.push(`${name}:first`);
        }
        if (choice?.finish_reason) log.push(`${name}:finish`);
      }
      log.push(`${name}:end`);
    };
    const a = consume('A');
    await waitFor(() => server.stats().running === 1);
    const b = consume('B');
    await waitFor(() => server.stats().waiting === 1);
    expect(server.stats()).toMatchObject({ running: 1, completed: 0 });
    server.setOptions({ tokensPerSecond: 5000 });
    await Promise.all([a, b]);
    expect(log).toEqual(['A:first', 'A:finish', 'A:end', 'B:first', 'B:finish', 'B:end']);
    expect(server.stats()).toMatchObject({ running: 0, waiting: 0, completed: 2, aborted: 0 });
  });

  it('shows running and waiting requests in /metrics while they are in flight', async () => {
    const server = await start({ slots: 1 });
    server.stall(Number.POSITIVE_INFINITY);
    const first = postChat(server, chatBody({ stream: true }));
    const second = postChat(server, chatBody());
    await waitFor(() => server.stats().running === 1 && server.stats().waiting === 1);

    const during = await scrape(server);
    expect(during.types.get('vllm:num_requests_running')).toBe('gauge');
    expect(during.types.get('vllm:num_requests_waiting')).toBe('gauge');
    expect(during.types.get('vllm:kv_cache_usage_perc')).toBe('gauge');
    expect(during.types.get('vllm:request_success_total')).toBe('counter');
    expect(during.types.get('vllm:prompt_tokens_total')).toBe('counter');
    expect(during.types.get('vllm:generation_tokens_total')).toBe('counter');
    expect(during.types.get('vllm:time_to_first_token_seconds')).toBe('histogram');
    expect(metricValue(during.samples, 'vllm:num_requests_running')).toBe(1);
    expect(metricValue(during.samples, 'vllm:num_requests_waiting')).toBe(1);
    const kv = metricValue(during.samples, 'vllm:kv_cache_usage_perc');
    expect(kv).toBeGreaterThan(0);
    expect(kv).toBeLessThanOrEqual(1);
    expect(metricValue(during.samples, 'vllm:request_success_total')).toBe(0);

    server.stall(false);
    const [streamed, whole] = await Promise.all([first, second]);
    expect((await streamed.text()).trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect((await whole.json()).choices[0].finish_reason).toBe('stop');

    const after = await scrape(server);
    expect(metricValue(after.samples, 'vllm:num_requests_running')).toBe(0);
    expect(metricValue(after.samples, 'vllm:num_requests_waiting')).toBe(0);
    expect(metricValue(after.samples, 'vllm:kv_cache_usage_perc')).toBe(0);
    expect(metricValue(after.samples, 'vllm:request_success_total')).toBe(2);
    expect(metricValue(after.samples, 'vllm:generation_tokens_total')).toBe(40);
    expect(server.stats().promptTokensTotal).toBeGreaterThan(0);
    expect(metricValue(after.samples, 'vllm:prompt_tokens_total')).toBe(server.stats().promptTokensTotal);
    expect(metricValue(after.samples, 'vllm:time_to_first_token_seconds_count')).toBe(2);
    const inf = after.samples.find(
      (sample) => sample.name === 'vllm:time_to_first_token_seconds_bucket' && sample.labels.le === '+Inf',
    );
    expect(inf?.value).toBe(2);
  });

  it('simulates KV cache use from the running sequences, clamped to 1', async () => {
    const server = await start({ slots: 2, kvCapacityTokens: 10 });
    server.stall(Number.POSITIVE_INFINITY);
    const pending = [postChat(server, chatBody()), postChat(server, chatBody())];
    await waitFor(() => server.stats().running === 2);
    expect(server.stats().kvCacheUsage).toBe(1);
    server.setOptions({ kvCapacityTokens: 1_000_000 });
    const usage = server.stats().kvCacheUsage;
    expect(usage).toBeGreaterThan(0);
    expect(usage).toBeLessThan(1);
    server.stall(false);
    await Promise.all(pending.map(async (response) => (await response).json()));
    expect(server.stats().kvCacheUsage).toBe(0);
  });

  it('answers 503 with Retry-After in the OpenAI error shape when the queue is full', async () => {
    const server = await start({ slots: 1, maxQueue: 1, retryAfterSeconds: 2 });
    server.stall(Number.POSITIVE_INFINITY);
    const running = postChat(server, chatBody());
    const queued = postChat(server, chatBody());
    await waitFor(() => server.stats().running === 1 && server.stats().waiting === 1);

    const refused = await postChat(server, chatBody({ stream: true }));
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expectOpenAiError(await refused.json());
    const viaClient = clientFor(server).chat.completions.create({
      model: 'local-llm',
      messages: [{ role: 'user', content: PROMPT }],
    });
    await expect(viaClient).rejects.toMatchObject({ status: 503 });
    expect(server.stats()).toMatchObject({ running: 1, waiting: 1, rejected: 2, requestsTotal: 4 });

    server.setOptions({ maxQueue: null });
    const third = postChat(server, chatBody());
    await waitFor(() => server.stats().waiting === 2);
    server.stall(false);
    const statuses = await Promise.all(
      [running, queued, third].map(async (response) => (await response).status),
    );
    expect(statuses).toEqual([200, 200, 200]);
  });

  it('frees the slot of an aborted stream at once and counts it as aborted', async () => {
    // One token per second: the first stream cannot finish during the test.
    const server = await start({ slots: 1, tokensPerSecond: 1, answerTokens: 50 });
    const controller = new AbortController();
    const stream = await clientFor(server).chat.completions.create(
      { model: 'local-llm', messages: [{ role: 'user', content: PROMPT }], stream: true },
      { signal: controller.signal },
    );
    const iterator = stream[Symbol.asyncIterator]();
    let firstContent: string | null | undefined;
    while (!firstContent) firstContent = (await iterator.next()).value?.choices[0]?.delta.content;

    const queued = postChat(server, chatBody({ max_tokens: 3 }));
    await waitFor(() => server.stats().waiting === 1);
    controller.abort();
    await waitFor(() => server.stats().aborted === 1);
    expect(server.stats()).toMatchObject({ running: 1, waiting: 0, completed: 0 });

    server.setOptions({ tokensPerSecond: 5000 });
    const response = await queued;
    expect((await response.json()).choices[0].finish_reason).toBe('length');
    expect(server.stats()).toMatchObject({ running: 0, waiting: 0, completed: 1, aborted: 1 });
  });

  it('drops a queued request whose client went away', async () => {
    const server = await start({ slots: 1 });
    server.stall(Number.POSITIVE_INFINITY);
    const running = postChat(server, chatBody());
    await waitFor(() => server.stats().running === 1);
    const controller = new AbortController();
    const queued = postChat(server, chatBody(), { signal: controller.signal });
    await waitFor(() => server.stats().waiting === 1);
    controller.abort();
    await expect(queued).rejects.toThrow();
    await waitFor(() => server.stats().aborted === 1);
    expect(server.stats()).toMatchObject({ running: 1, waiting: 0 });
    server.stall(false);
    expect((await running).status).toBe(200);
    expect(server.stats()).toMatchObject({ completed: 1, aborted: 1 });
  });

  it('admits waiting requests at once when slots are raised live', async () => {
    const server = await start({ slots: 1 });
    server.stall(Number.POSITIVE_INFINITY);
    const pending = [
      postChat(server, chatBody()),
      postChat(server, chatBody()),
      postChat(server, chatBody()),
    ];
    await waitFor(() => server.stats().running === 1 && server.stats().waiting === 2);
    server.setOptions({ slots: 2 });
    expect(server.stats()).toMatchObject({ running: 2, waiting: 1 });
    server.stall(false);
    await Promise.all(pending.map(async (response) => (await response).json()));
    expect(server.stats().completed).toBe(3);
  });
});

describe('faults and admin', () => {
  it('kill() breaks the client stream mid-way; restart() serves again on the same port', async () => {
    const server = await start({ tokensPerSecond: 1, answerTokens: 50 });
    const client = clientFor(server);
    const stream = await client.chat.completions.create({
      model: 'local-llm',
      messages: [{ role: 'user', content: PROMPT }],
      stream: true,
    });
    const iterator = stream[Symbol.asyncIterator]();
    let firstContent: string | null | undefined;
    while (!firstContent) firstContent = (await iterator.next()).value?.choices[0]?.delta.content;

    const port = server.port;
    await server.kill();
    await expect(
      (async () => {
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
          // drain whatever was already buffered
        }
      })(),
    ).rejects.toThrow();
    expect(server.stats()).toMatchObject({
      listening: false,
      running: 0,
      killed: 1,
      completed: 0,
      aborted: 0,
    });
    await expect(fetch(`${server.baseUrl}/health`)).rejects.toThrow();

    await server.restart();
    expect(server.port).toBe(port);
    server.setOptions({ tokensPerSecond: 5000 });
    const completion = await client.chat.completions.create({
      model: 'local-llm',
      messages: [{ role: 'user', content: PROMPT }],
    });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
  });

  it('is steered over HTTP: /admin/options, /admin/stats and /admin/stall', async () => {
    const server = await start();
    const post = (path: string, body: unknown) =>
      fetch(`${server.baseUrl}${path}`, { method: 'POST', body: JSON.stringify(body) });

    const changed = await post('/admin/options', { slots: 3, tokensPerSecond: 4000, maxQueue: 5 });
    expect(changed.status).toBe(200);
    expect(await changed.json()).toMatchObject({ slots: 3, tokensPerSecond: 4000, maxQueue: 5 });
    expect(server.options()).toMatchObject({ slots: 3, tokensPerSecond: 4000, maxQueue: 5 });

    for (const bad of [{ slots: 0 }, { tokensPerSecond: -1 }, { answerTokens: 1.5 }, { colour: 'red' }]) {
      const response = await post('/admin/options', bad);
      expect(response.status).toBe(400);
      expectOpenAiError(await response.json());
    }
    expect(server.options().slots).toBe(3);

    expect((await post('/admin/stall', { ms: true })).status).toBe(200);
    expect(server.stats().stalled).toBe(true);
    const stats = await (await fetch(`${server.baseUrl}/admin/stats`)).json();
    expect(stats).toMatchObject({ stalled: true, running: 0, waiting: 0, completed: 0, aborted: 0 });
    expect(stats.options.slots).toBe(3);
    expect(typeof stats.kvCacheUsage).toBe('number');
    expect((await post('/admin/stall', { ms: false })).status).toBe(200);
    expect(server.stats().stalled).toBe(false);
  });

  it('a timed stall() ends by itself and the stalled stream then completes', async () => {
    const server = await start();
    server.stall(1);
    const response = await postChat(server, chatBody({ stream: true }));
    expect((await response.text()).trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(server.stats()).toMatchObject({ stalled: false, completed: 1 });
  });

  it('rejects invalid options with a clear error', async () => {
    await expect(startSimulatedServer({ slots: 0 })).rejects.toThrow(/slots/);
    const server = await start();
    expect(() => server.setOptions({ tokensPerSecond: 0 })).toThrow(/tokensPerSecond/);
    expect(() => server.stall(-5)).toThrow(/stall/);
  });
});
