import { DEPLOYED_KEYS, type DeploySettings } from '../settings/environment';
import { SettingError } from '../settings/parsers';
import { SETTINGS } from '../settings/settings';

/**
 * The deploy-time settings (the fleet thresholds and shard count: the entries of settings/settings.ts
 * with a `deploy.context` key) from CDK context. A value given on the command line is a string; each
 * is parsed by the same parser the functions use, so a bad `-c shedFreeAt=…` fails synth, not a cold start.
 * Unset keys stay undefined and take the table's deploy default (settings/environment.ts).
 */
export function deploySettingsFromContext(tryGetContext: (key: string) => unknown): DeploySettings {
  const settings: Record<string, number | undefined> = {};
  for (const key of DEPLOYED_KEYS) {
    const definition = SETTINGS[key];
    const context = definition.deploy?.context;
    if (context === undefined) continue;
    const value: unknown = tryGetContext(context);
    if (value === undefined) continue;
    const raw = typeof value === 'number' ? String(value) : value;
    if (typeof raw !== 'string' || raw.trim() === '') {
      throw new SettingError(`Context ${context} must be a number`);
    }
    const parsed: unknown = definition.parse(raw.trim(), `Context ${context}`);
    if (typeof parsed !== 'number') throw new SettingError(`Context ${context} must be a number`);
    settings[key] = parsed;
  }
  return settings;
}
