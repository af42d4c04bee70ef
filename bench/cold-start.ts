/**
 * `npm run bench:cold-start`: the PostChat and GetHistory bundles built as `cdk synth` builds them
 * (lib/constructs/function-bundling.ts), their minified sizes, and their module init: the time a fresh
 * `node` process (this Node, with the functions' NODE_OPTIONS) takes to import the bundle, which is what
 * Lambda's Init phase spends on the handler module. The `awslambda` global is installed first, as the
 * runtime does. BENCH_RUNS runs of each (default 15, after one warm-up that fills the page cache),
 * interleaved so all see the same machine; median, p90, and each streaming function's ratios to GetHistory
 * (PostChat, and PostChatCompletions: the same pipeline behind the OpenAI protocol).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { FUNCTION_NODE_OPTIONS, functionEsbuildOptions } from '../lib/constructs/function-bundling';
import { queues, routes, stopInboxes, tables } from '../lib/resources';

const RUNS = Number(process.env.BENCH_RUNS ?? 15);
/** GetHistory first: the baseline each streaming function is compared with. */
const FUNCTIONS = ['GetHistory', 'PostChat', 'PostChatCompletions'] as const;
const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const run = promisify(execFile);

interface Bundle {
  readonly id: (typeof FUNCTIONS)[number];
  readonly file: string;
  readonly bytes: number;
  readonly mapBytes: number;
  readonly initMs: number[];
  readonly rssMb: number[];
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** What the handlers read at cold start; placeholders, since nothing is called at import. */
function functionEnvironment(): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    USER_POOL_ISSUER: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_bench',
    USER_POOL_CLIENT_ID: 'bench',
    ORIGIN_SECRET_ID: 'origin-secret',
    NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
    [stopInboxes.envVar]: 'bench-stop-',
  };
  for (const table of tables) env[table.envVar] = table.id;
  for (const queue of queues)
    env[queue.envVar] = `https://sqs.us-east-1.amazonaws.com/000000000000/${queue.id}`;
  return env;
}

/**
 * One fresh process: install the shim, then time the import of the bundle alone; also the process's
 * resident memory once initialised (what a 128 MB function has to hold before its first request).
 */
async function initRun(
  shim: string,
  bundle: string,
  env: Record<string, string>,
): Promise<{ ms: number; rssMb: number }> {
  const script = [
    `await import(${JSON.stringify(pathToFileURL(shim).href)});`,
    'const started = performance.now();',
    `await import(${JSON.stringify(pathToFileURL(bundle).href)});`,
    'const ms = performance.now() - started;',
    'process.stdout.write(JSON.stringify({ ms, rssMb: process.memoryUsage().rss / 2 ** 20 }));',
    // The handler module may hold sockets or timers open; the measurement is done.
    'process.exit(0);',
  ].join('\n');
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { env });
  const parsed = JSON.parse(stdout) as { ms?: unknown; rssMb?: unknown };
  if (typeof parsed.ms !== 'number' || typeof parsed.rssMb !== 'number') {
    throw new Error(`Unexpected output from the init run: ${stdout}`);
  }
  return { ms: parsed.ms, rssMb: parsed.rssMb };
}

const kb = (bytes: number) => `${(bytes / 1024).toFixed(0)} KB`;
const ms = (value: number) => `${value.toFixed(0)} ms`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;

const dir = await mkdtemp(join(tmpdir(), 'bench-cold-start-'));
try {
  const shim = join(dir, 'shim.mjs');
  await build({
    stdin: {
      contents:
        "import { installAwsLambdaShim } from './local/gateway/awslambda-shim'; installAwsLambdaShim();",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: shim,
    logLevel: 'warning',
  });
  const bundles: Bundle[] = [];
  for (const id of FUNCTIONS) {
    const route = routes.find((candidate) => candidate.id === id);
    if (!route) throw new Error(`No route ${id} in lib/resources.ts`);
    const file = join(dir, id, 'index.mjs');
    await build(functionEsbuildOptions(ROOT, route.entry, file));
    bundles.push({
      id,
      file,
      bytes: (await stat(file)).size,
      mapBytes: (await stat(`${file}.map`)).size,
      initMs: [],
      rssMb: [],
    });
  }
  const env = functionEnvironment();
  for (const bundle of bundles) await initRun(shim, bundle.file, env);
  for (let i = 0; i < RUNS; i++) {
    for (const bundle of bundles) {
      const measured = await initRun(shim, bundle.file, env);
      bundle.initMs.push(measured.ms);
      bundle.rssMb.push(measured.rssMb);
    }
  }

  console.log(
    `module init over ${RUNS} fresh processes each, Node ${process.version}, ${FUNCTION_NODE_OPTIONS}`,
  );
  console.log('function             minified   source map   init p50   init p90   RSS after init');
  for (const bundle of bundles) {
    console.log(
      [
        bundle.id.padEnd(20),
        kb(bundle.bytes).padStart(8),
        kb(bundle.mapBytes).padStart(12),
        ms(percentile(bundle.initMs, 50)).padStart(10),
        ms(percentile(bundle.initMs, 90)).padStart(10),
        `${percentile(bundle.rssMb, 50).toFixed(0)} MB`.padStart(16),
      ].join(' '),
    );
  }
  const [history, ...streaming] = bundles;
  for (const chat of history ? streaming : []) {
    console.log(
      `${chat.id} / GetHistory: size ${ratio(chat.bytes, history?.bytes ?? 0)}, init p50 ${ratio(
        percentile(chat.initMs, 50),
        percentile(history?.initMs ?? [], 50),
      )}, p90 ${ratio(percentile(chat.initMs, 90), percentile(history?.initMs ?? [], 90))}`,
    );
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
