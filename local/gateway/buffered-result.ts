/** BUFFERED invoke mode: the handler's return value mapped to one HTTP response, as a Function URL does. */
import type { Context, LambdaFunctionURLEvent } from 'aws-lambda';
import { type Invocation, isInvocable, type Outcome } from './invocation';
import { collectHeaders } from './result-headers';

export async function runBuffered(
  handler: unknown,
  event: LambdaFunctionURLEvent,
  context: Context,
  invocation: Invocation,
): Promise<Outcome> {
  if (!isInvocable(handler)) return { kind: 'error', error: new Error('handler is not a function') };
  let result: unknown;
  try {
    result = await handler(event, context);
  } catch (error) {
    return { kind: 'error', error };
  }
  if (invocation.closed) return { kind: 'ok' };
  try {
    const mapped = mapBufferedResult(result);
    invocation.sendWhole(mapped.statusCode, mapped.headers, mapped.body);
  } catch (error) {
    return { kind: 'error', error };
  }
  return { kind: 'ok' };
}

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string | string[]>;
  body: Buffer;
}

/** Function URL response mapping (payload format 2.0, including its inference for plain results). */
export function mapBufferedResult(result: unknown): HttpResult {
  if (
    typeof result === 'object' &&
    result !== null &&
    typeof Reflect.get(result, 'statusCode') === 'number'
  ) {
    const structured = result as Record<string, unknown>;
    const headers = collectHeaders(structured);
    if (!Object.keys(headers).some((name) => name === 'content-type'))
      headers['content-type'] = 'application/json';
    const rawBody = structured.body;
    const text = rawBody === undefined || rawBody === null ? '' : String(rawBody);
    const body = structured.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text);
    return { statusCode: Number(structured.statusCode), headers, body };
  }
  const text = result === undefined ? '' : typeof result === 'string' ? result : JSON.stringify(result);
  return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(text) };
}
