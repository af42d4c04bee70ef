/**
 * The deploy-time half of the settings table: what CDK puts in each function's environment. Only
 * settings with a `deploy` entry are set (the rest keep their defaults in the code, one source either
 * way), every value passes the same parser the function will apply, and the cross-setting rules run
 * too, so `cdk synth` fails on a value the function would refuse at cold start.
 */
import { readSettings } from './read';
import { type FunctionId, SETTING_KEYS, SETTINGS, type Settings } from './settings';

/** Deploy-time values by setting key (CDK context); unset ones take the table's deploy default. */
export type DeploySettings = { readonly [K in keyof Settings]?: Settings[K] | undefined };

/** The keys CDK sets at deploy time. */
export const DEPLOYED_KEYS = SETTING_KEYS.filter((key) => SETTINGS[key].deploy !== undefined);

/** Every deployed setting resolved: given, else the table's deploy default, else its default. */
export function resolveDeploySettings(given: DeploySettings = {}): Settings {
  const env: Record<string, string> = {};
  for (const key of DEPLOYED_KEYS) {
    const definition = SETTINGS[key];
    const value = given[key] ?? definition.deploy?.default ?? definition.default;
    if (value === undefined || typeof value === 'function') {
      throw new Error(`Setting ${key} has no deploy-time value`);
    }
    env[definition.variable] = String(value);
  }
  return readSettings(env);
}

/** The environment variables a function gets from the settings table (besides bindings). */
export function settingsEnvironment(
  functionId: FunctionId,
  given: DeploySettings = {},
): Record<string, string> {
  const resolved = resolveDeploySettings(given);
  const environment: Record<string, string> = {};
  for (const key of DEPLOYED_KEYS) {
    const definition = SETTINGS[key];
    if (definition.readBy.includes(functionId)) environment[definition.variable] = String(resolved[key]);
  }
  return environment;
}
