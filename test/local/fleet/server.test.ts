import { afterEach, describe, expect, it } from 'vitest';
import { startSimulatedServer } from '../../../local/fleet/server';
import { chatBody, clientFor, closeServers, expectOpenAiError, PROMPT, postChat, start } from './support';

afterEach(closeServers);

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
    const stats = (await (await fetch(`${server.baseUrl}/admin/stats`)).json()) as {
      options: { slots: number };
      kvCacheUsage: unknown;
    };
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
