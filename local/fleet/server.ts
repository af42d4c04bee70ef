// A simulated vLLM-style OpenAI-compatible inference server for local runs, tests and benchmarks.
//
// - POST /v1/chat/completions (stream or not), GET /v1/models, GET /health, GET /metrics (vLLM names).
// - At most `slots` sequences generate at once; the rest wait FIFO (optionally bounded: 503 + Retry-After).
// - Each sequence: `timeToFirstTokenMs` after it gets a slot, then `tokensPerSecond` tokens per second.
// - Faults for tests: kill() (crash: sockets destroyed), restart(), stall(ms | false), live setOptions().
// - Steering from another process: GET /admin/stats, POST /admin/options, POST /admin/stall.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Histogram, renderFamily } from './prometheus';
import { countTokens, generateAnswerTokens } from './text';

/** Options that can be changed while the server runs (setOptions, POST /admin/options). */
export interface TunableOptions {
  /** Concurrent sequences (vLLM's running batch). Default 8. */
  slots: number;
  /** Waiting requests allowed before answering 503; null = unlimited (default). */
  maxQueue: number | null;
  /** Delay between getting a slot and the first token (prefill). Default 150. */
  timeToFirstTokenMs: number;
  /** Decode speed of each sequence. Default 50. */
  tokensPerSecond: number;
  /** Natural answer length in tokens (max_tokens can cut it: finish_reason 'length'). Default 200. */
  answerTokens: number;
  /** KV cache capacity in tokens for `vllm:kv_cache_usage_perc`; null = slots × 2048 (default). */
  kvCapacityTokens: number | null;
  /** Retry-After (seconds) sent with a 503 when the queue is full. Default 1. */
  retryAfterSeconds: number;
  /** Seed of the answer text (a request's own `seed` wins). Default 1. */
  seed: number;
}

export interface InferenceServerOptions extends Partial<TunableOptions> {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (a random free port). */
  port?: number;
  /** Served model id (GET /v1/models, `model` of responses, `model_name` label). Default 'local-llm'. */
  model?: string;
  /** Name of this server, sent as the `x-inference-server` response header. Default 'inference'. */
  id?: string;
}

export interface InferenceServerStats {
  id: string;
  model: string;
  listening: boolean;
  stalled: boolean;
  /** Sequences holding a slot. */
  running: number;
  /** Requests queued for a slot. */
  waiting: number;
  /** Requests answered to the end (finish_reason stop or length). */
  completed: number;
  /** Requests whose client went away before the end (queued or running). */
  aborted: number;
  /** Requests refused with 503 because the queue was full. */
  rejected: number;
  /** Requests cut off by kill() or close(). */
  killed: number;
  /** Chat requests refused with 400. */
  badRequests: number;
  /** Valid chat completion requests received (including rejected ones). */
  requestsTotal: number;
  promptTokensTotal: number;
  generationTokensTotal: number;
  /** Simulated KV cache use, 0..1. */
  kvCacheUsage: number;
  options: TunableOptions;
}

export interface InferenceServerHandle {
  readonly id: string;
  readonly model: string;
  readonly host: string;
  /** Fixed at the first listen; restart() listens on it again. */
  readonly port: number;
  /** `http://host:port` (the OpenAI client's baseURL is `${baseUrl}/v1`). */
  readonly baseUrl: string;
  stats(): InferenceServerStats;
  options(): TunableOptions;
  /** Changes options live; throws on an invalid value. Returns the resulting options. */
  setOptions(partial: Partial<TunableOptions>): TunableOptions;
  /** Running sequences stop emitting tokens for `ms` (Infinity = until stall(false)); false resumes. */
  stall(ms: number | false): void;
  /** Crash: destroys every open socket mid-stream and stops listening. */
  kill(): Promise<void>;
  /** Listens again on the same port after kill(). */
  restart(): Promise<void>;
  /** Stops for good: like kill(), and clears every timer. Idempotent. */
  close(): Promise<void>;
}

