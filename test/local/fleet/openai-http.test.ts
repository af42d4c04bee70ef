import type OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { chatBody, clientFor, closeServers, expectOpenAiError, PROMPT, postChat, start } from './support';

afterEach(closeServers);

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

  it('answers a prompt asked again in its conversation (a regeneration) differently, and the same each time', async () => {
    const server = await start();
    const ask = async (messages: { role: 'user' | 'assistant'; content: string }[]) =>
      (await clientFor(server).chat.completions.create({ model: 'local-llm', messages })).choices[0]?.message
        .content ?? '';
    const first = await ask([{ role: 'user', content: PROMPT }]);
    const again = [
      { role: 'user' as const, content: PROMPT },
      { role: 'assistant' as const, content: first },
      { role: 'user' as const, content: PROMPT },
    ];
    const regenerated = await ask(again);
    expect(regenerated).not.toBe(first);
    expect(await ask(again)).toBe(regenerated);
    expect(await ask([{ role: 'user', content: PROMPT }])).toBe(first);
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
    expect(((await missing.json()) as { error: { param: string } }).error.param).toBe('messages');
    const viaClient = clientFor(server).chat.completions.create({ model: 'local-llm', messages: [] });
    await expect(viaClient).rejects.toMatchObject({ status: 400 });
    expect(server.stats().badRequests).toBe(cases.length + 2);
    expect(server.stats().requestsTotal).toBe(0);
  });
});
