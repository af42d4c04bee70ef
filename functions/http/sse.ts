import { SSE_DONE_DATA } from '../../contract/sse';

/** Server-Sent Events framing. JSON.stringify never emits a raw newline, so one data line per event is safe. */
export function sseData(payload: unknown): string {
  return `data: ${typeof payload === 'string' ? payload : JSON.stringify(payload)}\n\n`;
}

export function sseEvent(event: string, payload: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
}

export const SSE_DONE = `data: ${SSE_DONE_DATA}\n\n`;
