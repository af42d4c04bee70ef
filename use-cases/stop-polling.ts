/** A streaming turn notices its owner's stop (POST /chat/stop) by polling the stop flag. */
import { errorName } from '../domain/errors';
import type { NewTurn } from '../domain/ports';
import type { ChatDeps } from './chat-turn';

/** Abort reason when the owner pressed stop: not an error, the turn ends `stopped`. */
export const STOPPED = Symbol('stopped');

/** Checks the stop flag on a timer, so a stop is noticed even while the server is silent. */
export function pollStop(
  deps: Pick<ChatDeps, 'stopFlags' | 'log' | 'config'>,
  turn: NewTurn,
  controller: AbortController,
): ReturnType<typeof setInterval> {
  let checking = false;
  const timer = setInterval(() => {
    if (checking || controller.signal.aborted) return;
    checking = true;
    deps.stopFlags
      .isRequested(turn.userId, turn.id)
      .then((stop) => {
        if (stop && !controller.signal.aborted) controller.abort(STOPPED);
      })
      .catch((error: unknown) => {
        deps.log.warn('stop flag check failed', { message_id: turn.id, error: errorName(error) });
      })
      .finally(() => {
        checking = false;
      });
  }, deps.config.stopPollMs);
  return timer;
}
