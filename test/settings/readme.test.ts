import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultText, SETTING_KEYS, SETTINGS } from '../../settings/settings';
import { renderSettingsRows } from './readme-table';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The rows of the README's "## Settings" tables, before the local runtime's own. */
function readmeRows(): string[] {
  const start = readme.indexOf('## Settings\n');
  const end = readme.indexOf('Local runtime only:', start);
  return readme
    .slice(start, end)
    .split('\n')
    .filter((line) => line.startsWith('| `'));
}

/** `| \`NAME\` | default | meaning |` → [NAME, default]. */
function nameAndDefault(row: string): [string, string] {
  const [name = '', defaultCell = ''] = row.slice(2, -2).split(' | ');
  return [name.replaceAll('`', ''), defaultCell];
}

describe('README settings tables', () => {
  it('name every variable of the settings table, with its default', () => {
    // Act
    const documented = readmeRows().map(nameAndDefault);

    // Assess
    const expected = SETTING_KEYS.map((key): [string, string] => [
      SETTINGS[key].variable,
      defaultText(SETTINGS[key]),
    ]);
    expect(documented).toEqual(expected);
  });

  it('read exactly as the table renders them (regenerate with renderSettingsRows)', () => {
    // Assess
    expect(readmeRows()).toEqual([...renderSettingsRows('tuning'), ...renderSettingsRows('deployment')]);
  });
});
