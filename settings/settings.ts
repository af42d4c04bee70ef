/**
 * Every setting of the app's functions in one typed table: environment variable, default, parser (with
 * validation), who reads it, and what it means. The functions read it once per process
 * (functions/settings.ts), the CDK stacks build each function's environment from it
 * (settings/environment.ts), and a test holds the README's settings tables to it.
 *
 * No Node or SDK import here: values come from an env object passed in (settings/read.ts).
 */
import { defaultBackoffPolicy } from '../contract/backoff';
import { DEFAULT_HEARTBEAT_INTERVAL_SECONDS, defaultFleetPolicy } from '../domain/fleet';
import { validateShardCount } from '../domain/fleet-shards';
import { backgroundFunctions, routes } from '../lib/resources';
import {
  ADMISSION_POLICIES,
  CHAT_READERS,
  type FunctionId,
  type SettingDefinition,
  type Settings,
  type SettingsTable,
} from './definition';
import { deploymentSettings } from './deployment-settings';
import {
  checked,
  nonNegativeNumber,
  oneOf,
  positiveAtMost,
  positiveInteger,
  positiveNumber,
  text,
} from './parsers';
import { quotaSettings } from './quota-settings';

export type {
  AdmissionPolicyKind,
  FunctionId,
  SettingDefinition,
  Settings,
  SettingsTable,
} from './definition';

const FLEET_READERS = [...CHAT_READERS, 'RunHeartbeat'] as const satisfies readonly FunctionId[];
const HTTP_READERS = routes.map((route) => route.id);
const ALL_FUNCTIONS: readonly FunctionId[] = [...HTTP_READERS, ...backgroundFunctions.map((fn) => fn.id)];

export { DEFAULT_METRICS_NAMESPACE, DEFAULT_SERVICE_NAME } from './deployment-settings';

/** Heartbeat bounds the stacks depend on: one scheduled run a minute must hold at least one tick. */
const MAX_HEARTBEAT_INTERVAL_SECONDS = 60;

