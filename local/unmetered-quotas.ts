/**
 * Quota settings that put every per-user limit out of reach, for the benchmarks, fault suites and tests
 * that send hundreds of prompts as a handful of users and are about something else (admission, faults,
 * cost). The counter still runs, so its writes are still made and measured; only its limits never bind.
 * Never for a deployment: the defaults (contract/entitlements.ts) are the product's.
 */
export const UNMETERED_QUOTAS_ENV: Readonly<Record<string, string>> = {
  FREE_PROMPTS_PER_WINDOW: '1000000',
  PREMIUM_PROMPTS_PER_WINDOW: '1000000',
  FREE_CONCURRENT_STREAMS: '10000',
  PREMIUM_CONCURRENT_STREAMS: '10000',
  FREE_PROMPTS_PER_MINUTE: '1000000',
  PREMIUM_PROMPTS_PER_MINUTE: '1000000',
};
