import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { FleetMode } from '../../domain/fleet';
import { settings } from '../settings';

/**
 * CloudWatch metrics as EMF lines (no API calls on the hot path). Each is published at once as a
 * single metric, because a streaming turn ends after its handler has returned.
 */
export const metrics = new Metrics({
  namespace: settings.metricsNamespace,
  serviceName: settings.serviceName,
});

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

function emit(name: string, unit: Unit, value: number, dimensions: Record<string, string> = {}): void {
  const single = metrics.singleMetric();
  for (const [key, dimension] of Object.entries(dimensions)) single.addDimension(key, dimension);
  single.addMetric(name, unit, value);
}

// Dimensions are exactly those the dashboard and alarms query (lib/constructs/observability.ts): an extra
// dimension makes another metric. Per-server and per-reason detail goes to the logs instead.
export const recordAdmitted = (tier: string, server: string, ttftMs: number) => {
  emit('PromptsAdmitted', MetricUnit.Count, 1, { tier });
  emit('TimeToFirstToken', MetricUnit.Milliseconds, ttftMs);
  // Where prompts go, per server: its own metric, so the dimensions above stay those the alarms use.
  emit('PromptsRouted', MetricUnit.Count, 1, { server });
};

export const recordShed = (tier: string) => emit('PromptsShed', MetricUnit.Count, 1, { tier });

export const recordParked = () => emit('TurnsParked', MetricUnit.Count, 1);

export const recordInterrupted = (count: number) => emit('TurnsInterrupted', MetricUnit.Count, count);

const MODE_VALUE: Record<FleetMode, number> = { normal: 0, shed_free: 1, saturated: 2 };

export const recordFleet = (mode: FleetMode, load: number) => {
  emit('FleetMode', MetricUnit.Count, MODE_VALUE[mode]);
  // Infinity (no server available) is not a number CloudWatch takes: report it as 10x overload.
  emit('FleetLoad', MetricUnit.NoUnit, Number.isFinite(load) ? load : 10);
};
