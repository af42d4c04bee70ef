/** The local stand-ins for what AWS runs around the handlers: schedules and event source mappings. */
import { heartbeatTask } from './heartbeat';
import { persisterTask } from './sqs-poller';
import { sweeperTask } from './sweeper';
import type { BackgroundTask } from './task';

export { heartbeatTask, persisterTask, sweeperTask };

export const localBackgroundTasks: readonly BackgroundTask[] = [heartbeatTask, persisterTask, sweeperTask];
