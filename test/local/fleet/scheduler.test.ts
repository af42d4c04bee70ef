import { afterEach, describe, expect, it } from 'vitest';
import {
  chatBody,
  clientFor,
  closeServers,
  expectOpenAiError,
  metricValue,
  PROMPT,
  postChat,
  scrape,
  start,
  waitFor,
} from './support';

/** Node's fetch types `json()` as unknown: the fields these tests read. */
type Completion = { choices: [{ finish_reason: string }] };

afterEach(closeServers);

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
    expect(((await whole.json()) as Completion).choices[0].finish_reason).toBe('stop');

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
    expect(((await response.json()) as Completion).choices[0].finish_reason).toBe('length');
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
