/** JSON error answers the gateway itself gives (404, 413, 500, 502), in one shape. */
import type { ServerResponse } from 'node:http';

export function errorBody(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: string,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) {
    res.end();
    return;
  }
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(body)),
    ...extra,
  });
  res.end(body);
}
