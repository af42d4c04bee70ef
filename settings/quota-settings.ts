/**
 * The per-user quota settings (contract/entitlements.ts holds their defaults per tier). Part of the one
 * settings table (settings/settings.ts), kept apart so each file stays readable.
 */
import { DEFAULT_QUOTA_WINDOW_SECONDS, ENTITLEMENTS } from '../contract/entitlements';
import { CHAT_READERS, type SettingsTable } from './definition';
import { positiveInteger } from './parsers';

type QuotaKey =
  | 'quotaWindowSeconds'
  | 'freePromptsPerWindow'
  | 'premiumPromptsPerWindow'
  | 'freeConcurrentStreams'
  | 'premiumConcurrentStreams'
  | 'freePromptsPerMinute'
  | 'premiumPromptsPerMinute';

export const quotaSettings: Pick<SettingsTable, QuotaKey> = {
  quotaWindowSeconds: {
    variable: 'QUOTA_WINDOW_SECONDS',
    parse: positiveInteger,
    default: DEFAULT_QUOTA_WINDOW_SECONDS,
    doc: 'length of the fixed quota window (windows start at multiples of it since the epoch)',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  freePromptsPerWindow: {
    variable: 'FREE_PROMPTS_PER_WINDOW',
    parse: positiveInteger,
    default: ENTITLEMENTS.free.promptsPerWindow,
    doc: 'prompts a free user may send per window; then 429 `rate_limited` until it resets',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  premiumPromptsPerWindow: {
    variable: 'PREMIUM_PROMPTS_PER_WINDOW',
    parse: positiveInteger,
    default: ENTITLEMENTS.premium.promptsPerWindow,
    doc: 'prompts a premium user may send per window',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  freeConcurrentStreams: {
    variable: 'FREE_CONCURRENT_STREAMS',
    parse: positiveInteger,
    default: ENTITLEMENTS.free.concurrentStreams,
    doc: 'answers a free user may have streaming at once; one more gets 429 with a short Retry-After',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  premiumConcurrentStreams: {
    variable: 'PREMIUM_CONCURRENT_STREAMS',
    parse: positiveInteger,
    default: ENTITLEMENTS.premium.concurrentStreams,
    doc: 'answers a premium user may have streaming at once',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  freePromptsPerMinute: {
    variable: 'FREE_PROMPTS_PER_MINUTE',
    parse: positiveInteger,
    default: ENTITLEMENTS.free.promptsPerMinute,
    doc: 'prompts a free user may send per calendar minute (burst), within the window',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
  premiumPromptsPerMinute: {
    variable: 'PREMIUM_PROMPTS_PER_MINUTE',
    parse: positiveInteger,
    default: ENTITLEMENTS.premium.promptsPerMinute,
    doc: 'prompts a premium user may send per calendar minute',
    readBy: CHAT_READERS,
    kind: 'tuning',
  },
};
