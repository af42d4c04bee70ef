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
/**
 * An admitted prompt's metrics in ONE EMF line, with one directive per dimension set (EMF allows
 * several; Powertools' single metrics would print a line each, ~1 KB a turn at 200M turns a day).
 * Where prompts go, per server, is its own metric, so the dimensions above stay those the alarms use.
 * The age of the fleet view it was admitted on rides along (FleetViewStale alarm): no line of its own.
 */
export const recordAdmitted = (tier: string, server: string, ttftMs: number, viewAgeMs?: number) => {
  const namespace = settings.metricsNamespace;
  const directive = (name: string, unit: Unit, dimensions: string[]) => ({
    Namespace: namespace,
    Dimensions: [dimensions],
    Metrics: [{ Name: name, Unit: unit }],
  });
  const document = {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        directive('PromptsAdmitted', MetricUnit.Count, ['service', 'tier']),
        directive('TimeToFirstToken', MetricUnit.Milliseconds, ['service']),
        directive('PromptsRouted', MetricUnit.Count, ['service', 'server']),
        ...(viewAgeMs === undefined
          ? []
          : [directive('FleetViewAgeSeconds', MetricUnit.Seconds, ['service'])]),
      ],
    },
    service: settings.serviceName,
    tier,
    server,
    PromptsAdmitted: 1,
    TimeToFirstToken: ttftMs,
    PromptsRouted: 1,
    ...(viewAgeMs === undefined ? {} : { FleetViewAgeSeconds: Math.round(viewAgeMs / 100) / 10 }),
  };
  // Straight to stdout as Powertools does: Lambda's JSON log format keeps a JSON line as it is.
  process.stdout.write(`${JSON.stringify(document)}\n`);
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
