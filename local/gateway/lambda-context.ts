/** The `context` argument of an invocation, as Lambda builds it (also for the background functions). */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { RouteDefinition } from '../../lib/resources';

const LOCAL_ACCOUNT_ID = '123456789012';

/** The function settings a Lambda context reflects. */
export type FunctionSettings = Pick<RouteDefinition, 'id' | 'memoryMb' | 'timeoutSeconds'>;

/**
 * A Lambda-like context for one invocation of `definition` (also for background functions the
 * stack invokes on timers). The deadline is `startedAt + timeoutSeconds`.
 */
export function createLambdaContext(
  definition: FunctionSettings,
  requestId: string = randomUUID(),
  startedAt: number = Date.now(),
): Context {
  const deadline = startedAt + definition.timeoutSeconds * 1000;
  const region = process.env.AWS_REGION ?? 'us-east-1';
  const day = new Date(startedAt).toISOString().slice(0, 10).replaceAll('-', '/');
  const unsupported = (name: string) => () => {
    throw new Error(`context.${name}() is not supported: return a value or throw`);
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: definition.id,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:${definition.id}`,
    memoryLimitInMB: String(definition.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${definition.id}`,
    logStreamName: `${day}/[$LATEST]${randomBytes(16).toString('hex')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported('done'),
    fail: unsupported('fail'),
    succeed: unsupported('succeed'),
  };
}
