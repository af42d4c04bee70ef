/** Environment is read once, at cold start, through these: a missing required variable fails loudly. */

export function getStringFromEnv(name: string): string {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    throw new Error(`Environment variable ${name} is required but not set.`);
  }
  return value.trim();
}

/** A positive number with a documented default; a set-but-malformed value throws instead of being ignored. */
export function getNumberFromEnv(name: string, defaultValue: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return defaultValue;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`Environment variable ${name} must be a positive number, got "${raw}".`);
  }
  return value;
}

export function getOptionalStringFromEnv(name: string, defaultValue: string): string {
  const value = process.env[name];
  return value === undefined || value.trim() === '' ? defaultValue : value.trim();
}

/** The cap on one chat turn (MAX_TURN_SECONDS, default 240 s): the chat function enforces it, stop relies on it. */
export function maxTurnMsFromEnv(): number {
  return getNumberFromEnv('MAX_TURN_SECONDS', 240) * 1000;
}
