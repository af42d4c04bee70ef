/** What one turn costs in log lines: one "turn ended" line and one metrics line, never any text. */
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ActiveTurn } from '../../../use-cases/start-turn';

vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'INFO');
const { respondWithTurn } = await import('../../../functions/http/chat-responses');
const { runInLogScope } = await import('../../../functions/commons/log-scope');

afterEach(() => vi.restoreAllMocks());

function captureLines(): string[] {
  const lines: string[] = [];
  const record = (text: string) => lines.push(...text.split('\n').filter((line) => line.trim() !== ''));
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    record(String(chunk));
    return true;
  });
  for (const method of ['log', 'info', 'warn', 'error'] as const) {
    vi.spyOn(console, method).mockImplementation((...args: unknown[]) => record(args.map(String).join(' ')));
  }
  return lines;
}

async function drain(stream: Readable): Promise<void> {
  for await (const _ of stream);
}

describe('the log lines of one streamed turn', () => {
  it('are one "turn ended" line with ids, sizes and timings, and one metrics line: no prompt or answer text', async () => {
    const lines = captureLines();
    const turn: ActiveTurn = {
      messageId: 'm-42',
      conversationId: 'c-7',
      serverId: 'gpu-3',
      opening: { ttftMs: 120, contextTurns: 2, contextTokens: 300, contextEstimatedTurns: 0 },
      async *events() {
        for (let i = 0; i < 50; i++) yield { type: 'content', text: 'SECRET-ANSWER ' };
        yield { type: 'end', status: 'completed', stored: true, finishReason: 'stop' };
      },
    };
    const caller = { userId: 'user-9', tier: 'premium' } as const;

    // The request's scope as the handler and the authenticator leave it (turn-log-keys.test.ts runs them).
    const result = await runInLogScope({ correlation_id: 'req-1', user_id: 'user-9', tier: 'premium' }, () =>
      respondWithTurn(turn, { stream: true, prompt: 'SECRET-PROMPT' }, caller, Date.now()),
    );
    if (typeof result.body === 'string') throw new Error('expected a stream');
    await drain(result.body);

    expect(lines.join('\n')).not.toMatch(/SECRET-(PROMPT|ANSWER)/);
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toHaveLength(2);
    expect(records.filter((record) => '_aws' in record)).toHaveLength(1);
    const ended = records.find((record) => record.message === 'turn ended');
    expect(ended).toMatchObject({
      correlation_id: 'req-1',
      message_id: 'm-42',
      user_id: 'user-9',
      tier: 'premium',
      server: 'gpu-3',
      status: 'completed',
      prompt_chars: 'SECRET-PROMPT'.length,
      answer_chars: 50 * 'SECRET-ANSWER '.length,
      ttft_ms: 120,
      context_turns: 2,
      context_tokens: 300,
    });
    // Nothing every line of the function would repeat (its ARN, name, memory, sampling rate, a trace id).
    expect(ended).toMatchObject({ level: 'INFO', service: 'chat', timestamp: expect.any(String) });
    for (const key of [
      'function_arn',
      'function_name',
      'function_memory_size',
      'sampling_rate',
      'xray_trace_id',
    ]) {
      expect(ended, key).not.toHaveProperty(key);
    }
  });
});
