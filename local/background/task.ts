/**
 * What a background task is and gets (heartbeat, SQS poller, sweeper): a leaf module, so the stack that
 * starts the tasks and the tasks themselves both import it without importing each other.
 */
import type { FleetHandle } from '../fleet/fleet';
import type { GatewayLogger } from '../gateway/log';

/** What a background task gets to work with. The handlers' environment is already in process.env. */
export interface BackgroundContext {
  readonly env: Readonly<Record<string, string>>;
  readonly dynamoEndpoint: string;
  readonly queueUrls: Readonly<Record<string, string>>;
  /** Absent when INFERENCE_SERVERS points at servers this stack did not start. */
  readonly fleet: FleetHandle | undefined;
  readonly log: GatewayLogger;
  /** Epoch ms when this stack began starting, before its gateway listened: older in-flight turns are dead. */
  readonly startedAt: number;
}

export type StopFunction = () => void | Promise<void>;

/**
 * Something the deployed app runs on a schedule or an event source (heartbeat, SQS poller, sweeper).
 * Started after the handlers are loaded, stopped before anything else.
 */
export interface BackgroundTask {
  readonly name: string;
  start(context: BackgroundContext): StopFunction | Promise<StopFunction>;
}
