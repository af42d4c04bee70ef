import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { QuotaCounter, QuotaDecision, StreamSlot } from '../../domain/ports';
import {
  DAY_MS,
  epochMinute,
  type PromptLimits,
  STREAMS_RETRY_AFTER_MS,
  windowStart,
} from '../../domain/quota';
import { isConditionalCheckFailed } from './errors';
import {
  BURST_MINUTES_CLEARED,
  burstAttribute,
  leaseShardOf,
  quotaItemState,
  quotaSortKey,
  SWEEP_GRACE_MS,
  slotAttribute,
  slotIdOf,
  storedBytesSortKey,
  sweepAt,
} from './quota-items';

interface WindowKey {
  readonly pk: string;
  readonly sk: string;
}

/** Grants tried before giving up when other requests of the same user keep changing the item. */
const MAX_ATTEMPTS = 3;

/**
 * The quota counters (quota-items.ts). A grant is ONE conditional UpdateItem: the window's prompts, the
 * minute's prompts and the streams go up together only if all three are below the caller's limits, and
 * the stream takes a slot named by its id. Only a refusal reads (no ReturnValuesOnConditionCheckFailure:
 * dynalite lacks it), to say which limit and until when.
 *
 * Leaked slots: a container that dies mid-stream never releases its slot. Each slot holds the time its
 * lease ends (the longest turn plus a margin); a refusal for streams that finds slots past their lease
 * removes them and recounts, then tries again. A live stream is never forgotten, and a leak costs a
 * user a slot for at most one lease, not forever. The grant reports the slots it dropped: their turns'
 * processes died.
 *
 * The window's byLeases key (quota-items.ts) is set where absent, so only its first grant writes the index.
 */
