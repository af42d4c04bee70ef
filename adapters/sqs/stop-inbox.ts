/**
 * Stops as a push, not a poll. Each chat-function container owns one small queue, its inbox
 * (`<prefix><ulid>`), created on first use. A starting turn records the inbox's URL; POST /chat/stop
 * sends the message id there; the streaming turn waits on a long poll that returns the moment it lands.
 * One ReceiveMessage per 20 s of stream replaces a DynamoDB read every 400 ms, and a stop is seen within
 * milliseconds. A queue also keeps a stop sent before the listener started.
 *
 * Inboxes are rotated hourly by their container and deleted by the sweeper once older than any container
 * could still use (deleteStopInboxesOlderThan), so dead containers leave nothing behind for long.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  DeleteQueueCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { errorName } from '../../domain/errors';
import { ulid, ulidTime } from '../../domain/ids';
import type { Clock, Log, StopDelivery, StopInbox, StopInboxSweeper } from '../../domain/ports';

/** SQS's longest long poll. */
const WAIT_SECONDS = 20;
/** A stop matters only while its turn streams; SQS's shortest retention. */
const RETENTION_SECONDS = 60;
/** A container starts a new inbox after this long; the sweeper deletes inboxes past twice that. */
export const STOP_INBOX_ROTATE_MS = 60 * 60 * 1000;

interface Inbox {
  readonly url: string;
  readonly createdAt: number;
}

export interface StopInboxOptions {
  /** Queue-name prefix of this deployment's inboxes (STOP_INBOX_PREFIX). */
  readonly prefix: string;
  readonly clock: Clock;
  readonly log: Log;
}

type ListenOutcome = 'stopped' | 'unavailable' | 'ended';

export class SqsStopInbox implements StopInbox {
  private current: Promise<Inbox | undefined> | undefined;
  /** The turns waiting for a stop, by message id. */
  private readonly listeners = new Map<string, (outcome: ListenOutcome) => void>();
  private receiving = false;
  /**
   * The async context the inbox was built in (container init): the receive loop runs there, not in the
   * request that happened to start it, since it serves later requests too (their log keys differ).
   */
  private readonly detached = AsyncLocalStorage.snapshot();

  /** `sqs` must allow requests longer than the 20 s long poll. */
  constructor(
    private readonly sqs: SQSClient,
    private readonly options: StopInboxOptions,
  ) {}

  async address(): Promise<string | undefined> {
    this.current ??= this.create();
    const inbox = await this.current;
    if (!inbox) {
      this.current = undefined; // retried by the next turn
      return undefined;
    }
    if (this.options.clock.now() - inbox.createdAt < STOP_INBOX_ROTATE_MS) return inbox.url;
    // Rotate: the container serves one turn at a time, so nothing listens on the old inbox now.
    this.current = this.create();
    void this.sqs.send(new DeleteQueueCommand({ QueueUrl: inbox.url })).catch(() => undefined);
    return (await this.current)?.url;
  }

