/**
 * The PostChat bundle as `cdk synth` builds it (lib/constructs/function-bundling.ts): its size, which
 * is what its cold start compiles (bench/cold-start.ts measures the time), and that it still loads
 * without loading what it never uses (undici, through an ES module import of node:http).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionEsbuildOptions } from '../../lib/constructs/function-bundling';
import { routes } from '../../lib/resources';

const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
const MAX_POST_CHAT_BYTES = 400 * 1024;

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'function-bundling-'));
  bundle = join(dir, 'PostChat', 'index.mjs');
  const route = routes.find((candidate) => candidate.id === 'PostChat');
  if (!route) throw new Error('No PostChat route');
  await build(functionEsbuildOptions(ROOT, route.entry, bundle));
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the PostChat bundle', () => {
  it('stays within 400 KB minified', async () => {
    expect((await stat(bundle)).size).toBeLessThanOrEqual(MAX_POST_CHAT_BYTES);
  });

  it('loads in a fresh node, with the awslambda global, exports a streaming handler, and leaves undici unloaded', async () => {
    const shim = pathToFileURL(join(ROOT, 'local/gateway/awslambda-shim.ts')).href;
    const script = [
      `const { installAwsLambdaShim, isStreamingHandler } = await import(${JSON.stringify(shim)});`,
      'installAwsLambdaShim();',
      `const { handler } = await import(${JSON.stringify(pathToFileURL(bundle).href)});`,
      // Undici loaded at init means an ES module import of node:http (its lazy WebSocket getters).
      "const undici = process.moduleLoadList.some((name) => name.includes('undici'));",
      "process.stdout.write([isStreamingHandler(handler), undici].join(' '));",
      'process.exit(0);',
    ].join('\n');
    const env = {
      PATH: process.env.PATH ?? '',
      AWS_REGION: 'us-east-1',
      CHAT_TABLE_NAME: 'ChatTable',
      FLEET_TABLE_NAME: 'FleetTable',
      TURN_WRITES_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/000000000000/TurnWritesQueue',
      STOP_INBOX_PREFIX: 'chat-stop-',
      USER_POOL_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test',
      USER_POOL_CLIENT_ID: 'test',
      ORIGIN_SECRET_ID: 'origin-secret',
    };
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      { env, cwd: ROOT },
    );
    expect(stdout).toBe('true false');
  });
});
