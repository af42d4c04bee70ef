/**
 * A Function URL called directly — not through CloudFront, which adds the origin secret — is refused by
 * the same check that runs on AWS (functions/http/origin-guard.ts), before its token or body is read.
 * In process: the stack's own gateway plays CloudFront (it adds the header); a second gateway over the
 * same handler modules, without it, plays the bare Function URLs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ORIGIN_REFUSED_MESSAGE } from '../../functions/http/origin-guard';
import { originSecret, routes } from '../../lib/resources';
import { type Gateway, startGateway } from '../../local/gateway/server';
import { loadHandler } from '../../local/handlers';
import { type LocalStack, startLocalStack } from '../../local/stack';

const PASSWORD = 'LocalDemo-2026!';
let dataDir: string;
let stack: LocalStack;
let direct: Gateway;
let token: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'origin-guard-'));
  stack = await startLocalStack({ dataDir, port: 0, backgroundTasks: [], log: () => {} });
  direct = await startGateway({
    routes: await Promise.all(
      routes.map(async (definition) => ({ definition, handler: await loadHandler(definition.entry) })),
    ),
    log: () => {},
  });
  await stack.cognito.createUser('origin@example.com', PASSWORD);
  token = (await stack.cognito.login('origin@example.com', PASSWORD)).idToken;
}, 60_000);

afterAll(async () => {
  await direct?.close();
  await stack?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

const call = (base: string, route: (typeof routes)[number], headers: Record<string, string> = {}) =>
  fetch(`${base}${route.path}`, {
    method: route.method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
    ...(route.method === 'POST' ? { body: '{}' } : {}),
  });

describe('the origin check', () => {
  it.each(routes.map((route) => [route.id, route] as const))(
    '%s refuses a direct call with a JSON 403, with or without a guessed header',
    async (_id, route) => {
      const attempts: Record<string, string>[] = [
        {},
        { [originSecret.header]: 'guess' },
        { [originSecret.header]: '' },
      ];
      for (const headers of attempts) {
        const response = await call(direct.url, route, headers);
        expect(response.status).toBe(403);
        expect(await response.json()).toEqual({
          error: { code: 'forbidden', message: ORIGIN_REFUSED_MESSAGE },
        });
      }
    },
  );

  it('lets the same requests through the CloudFront stand-in, even if the client sends a header of its own', async () => {
    const getHistory = routes.find((route) => route.id === 'GetHistory');
    if (!getHistory) throw new Error('no GetHistory route');
    const response = await call(stack.url, getHistory, { [originSecret.header]: 'guess' });
    expect(response.status).toBe(200);
    // Past the origin check, the token check still runs.
    const anonymous = await fetch(`${stack.url}${getHistory.path}`);
    expect(anonymous.status).toBe(401);
  });

  it('refuses before reading the body: a malformed body gets 403, not 400', async () => {
    const postStore = routes.find((route) => route.id === 'PostStore');
    if (!postStore) throw new Error('no PostStore route');
    const response = await fetch(`${direct.url}${postStore.path}`, { method: 'POST', body: '{not json' });
    expect(response.status).toBe(403);
  });
});
