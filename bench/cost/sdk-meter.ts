/**
 * A counting decorator for every AWS SDK v3 client in this process: a middleware in each client's
 * middlewareStack, added on the client's first send (before the SDK caches its handlers), so the
 * clients the app builds inside its own modules (module-scope DynamoDB client, the fleet-view client,
 * the SQS client) are counted without any change to them. Installed only by the cost model.
 *
 * It sits in the finalizeRequest step below the retry middleware, so it sees each attempt, as the
 * service does, and reads the operation from the `x-amz-target` header of the serialized request, as
 * a proxy would. DynamoDB calls are also handed to an inspector that reads the items they touched
 * (dynamodb-inspector.ts) so that units and sizes follow DynamoDB's rules, not the emulator's.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDbEffect } from './dynamodb-effects';

export interface MeteredCall {
  /** What the model was measuring when the call started (a turn, the heartbeat, setup…). */
  readonly phase: string;
  readonly service: 'dynamodb' | 'sqs' | 'other';
  /** The operation, e.g. GetItem, SendMessage. */
  readonly operation: string;
  /** The table, or the queue URL. */
  readonly resource?: string;
  readonly index?: string;
  readonly requestBytes: number;
  /** The error the attempt ended with (its name), if any. */
  error?: string;
  /** What a DynamoDB call read and wrote, filled in once the inspector has looked. */
  effects?: readonly DynamoDbEffect[];
}

/** Reads the items a DynamoDB call touches: `before` is awaited before the call, `after` is not. */
export interface DynamoDbInspector {
  begin(
    operation: string,
    body: Readonly<Record<string, unknown>>,
  ): Promise<{ after(outcome: 'applied' | 'condition_failed' | 'failed'): Promise<DynamoDbEffect[]> }>;
}

interface Request {
  readonly headers: Record<string, string | undefined>;
  readonly body?: unknown;
}

type Handler = (args: { request?: unknown }) => Promise<{ output?: unknown }>;

interface MiddlewareStack {
  add(
    middleware: (next: Handler) => Handler,
    options: { step: 'finalizeRequest'; priority: 'low'; name: string },
  ): void;
}

interface SdkClient {
  readonly middlewareStack: MiddlewareStack;
}

type Send = (this: SdkClient, ...args: unknown[]) => unknown;

const MIDDLEWARE_NAME = 'costModelMeter';

function header(request: Request, name: string): string | undefined {
  for (const [key, value] of Object.entries(request.headers)) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  // TextDecoder reads the bytes as they are (the SDK's JSON body adapter warns when treated as a string).
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  return '';
}

function serviceOf(target: string): MeteredCall['service'] {
  if (target.startsWith('DynamoDB_')) return 'dynamodb';
  if (target.startsWith('AmazonSQS.')) return 'sqs';
  return 'other';
}

export class SdkMeter {
  readonly calls: MeteredCall[] = [];
  private phase = 'setup';
  private readonly excluded = new WeakSet<object>();
  private readonly instrumented = new WeakSet<object>();
  private readonly pending = new Set<Promise<unknown>>();
  private restore: (() => void) | undefined;

  /** `inspects(phase)`: whether calls of that phase are inspected (setup need not be). */
  constructor(
    private readonly inspector?: DynamoDbInspector,
    private readonly inspects: (phase: string) => boolean = () => true,
  ) {}

  /** Decorates every SDK client of this process from its next first send on. */
  install(): void {
    if (this.restore) throw new Error('The SDK meter is already installed');
    const base: unknown = Object.getPrototypeOf(DynamoDBClient);
    if (base !== Object.getPrototypeOf(SQSClient)) {
      throw new Error('DynamoDB and SQS clients do not share one SDK Client class: cannot meter both');
    }
    const prototype = (base as { prototype: { send: Send } }).prototype;
    const original = prototype.send;
    const meter = this;
    prototype.send = function (this: SdkClient, ...args: unknown[]) {
      meter.instrument(this);
      return original.apply(this, args);
    };
    this.restore = () => {
      prototype.send = original;
    };
  }

  uninstall(): void {
    this.restore?.();
    this.restore = undefined;
  }

  /** Calls of this client are not counted (the inspector's own reads). */
  exclude(client: { readonly middlewareStack: object }): void {
    this.excluded.add(client.middlewareStack);
  }

  setPhase(phase: string): void {
    this.phase = phase;
  }

  currentPhase(): string {
    return this.phase;
  }

  /** Waits until every call started so far has been inspected. */
  async settle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  callsIn(phase: string): MeteredCall[] {
    return this.calls.filter((call) => call.phase === phase);
  }

  private instrument(client: SdkClient): void {
    const stack = client.middlewareStack;
    if (this.excluded.has(stack) || this.instrumented.has(stack)) return;
    this.instrumented.add(stack);
    stack.add((next) => (args) => this.meter(next, args), {
      step: 'finalizeRequest',
      priority: 'low',
      name: MIDDLEWARE_NAME,
    });
  }

  private async meter(next: Handler, args: { request?: unknown }): Promise<{ output?: unknown }> {
    const request = args.request as Request | undefined;
    const target = request ? header(request, 'x-amz-target') : undefined;
    if (!request || target === undefined) return next(args);
    const text = bodyText(request.body);
    const body = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
    const service = serviceOf(target);
    // Batch calls name their tables in RequestItems (this app's batches touch one table each).
    const batchTables =
      typeof body.RequestItems === 'object' && body.RequestItems ? Object.keys(body.RequestItems) : [];
    const resource =
      typeof body.TableName === 'string' ? body.TableName : (body.QueueUrl ?? batchTables.join('+'));
    const call: MeteredCall = {
      phase: this.phase,
      service,
      operation: target.slice(target.indexOf('.') + 1),
      ...(typeof resource === 'string' ? { resource } : {}),
      ...(typeof body.IndexName === 'string' ? { index: body.IndexName } : {}),
      requestBytes: Buffer.byteLength(text),
    };
    this.calls.push(call);
    const inspection =
      service === 'dynamodb' && this.inspector && this.inspects(call.phase)
        ? await this.inspector.begin(call.operation, body)
        : undefined;
    const inspect = (outcome: 'applied' | 'condition_failed' | 'failed') => {
      if (!inspection) return;
      const done = inspection.after(outcome).then((effects) => {
        call.effects = effects;
      });
      this.pending.add(done);
      void done.finally(() => this.pending.delete(done));
    };
    try {
      const result = await next(args);
      inspect('applied');
      return result;
    } catch (error) {
      call.error = error instanceof Error ? error.name : 'unknown';
      inspect(call.error === 'ConditionalCheckFailedException' ? 'condition_failed' : 'failed');
      throw error;
    }
  }
}
