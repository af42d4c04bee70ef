/** Reading the local runtime's own settings (PORT, HOST, DATA_DIR): malformed values fail loudly. */

export type Env = Readonly<Record<string, string | undefined>>;

export function stringFromEnv(env: Env, name: string, defaultValue: string): string {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? defaultValue : value;
}

/** A TCP port; 0 means "pick a free one". */
export function portFromEnv(env: Env, name: string, defaultValue: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return defaultValue;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isInteger(value) || value < 0 || value > 65_535) {
    throw new Error(`${name} must be a port number (0-65535), got ${JSON.stringify(raw)}`);
  }
  return value;
}
