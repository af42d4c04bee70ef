/**
 * In-process SQS (local-aws-sqs) with the queues of lib/resources.ts: each dead-letter queue first,
 * then its main queue with the RedrivePolicy and VisibilityTimeout of the definition.
 * Queue name = definition id.
 *
 * local-aws-sqs keeps messages in memory only. Given a `dataDir`, this module makes them survive a
 * restart (even a SIGKILL) the way SQS's own storage does: a journal, <dataDir>/sqs/journal.ndjson, one
 * JSON object a line, appended and fsynced synchronously inside the engine's call, so before the
 * engine writes its HTTP response:
 *   {"op":"send","queue":Q,"id":MessageId,"at":epochMs,"message":{MessageBody,MessageAttributes?,…}}
 *   {"op":"delete","queue":Q,"id":MessageId}
 *   {"op":"purge","queue":Q}
 * The hooks sit on the engine's queue objects, not on the wire, so they also see what happens inside
 * it: `setRecord` is how every message enters a queue (SendMessage, each SendMessageBatch entry, the
 * move to the dead-letter queue when the visibility timeout of the maxReceiveCount-th receive expires —
 * same message id, so a "send" of a live id to another queue is a move — and a StartMessageMoveTask
 * redrive); `delete` how one leaves it by receipt handle (DeleteMessage, each DeleteMessageBatch entry,
 * the redrive's delete from the dead-letter queue); `clearRecords` a purge.
 * On start, the journal is replayed: each message sent and not deleted goes back into its queue with
 * its message id, body, attributes and SentTimestamp; then the journal is rewritten to just those.
 *
 * Approximations: receives are not journaled, so a replayed message is visible at once with
 * ApproximateReceiveCount 0 (a poison message gets maxReceiveCount more receives after each restart);
 * the engine's retention expiry is invisible, so replay drops what is older than the queue's
 * MessageRetentionPeriod instead, and a replayed message gets a full retention period again in memory;
 * a dead-lettered message comes back with the SentTimestamp of its first send; messages of queues
 * created at run time (CreateQueue) are not journaled. If a journal write fails, the engine's call
 * fails and the client gets an error (the message may still be in memory: at least once, as on SQS).
 * One process per dataDir.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { createRequestHandler, type ISqsServerOptions } from 'local-aws-sqs';
import { type QueueDefinition, queues as queueDefinitions } from '../../lib/resources';

export const LOCAL_SQS_ACCOUNT_ID = '123456789012';
export const LOCAL_SQS_REGION = 'us-east-1';

export interface SqsOptions {
  readonly host?: string;
  readonly port?: number;
  readonly queues?: readonly QueueDefinition[];
  /** Keep messages in <dataDir>/sqs/journal.ndjson across restarts; absent: in memory only. */
  readonly dataDir?: string;
}

export interface LocalSqs {
  readonly endpoint: string;
  /** Queue URL by definition id, dead-letter queues included (by their own id). */
  readonly queueUrls: Record<string, string>;
  close(): Promise<void>;
}

const DAY_SECONDS = 24 * 60 * 60;

function queueArn(name: string): string {
  return `arn:aws:sqs:${LOCAL_SQS_REGION}:${LOCAL_SQS_ACCOUNT_ID}:${name}`;
}

type EngineQueue = ReturnType<typeof createRequestHandler>['service']['Queues'][number];

/** What setRecord needs to put a message back (the fields SendMessage passes it). */
interface JournaledMessage {
  readonly MessageBody: string;
  readonly MessageAttributes?: unknown;
  readonly MessageSystemAttributes?: unknown;
  readonly MessageGroupId?: string;
  readonly MessageDeduplicationId?: string;
  readonly DelaySeconds?: number;
}

type JournalEntry =
  | {
      readonly op: 'send';
      readonly queue: string;
      readonly id: string;
      readonly at: number;
      readonly message: JournaledMessage;
    }
  | { readonly op: 'delete'; readonly queue: string; readonly id: string }
  | { readonly op: 'purge'; readonly queue: string };

type SentEntry = Extract<JournalEntry, { op: 'send' }>;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function isJournalEntry(value: unknown): value is JournalEntry {
  if (!isObject(value) || typeof value.queue !== 'string') return false;
  switch (value.op) {
    case 'send':
      return (
        typeof value.id === 'string' &&
        typeof value.at === 'number' &&
        isObject(value.message) &&
        typeof value.message.MessageBody === 'string'
      );
    case 'delete':
      return typeof value.id === 'string';
    case 'purge':
      return true;
    default:
      return false;
  }
}

