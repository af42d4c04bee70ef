/** The gateway's log lines: one JSON object per invocation and per notable event. */

export interface GatewayLogEntry {
  readonly level: 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly [key: string]: unknown;
}

export type GatewayLogger = (entry: GatewayLogEntry) => void;

export const stdoutLogger: GatewayLogger = (entry) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
};

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