  async listen(messageId: string, signal: AbortSignal): Promise<ListenOutcome> {
    const inbox = await this.current;
    if (!inbox) return 'unavailable';
    if (signal.aborted) return 'ended';
    return new Promise<ListenOutcome>((resolve) => {
      const settle = (outcome: ListenOutcome) => {
        if (this.listeners.get(messageId) !== settle) return;
        this.listeners.delete(messageId);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      const onAbort = () => settle('ended');
      signal.addEventListener('abort', onAbort, { once: true });
      this.listeners.set(messageId, settle);
      this.receive();
    });
  }

  /**
   * One receive loop per container, whoever listens: on Lambda a container streams one turn at a time,
   * but a process serving several (the local gateway) must not let one turn's poll swallow another's
   * stop. A long poll is never aborted: a cancelled ReceiveMessage can still take the next message and
   * hide it for the visibility timeout (the emulator shows it), which would lose the next turn's stop.
   * A poll outliving its turn simply ends within 20 s, or resumes when a frozen Lambda container thaws.
   */
  private receive(): void {
    if (this.receiving) return;
    this.receiving = true;
    this.detached(() => this.receiveLoop());
  }

  private receiveLoop(): void {
    void (async () => {
      let failures = 0;
      while (this.listeners.size > 0) {
        const inbox = await this.current;
        if (!inbox) break;
        let messages: { Body?: string; ReceiptHandle?: string }[];
        try {
          const output = await this.sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: inbox.url,
              WaitTimeSeconds: WAIT_SECONDS,
              MaxNumberOfMessages: 1,
            }),
          );
          messages = output.Messages ?? [];
          failures = 0;
        } catch (error) {
          // Once more before giving up: a poll left open across a Lambda freeze fails on the thaw.
          if (++failures < 2) continue;
          this.options.log.warn('stop inbox failed; polling the stop flag', { error: errorName(error) });
          if (errorName(error).includes('QueueDoesNotExist')) this.current = undefined;
          for (const settle of [...this.listeners.values()]) settle('unavailable');
          break;
        }
        for (const message of messages) {
          // A stop that came too late for its turn is dropped too.
          if (message.ReceiptHandle) {
            void this.sqs
              .send(new DeleteMessageCommand({ QueueUrl: inbox.url, ReceiptHandle: message.ReceiptHandle }))
              .catch(() => undefined);
          }
          const id = stoppedId(message.Body);
          if (id !== undefined) this.listeners.get(id)?.('stopped');
        }
      }
    })().finally(() => {
      this.receiving = false;
      // A listener that arrived while this loop was winding down starts the next one.
      if (this.listeners.size > 0) this.receive();
    });
  }

  private async create(): Promise<Inbox | undefined> {
    const createdAt = this.options.clock.now();
    try {
      const output = await this.sqs.send(
        new CreateQueueCommand({
          QueueName: `${this.options.prefix}${ulid(createdAt)}`,
          Attributes: {
            MessageRetentionPeriod: String(RETENTION_SECONDS),
            ReceiveMessageWaitTimeSeconds: String(WAIT_SECONDS),
            SqsManagedSseEnabled: 'true',
          },
        }),
      );
      return output.QueueUrl ? { url: output.QueueUrl, createdAt } : undefined;
    } catch (error) {
      this.options.log.warn('stop inbox could not be created; stops poll the flag', {
        error: errorName(error),
      });
      return undefined;
    }
  }
}

/** POST /chat/stop: delivers to the inbox a turn recorded, if it is one of this deployment's. */
export class SqsStopDelivery implements StopDelivery {
  constructor(
    private readonly sqs: SQSClient,
    private readonly prefix: string,
  ) {}

  async deliver(address: string, messageId: string): Promise<void> {
    if (!isInboxOf(this.prefix, address)) throw new Error('Not a stop inbox of this deployment');
    await this.sqs.send(
      new SendMessageCommand({ QueueUrl: address, MessageBody: JSON.stringify({ message_id: messageId }) }),
    );
  }
}

/** The sweeper's port over deleteStopInboxesOlderThan. */
export class SqsStopInboxSweeper implements StopInboxSweeper {
  constructor(
    private readonly sqs: SQSClient,
    private readonly prefix: string,
  ) {}

  deleteOlderThan(now: number, maxAgeMs: number): Promise<number> {
    return deleteStopInboxesOlderThan(this.sqs, this.prefix, now, maxAgeMs);
  }
}

/**
 * The sweeper's part: deletes inboxes older than `maxAgeMs` (their containers rotated them or died).
 * Returns how many it deleted.
 */
export async function deleteStopInboxesOlderThan(
  sqs: SQSClient,
  prefix: string,
  now: number,
  maxAgeMs: number,
): Promise<number> {
  let deleted = 0;
  let nextToken: string | undefined;
  do {
    const page = await sqs.send(
      new ListQueuesCommand({
        QueueNamePrefix: prefix,
        MaxResults: 1000,
        ...(nextToken ? { NextToken: nextToken } : {}),
      }),
    );
    for (const url of page.QueueUrls ?? []) {
      const created = ulidTime(queueName(url).slice(prefix.length));
      if (created === undefined || now - created < maxAgeMs) continue;
      await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
      deleted++;
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return deleted;
}

const queueName = (url: string) => url.slice(url.lastIndexOf('/') + 1);

function isInboxOf(prefix: string, address: string): boolean {
  const name = queueName(address);
  return name.startsWith(prefix) && ulidTime(name.slice(prefix.length)) !== undefined;
}

function stoppedId(body: string | undefined): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body ?? '');
    const id = (parsed as { message_id?: unknown } | null)?.message_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
