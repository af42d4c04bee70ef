/**
 * Observability choices every function shares, defined once: AppFunction applies them and the cost model
 * (bench/cost) prices them.
 */
export const FUNCTION_OBSERVABILITY = {
  /**
   * Lambda's own START/END/REPORT lines are INFO: at 200M turns a day they would cost more than the app's
   * own line per turn. Durations and memory are in the platform's metrics anyway.
   */
  systemLogLevel: 'WARN',
  /**
   * Active tracing would record only Lambda's own segments (nothing is instrumented), at ~$0.25 per 1M
   * turns: off until instrumenting pays for its bundle and cold-start cost.
   */
  activeTracing: false,
} as const;
