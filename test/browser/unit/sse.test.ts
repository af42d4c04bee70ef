import { describe, expect, it } from 'vitest';
import { readSse, SseParser } from '../../../web/src/sse';

const STREAM =
  'event: meta\ndata: {"message_id":"m1","conversation_id":"c1"}\n\n' +
  ': keep-alive\n\n' +
  'data: {"content":"Hel"}\n\n' +
  'data: {"content":"lo"}\n\n' +
  'event: end\ndata: {"message_id":"m1","status":"completed"}\n\n' +
  'data: [DONE]\n\n';

const EXPECTED = [
  { event: 'meta', data: '{"message_id":"m1","conversation_id":"c1"}' },
  { event: 'message', data: '{"content":"Hel"}' },
  { event: 'message', data: '{"content":"lo"}' },
  { event: 'end', data: '{"message_id":"m1","status":"completed"}' },
  { event: 'message', data: '[DONE]' },
];

describe('SseParser', () => {
  it('parses a whole stream', () => {
    expect(new SseParser().push(STREAM)).toEqual(EXPECTED);
  });

  it('gives the same events however the stream is cut', () => {
    for (const size of [1, 2, 3, 7, 13]) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < STREAM.length; i += size) events.push(...parser.push(STREAM.slice(i, i + size)));
      expect(events).toEqual(EXPECTED);
    }
  });

  it('accepts CRLF and CR line ends, and joins multi-line data', () => {
    const parser = new SseParser();
    expect([...parser.push('data: a\r\ndata: b\r'), ...parser.push('\n\r\nevent: x\rdata:c\r\r\n')]).toEqual([
      { event: 'message', data: 'a\nb' },
      { event: 'x', data: 'c' },
    ]);
  });

  it('holds back an event until its blank line arrives', () => {
    const parser = new SseParser();
    expect(parser.push('data: {"content":"x"}\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ event: 'message', data: '{"content":"x"}' }]);
  });
});

describe('readSse', () => {
  it('decodes UTF-8 split across chunks', async () => {
    // Prepare
    const bytes = new TextEncoder().encode('data: {"content":"héllo ✓"}\n\n');
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const byte of bytes) controller.enqueue(new Uint8Array([byte]));
        controller.close();
      },
    });

    // Act
    const events = [];
    for await (const event of readSse(body)) events.push(event);

    // Assess
    expect(events).toEqual([{ event: 'message', data: '{"content":"héllo ✓"}' }]);
  });
});
