import { type Env, rawValue, SettingError } from './parsers';
import { SETTING_KEYS, SETTINGS, type SettingDefinition, type Settings } from './settings';

/**
 * Parses every setting from `env`, once. A set-but-malformed variable throws now (cold start), naming
 * it; a required one that is unset throws when it is first read, so a function that never needs
 * (say) the chat table does not need its variable. Derived defaults see the other settings.
 */
export function readSettings(env: Env): Settings {
  const values = new Map<keyof Settings, unknown>();
  const resolving = new Set<keyof Settings>();
  const settings = {} as Settings;

  const resolve = <K extends keyof Settings>(key: K): Settings[K] => {
    if (values.has(key)) return values.get(key) as Settings[K];
    if (resolving.has(key)) throw new SettingError(`Setting ${key} depends on itself.`);
    resolving.add(key);
    const definition: SettingDefinition<Settings[K]> = SETTINGS[key];
    const raw = rawValue(env, definition.variable);
    let value: Settings[K];
    if (raw !== undefined) value = definition.parse(raw, definition.variable);
    else if (definition.default === undefined) {
      throw new SettingError(`Environment variable ${definition.variable} is required but not set.`);
    } else if (typeof definition.default === 'function') value = definition.default(settings);
    else value = definition.default;
    resolving.delete(key);
    values.set(key, value);
    return value;
  };

  for (const key of SETTING_KEYS) {
    Object.defineProperty(settings, key, { get: () => resolve(key), enumerable: true });
  }
  for (const key of SETTING_KEYS) {
    const definition = SETTINGS[key];
    if (definition.default !== undefined || rawValue(env, definition.variable) !== undefined) resolve(key);
  }
  validateTogether(settings);
  return Object.freeze(settings);
}

/** Rules across settings, checked wherever settings are read (functions and CDK alike). */
function validateTogether(settings: Settings): void {
  // Strictly below: at equal thresholds the fleet would jump from normal to saturated, and shed_free
  // (with its admit ratio steering between the two) would never happen.
  if (settings.shedFreeAt >= settings.saturatedAt) {
    throw new SettingError(
      `SHED_FREE_AT (${settings.shedFreeAt}) must be below SATURATED_AT (${settings.saturatedAt}).`,
    );
  }
}
