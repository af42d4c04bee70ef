/**
 * The one error taxonomy: its codes and client-facing messages are the API's (contract/errors.ts).
 * Use cases throw these; functions/http/errors.ts maps each code to a status and a client-visible
 * message in one place. Anything else is an internal error.
 */
import type { ErrorCode } from '../contract/errors';

export class DomainError extends Error {
  readonly code: ErrorCode;
  /** Extra fields the client may see (e.g. retry_after_seconds, message_id). */
  readonly details: Readonly<Record<string, string | number | boolean>>;

  constructor(code: ErrorCode, message: string, details: Record<string, string | number | boolean> = {}) {
    super(message);
    this.name = 'DomainError';
    this.code = code;
    this.details = details;
  }
}

export const invalidRequest = (message: string) => new DomainError('invalid_request', message);

export const isDomainError = (error: unknown): error is DomainError => error instanceof DomainError;

/** A name for logs: the error code of a domain error, else the error's class name; never its message. */
export function errorName(error: unknown): string {
  if (isDomainError(error)) return error.code;
  if (error instanceof Error) return error.name;
  return typeof error;
}
