/**
 * Turns and outcomes for the chat table's tests, on a clock that moves 1 s per call, so ids (ULIDs) and
 * times are ordered as the test created them.
 */
import { randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { DomainError } from '../../../domain/errors';
import { ulid } from '../../../domain/ids';
import type { NewTurn, StoredTurnInput } from '../../../domain/ports';
import type { TurnOutcome } from '../../../domain/turn';

let clock = Date.UTC(2025, 0, 1);
export const nextTime = () => {
  clock += 1000;
  return clock;
};

export function newTurn(userId: string, conversationId = 'conv-a'): NewTurn {
  const at = nextTime();
  return {
    userId,
    id: ulid(at),
    conversationId,
    userMessage: `question at ${at}`,
    createdAt: new Date(at).toISOString(),
    server: 'gpu-1',
  };
}

export function outcome(overrides: Partial<TurnOutcome> = {}): TurnOutcome {
  return {
    status: 'completed',
    assistantResponse: 'the answer',
    finishReason: 'stop',
    usage: { promptTokens: 12, completionTokens: 34 },
    updatedAt: new Date(nextTime()).toISOString(),
    ...overrides,
  };
}

export function storeInput(userId: string, overrides: Partial<StoredTurnInput> = {}): StoredTurnInput {
  const at = nextTime();
  return {
    userId,
    clientId: `client-${randomUUID()}`,
    turnId: ulid(at),
    conversationId: 'conv-s',
    userMessage: 'stored question',
    assistantResponse: 'stored answer',
    createdAt: new Date(at).toISOString(),
    ...overrides,
  };
}

export async function expectDomainError(
  promise: Promise<unknown>,
  code: DomainError['code'],
): Promise<DomainError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DomainError);
  const domainError = error as DomainError;
  expect(domainError.code).toBe(code);
  return domainError;
}