export class DynamoDbQuotaCounter implements QuotaCounter {
  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async acquire(userId: string, slotId: string, limits: PromptLimits, now: number): Promise<QuotaDecision> {
    const start = windowStart(now, limits.windowMs);
    const minute = epochMinute(now);
    const slot: StreamSlot = { windowStart: start, id: slotId, minute };
    const key = { pk: userId, sk: quotaSortKey(start) };
    const abandoned: string[] = [];
    for (let attempt = 1; ; attempt++) {
      const prompts = await this.tryAcquire(key, slot, limits, now);
      if (prompts !== undefined) {
        return { granted: true, slot, prompts, ...(abandoned.length ? { abandoned } : {}) };
      }
      const state = quotaItemState(
        (await this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })))
          .Item,
      );
      if (state.prompts >= limits.promptsPerWindow) {
        return refusal('window', state.prompts, start + limits.windowMs - now);
      }
      if (state.burst(minute) >= limits.promptsPerMinute) {
        return refusal('burst', state.prompts, (minute + 1) * 60_000 - now);
      }
      const stale = [...state.slots].filter(([, leaseEnd]) => leaseEnd < now).map(([name]) => name);
      const live = state.slots.size - stale.length;
      if (live >= limits.concurrentStreams) {
        return refusal('streams', state.prompts, STREAMS_RETRY_AFTER_MS);
      }
      if (attempt >= MAX_ATTEMPTS) throw new Error('Quota item kept changing; no grant after 3 attempts');
      // Room once the leaked slots are gone (or another request freed some meanwhile): recount, then retry.
      if (state.streams !== live && (await this.recount(key, stale, state.streams, live))) {
        abandoned.push(...stale.map(slotIdOf));
      }
    }
  }

  async release(userId: string, slot: StreamSlot): Promise<void> {
    await this.giveBack(userId, slot, false, 0);
  }

  async refund(userId: string, slot: StreamSlot, now: number): Promise<void> {
    await this.giveBack(userId, slot, true, now);
  }

  async addStoredBytes(userId: string, bytes: number, limitBytes: number, now: number) {
    const dayStart = windowStart(now, DAY_MS);
    const retryAfterMs = dayStart + DAY_MS - now;
    if (bytes > limitBytes) return { granted: false as const, retryAfterMs };
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: userId, sk: storedBytesSortKey(dayStart) },
          UpdateExpression: 'ADD #bytes :bytes SET expires_at = if_not_exists(expires_at, :expires)',
          ConditionExpression: 'attribute_not_exists(#bytes) OR #bytes <= :room',
          ExpressionAttributeNames: { '#bytes': 'bytes' },
          ExpressionAttributeValues: {
            ':bytes': bytes,
            ':room': limitBytes - bytes,
            ':expires': Math.ceil((dayStart + 2 * DAY_MS) / 1000),
          },
        }),
      );
      return { granted: true as const };
    } catch (error) {
      if (isConditionalCheckFailed(error)) return { granted: false as const, retryAfterMs };
      throw error;
    }
  }

  async refundStoredBytes(userId: string, bytes: number, now: number): Promise<void> {
    await this.doc
      .send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: userId, sk: storedBytesSortKey(windowStart(now, DAY_MS)) },
          UpdateExpression: 'ADD #bytes :minus',
          ConditionExpression: 'attribute_exists(#bytes)',
          ExpressionAttributeNames: { '#bytes': 'bytes' },
          ExpressionAttributeValues: { ':minus': -bytes },
        }),
      )
      .catch((error: unknown) => {
        if (!isConditionalCheckFailed(error)) throw error;
      });
  }

  /** The grant's one write; the window's prompts after it, or undefined when a limit had no room. */
  private async tryAcquire(
    key: WindowKey,
    slot: StreamSlot,
    limits: PromptLimits,
    now: number,
  ): Promise<number | undefined> {
    const names: Record<string, string> = { '#slot': slotAttribute(slot), '#b': burstAttribute(slot.minute) };
    for (let back = 1; back <= BURST_MINUTES_CLEARED; back++) {
      names[`#b${back}`] = burstAttribute(slot.minute - back);
    }
    const cleared = Object.keys(names).filter((name) => /^#b\d+$/.test(name));
    try {
      const output = await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET #slot = :lease, expires_at = if_not_exists(expires_at, :expires), leases = if_not_exists(leases, :leases), sweep_at = if_not_exists(sweep_at, :sweep_at) ADD prompts :one, streams :one, #b :one REMOVE ${cleared.join(', ')}`,
          ConditionExpression:
            '(attribute_not_exists(prompts) OR prompts < :prompts) AND (attribute_not_exists(streams) OR streams < :streams) AND (attribute_not_exists(#b) OR #b < :burst)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':lease': now + limits.streamLeaseMs,
            ':leases': leaseShardOf(key.pk),
            // After the window, and after the last stream it granted could have ended.
            ':sweep_at': sweepAt(key.pk, slot.windowStart, limits.windowMs, limits.streamLeaseMs),
            // After the sweeper has had its chance to read the window's unreleased slots.
            ':expires': Math.ceil(
              (sweepAt(key.pk, slot.windowStart, limits.windowMs, limits.streamLeaseMs) + SWEEP_GRACE_MS) /
                1000,
            ),
            ':one': 1,
            ':prompts': limits.promptsPerWindow,
            ':streams': limits.concurrentStreams,
            ':burst': limits.promptsPerMinute,
          },
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      const prompts = output.Attributes?.prompts;
      return typeof prompts === 'number' ? prompts : 0;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  /**
   * Drops slots past their lease and sets the count to the live ones, if nobody changed it meanwhile;
   * true when it did.
   */
  private async recount(
    key: WindowKey,
    stale: readonly string[],
    seen: number,
    live: number,
  ): Promise<boolean> {
    const names: Record<string, string> = { '#streams': 'streams' };
    stale.forEach((name, index) => {
      names[`#stale${index}`] = name;
    });
    const removes = stale.map((_, index) => `#stale${index}`);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: `SET #streams = :live${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
          ConditionExpression: '#streams = :seen',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':live': live, ':seen': seen },
        }),
      );
      return true;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      return false;
    }
  }

  /** Frees the slot (and, for a refund, the prompt and its minute's count) only if the slot is still held. */
  private async giveBack(userId: string, slot: StreamSlot, refund: boolean, now: number) {
    const names: Record<string, string> = { '#slot': slotAttribute(slot) };
    const adds = ['streams :minus'];
    if (refund) {
      adds.push('prompts :minus');
      // The minute's counter may be gone once its minute passed; a refund later leaves it alone.
      if (epochMinute(now) === slot.minute) {
        names['#b'] = burstAttribute(slot.minute);
        adds.push('#b :minus');
      }
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: userId, sk: quotaSortKey(slot.windowStart) },
          UpdateExpression: `REMOVE #slot ADD ${adds.join(', ')}`,
          ConditionExpression: 'attribute_exists(#slot)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ':minus': -1 },
        }),
      );
    } catch (error) {
      // Released already, or recounted away after its lease: nothing left to give back.
      if (!isConditionalCheckFailed(error)) throw error;
    }
  }
}

function refusal(
  reason: 'window' | 'burst' | 'streams',
  prompts: number,
  retryAfterMs: number,
): QuotaDecision {
  return { granted: false, reason, prompts, retryAfterMs };
}