/** The message fields of a setRecord input (a SendMessage body, a batch entry, a dead-letter move). */
function journaledMessage(input: unknown): JournaledMessage {
  const source = isObject(input) ? input : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const delay = source.DelaySeconds === undefined ? Number.NaN : Number(source.DelaySeconds);
  return {
    MessageBody: text(source.MessageBody) ?? '',
    ...(source.MessageAttributes === undefined ? {} : { MessageAttributes: source.MessageAttributes }),
    ...(source.MessageSystemAttributes === undefined
      ? {}
      : { MessageSystemAttributes: source.MessageSystemAttributes }),
    ...(text(source.MessageGroupId) === undefined ? {} : { MessageGroupId: text(source.MessageGroupId) }),
    ...(text(source.MessageDeduplicationId) === undefined
      ? {}
      : { MessageDeduplicationId: text(source.MessageDeduplicationId) }),
    ...(Number.isNaN(delay) ? {} : { DelaySeconds: delay }),
  };
}

/** The stored record of what setRecord returned: `{ record: { MessageId, attributes, … }, … }`. */
function storedRecord(
  result: unknown,
): { MessageId: string; attributes: Record<string, unknown> } | undefined {
  if (!isObject(result) || !isObject(result.record)) return undefined;
  const { MessageId, attributes } = result.record;
  return typeof MessageId === 'string' && isObject(attributes) ? { MessageId, attributes } : undefined;
}

/**
 * The message id a receipt handle stands for, decoded the way the engine's own delete decodes it
 * (base64 of a UUID followed by JSON with MessageId and QueueName). Stateless, so it agrees with the
 * engine for any handle the engine accepts, including one issued before a restart.
 */
function messageIdOfReceiptHandle(receiptHandle: unknown, queueName: string): string | undefined {
  if (typeof receiptHandle !== 'string') return undefined;
  try {
    const text = Buffer.from(receiptHandle, 'base64').toString('utf8');
    const decoded: unknown = JSON.parse(text.slice(text.indexOf('{')));
    if (!isObject(decoded) || decoded.QueueName !== queueName) return undefined;
    return typeof decoded.MessageId === 'string' ? decoded.MessageId : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Folds a journal into the messages still in a queue, in the order they entered it. A line cut short by
 * a crash (the last one, without its newline) is ignored; any other unreadable line is an error.
 */
function replayJournal(text: string, source = 'journal'): SentEntry[] {
  const live = new Map<string, SentEntry>();
  const lines = text.split('\n');
  lines.pop(); // '' after the last newline, or a torn final write
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let entry: unknown;
    try {
      entry = JSON.parse(line);
    } catch {
      entry = undefined;
    }
    if (!isJournalEntry(entry))
      throw new Error(`${source}:${index + 1}: not a journal entry: ${line.slice(0, 200)}`);
    switch (entry.op) {
      case 'send':
        // Same id again: a move (to the dead-letter queue); it now sits at the end of that queue.
        live.delete(entry.id);
        live.set(entry.id, entry);
        break;
      case 'delete':
        if (live.get(entry.id)?.queue === entry.queue) live.delete(entry.id);
        break;
      case 'purge':
        for (const [id, sent] of live) if (sent.queue === entry.queue) live.delete(id);
        break;
    }
  });
  return [...live.values()];
}

function writeLinesDurably(path: string, entries: readonly JournalEntry[]): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    const text = entries.map((entry) => `${JSON.stringify(entry)}\n`).join('');
    if (text !== '') writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
  const directory = openSync(dirname(path), 'r');
  try {
    fsyncSync(directory);
  } finally {
    closeSync(directory);
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if (isObject(error) && error.code === 'ENOENT') return '';
    throw error;
  }
}

/**
 * Replays the journal under `directory` into the engine's queues, compacts it, and hooks the queues so
 * that from now on every message in and out is appended to it. Returns the function that closes it.
 */
