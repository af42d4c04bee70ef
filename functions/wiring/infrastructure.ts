/**
 * The composition root's base (functions/wiring/): what the adapters run on. The wiring modules beside
 * it each build one function's object graph from (settings, infrastructure), so a function's bundle
 * holds only the adapters it uses (the chat function's model client and fleet gate stay out of the
 * others). Entries pass the process's settings (functions/settings.ts) and `awsInfrastructure()`;
 * tests pass `readSettings({...})` and emulator clients.
 */
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClient } from '../../adapters/dynamodb/clients';
import { type Clock, type Log, systemClock } from '../../domain/ports';
import { requestLog } from '../commons/logger';

export interface Infrastructure {
  /** Chat, registry and fleet-view writes, with the default time-outs (adapters/dynamodb/clients.ts). */
  readonly documentClient: DynamoDBDocumentClient;
  readonly clock: Clock;
  readonly log: Log;
}

/** A Lambda container's: the module-scope client (endpoint, region, credentials from the SDK's chain). */
export function awsInfrastructure(): Infrastructure {
  return { documentClient, clock: systemClock, log: requestLog };
}

/** Built at most once, on first call. */
export function once<T>(build: () => T): () => T {
  let built: { readonly value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
