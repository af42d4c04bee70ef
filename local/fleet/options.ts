/** The simulated server's options: which exist, their defaults, and their validation (code and JSON alike). */

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

export interface SimulatedServerOptions extends Partial<TunableOptions> {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0 (a random free port). */
  port?: number;
  /** Served model id (GET /v1/models, `model` of responses, `model_name` label). Default 'local-llm'. */
  model?: string;
  /** Name of this server, sent as the `x-inference-server` response header. Default 'inference'. */
  id?: string;
  /** Required bearer key (vLLM `--api-key`); unset or '': none. */
  apiKey?: string;
}

export const DEFAULT_TUNABLE_OPTIONS: TunableOptions = {
  slots: 8,
  maxQueue: null,
  timeToFirstTokenMs: 150,
  tokensPerSecond: 50,
  answerTokens: 200,
  kvCapacityTokens: null,
  retryAfterSeconds: 1,
  seed: 1,
};

export function isInteger(value: unknown, min: number): value is number {
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