const DEFAULTS: TunableOptions = {
  slots: 8,
  maxQueue: null,
  timeToFirstTokenMs: 150,
  tokensPerSecond: 50,
  answerTokens: 200,
  kvCapacityTokens: null,
  retryAfterSeconds: 1,
  seed: 1,
};

const KV_TOKENS_PER_SLOT = 2048;
const MAX_BODY_BYTES = 8 * 1024 * 1024;
const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640,
];
const E2E_BUCKETS = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120, 240, 480, 960, 1920];

// ---------------------------------------------------------------------------------------------------------
// Option validation (shared by the constructor, setOptions and POST /admin/options)

function isInteger(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}

function isFiniteAtLeast(value: unknown, min: number, exclusive = false): value is number {
  return typeof value === 'number' && Number.isFinite(value) && (exclusive ? value > min : value >= min);
}

/** Validates a partial set of tunable options (from code or JSON); throws an Error naming the option. */
export function validateTunableOptions(input: unknown): Partial<TunableOptions> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new Error('options must be a JSON object');
  }
  const out: Partial<TunableOptions> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    switch (key) {
      case 'slots':
        if (!isInteger(value, 1))
          throw new Error(`slots must be an integer >= 1, got ${JSON.stringify(value)}`);
        out.slots = value;
        break;
      case 'maxQueue':
        if (value !== null && !isInteger(value, 0)) {
          throw new Error(
            `maxQueue must be an integer >= 0 or null (unlimited), got ${JSON.stringify(value)}`,
          );
        }
        out.maxQueue = value;
        break;
      case 'timeToFirstTokenMs':
        if (!isFiniteAtLeast(value, 0)) {
          throw new Error(`timeToFirstTokenMs must be a number >= 0, got ${JSON.stringify(value)}`);
        }
        out.timeToFirstTokenMs = value;
        break;
      case 'tokensPerSecond':
        if (!isFiniteAtLeast(value, 0, true)) {
          throw new Error(`tokensPerSecond must be a number > 0, got ${JSON.stringify(value)}`);
        }
        out.tokensPerSecond = value;
        break;
      case 'answerTokens':
        if (!isInteger(value, 1)) {
          throw new Error(`answerTokens must be an integer >= 1, got ${JSON.stringify(value)}`);
        }
        out.answerTokens = value;
        break;
      case 'kvCapacityTokens':
        if (value !== null && !isInteger(value, 1)) {
          throw new Error(`kvCapacityTokens must be an integer >= 1 or null, got ${JSON.stringify(value)}`);
        }
        out.kvCapacityTokens = value;
        break;
      case 'retryAfterSeconds':
        if (!isInteger(value, 0)) {
          throw new Error(`retryAfterSeconds must be an integer >= 0, got ${JSON.stringify(value)}`);
        }
        out.retryAfterSeconds = value;
        break;
      case 'seed':
        if (!isInteger(value, 0))
          throw new Error(`seed must be an integer >= 0, got ${JSON.stringify(value)}`);
        out.seed = value;
        break;
      default:
        throw new Error(`unknown option ${JSON.stringify(key)}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Chat request parsing

interface ChatRequest {
  stream: boolean;
  includeUsage: boolean;
  maxTokens: number | null;
  seed: number | null;
  promptText: string;
  topicText: string;
  promptTokens: number;
}

class BadRequest extends Error {
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
          throw new BadRequest(`${param}[${i}] must be a content part object`, `${param}[${i}]`);
        }
        const text = (part as { text?: unknown }).text;
        return typeof text === 'string' ? text : '';
      })
      .join('\n');
  }
  throw new BadRequest(`${param} must be a string or an array of content parts`, param);
}

function parseChatRequest(raw: string): ChatRequest {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (error) {
    throw new BadRequest(`We could not parse the JSON body of your request: ${(error as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequest('The request body must be a JSON object.');
  }
  const request = body as Record<string, unknown>;
  if (request.model !== undefined && typeof request.model !== 'string') {
    throw new BadRequest("'model' must be a string", 'model');
  }
  const messages = request.messages;
  if (messages === undefined) throw new BadRequest("'messages' is a required property", 'messages');
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new BadRequest("'messages' must be a non-empty array", 'messages');
  }
  const texts: string[] = [];
  let topicText = '';
  let promptTokens = 3;
  messages.forEach((message: unknown, i) => {
    const param = `messages[${i}]`;
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      throw new BadRequest(`${param} must be an object`, param);
    }
    const { role, content } = message as { role?: unknown; content?: unknown };
    if (typeof role !== 'string' || role === '') {
      throw new BadRequest(`${param}.role must be a non-empty string`, `${param}.role`);
    }
    const text = contentText(content, `${param}.content`);
    texts.push(text);
    if (role === 'user') topicText = text;
    promptTokens += 4 + countTokens(text);
  });
  if (request.stream !== undefined && request.stream !== null && typeof request.stream !== 'boolean') {
    throw new BadRequest("'stream' must be a boolean", 'stream');
  }
  let includeUsage = false;
  const streamOptions = request.stream_options;
  if (streamOptions !== undefined && streamOptions !== null) {
    if (typeof streamOptions !== 'object' || Array.isArray(streamOptions)) {
      throw new BadRequest("'stream_options' must be an object", 'stream_options');
    }
    const flag = (streamOptions as { include_usage?: unknown }).include_usage;
    if (flag !== undefined && flag !== null && typeof flag !== 'boolean') {
      throw new BadRequest(
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
    if (!isInteger(value, 1)) throw new BadRequest(`'${key}' must be an integer >= 1`, key);
    maxTokens = maxTokens === null ? value : Math.min(maxTokens, value);
  }
  let seed: number | null = null;
  if (request.seed !== undefined && request.seed !== null) {
    if (typeof request.seed !== 'number' || !Number.isInteger(request.seed)) {
      throw new BadRequest("'seed' must be an integer", 'seed');
    }
    seed = request.seed;
  }
  const promptText = texts.join('\n');
  return {
    stream: request.stream === true,
    includeUsage,
    maxTokens,
    seed,
    promptText,
    topicText: topicText || promptText,
    promptTokens,
  };
}

// ---------------------------------------------------------------------------------------------------------
// HTTP helpers

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function errorBody(message: string, type: string, param: string | null, code: string | number | null) {
  return { error: { message, type, param, code } };
}

function readBody(req: IncomingMessage): Promise<string | null> {
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

// ---------------------------------------------------------------------------------------------------------
// The simulated engine

type FinishReason = 'stop' | 'length';

interface Sequence {
  readonly requestId: string;
  readonly created: number;
  readonly arrivedAt: number;
  readonly res: ServerResponse;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly promptTokens: number;
  readonly tokens: readonly string[];
  readonly finishReason: FinishReason;
  state: 'waiting' | 'prefill' | 'decoding' | 'done';
  generated: number;
  credit: number;
  lastTickAt: number;
  timer: NodeJS.Timeout | undefined;
  parked: boolean;
}

class InferenceServer implements InferenceServerHandle {
  readonly id: string;
  readonly model: string;
  readonly host: string;
  port: number;

  private opts: TunableOptions;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly running = new Set<Sequence>();
  private waitingQueue: Sequence[] = [];
  private stalledFlag = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly startedAt = Math.floor(Date.now() / 1000);

  private completed = 0;
  private aborted = 0;
  private rejected = 0;
  private killedCount = 0;
  private badRequests = 0;
  private requestsTotal = 0;
  private promptTokensTotal = 0;
  private generationTokensTotal = 0;
  private readonly successByReason: Record<FinishReason, number> = { stop: 0, length: 0 };
  private readonly ttft = new Histogram(TTFT_BUCKETS);
  private readonly e2e = new Histogram(E2E_BUCKETS);

  constructor(options: InferenceServerOptions) {
    const { host, port, model, id, ...tunable } = options;
    this.host = host ?? '127.0.0.1';
    this.port = port ?? 0;
    this.model = model ?? 'local-llm';
    this.id = id ?? 'inference';
    this.opts = { ...DEFAULTS, ...validateTunableOptions(tunable) };
    if (!isInteger(this.port, 0) || this.port > 65535) throw new Error(`port must be 0..65535, got ${port}`);
  }

  get baseUrl(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return `http://${host}:${this.port}`;
  }

  // ----- lifecycle

  async listen(): Promise<void> {
    if (this.closed) throw new Error(`inference server ${this.id} is closed`);
    if (this.server) return;
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 5_000;
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      server.once('error', onError);
      server.listen(this.port, this.host, () => {
        server.off('error', onError);
        resolve();
      });
    });
    const address = server.address();
    if (address && typeof address === 'object') this.port = address.port;
    this.server = server;
  }

  async kill(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const seq of [...this.running, ...this.waitingQueue]) {
      this.finishSequence(seq);
      this.killedCount++;
    }
    this.running.clear();
    this.waitingQueue = [];
    if (!server) return;
    const closedPromise = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closedPromise;
  }

  async restart(): Promise<void> {
    if (this.closed) throw new Error(`inference server ${this.id} is closed`);
    if (this.server) return;
    await this.listen();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.kill();
    this.unstall();
  }

  // ----- knobs

  options(): TunableOptions {
    return { ...this.opts };
  }

  setOptions(partial: Partial<TunableOptions>): TunableOptions {
    const next = { ...this.opts, ...validateTunableOptions(partial) };
    const previousTps = this.opts.tokensPerSecond;
    this.opts = next;
    if (next.tokensPerSecond !== previousTps) {
      // Decoding sequences switch speed now, not at their next (possibly far) tick.
      const now = performance.now();
      for (const seq of this.running) {
        if (seq.state !== 'decoding' || seq.parked || seq.timer === undefined) continue;
        seq.credit += ((now - seq.lastTickAt) * previousTps) / 1000;
        seq.lastTickAt = now;
        this.schedule(seq, ((1 - seq.credit) * 1000) / next.tokensPerSecond);
      }
    }
    this.pump();
    return this.options();
  }

  stall(ms: number | false): void {
    if (ms === false) {
      this.unstall();
      return;
    }
    if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
      throw new Error(`stall() takes a number of milliseconds >= 0 or false, got ${String(ms)}`);
    }
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.stalledFlag = true;
    if (Number.isFinite(ms)) this.stallTimer = setTimeout(() => this.unstall(), ms);
  }

  private unstall(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    if (!this.stalledFlag) return;
    this.stalledFlag = false;
    const now = performance.now();
    for (const seq of this.running) {
      if (!seq.parked) continue;
      seq.parked = false;
      seq.lastTickAt = now;
      seq.credit = 0;
      this.schedule(seq, seq.state === 'prefill' ? 0 : 1000 / this.opts.tokensPerSecond);
    }
  }

  stats(): InferenceServerStats {
    return {
      id: this.id,
      model: this.model,
      listening: this.server !== undefined,
      stalled: this.stalledFlag,
      running: this.running.size,
      waiting: this.waitingQueue.length,
      completed: this.completed,
      aborted: this.aborted,
      rejected: this.rejected,
      killed: this.killedCount,
      badRequests: this.badRequests,
      requestsTotal: this.requestsTotal,
      promptTokensTotal: this.promptTokensTotal,
      generationTokensTotal: this.generationTokensTotal,
      kvCacheUsage: this.kvCacheUsage(),
      options: this.options(),
    };
  }

  private kvCacheUsage(): number {
    const capacity = this.opts.kvCapacityTokens ?? this.opts.slots * KV_TOKENS_PER_SLOT;
    let used = 0;
    for (const seq of this.running) used += seq.promptTokens + seq.generated;
    return Math.min(1, used / capacity);
  }

  // ----- scheduling

  private admit(seq: Sequence): boolean {
    if (this.running.size < this.opts.slots && this.waitingQueue.length === 0) {
      this.start(seq);
      return true;
    }
    const { maxQueue } = this.opts;
    if (maxQueue !== null && this.waitingQueue.length >= maxQueue) return false;
    this.waitingQueue.push(seq);
    return true;
  }

  private pump(): void {
    while (this.running.size < this.opts.slots) {
      const next = this.waitingQueue.shift();
      if (!next) break;
      this.start(next);
    }
  }

  private start(seq: Sequence): void {
    seq.state = 'prefill';
    this.running.add(seq);
    this.schedule(seq, this.opts.timeToFirstTokenMs);
  }

  private schedule(seq: Sequence, delayMs: number): void {
    clearTimeout(seq.timer);
    seq.timer = setTimeout(() => this.tick(seq), Math.max(0, delayMs));
  }

  private tick(seq: Sequence): void {
    seq.timer = undefined;
    if (seq.state === 'done') return;
    if (this.stalledFlag) {
      seq.parked = true;
      return;
    }
    const now = performance.now();
    if (seq.state === 'prefill') {
      seq.state = 'decoding';
      this.promptTokensTotal += seq.promptTokens;
      this.ttft.observe((now - seq.arrivedAt) / 1000);
      if (seq.stream) {
        seq.res.writeHead(200, {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          'x-request-id': seq.requestId,
          'x-inference-server': this.id,
        });
        this.writeChunk(seq, { role: 'assistant', content: '' }, null);
      }
      seq.lastTickAt = now;
      seq.credit = 0;
      this.emit(seq, 1);
    } else {
      seq.credit += ((now - seq.lastTickAt) * this.opts.tokensPerSecond) / 1000;
      seq.lastTickAt = now;
      const due = Math.min(Math.floor(seq.credit), seq.tokens.length - seq.generated);
      seq.credit -= due;
      this.emit(seq, due);
    }
    if (seq.generated >= seq.tokens.length) {
      this.complete(seq);
      return;
    }
    this.schedule(seq, ((1 - seq.credit) * 1000) / this.opts.tokensPerSecond);
  }

  private emit(seq: Sequence, count: number): void {
    for (let i = 0; i < count && seq.generated < seq.tokens.length; i++) {
      const token = seq.tokens[seq.generated] ?? '';
      seq.generated++;
      this.generationTokensTotal++;
      if (seq.stream) this.writeChunk(seq, { content: token }, null);
    }
  }

  private usage(seq: Sequence) {
    return {
      prompt_tokens: seq.promptTokens,
      completion_tokens: seq.generated,
      total_tokens: seq.promptTokens + seq.generated,
    };
  }

  private writeChunk(seq: Sequence, delta: Record<string, string>, finishReason: FinishReason | null): void {
    const chunk = {
      id: seq.requestId,
      object: 'chat.completion.chunk',
      created: seq.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...(seq.includeUsage ? { usage: null } : {}),
    };
    seq.res.write(`data: ${JSON.stringify(chunk)}\n\n`);
  }

  private complete(seq: Sequence): void {
    const { res } = seq;
    if (seq.stream) {
      this.writeChunk(seq, {}, seq.finishReason);
      if (seq.includeUsage) {
        const usageChunk = {
          id: seq.requestId,
          object: 'chat.completion.chunk',
          created: seq.created,
          model: this.model,
          choices: [],
          usage: this.usage(seq),
        };
        res.write(`data: ${JSON.stringify(usageChunk)}\n\n`);
      }
      res.end('data: [DONE]\n\n');
    } else {
      sendJson(
        res,
        200,
        {
          id: seq.requestId,
          object: 'chat.completion',
          created: seq.created,
          model: this.model,
          choices: [
            {
              index: 0,
              message: { role: 'assistant', content: seq.tokens.join('') },
              logprobs: null,
              finish_reason: seq.finishReason,
            },
          ],
          usage: this.usage(seq),
        },
        { 'x-request-id': seq.requestId, 'x-inference-server': this.id },
      );
    }
    this.completed++;
    this.successByReason[seq.finishReason]++;
    this.e2e.observe((performance.now() - seq.arrivedAt) / 1000);
    this.finishSequence(seq);
    this.pump();
  }

  /** Marks a sequence done and takes it out of the slots / queue (does not pump). */
  private finishSequence(seq: Sequence): void {
    if (seq.state === 'done') return;
    clearTimeout(seq.timer);
    seq.timer = undefined;
    if (seq.state === 'waiting') {
      const index = this.waitingQueue.indexOf(seq);
      if (index >= 0) this.waitingQueue.splice(index, 1);
    } else {
      this.running.delete(seq);
    }
    seq.state = 'done';
  }

  private onClientGone(seq: Sequence): void {
    if (seq.state === 'done') return;
    this.aborted++;
    this.finishSequence(seq);
    this.pump();
  }

  // ----- HTTP

  private handle(req: IncomingMessage, res: ServerResponse): void {
    res.on('error', () => {});
    this.route(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        sendJson(res, 500, errorBody(String((error as Error)?.message ?? error), 'server_error', null, null));
      } else {
        res.destroy();
      }
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const method = req.method ?? 'GET';
    const allow = (methods: string): boolean => {
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
    };
    switch (path) {
      case '/v1/chat/completions':
        if (allow('POST')) await this.chatCompletions(req, res);
        return;
      case '/v1/models':
        if (allow('GET')) {
          sendJson(res, 200, {
            object: 'list',
            data: [
              {
                id: this.model,
                object: 'model',
                created: this.startedAt,
                owned_by: 'vllm',
                root: this.model,
                parent: null,
              },
            ],
          });
        }
        return;
      case '/health':
        if (allow('GET')) sendJson(res, 200, { status: 'ok' });
        return;
      case '/metrics':
        if (allow('GET')) {
          const text = this.metricsText();
          res.writeHead(200, {
            'content-type': 'text/plain; version=0.0.4; charset=utf-8',
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
        }
        return;
      case '/admin/stats':
        if (allow('GET')) sendJson(res, 200, this.stats());
        return;
      case '/admin/options':
        if (!allow('GET,POST')) return;
        if (method === 'GET') {
          sendJson(res, 200, this.options());
          return;
        }
        await this.adminJson(req, res, (body) => this.setOptions(body as Partial<TunableOptions>));
        return;
      case '/admin/stall':
        if (!allow('POST')) return;
        await this.adminJson(req, res, (body) => {
          const ms = (body as { ms?: unknown } | null)?.ms;
          if (typeof ms !== 'boolean' && typeof ms !== 'number') {
            throw new Error(
              'body must be {"ms": <milliseconds>}, {"ms": true} (until resumed) or {"ms": false}',
            );
          }
          this.stall(ms === true ? Number.POSITIVE_INFINITY : ms);
          return { stalled: this.stalledFlag };
        });
        return;
      default:
        req.resume();
        sendJson(res, 404, errorBody(`Not found: ${method} ${path}`, 'invalid_request_error', null, 404));
    }
  }

  private async adminJson(req: IncomingMessage, res: ServerResponse, apply: (body: unknown) => unknown) {
    const raw = await readBody(req);
    try {
      const body: unknown = raw ? JSON.parse(raw) : {};
      sendJson(res, 200, apply(body));
    } catch (error) {
      sendJson(res, 400, errorBody((error as Error).message, 'invalid_request_error', null, 400));
    }
  }

  private async chatCompletions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (raw === null) {
      this.badRequests++;
      sendJson(res, 413, errorBody('Request body too large', 'invalid_request_error', null, 413));
      return;
    }
    let request: ChatRequest;
    try {
      request = parseChatRequest(raw);
    } catch (error) {
      if (!(error instanceof BadRequest)) throw error;
      this.badRequests++;
      sendJson(res, 400, errorBody(error.message, 'invalid_request_error', error.param, null));
      return;
    }
    if (res.destroyed || !this.server) return;
    this.requestsTotal++;
    // max_tokens cuts the natural answer (the same words, without its closing full stop).
    const full = generateAnswerTokens(
      request.topicText,
      this.opts.answerTokens,
      request.seed ?? this.opts.seed,
    );
    const cut = request.maxTokens !== null && request.maxTokens < full.length;
    const tokens = cut ? full.slice(0, request.maxTokens ?? undefined) : full;
    const seq: Sequence = {
      requestId: `chatcmpl-${randomUUID().replaceAll('-', '')}`,
      created: Math.floor(Date.now() / 1000),
      arrivedAt: performance.now(),
      res,
      stream: request.stream,
      includeUsage: request.stream && request.includeUsage,
      promptTokens: request.promptTokens,
      tokens,
      finishReason: cut ? 'length' : 'stop',
      state: 'waiting',
      generated: 0,
      credit: 0,
      lastTickAt: 0,
      timer: undefined,
      parked: false,
    };
    res.on('close', () => this.onClientGone(seq));
    if (!this.admit(seq)) {
      seq.state = 'done';
      this.rejected++;
      const retryAfter = this.opts.retryAfterSeconds;
      sendJson(
        res,
        503,
        errorBody(
          `The server is overloaded: ${this.waitingQueue.length} requests are already waiting. Retry later.`,
          'server_overloaded',
          null,
          'queue_full',
        ),
        { 'retry-after': String(retryAfter), 'x-inference-server': this.id },
      );
    }
  }

  private metricsText(): string {
    const labels = { model_name: this.model };
    return [
      renderFamily('vllm:num_requests_running', 'gauge', 'Number of requests in model execution batches.', [
        { labels, value: this.running.size },
      ]),
      renderFamily('vllm:num_requests_waiting', 'gauge', 'Number of requests waiting to be processed.', [
        { labels, value: this.waitingQueue.length },
      ]),
      renderFamily('vllm:kv_cache_usage_perc', 'gauge', 'KV-cache usage. 1 means 100 percent usage.', [
        { labels, value: this.kvCacheUsage() },
      ]),
      renderFamily(
        'vllm:request_success_total',
        'counter',
        'Count of successfully processed requests.',
        (['stop', 'length'] as const).map((reason) => ({
          labels: { finished_reason: reason, ...labels },
          value: this.successByReason[reason],
        })),
      ),
      renderFamily('vllm:prompt_tokens_total', 'counter', 'Number of prefill tokens processed.', [
        { labels, value: this.promptTokensTotal },
      ]),
      renderFamily('vllm:generation_tokens_total', 'counter', 'Number of generation tokens processed.', [
        { labels, value: this.generationTokensTotal },
      ]),
      renderFamily(
        'vllm:time_to_first_token_seconds',
        'histogram',
        'Histogram of time to first token in seconds.',
        this.ttft.samples(labels),
      ),
      renderFamily(
        'vllm:e2e_request_latency_seconds',
        'histogram',
        'Histogram of end to end request latency in seconds.',
        this.e2e.samples(labels),
      ),
    ].join('');
  }
}

/** Starts a simulated vLLM OpenAI server (127.0.0.1, random port by default). */
export async function startInferenceServer(
  options: InferenceServerOptions = {},
): Promise<InferenceServerHandle> {
  const server = new InferenceServer(options);
  await server.listen();
  return server;
}
