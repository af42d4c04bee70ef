import { DomainError } from '../domain/errors';
import { ulidTime } from '../domain/ids';
import type { Clock, StopDelivery, StopFlags, TurnRepository } from '../domain/ports';
import type { Caller } from '../domain/turn';

/**
 * POST /chat/stop: only the owner can stop a turn (others' turns are simply not found in their partition,
 * and the stop flag lives in the caller's own partition too). The stop is recorded as a flag and pushed to
 * the inbox the streaming turn recorded (stop-polling.ts). A turn whose in_progress record has not
 * landed yet (its write still being retried, or parked on the queue) is not visible and polls the flag:
 * a stop for an id the chat function minted within the longest turn is recorded all the same.
 */
export async function requestStop(
  deps: {
    repository: TurnRepository;
    stopFlags: StopFlags;
    stopDelivery: StopDelivery;
    clock: Clock;
    maxTurnMs: number;
  },
  caller: Caller,
  messageId: string,
): Promise<{ status: 'stopping' }> {
  const { repository, stopFlags } = deps;
  const turn = await repository.getTurn(caller.userId, messageId);
  if (!turn) {
    const mintedAt = ulidTime(messageId);
    const now = deps.clock.now();
    const recent = mintedAt !== undefined && mintedAt <= now + 1000 && now - mintedAt <= deps.maxTurnMs;
    if (!recent) throw new DomainError('not_found', 'No turn of yours has this message_id.');
    await stopFlags.request(caller.userId, messageId);
    return { status: 'stopping' };
  }
  if (turn.status !== 'in_progress') {
    throw new DomainError('conflict', `The turn has already ended (${turn.status}).`, {
      message_id: messageId,
    });
  }
  const { stopInbox } = turn;
  await Promise.all([
    stopFlags.request(caller.userId, messageId),
    stopInbox === undefined ? undefined : deps.stopDelivery.deliver(stopInbox, messageId),
  ]);
  return { status: 'stopping' };
}
