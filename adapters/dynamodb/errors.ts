/**
 * A conditional write that lost: the item was not in the state the condition asked for. Every adapter
 * maps it to "not applied" (false, or a domain conflict); any other error propagates.
 *
 * Matched by name, not `instanceof`: the class belongs to one copy of @aws-sdk/client-dynamodb, and an
 * error from another copy (or a test double) would slip through.
 */
export const isConditionalCheckFailed = (error: unknown): boolean =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';
