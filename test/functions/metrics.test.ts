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
    // Every dimension and metric a directive names has its value in the same document.
    const values = emf as unknown as Record<string, unknown>;
    for (const directive of emf._aws.CloudWatchMetrics) {
      for (const name of [...(directive.Dimensions[0] ?? []), ...directive.Metrics.map((m) => m.Name)]) {
        expect(values[name], name).toBeDefined();
      }
    }
  }
  return found;
}

function emfLines(act: () => void): number {
  const lines: string[] = [];
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  act();
  spy.mockRestore();
  return lines.filter((line) => line.includes('"_aws"')).length;
}

afterEach(() => vi.restoreAllMocks());

describe('metrics', () => {
  // These are the dimension sets lib/constructs/observability.ts queries; another set is another metric.
  it('emits each metric with exactly the dimensions the dashboard and alarms use', () => {
    const emitted = captureEmf(() => {
      recordAdmitted('premium', 'gpu-1', 120, 2_500);
      recordShed('free');
      recordParked();
      recordInterrupted(2);
      recordFleet('shed_free', 0.85);
    });
    expect(Object.fromEntries(emitted)).toEqual({
      PromptsAdmitted: ['service', 'tier'],
      TimeToFirstToken: ['service'],
      PromptsRouted: ['server', 'service'],
      FleetViewAgeSeconds: ['service'],
      PromptsShed: ['service', 'tier'],
      TurnsParked: ['service'],
      TurnsInterrupted: ['service'],
      FleetMode: ['service'],
      FleetLoad: ['service'],
    });
  });

  it('prints the metrics of an admitted prompt as one line, the fleet view age included', () => {
    expect(emfLines(() => recordAdmitted('free', 'gpu-2', 80))).toBe(1);
    expect(emfLines(() => recordAdmitted('free', 'gpu-2', 80, 1_234))).toBe(1);
  });

  it('reports the fleet view age in seconds, only when the prompt was admitted on a view', () => {
    const documents = (act: () => void) => {
      const lines: string[] = [];
      vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
      act();
      vi.restoreAllMocks();
      return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    };
    expect(documents(() => recordAdmitted('free', 'gpu-2', 80, 1_234))[0]).toMatchObject({
      FleetViewAgeSeconds: 1.2,
    });
    expect(documents(() => recordAdmitted('free', 'gpu-2', 80))[0]).not.toHaveProperty('FleetViewAgeSeconds');
  });
});