export const SETTINGS: SettingsTable = {
  heartbeatIntervalSeconds: {
    variable: 'HEARTBEAT_INTERVAL_SECONDS',
    parse: positiveAtMost(MAX_HEARTBEAT_INTERVAL_SECONDS),
    default: DEFAULT_HEARTBEAT_INTERVAL_SECONDS,
    doc: 'heartbeat period (at most 60: one run a minute); also how long the chat function reuses one view',
    readBy: FLEET_READERS,
    deploy: { context: 'heartbeatIntervalSeconds' },
    kind: 'tuning',
  },
  shedFreeAt: {
    variable: 'SHED_FREE_AT',
    parse: positiveNumber,
    default: defaultFleetPolicy.shedFreeAt,
    doc: 'fleet load at which free tier is shed (and each server’s ceiling for free prompts); must be below `SATURATED_AT`',
    readBy: FLEET_READERS,
    deploy: { context: 'shedFreeAt' },
    kind: 'tuning',
  },
  saturatedAt: {
    variable: 'SATURATED_AT',
    parse: positiveNumber,
    default: defaultFleetPolicy.saturatedAt,
    doc: 'fleet load at which nobody is admitted',
    readBy: FLEET_READERS,
    deploy: { context: 'saturatedAt' },
    kind: 'tuning',
  },
  freeCooldownSeconds: {
    variable: 'FREE_COOLDOWN_SECONDS',
    parse: positiveNumber,
    default: defaultFleetPolicy.freeCooldownMs / 1000,
    doc: 'free tier returns after the load stayed below `SHED_FREE_AT` this long',
    readBy: FLEET_READERS,
    deploy: { context: 'freeCooldownSeconds' },
    kind: 'tuning',
  },
  fleetShards: {
    variable: 'FLEET_SHARDS',
    parse: checked(positiveNumber, validateShardCount),
    default: 1,
    doc: 'heartbeat workers, one view each: 1, 2, 4 … 64; ≈ 40 servers a shard (64 for 2,300 servers); heartbeat and chat function must agree. CDK sets it from context `fleetShards`, default 4',
    readBy: FLEET_READERS,
    deploy: { context: 'fleetShards', default: 4 },
    kind: 'tuning',
  },
  serverStaleSeconds: {
    variable: 'SERVER_STALE_SECONDS',
    parse: positiveNumber,
    // Three missed heartbeats: the server (or the heartbeat) is gone.
    // In ms first, as the functions always computed it (3 × 0.05 s is not 0.15 in floating point).
    default: (settings) => (3 * (settings.heartbeatIntervalSeconds * 1000)) / 1000,
    defaultText: '3 × interval',
    doc: 'a server report older than this no longer counts in the fleet load; past it a view is trusted less',
    readBy: FLEET_READERS,
    kind: 'tuning',
  },
  viewDistrustSeconds: {
    variable: 'VIEW_DISTRUST_SECONDS',
    parse: positiveNumber,
    default: defaultFleetPolicy.distrustAfterMs / 1000,
    doc: 'view age at which its per-server loads no longer weigh routing (prompts spread evenly over the servers it last saw with room; their own refusals guard)',
    readBy: FLEET_READERS,
    kind: 'tuning',
  },
  heartbeatRunSeconds: {
    variable: 'HEARTBEAT_RUN_SECONDS',
    parse: positiveNumber,
    default: 70,
    doc: 'how long one scheduled heartbeat invocation loops (overlaps the next by ~10 s)',
    readBy: ['RunHeartbeat'],
    kind: 'tuning',
  },
  heartbeatProbeTimeoutMs: {
    variable: 'HEARTBEAT_PROBE_TIMEOUT_MS',
    parse: positiveNumber,
    // A busy server answering in 200 ms is alive; a tick waiting on a hung one only slips.
    default: (settings) => Math.min(500, Math.max(250, (settings.heartbeatIntervalSeconds * 1000) / 2)),
    defaultText: 'interval / 2, within 250–500',
    doc: 'time-out of one `/metrics` scrape (a failed scrape keeps the server’s last report for 2 s)',
    readBy: ['RunHeartbeat'],
    kind: 'tuning',
  },
  heartbeatTickTimeoutMs: {
    variable: 'HEARTBEAT_TICK_TIMEOUT_MS',
    parse: positiveNumber,
    default: (settings) => Math.max(2_000, 4 * settings.heartbeatIntervalSeconds * 1000),
    defaultText: '4 × interval, ≥ 2000',
    doc: 'a tick still running then is aborted and the loop goes on',
    readBy: ['RunHeartbeat'],
    kind: 'tuning',
  },
  registryRefreshSeconds: {
    variable: 'REGISTRY_REFRESH_SECONDS',
    parse: positiveNumber,
    default: 2,
    doc: 'how often a heartbeat worker re-reads its registry buckets (a server added or drained takes effect within it)',
    readBy: ['RunHeartbeat'],
    kind: 'tuning',
  },
  premiumAdmissionWaitMs: {
    variable: 'PREMIUM_ADMISSION_WAIT_MS',
    // 0 is meaningful: refuse at once when no server has room.
    parse: nonNegativeNumber,
    default: 1_000,
    doc: 'how long a premium prompt waits for room before a 503 (0: no wait)',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  admissionPolicy: {
    variable: 'ADMISSION_POLICY',
    parse: oneOf(...ADMISSION_POLICIES),
    default: 'load_based',
    doc: 'or `static_reservation` (with `PREMIUM_RESERVED_SERVERS`) or `admit_all` — the benchmark’s straw men',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  premiumReservedServers: {
    variable: 'PREMIUM_RESERVED_SERVERS',
    parse: positiveInteger,
    default: 1,
    doc: 'servers kept for premium under `static_reservation`',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  premiumRetryAfterSeconds: {
    variable: 'PREMIUM_RETRY_AFTER_SECONDS',
    parse: positiveNumber,
    default: defaultBackoffPolicy.premiumSeconds,
    doc: 'premium’s Retry-After',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  freeRetryAfterBaseSeconds: {
    variable: 'FREE_RETRY_AFTER_BASE_SECONDS',
    parse: positiveNumber,
    default: defaultBackoffPolicy.freeBaseSeconds,
    doc: 'free tier’s first Retry-After, doubled per attempt',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  freeRetryAfterCapSeconds: {
    variable: 'FREE_RETRY_AFTER_CAP_SECONDS',
    parse: positiveNumber,
    default: defaultBackoffPolicy.freeCapSeconds,
    doc: 'free tier’s longest Retry-After',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  maxPromptChars: {
    variable: 'MAX_PROMPT_CHARS',
    parse: positiveInteger,
    default: 32_000,
    doc: 'longest prompt (`/chat`, the last user message of `/v1/chat/completions`) and longest `user_message` (`/chat/store`)',
    readBy: [...CHAT_READERS, 'PostStore', 'GetOpenApi'],
    kind: 'tuning',
  },
  maxStoredAnswerChars: {
    variable: 'MAX_STORED_ANSWER_CHARS',
    parse: positiveInteger,
    // A DynamoDB item holds 400 KB; keep the answer well inside it together with the prompt.
    default: 100_000,
    doc: 'longest answer `/chat/store` accepts',
    readBy: ['PostStore', 'GetOpenApi'],
    kind: 'tuning',
  },
  maxAnswerTokens: {
    variable: 'MAX_ANSWER_TOKENS',
    parse: positiveInteger,
    default: 1_024,
    doc: '`max_tokens` sent upstream',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  maxAnswerBytes: {
    variable: 'MAX_ANSWER_BYTES',
    // With the longest prompt (32,000 characters, ≤ 128 KB) a turn item stays far below DynamoDB's
    // 400 KB, and a parked turn below SQS's 256 KB message, even uncompressed.
    parse: checked(positiveInteger, (value) => {
      if (value > 120_000)
        throw new Error('must be at most 120000, so a turn fits in one item and one message');
      return value;
    }),
    default: 100_000,
    doc: 'longest answer kept, in UTF-8 bytes: a longer one is cut there and the turn ends failed (`answer_too_long`)',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  sseFlushMs: {
    variable: 'SSE_FLUSH_MS',
    parse: nonNegativeNumber,
    default: 100,
    doc: 'after the first token (sent at once), tokens arriving within this long share one SSE frame (0: a frame per chunk)',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  maxTurnSeconds: {
    variable: 'MAX_TURN_SECONDS',
    parse: positiveNumber,
    default: 240,
    doc: 'wall-time cap of one turn (the function’s time-out is 300 s); a stop for an older turn has nothing to stop',
    readBy: [...CHAT_READERS, 'PostStop'],
    kind: 'tuning',
  },
  contextTokenBudget: {
    variable: 'CONTEXT_TOKEN_BUDGET',
    parse: positiveInteger,
    default: 3_000,
    doc: 'conversation context sent upstream, in tokens as the serving model counted them (see API)',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  contextTurnsToRead: {
    variable: 'CONTEXT_TURNS_TO_READ',
    parse: positiveInteger,
    default: 20,
    doc: 'earlier turns read to fill that budget',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  inferenceConnectTimeoutMs: {
    variable: 'INFERENCE_CONNECT_TIMEOUT_MS',
    parse: positiveNumber,
    default: 3_000,
    doc: 'upstream time-out until the response headers',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  firstTokenTimeoutMs: {
    variable: 'FIRST_TOKEN_TIMEOUT_MS',
    parse: positiveNumber,
    default: 15_000,
    doc: 'upstream time-out until the first token, per server tried',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  inferenceIdleTimeoutMs: {
    variable: 'INFERENCE_IDLE_TIMEOUT_MS',
    parse: positiveNumber,
    default: 10_000,
    doc: 'upstream silence allowed between tokens',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  stopPollMs: {
    variable: 'STOP_POLL_MS',
    parse: positiveNumber,
    default: 400,
    doc: 'how often a streaming turn polls the stop flag when its stop inbox cannot carry the stop',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  interruptedAfterSeconds: {
    variable: 'INTERRUPTED_AFTER_SECONDS',
    parse: positiveNumber,
    // Longer than the chat function's Lambda time-out (300 s): only turns whose process died match.
    default: 360,
    doc: 'age past which an in_progress turn is shown interrupted, its process dead (longer than the function time-out)',
    readBy: ['GetHistory', 'ExportHistory', ...CHAT_READERS],
    kind: 'tuning',
  },
  modelId: {
    variable: 'MODEL_ID',
    parse: text,
    default: 'local-llm',
    doc: 'model name sent upstream; the one model `/v1/models` lists and `/v1/chat/completions` accepts',
    readBy: [...CHAT_READERS, 'ListModels', 'GetOpenApi'],
    kind: 'tuning',
  },
  apiKeyCacheSeconds: {
    variable: 'API_KEY_CACHE_SECONDS',
    // At most a minute: a revoked key, or its owner's new tier, takes effect within it.
    parse: positiveAtMost(60),
    default: 60,
    doc: 'how long a container trusts what it read of an API key (owner, tier, revoked); at most 60',
    readBy: ['PostChatCompletions', 'ListModels'],
    kind: 'tuning',
  },
  ...quotaSettings,
  ...deploymentSettings({ fleet: FLEET_READERS, http: HTTP_READERS, all: ALL_FUNCTIONS }),
};

export const SETTING_KEYS = Object.keys(SETTINGS) as readonly (keyof Settings)[];

/** The default as documented: the derived rule, "required", or the value itself. */
export function defaultText(definition: SettingDefinition<unknown>): string {
  if (definition.defaultText !== undefined) return definition.defaultText;
  if (definition.default === undefined) return 'required';
  return String(definition.default);
}
