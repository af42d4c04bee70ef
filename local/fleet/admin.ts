/**
 * Steering a simulated server from another process (tests, benchmarks, `npm run fleet`):
 * GET /admin/stats, GET|POST /admin/options, POST /admin/stall.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimulatedServerHandle } from './handle';
import { allowMethod, errorBody, readBody, sendJson } from './openai-http';
import type { TunableOptions } from './options';

export const ADMIN_PATHS: ReadonlySet<string> = new Set(['/admin/stats', '/admin/options', '/admin/stall']);

type AdminControls = Pick<SimulatedServerHandle, 'stats' | 'options' | 'setOptions' | 'stall'>;

export async function handleAdmin(
  path: string,
  req: IncomingMessage,
  res: ServerResponse,
  server: AdminControls,
): Promise<void> {
  switch (path) {
    case '/admin/stats':
      if (allowMethod(req, res, path, 'GET')) sendJson(res, 200, server.stats());
      return;
    case '/admin/options':
      if (!allowMethod(req, res, path, 'GET,POST')) return;
      if ((req.method ?? 'GET') === 'GET') {
        sendJson(res, 200, server.options());
        return;
      }
      await adminJson(req, res, (body) => server.setOptions(body as Partial<TunableOptions>));
      return;
    case '/admin/stall':
      if (!allowMethod(req, res, path, 'POST')) return;
      await adminJson(req, res, (body) => {
        const ms = (body as { ms?: unknown } | null)?.ms;
        if (typeof ms !== 'boolean' && typeof ms !== 'number') {
          throw new Error(
            'body must be {"ms": <milliseconds>}, {"ms": true} (until resumed) or {"ms": false}',
          );
        }
        server.stall(ms === true ? Number.POSITIVE_INFINITY : ms);
        return { stalled: server.stats().stalled };
      });
      return;
    default:
      throw new Error(`not an admin path: ${path}`);
  }
}

/** Applies a JSON body; an invalid body or value is a 400 naming what is wrong. */
async function adminJson(req: IncomingMessage, res: ServerResponse, apply: (body: unknown) => unknown) {
  const raw = await readBody(req);
  try {
    const body: unknown = raw ? JSON.parse(raw) : {};
    sendJson(res, 200, apply(body));
  } catch (error) {
    sendJson(res, 400, errorBody((error as Error).message, 'invalid_request_error', null, 400));
  }
}
