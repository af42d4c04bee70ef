/**
 * OpenAI chat completions over HTTP: parsing a request's body into the few parameters the simulation
 * uses, and writing the answer as an SSE stream of chunks or one JSON body, with OpenAI-shaped errors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isInteger } from './options';
import { countTokens } from './text';

export const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** What the simulation takes from a chat completion request. */
export interface ChatCompletionParams {
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | null;
  seed: number | null;
  promptText: string;
  topicText: string;
  /** Earlier user messages equal to the last one: a regeneration (or a repeat) gets another answer. */
  repeats: number;
  promptTokens: number;
}

/** A request the server answers with 400 (OpenAI's invalid_request_error), naming the parameter. */
export class InvalidChatCompletion extends Error {
  constructor(
    message: string,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

function contentText(content: unknown, param: string): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((part, i) => {
        if (typeof part !== 'object' || part === null) {
          throw new InvalidChatCompletion(`${param}[${i}] must be a content part object`, `${param}[${i}]`);
        }
        const text = (part as { text?: unknown }).text;
        return typeof text === 'string' ? text : '';
      })
      .join('\n');
  }
  throw new InvalidChatCompletion(`${param} must be a string or an array of content parts`, param);
}

export function parseChatCompletionParams(raw: string): ChatCompletionParams {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (error) {
    throw new InvalidChatCompletion(
      `We could not parse the JSON body of your request: ${(error as Error).message}`,
    );
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidChatCompletion('The request body must be a JSON object.');
  }
  const request = body as Record<string, unknown>;
  if (request.model !== undefined && typeof request.model !== 'string') {
    throw new InvalidChatCompletion("'model' must be a string", 'model');
  }
  const messages = request.messages;
  if (messages === undefined)
    throw new InvalidChatCompletion("'messages' is a required property", 'messages');
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new InvalidChatCompletion("'messages' must be a non-empty array", 'messages');
  }
  const texts: string[] = [];
  let topicText = '';
  let promptTokens = 3;
  messages.forEach((message: unknown, i) => {
    const param = `messages[${i}]`;
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      throw new InvalidChatCompletion(`${param} must be an object`, param);
    }
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || role === '') {
      throw new InvalidChatCompletion(`${param}.role must be a non-empty string`, `${param}.role`);
    }
    const text = contentText(content, `${param}.content`);
    texts.push(text);
    if (role === 'user') topicText = text;
    promptTokens += 4 + countTokens(text);
  });
  if (request.stream !== undefined && request.stream !== null && typeof request.stream !== 'boolean') {
    throw new InvalidChatCompletion("'stream' must be a boolean", 'stream');
  }
  let includeUsage = false;
  const streamOptions = request.stream_options;
  if (streamOptions !== undefined && streamOptions !== null) {
    if (typeof streamOptions !== 'object' || Array.isArray(streamOptions)) {
      throw new InvalidChatCompletion("'stream_options' must be an object", 'stream_options');
    }
    const flag = (streamOptions as { include_usage?: unknown }).include_usage;
    if (flag !== undefined && flag !== null && typeof flag !== 'boolean') {
      throw new InvalidChatCompletion(
        "'stream_options.include_usage' must be a boolean",
        'stream_options.include_usage',
      );
    }
    includeUsage = flag === true;
  }
  let maxTokens: number | null = null;
  for (const key of ['max_tokens', 'max_completion_tokens'] as const) {
    const value = request[key];
    if (value === undefined || value === null) continue;
    if (!isInteger(value, 1)) throw new InvalidChatCompletion(`'${key}' must be an integer >= 1`, key);
    maxTokens = maxTokens === null ? value : Math.min(maxTokens, value);
  }
  let seed: number | null = null;
  if (request.seed !== undefined && request.seed !== null) {
    if (typeof request.seed !== 'number' || !Number.isInteger(request.seed)) {
      throw new InvalidChatCompletion("'seed' must be an integer", 'seed');
    }
    seed = request.seed;
  }
  const promptText = texts.join('\n');
  const userTexts = userMessages(messages);
  const repeats = userTexts.slice(0, -1).filter((text) => text === topicText).length;
  return {
    stream: request.stream === true,
    includeUsage,
    maxTokens,
    seed,
    promptText,
    topicText: topicText || promptText,
    repeats,
    promptTokens,
  };
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function errorBody(message: string, type: string, param: string | null, code: string | number | null) {
  return { error: { message, type, param, code } };
}

export function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** True when `methods` (comma-separated) allows the request's method; otherwise answers 405. */
export function allowMethod(
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  methods: string,
): boolean {
  const method = req.method ?? 'GET';
  if (methods.split(',').includes(method)) return true;
  req.resume();
  sendJson(
    res,
    405,
    errorBody(`Method ${method} not allowed on ${path}`, 'invalid_request_error', null, 405),
    {
      allow: methods,
    },
  );
  return false;
}

export type FinishReason = 'stop' | 'length';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Where one answer goes as it is generated; the scheduler calls it without knowing about HTTP. */
export interface CompletionOutput {
  /** Prefill is over: a stream sends its head and the assistant role chunk. */
  begin(): void;
  /** One generated token (a stream sends it at once; a JSON answer waits for the end). */
  token(text: string): void;
  /** The answer is complete: the stream's last chunks and [DONE], or the whole JSON body. */
  finish(finishReason: FinishReason, usage: Usage, content: string): void;
}

export interface CompletionMeta {
  readonly res: ServerResponse;
  readonly requestId: string;
  /** Epoch seconds. */
  readonly created: number;
  readonly model: string;
  /** Sent as the `x-inference-server` header. */
  readonly serverId: string;
  readonly stream: boolean;
  readonly includeUsage: boolean;
}

export function completionOutput(meta: CompletionMeta): CompletionOutput {
  const { res, requestId, created, model } = meta;
  const writeChunk = (delta: Record<string, string>, finishReason: FinishReason | null): void => {
    const chunk = {
      id: requestId,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(meta.includeUsage ? { usage: null } : {}),
    };
    res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  };
  return {
    begin() {
      if (!meta.stream) return;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-request-id': requestId,
        'x-inference-server': meta.serverId,
      });
      writeChunk({ role: 'assistant', content: '' }, null);
    },
    token(text) {
      if (meta.stream) writeChunk({ content: text }, null);
    },
    finish(finishReason, usage, content) {
      if (meta.stream) {
        writeChunk({}, finishReason);
        if (meta.includeUsage) {
          const usageChunk = {
            id: requestId,
            object: 'chat.completion.chunk',
            created,
            model,
            choices: [],
            usage,
          };
          res.write(`data: ${JSON.stringify(usageChunk)}\n\n`);
        }
        res.end('data: [DONE]\n\n');
        return;
      }
      sendJson(
        res,
        200,
        {
          id: requestId,
          object: 'chat.completion',
          created,
          model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content },
              logprobs: null,
              finish_reason: finishReason,
            },
          ],
          usage,
        },
        { 'x-request-id': requestId, 'x-inference-server': meta.serverId },
      );
    },
  };
}

function userMessages(messages: readonly unknown[]): string[] {
  const texts: string[] = [];
  messages.forEach((message, i) => {
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (role === 'user') texts.push(contentText(content, `messages[${i}].content`));
  });
  return texts;
}