function journalQueues(directory: string, engineQueues: readonly EngineQueue[]): () => void {
  mkdirSync(directory, { recursive: true });
  const path = join(directory, 'journal.ndjson');
  const byName = new Map(engineQueues.map((queue) => [queue.QueueName, queue]));
  /** Message id → where it is and when it was first sent, for every message in a journaled queue. */
  const live = new Map<string, { queue: string; at: number }>();

  const now = Date.now();
  const kept: SentEntry[] = [];
  for (const sent of replayJournal(readText(path), path)) {
    const queue = byName.get(sent.queue);
    if (!queue) continue; // a queue this stack no longer has
    const ageSeconds = (now - sent.at) / 1000;
    if (ageSeconds >= queue.MessageRetentionPeriod) continue;
    const delay = Math.max(0, Math.ceil((sent.message.DelaySeconds ?? queue.DelaySeconds) - ageSeconds));
    const record = storedRecord(queue.setRecord({ ...sent.message, DelaySeconds: delay }, sent.id));
    if (record) record.attributes.SentTimestamp = String(sent.at);
    live.set(sent.id, { queue: sent.queue, at: sent.at });
    kept.push(sent);
  }
  writeLinesDurably(path, kept);

  let fd: number | undefined = openSync(path, 'a');
  /** Durable on return: the engine answers the request that caused it only afterwards. */
  const append = (entry: JournalEntry) => {
    if (fd === undefined) return; // closed: this process no longer owns the dataDir
    writeSync(fd, `${JSON.stringify(entry)}\n`);
    fsyncSync(fd);
  };

  for (const queue of engineQueues) {
    const name = queue.QueueName;
    const engineSetRecord = queue.setRecord;
    queue.setRecord = (input: unknown, messageId?: string): unknown => {
      const result = engineSetRecord(input, messageId);
      const record = storedRecord(result);
      const id = record?.MessageId;
      const previous = id === undefined ? undefined : live.get(id);
      // Already here: a FIFO deduplication hit, nothing was added.
      if (id !== undefined && previous?.queue !== name) {
        // A move keeps the first send time: retention counts from the original enqueue, as on SQS.
        const at = previous?.at ?? (Number(record?.attributes.SentTimestamp) || Date.now());
        append({ op: 'send', queue: name, id, at, message: journaledMessage(input) });
        live.set(id, { queue: name, at });
      }
      return result;
    };
    const engineDelete = queue.delete.bind(queue);
    queue.delete = (receiptHandle: string): boolean => {
      const deleted = engineDelete(receiptHandle);
      const id = messageIdOfReceiptHandle(receiptHandle, name);
      if (id !== undefined && live.get(id)?.queue === name) {
        append({ op: 'delete', queue: name, id });
        live.delete(id);
      }
      return deleted;
    };
    const engineClearRecords = queue.clearRecords.bind(queue);
    queue.clearRecords = (): void => {
      engineClearRecords();
      append({ op: 'purge', queue: name });
      for (const [id, where] of live) if (where.queue === name) live.delete(id);
    };
  }

  return () => {
    if (fd === undefined) return;
    closeSync(fd);
    fd = undefined;
  };
}

export async function startSqs(options: SqsOptions = {}): Promise<LocalSqs> {
  const host = options.host ?? '127.0.0.1';
  const definitions = options.queues ?? queueDefinitions;
  type InitialQueue = NonNullable<ISqsServerOptions['queues']>[number];
  const initial = definitions.flatMap((queue): InitialQueue[] => [
    {
      QueueName: queue.deadLetter.id,
      Attributes: { MessageRetentionPeriod: queue.deadLetter.retentionDays * DAY_SECONDS },
    },
    {
      QueueName: queue.id,
      Attributes: {
        VisibilityTimeout: queue.visibilityTimeoutSeconds,
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: queueArn(queue.deadLetter.id),
          maxReceiveCount: queue.deadLetter.maxReceiveCount,
        }),
      },
    },
  ]);
  const { service, requestHandler } = createRequestHandler({
    port: options.port ?? 0,
    hostname: host,
    region: LOCAL_SQS_REGION,
    accountId: LOCAL_SQS_ACCOUNT_ID,
    emulateQueueCreationLifecycle: false,
    queues: initial,
  });
  const closeJournal =
    options.dataDir === undefined ? () => {} : journalQueues(join(options.dataDir, 'sqs'), service.Queues);
  const server: Server = createServer(requestHandler);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    closeJournal();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  // What createSqsServer does once listening: the engine builds queue URLs from it.
  service.PORT = port;
  const endpoint = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const queueUrls: Record<string, string> = {};
  for (const queue of initial)
    queueUrls[queue.QueueName] = `${endpoint}/${LOCAL_SQS_ACCOUNT_ID}/${queue.QueueName}`;
  return {
    endpoint,
    queueUrls,
    close: () =>
      new Promise<void>((resolve) => {
        closeJournal();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
