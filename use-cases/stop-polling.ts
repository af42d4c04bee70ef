/**
 * A streaming turn notices its owner's stop (POST /chat/stop): pushed to this container's inbox when
 * the turn recorded one, else by polling the stop flag (the inbox failed, or the turn's start was
 * parked on the queue, so POST /chat/stop could not find its inbox).
 */
import { errorName } from '../domain/errors';
import type { NewTurn } from '../domain/ports';
import type { ChatDeps } from './chat-turn';

/** Abort reason when the owner pressed stop: not an error, the turn ends `stopped`. */
export const STOPPED = Symbol('stopped');

type StopDeps = Pick<ChatDeps, 'stopFlags' | 'stopInbox' | 'log' | 'config'>;

/** Watches for a stop until the returned function is called; aborts `controller` with STOPPED on one. */
export function watchForStop(
  deps: StopDeps,
  turn: NewTurn,
  controller: AbortController,
  inboxRecorded: boolean,
): () => void {
  const done = new AbortController();
  let poller: ReturnType<typeof setInterval> | undefined;
  const cancel = () => {
    done.abort();
    clearInterval(poller);
  };
  const fallBack = () => {
    if (!done.signal.aborted) poller = pollStop(deps, turn, controller);
  };
  if (!inboxRecorded) {
    fallBack();
    return cancel;
  }
  deps.stopInbox.listen(turn.id, done.signal).then(
    (outcome) => {
      if (outcome === 'stopped' && !controller.signal.aborted) controller.abort(STOPPED);
      else if (outcome === 'unavailable') fallBack();
    },
    (error: unknown) => {
      deps.log.warn('stop inbox failed', { message_id: turn.id, error: errorName(error) });
      fallBack();
    },
  );
  return cancel;
}

/** Checks the stop flag on a timer, so a stop is noticed even while the server is silent. */
function pollStop(
  deps: StopDeps,
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
