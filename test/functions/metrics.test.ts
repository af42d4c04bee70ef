import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  recordAdmitted,
  recordFleet,
  recordInterrupted,
  recordParked,
  recordShed,
} from '../../functions/commons/metrics';

/** The EMF documents Powertools prints, as {metric name → dimension names}. */
function captureEmf(act: () => void): Map<string, string[]> {
  const lines: string[] = [];
  const spies = [
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }),
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
    }),
  ];
  act();
  for (const spy of spies) spy.mockRestore();
  const found = new Map<string, string[]>();
  for (const line of lines.flatMap((chunk) => chunk.split('\n')).filter((l) => l.includes('"_aws"'))) {
    const emf = JSON.parse(line) as {
      _aws: {
        CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
      };
    };
    for (const directive of emf._aws.CloudWatchMetrics) {
      expect(directive.Namespace).toBe('ChatApp');
      for (const metric of directive.Metrics)
        found.set(metric.Name, [...(directive.Dimensions[0] ?? [])].sort());
    }
  }
  return found;
}

afterEach(() => vi.restoreAllMocks());

describe('metrics', () => {
  // These are the dimension sets lib/constructs/observability.ts queries; another set is another metric.
  it('emits each metric with exactly the dimensions the dashboard and alarms use', () => {
    const emitted = captureEmf(() => {
      recordAdmitted('premium', 'gpu-1', 120);
      recordShed('free');
      recordParked();
      recordInterrupted(2);
      recordFleet('shed_free', 0.85);
    });
    expect(Object.fromEntries(emitted)).toEqual({
      PromptsAdmitted: ['service', 'tier'],
      TimeToFirstToken: ['service'],
      PromptsRouted: ['server', 'service'],
      PromptsShed: ['service', 'tier'],
      TurnsParked: ['service'],
      TurnsInterrupted: ['service'],
      FleetMode: ['service'],
      FleetLoad: ['service'],
    });
  });
});
