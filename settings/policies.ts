/** The domain's policy objects, built from settings (units converted here, once). */
import { type BackoffPolicy, defaultBackoffPolicy } from '../contract/backoff';
import { defaultFleetPolicy, type FleetPolicy } from '../domain/fleet';
import type { QuotaPolicy } from '../domain/quota';
import type { AdmissionPolicy } from '../use-cases/fleet-gate';
import type { Settings } from './settings';

/** The thresholds shared by the heartbeat (which computes the mode) and the chat function (which admits). */
export function fleetPolicy(settings: Settings): FleetPolicy {
  return {
    ...defaultFleetPolicy,
    shedFreeAt: settings.shedFreeAt,
    saturatedAt: settings.saturatedAt,
    freeCooldownMs: settings.freeCooldownSeconds * 1000,
    staleAfterMs: settings.serverStaleSeconds * 1000,
    distrustAfterMs: settings.viewDistrustSeconds * 1000,
  };
}

export function backoffPolicy(settings: Settings): BackoffPolicy {
  return {
    ...defaultBackoffPolicy,
    premiumSeconds: settings.premiumRetryAfterSeconds,
    freeBaseSeconds: settings.freeRetryAfterBaseSeconds,
    freeCapSeconds: settings.freeRetryAfterCapSeconds,
  };
}

export function admissionPolicy(settings: Settings): AdmissionPolicy {
  return settings.admissionPolicy === 'static_reservation'
    ? { kind: 'static_reservation', reservedServers: settings.premiumReservedServers }
    : { kind: settings.admissionPolicy };
}

export const heartbeatIntervalMs = (settings: Settings): number => settings.heartbeatIntervalSeconds * 1000;
export const maxTurnMs = (settings: Settings): number => settings.maxTurnSeconds * 1000;

/** The quotas' numbers per tier (their defaults: contract/entitlements.ts). */
export function quotaPolicy(settings: Settings): QuotaPolicy {
  return {
    windowSeconds: settings.quotaWindowSeconds,
    promptsPerWindow: { free: settings.freePromptsPerWindow, premium: settings.premiumPromptsPerWindow },
    concurrentStreams: { free: settings.freeConcurrentStreams, premium: settings.premiumConcurrentStreams },
    promptsPerMinute: { free: settings.freePromptsPerMinute, premium: settings.premiumPromptsPerMinute },
    maxTurnMs: maxTurnMs(settings),
  };
}
