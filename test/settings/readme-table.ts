/** The README's settings tables, as the settings table (settings/settings.ts) renders them. */
import { defaultText, SETTING_KEYS, SETTINGS } from '../../settings/settings';

export function renderSettingsRows(kind: 'tuning' | 'deployment'): string[] {
  return SETTING_KEYS.filter((key) => SETTINGS[key].kind === kind).map((key) => {
    const definition = SETTINGS[key];
    return `| \`${definition.variable}\` | ${defaultText(definition)} | ${definition.doc} |`;
  });
}
