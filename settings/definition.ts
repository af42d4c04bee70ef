/** The shape of the settings table (settings/settings.ts): the parsed values and one entry's definition. */
import type { backgroundFunctions, routes } from '../lib/resources';
import type { Parser } from './parsers';

/** A function of lib/resources.ts, by id. */
export type FunctionId = (typeof routes)[number]['id'] | (typeof backgroundFunctions)[number]['id'];

/** The functions that run a chat turn: POST /chat and its OpenAI-protocol twin read the same settings. */
export const CHAT_READERS = ['PostChat', 'PostChatCompletions'] as const satisfies readonly FunctionId[];

export const ADMISSION_POLICIES = ['load_based', 'static_reservation', 'admit_all'] as const;
export type AdmissionPolicyKind = (typeof ADMISSION_POLICIES)[number];

/** The parsed values, one per table entry. */
export interface Settings {
  readonly heartbeatIntervalSeconds: number;
  readonly shedFreeAt: number;
  readonly saturatedAt: number;
  readonly freeCooldownSeconds: number;
  readonly fleetShards: number;
  readonly serverStaleSeconds: number;
  readonly viewDistrustSeconds: number;
  readonly heartbeatRunSeconds: number;
  readonly heartbeatProbeTimeoutMs: number;
  readonly heartbeatTickTimeoutMs: number;
  readonly registryRefreshSeconds: number;
  readonly premiumAdmissionWaitMs: number;
  readonly admissionPolicy: AdmissionPolicyKind;
  readonly premiumReservedServers: number;
  readonly premiumRetryAfterSeconds: number;
  readonly freeRetryAfterBaseSeconds: number;
  readonly freeRetryAfterCapSeconds: number;
  readonly maxPromptChars: number;
  readonly maxStoredAnswerChars: number;
  readonly maxAnswerTokens: number;
  readonly maxAnswerBytes: number;
  readonly sseFlushMs: number;
  readonly maxTurnSeconds: number;
  readonly contextTokenBudget: number;
  readonly contextTurnsToRead: number;
  readonly inferenceConnectTimeoutMs: number;
  readonly firstTokenTimeoutMs: number;
  readonly inferenceIdleTimeoutMs: number;
  readonly stopPollMs: number;
  readonly interruptedAfterSeconds: number;
  readonly modelId: string;
  readonly apiKeyCacheSeconds: number;
  readonly quotaWindowSeconds: number;
  readonly freePromptsPerWindow: number;
  readonly premiumPromptsPerWindow: number;
  readonly freeConcurrentStreams: number;
  readonly premiumConcurrentStreams: number;
  readonly freePromptsPerMinute: number;
  readonly premiumPromptsPerMinute: number;
  readonly chatTableName: string;
  readonly fleetTableName: string;
  readonly serverRegistryTableName: string;
  readonly turnWritesQueueUrl: string;
  readonly stopInboxPrefix: string;
  readonly userPoolIssuer: string;
  readonly userPoolClientId: string;
  readonly originSecretId: string;
  readonly serviceName: string;
  readonly metricsNamespace: string;
  readonly inferenceApiKeySecretId: string;
}

export interface SettingDefinition<T> {
  /** The environment variable. */
  readonly variable: string;
  readonly parse: Parser<T>;
  /**
   * The value when the variable is unset. A function derives it from other settings; absent means the
   * setting is required (the deployment always sets it) and reading it unset throws.
   */
  readonly default?: T | ((settings: Settings) => T);
  /** The default as the README states it, where `String(default)` would not do (derived, required). */
  readonly defaultText?: string;
  /** One line for the README: what it does. */
  readonly doc: string;
  /** The functions that read it (CDK sets deploy-time values on these only). */
  readonly readBy: readonly FunctionId[];
  /** Set at deploy time from this CDK context key (bin/app.ts), else from `default` here. */
  readonly deploy?: { readonly context: string; readonly default?: T };
  /** `tuning`: a knob with a default (README "Settings"); `deployment`: wired by the stacks. */
  readonly kind: 'tuning' | 'deployment';
}

export type SettingsTable = { readonly [K in keyof Settings]: SettingDefinition<Settings[K]> };
