/**
 * Stands in for `node:http` in the Lambda bundles (lib/constructs/function-bundling.ts aliases it here).
 * An ES module import of a built-in copies every export of it (the loader's syncExports), and on Node 22+
 * `node:http`'s exports include lazy getters (WebSocket, CloseEvent, MessageEvent) that load undici,
 * ~12 ms of a cold start spent on a client the functions never use. Loaded with `require`, only the
 * names read below are touched. Nothing else changes: these are the module's own values.
 */
import { createRequire } from 'node:module';

const cjsRequire = createRequire(import.meta.url);
const http = cjsRequire('node:http') as typeof import('node:http');

export default http;
export const { Agent, ClientRequest, IncomingMessage, OutgoingMessage, STATUS_CODES, METHODS, get, request } =
  http;
