import { describe, expect, it } from 'vitest';
import { fleetPolicy } from '../../settings/policies';
import { readSettings } from '../../settings/read';
import { SETTINGS } from '../../settings/settings';

describe('readSettings', () => {
  it('gives every tuning setting its default when the environment is empty', () => {
    // Act
    const settings = readSettings({});

    // Assess
    expect(settings).toMatchObject({
      heartbeatIntervalSeconds: 0.5,
      fleetShards: 1,
      maxPromptChars: 32_000,
      premiumAdmissionWaitMs: 1_000,
      admissionPolicy: 'load_based',
      serviceName: 'chat',
    });
  });

  it('derives the stale time, probe and tick time-outs from the interval', () => {
    // Act
    const fast = readSettings({ HEARTBEAT_INTERVAL_SECONDS: '0.1' });
    const slow = readSettings({ HEARTBEAT_INTERVAL_SECONDS: '2' });

    // Assess
    expect([fast.serverStaleSeconds, fast.heartbeatProbeTimeoutMs, fast.heartbeatTickTimeoutMs]).toEqual([
      0.3, 250, 2_000,
    ]);
    expect([slow.serverStaleSeconds, slow.heartbeatProbeTimeoutMs, slow.heartbeatTickTimeoutMs]).toEqual([
      6, 500, 8_000,
    ]);
    // The deployed default: three heartbeats, not domain/fleet.ts's 5 s.
    expect(fleetPolicy(readSettings({})).staleAfterMs).toBe(1_500);
  });

  it('accepts 0 for the premium wait (refuse at once) but not for time-outs', () => {
    // Act
    const noWait = readSettings({ PREMIUM_ADMISSION_WAIT_MS: '0' });

    // Assess
    expect(noWait.premiumAdmissionWaitMs).toBe(0);
    expect(() => readSettings({ FIRST_TOKEN_TIMEOUT_MS: '0' })).toThrow(/FIRST_TOKEN_TIMEOUT_MS/);
  });

  it.each([
    ['SHED_FREE_AT', '1'],
    ['SHED_FREE_AT', '1.2'],
  ])('refuses %s=%s at or above SATURATED_AT', (name, value) => {
    expect(() => readSettings({ [name]: value })).toThrow(/SHED_FREE_AT .* must be below SATURATED_AT/);
  });

  it.each([
    ['MAX_PROMPT_CHARS', '12.5'],
    ['HEARTBEAT_INTERVAL_SECONDS', '61'],
    ['ADMISSION_POLICY', 'random'],
    ['FLEET_SHARDS', '3'],
    ['STOP_POLL_MS', 'soon'],
  ])('throws at read time on %s=%s, naming the variable', (name, value) => {
    expect(() => readSettings({ [name]: value })).toThrow(name);
  });

  it('throws for a required setting only when it is read unset', () => {
    // Prepare
    const settings = readSettings({ FLEET_TABLE_NAME: 'fleet' });

    // Act
    const read = () => settings.chatTableName;

    // Assess
    expect(settings.fleetTableName).toBe('fleet');
    expect(read).toThrow(`${SETTINGS.chatTableName.variable} is required but not set.`);
  });
});
