import { describe, expect, it } from 'vitest';
import { deploySettingsFromContext } from '../../lib/fleet-settings';
import { settingsEnvironment } from '../../settings/environment';
import { SETTINGS } from '../../settings/settings';

describe('settingsEnvironment', () => {
  it('fills unset deploy-time settings with the table’s deploy defaults', () => {
    expect(settingsEnvironment('RunHeartbeat', { shedFreeAt: 0.7, saturatedAt: undefined })).toEqual({
      HEARTBEAT_INTERVAL_SECONDS: '0.5',
      SHED_FREE_AT: '0.7',
      SATURATED_AT: '1',
      FREE_COOLDOWN_SECONDS: '120',
      FLEET_SHARDS: '4',
    });
  });

  it('gives a function only the deploy-time settings the table says it reads', () => {
    expect(settingsEnvironment('GetHistory')).toEqual({});
    for (const [name] of Object.entries(settingsEnvironment('PostChat'))) {
      const entry = Object.values(SETTINGS).find((definition) => definition.variable === name);
      expect(entry?.readBy, name).toContain('PostChat');
    }
  });

  it('rejects values the functions would refuse, and thresholds in the wrong order', () => {
    expect(() => settingsEnvironment('PostChat', { heartbeatIntervalSeconds: 0 })).toThrow(
      /HEARTBEAT_INTERVAL_SECONDS/,
    );
    expect(() => settingsEnvironment('PostChat', { heartbeatIntervalSeconds: 61 })).toThrow(/at most 60/);
    expect(() => settingsEnvironment('PostChat', { freeCooldownSeconds: Number.NaN })).toThrow(
      /FREE_COOLDOWN_SECONDS/,
    );
    expect(() => settingsEnvironment('PostChat', { shedFreeAt: 1, saturatedAt: 1 })).toThrow(
      /SHED_FREE_AT \(1\) must be below SATURATED_AT/,
    );
  });
});

describe('deploySettingsFromContext', () => {
  it('parses context given on the command line (strings) or in cdk.json (numbers)', () => {
    const context: Record<string, unknown> = { fleetShards: '8', shedFreeAt: 0.75 };
    expect(deploySettingsFromContext((key) => context[key])).toEqual({ fleetShards: 8, shedFreeAt: 0.75 });
  });

  it('fails synth on a context value the functions would refuse', () => {
    expect(() => deploySettingsFromContext((key) => (key === 'fleetShards' ? '3' : undefined))).toThrow(
      /fleetShards/,
    );
    expect(() => deploySettingsFromContext((key) => (key === 'shedFreeAt' ? 'high' : undefined))).toThrow(
      /shedFreeAt/,
    );
  });
});
