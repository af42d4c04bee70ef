// A simulated vLLM-style OpenAI-compatible inference server for local runs, tests and benchmarks.
//
// - POST /v1/chat/completions (stream or not), GET /v1/models, GET /health, GET /metrics (vLLM names).
// - At most `slots` sequences generate at once; the rest wait FIFO (optionally bounded: 503 + Retry-After).
// - Each sequence: `timeToFirstTokenMs` after it gets a slot, then `tokensPerSecond` tokens per second.
// - `apiKey` (vLLM `--api-key`): /v1/* and /metrics then answer 401 without `Authorization: Bearer <key>`.
// - Faults for tests: kill() (crash: sockets destroyed), restart(), stall(ms | false), live setOptions().
// - Steering from another process: GET /admin/stats, POST /admin/options, POST /admin/stall (admin.ts).
//
// This file is the HTTP listener and the routes; the engine is scheduler.ts, the wire format openai-http.ts.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { ADMIN_PATHS, handleAdmin } from './admin';
import type { SimulatedServerHandle, SimulatedServerStats } from './handle';
import { SimulatedServerMetrics } from './metrics';
import {
  allowMethod,
  type ChatCompletionParams,
  completionOutput,
  errorBody,
  InvalidChatCompletion,
  parseChatCompletionParams,
  readBody,
  sendJson,
} from './openai-http';
import {
  DEFAULT_TUNABLE_OPTIONS,
  isInteger,
  type SimulatedServerOptions,
  type TunableOptions,
  validateTunableOptions,
} from './options';
import { newSequence, SlotScheduler } from './scheduler';
import { generateAnswerTokens } from './text';

export type { SimulatedServerHandle, SimulatedServerStats } from './handle';
export { type SimulatedServerOptions, type TunableOptions, validateTunableOptions } from './options';

class SimulatedInferenceServer implements SimulatedServerHandle {
  readonly id: string;
  readonly model: string;
  readonly host: string;
  port: number;

  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private closed = false;
  private readonly startedAt = Math.floor(Date.now() / 1000);
  private readonly metrics = new SimulatedServerMetrics();
  private readonly scheduler: SlotScheduler;
  private apiKey: string | undefined;
  private authorized = 0;
  private unauthorized = 0;

  constructor(options: SimulatedServerOptions) {
    const { host, port, model, id, apiKey, ...tunable } = options;
    this.apiKey = apiKey === '' ? undefined : apiKey;
    this.host = host ?? '127.0.0.1';
    this.port = port ?? 0;
    this.model = model ?? 'local-llm';
    this.id = id ?? 'inference';
    this.scheduler = new SlotScheduler(
      { ...DEFAULT_TUNABLE_OPTIONS, ...validateTunableOptions(tunable) },
      this.metrics,
    );
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
    this.metrics.killed += this.scheduler.cancelAll();
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
    this.scheduler.unstall();
  }

  // ----- knobs

  options(): TunableOptions {
    return this.scheduler.options;
  }

  setOptions(partial: Partial<TunableOptions>): TunableOptions {
    this.scheduler.setOptions({ ...this.scheduler.options, ...validateTunableOptions(partial) });
    return this.options();
  }

  setApiKey(key: string | undefined): void {
    this.apiKey = key === '' ? undefined : key;
  }

  stall(ms: number | false): void {
    this.scheduler.stall(ms);
  }

