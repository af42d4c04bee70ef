/**
 * What makes a valid inference server registration: id, base URL and capacity. Pure, so that every writer
 * checks the same rules — the operator CLI (bin/fleet.ts), the registry adapter before it writes and when
 * it reads (adapters/dynamodb/server-registry.ts), and the INFERENCE_SERVERS seed list
 * (adapters/fleet/server-registry.ts).
 *
 * The length limits keep one registry item well under 1 KB (one write unit, a small Query page):
 * test/adapters/dynamodb/server-registry-sizing.test.ts computes it.
 */

/** Capacity of a server listed without one (INFERENCE_SERVERS `id=url` without `|capacity`). */
export const DEFAULT_SERVER_CAPACITY = 10;
export const MAX_SERVER_ID_LENGTH = 128;
export const MAX_SERVER_URL_LENGTH = 512;
/** No server holds more concurrent sequences; a larger number is a typo (an extra zero or two). */
export const MAX_SERVER_CAPACITY = 10_000;

const SERVER_ID = /^[A-Za-z0-9_.-]+$/;

/** A rule broken; the message is the reason alone ("the URL must be http(s)"), for callers to frame. */
export class InvalidServerRegistration extends Error {
  override readonly name = 'InvalidServerRegistration';
}

export interface ServerRegistration {
  readonly id: string;
  /** Without a trailing slash: the OpenAI base URL is `${baseUrl}/v1`, the metrics `${baseUrl}/metrics`. */
  readonly baseUrl: string;
  /** Concurrent sequences (batch slots plus a short queue) within the first-token objective. */
  readonly capacity: number;
}

export function parseServerId(raw: string): string {
  const id = raw.trim();
  if (id === '') throw new InvalidServerRegistration('no id');
  if (id.length > MAX_SERVER_ID_LENGTH) {
    throw new InvalidServerRegistration(`the id is longer than ${MAX_SERVER_ID_LENGTH} characters`);
  }
  if (!SERVER_ID.test(id)) {
    throw new InvalidServerRegistration(`the id may hold only letters, digits, '_', '.' and '-'`);
  }
  return id;
}

/** Trims, drops trailing slashes, and accepts only http(s) URLs without query, fragment or credentials. */
export function parseServerUrl(raw: string): string {
  const baseUrl = raw.trim().replace(/\/+$/, '');
  if (baseUrl.length > MAX_SERVER_URL_LENGTH) {
    throw new InvalidServerRegistration(`the URL is longer than ${MAX_SERVER_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new InvalidServerRegistration('the URL does not parse');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || /\s/.test(baseUrl)) {
    throw new InvalidServerRegistration('the URL must be http(s)');
  }
  if (url.search !== '' || url.hash !== '' || url.username !== '' || url.password !== '') {
    throw new InvalidServerRegistration('the URL must hold no query, fragment or credentials');
  }
  return baseUrl;
}

/** Digits only (no sign, no decimal point, no exponent), from 1 to MAX_SERVER_CAPACITY. */
export function parseServerCapacity(raw: string | number): number {
  const text = String(raw).trim();
  const capacity = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(capacity) || capacity < 1 || capacity > MAX_SERVER_CAPACITY) {
    throw new InvalidServerRegistration(`the capacity must be an integer >= 1 and <= ${MAX_SERVER_CAPACITY}`);
  }
  return capacity;
}

/** Validates and normalizes one registration; throws InvalidServerRegistration with the first reason. */
export function parseServerRegistration(
  id: string,
  baseUrl: string,
  capacity: string | number,
): ServerRegistration {
  return { id: parseServerId(id), baseUrl: parseServerUrl(baseUrl), capacity: parseServerCapacity(capacity) };
}
