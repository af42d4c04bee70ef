/**
 * The OpenAI-protocol client against a scripted HTTP server: what it yields, how each broken answer
 * fails, and that a finished stream leaves its connection to the next one.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpenAiModelClient } from '../../../adapters/inference/openai-model-client';
import type { ModelChunk } from '../../../domain/ports';

const chunk = (delta: Record<string, string>, finishReason: string | null = null) =>
  `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finishReason }] })}\n\n`;
const USAGE = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 2 } })}\n\n`;

/** What the server answers, by the prompt's text. */
const SCRIPTS: Record<string, (res: ServerResponse) => void> = {
  complete: (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk({ role: 'assistant', content: '' }));
    res.write(chunk({ content: 'Hel' }));
    res.write(chunk({ content: 'lo' }) + chunk({}, 'stop') + USAGE);
    res.end('data: [DONE]\n\n');
  },
  cut: (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(chunk({ content: 'Hel' }));
  },
  garbled: (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end('data: {not json\n\n');
  },
  busy: (res) => {
    res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
    res.end('{"error":{"message":"busy"}}');
  },
  silent: (res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk({ content: 'Hel' }));
  },
};

let baseUrl: string;
let connections = 0;
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (part: Buffer) => {
    body += part.toString();
  });
  req.on('end', () => {
    const prompt = (JSON.parse(body) as { messages: { content: string }[] }).messages[0]?.content ?? '';
    SCRIPTS[prompt]?.(res);
  });
});
server.on('connection', () => {
  connections++;
});

beforeAll(async () => {
  await new Promise<void>((resolveListen) => server.listen(0, '127.0.0.1', resolveListen));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolveClose) => server.close(resolveClose));
});

const client = new OpenAiModelClient({ connectTimeoutMs: 1_000, idleTimeoutMs: 300 });

async function streamOf(prompt: string, signal = new AbortController().signal): Promise<ModelChunk[]> {
  const chunks: ModelChunk[] = [];
  const stream = await client.stream(
    { id: 'scripted', baseUrl },
    { model: 'm', messages: [{ role: 'user', content: prompt }], maxTokens: 16, signal },
  );
  for await (const next of stream) {
    chunks.push(next);
    // As the turn does: nothing is read after the done chunk.
    if (next.type === 'done') break;
  }
  return chunks;
}

describe('OpenAiModelClient', () => {
  it('yields each content chunk, then done with the finish reason and usage', async () => {
    // Act
    const chunks = await streamOf('complete');

    // Assess
    expect(chunks).toEqual([
      { type: 'content', text: 'Hel' },
      { type: 'content', text: 'lo' },
      { type: 'done', finishReason: 'stop', usage: { promptTokens: 7, completionTokens: 2 } },
    ]);
  });

  it('sends the next stream over the connection a finished one left', async () => {
    // Prepare
    await streamOf('complete');
    const before = connections;

    // Act
    await streamOf('complete');
    await streamOf('complete');

    // Assess
    expect(connections).toBe(before);
  });

  it('fails an answer the server cut before finishing it', async () => {
    await expect(streamOf('cut')).rejects.toMatchObject({ code: 'upstream_error' });
  });

  it('fails an unreadable chunk', async () => {
    await expect(streamOf('garbled')).rejects.toMatchObject({ code: 'upstream_error' });
  });

  it('reports a 503 as overloaded, with the upstream status, before any chunk', async () => {
    await expect(
      client.stream(
        { id: 's', baseUrl },
        {
          model: 'm',
          messages: [{ role: 'user', content: 'busy' }],
          maxTokens: 16,
          signal: new AbortController().signal,
        },
      ),
    ).rejects.toMatchObject({ code: 'overloaded', details: { upstream_status: 503 } });
  });

  it('fails a server silent for longer than the idle time-out', async () => {
    await expect(streamOf('silent')).rejects.toMatchObject({ code: 'upstream_timeout' });
  });

  it('ends the stream when the caller aborts mid-answer', async () => {
    // Prepare
    const caller = new AbortController();

    // Act
    const reading = streamOf('silent', caller.signal);
    setTimeout(() => caller.abort(new Error('stopped')), 50);

    // Assess: the abort ends it (an error), not the idle time-out.
    await expect(reading).rejects.toMatchObject({ code: 'upstream_error' });
  });

  it('cannot reach a server that is not listening', async () => {
    await expect(
      client.stream(
        { id: 'gone', baseUrl: 'http://127.0.0.1:9' },
        {
          model: 'm',
          messages: [{ role: 'user', content: 'x' }],
          maxTokens: 1,
          signal: new AbortController().signal,
        },
      ),
    ).rejects.toMatchObject({ code: 'upstream_error' });
  });
});