  stats(): SimulatedServerStats {
    const { metrics, scheduler } = this;
    return {
      id: this.id,
      model: this.model,
      listening: this.server !== undefined,
      stalled: scheduler.stalled,
      running: scheduler.runningCount,
      waiting: scheduler.waitingCount,
      completed: metrics.completed,
      aborted: metrics.aborted,
      rejected: metrics.rejected,
      killed: metrics.killed,
      badRequests: metrics.badRequests,
      requestsTotal: metrics.requestsTotal,
      promptTokensTotal: metrics.promptTokensTotal,
      generationTokensTotal: metrics.generationTokensTotal,
      kvCacheUsage: scheduler.kvCacheUsage(),
      authorizedRequests: this.authorized,
      unauthorizedRequests: this.unauthorized,
      options: this.options(),
    };
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
    if (ADMIN_PATHS.has(path)) {
      await handleAdmin(path, req, res, this);
      return;
    }
    if (this.apiKey !== undefined && (path.startsWith('/v1/') || path === '/metrics')) {
      if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
        this.unauthorized++;
        req.resume();
        // OpenAI's answer to a missing or wrong key.
        sendJson(
          res,
          401,
          errorBody('Incorrect API key provided.', 'invalid_request_error', null, 'invalid_api_key'),
        );
        return;
      }
      this.authorized++;
    }
    switch (path) {
      case '/v1/chat/completions':
        if (allowMethod(req, res, path, 'POST')) await this.chatCompletions(req, res);
        return;
      case '/v1/models':
        if (allowMethod(req, res, path, 'GET')) {
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
        if (allowMethod(req, res, path, 'GET')) sendJson(res, 200, { status: 'ok' });
        return;
      case '/metrics':
        if (allowMethod(req, res, path, 'GET')) {
          const text = this.metrics.render(this.model, {
            running: this.scheduler.runningCount,
            waiting: this.scheduler.waitingCount,
            kvCacheUsage: this.scheduler.kvCacheUsage(),
          });
          res.writeHead(200, {
            'content-type': 'text/plain; version=0.0.4; charset=utf-8',
            'content-length': Buffer.byteLength(text),
          });
          res.end(text);
        }
        return;
      default:
        req.resume();
        sendJson(res, 404, errorBody(`Not found: ${method} ${path}`, 'invalid_request_error', null, 404));
    }
  }

  private async chatCompletions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    if (raw === null) {
      this.metrics.badRequests++;
      sendJson(res, 413, errorBody('Request body too large', 'invalid_request_error', null, 413));
      return;
    }
    let request: ChatCompletionParams;
    try {
      request = parseChatCompletionParams(raw);
    } catch (error) {
      if (!(error instanceof InvalidChatCompletion)) throw error;
      this.metrics.badRequests++;
      sendJson(res, 400, errorBody(error.message, 'invalid_request_error', error.param, null));
      return;
    }
    if (res.destroyed || !this.server) return;
    this.metrics.requestsTotal++;
    const { answerTokens, seed, retryAfterSeconds } = this.scheduler.options;
    // max_tokens cuts the natural answer (the same words, without its closing full stop).
    // A prompt asked again in its conversation (a regeneration) gets another answer, still deterministic.
    const answerSeed = (request.seed ?? seed) + request.repeats * 7919;
    const full = generateAnswerTokens(request.topicText, answerTokens, answerSeed);
    const cut = request.maxTokens !== null && request.maxTokens < full.length;
    const tokens = cut ? full.slice(0, request.maxTokens ?? undefined) : full;
    const output = completionOutput({
      res,
      requestId: `chatcmpl-${randomUUID().replaceAll('-', '')}`,
      created: Math.floor(Date.now() / 1000),
      model: this.model,
      serverId: this.id,
      stream: request.stream,
      includeUsage: request.stream && request.includeUsage,
    });
    const seq = newSequence({
      promptTokens: request.promptTokens,
      tokens,
      finishReason: cut ? 'length' : 'stop',
      output,
    });
    res.on('close', () => this.scheduler.abandon(seq));
    if (!this.scheduler.admit(seq)) {
      this.metrics.rejected++;
      sendJson(
        res,
        503,
        errorBody(
          `The server is overloaded: ${this.scheduler.waitingCount} requests are already waiting. Retry later.`,
          'server_overloaded',
          null,
          'queue_full',
        ),
        { 'retry-after': String(retryAfterSeconds), 'x-inference-server': this.id },
      );
    }
  }
}

/** Starts a simulated vLLM OpenAI server (127.0.0.1, random port by default). */
export async function startSimulatedServer(
  options: SimulatedServerOptions = {},
): Promise<SimulatedServerHandle> {
  const server = new SimulatedInferenceServer(options);
  await server.listen();
  return server;
}
