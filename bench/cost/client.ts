/**
 * One POST /chat as the web client sends it (web/src/send.ts: `{prompt, stream: true, conversation_id}`,
 * `accept: text/event-stream`, a fresh Idempotency-Key per prompt, the Bearer ID token), read to the
 * end of its event stream, with what crossed the wire: bytes of the request and of the response (status
 * line and headers as HTTP/1.1 would carry them, and the body), and its SSE frames.
 */
import { randomUUID } from 'node:crypto';
import { createParser } from 'eventsource-parser';
import { CHAT_HEADERS, CHAT_STREAM_HEADERS, type ChatRequestBody } from '../../contract/http-api';

export interface TurnRequest {
  readonly prompt: string;
  readonly conversationId?: string;
}

export interface TurnResponse {
  readonly status: number;
  /** The Function URL's request id (x-amzn-requestid): the gateway's invocation record. */
  readonly requestId: string;
  readonly messageId: string;
  readonly conversationId: string;
  /** `data:` events with content. */
  readonly contentFrames: number;
  /** Every SSE event (meta, content, end, [DONE]). */
  readonly events: number;
  readonly answerChars: number;
  readonly endStatus?: string;
  readonly stored?: boolean;
  readonly requestBytes: number;
  readonly responseHeaderBytes: number;
  readonly responseBodyBytes: number;
  /** From sending the request to the first content event. */
  readonly firstContentMs: number;
}

const headerBytes = (headers: Iterable<[string, string]>): number => {
  let total = 0;
  for (const [name, value] of headers) total += Buffer.byteLength(`${name}: ${value}\r\n`);
  return total + 2;
};

export async function sendTurn(
  baseUrl: string,
  idToken: string,
  request: TurnRequest,
): Promise<TurnResponse> {
  const body = JSON.stringify({
    prompt: request.prompt,
    stream: true,
    ...(request.conversationId ? { conversation_id: request.conversationId } : {}),
  } satisfies ChatRequestBody);
  const headers = {
    'content-type': 'application/json',
    accept: 'text/event-stream',
    [CHAT_HEADERS.idempotencyKey]: randomUUID(),
    authorization: `Bearer ${idToken}`,
  };
  const startedAt = performance.now();
  const response = await fetch(`${baseUrl}/chat`, { method: 'POST', headers, body });
  const requestId = response.headers.get('x-amzn-requestid') ?? '';
  let contentFrames = 0;
  let events = 0;
  let answerChars = 0;
  let firstContentMs = Number.NaN;
  let end: { status?: string; stored?: boolean } = {};
  const parser = createParser({
    onEvent: (message) => {
      events++;
      if (message.event === 'end') end = JSON.parse(message.data) as typeof end;
      if (message.event === undefined && message.data !== '[DONE]') {
        const payload = JSON.parse(message.data) as { content?: string };
        if (typeof payload.content === 'string') {
          contentFrames++;
          answerChars += payload.content.length;
          if (Number.isNaN(firstContentMs)) firstContentMs = performance.now() - startedAt;
        }
      }
    },
  });
  let responseBodyBytes = 0;
  const decoder = new TextDecoder();
  if (response.body) {
    for await (const chunk of response.body) {
      responseBodyBytes += chunk.byteLength;
      parser.feed(decoder.decode(chunk, { stream: true }));
    }
  }
  if (response.status !== 200) {
    throw new Error(`POST /chat answered ${response.status}; the cost scenario needs admitted turns`);
  }
  return {
    status: response.status,
    requestId,
    messageId: response.headers.get(CHAT_STREAM_HEADERS.messageId) ?? '',
    conversationId: response.headers.get(CHAT_STREAM_HEADERS.conversationId) ?? '',
    contentFrames,
    events,
    answerChars,
    ...(end.status === undefined ? {} : { endStatus: end.status }),
    ...(end.stored === undefined ? {} : { stored: end.stored }),
    requestBytes:
      Buffer.byteLength(`POST /chat HTTP/1.1\r\n`) +
      headerBytes(Object.entries(headers)) +
      Buffer.byteLength(body),
    responseHeaderBytes:
      Buffer.byteLength(`HTTP/1.1 ${response.status} OK\r\n`) + headerBytes(response.headers),
    responseBodyBytes,
    firstContentMs,
  };
}
