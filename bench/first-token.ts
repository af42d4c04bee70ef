/**
 * `npm run bench:first-token`: time from sending a streamed request to its first content frame, with
 * BENCH_CONCURRENCY (100) streams in flight, closed loop, against three targets in the same run:
 *
 * 1. the simulated inference servers asked directly (the baseline);
 * 2. a pass-through HTTP proxy in front of them (bench/first-token/pass-through-proxy.ts): the floor of
 *    one local hop;
 * 3. POST /chat through the local stack (gateway → auth → admission → in_progress write beside the
 *    upstream request → SSE), with the same servers registered as its fleet (INFERENCE_SERVERS).
 *
 * The fleet runs in its own process with a slot for every stream on every server, so nothing queues;
 * the stack's, the fleet's and the proxy's CPU are read from /proc around each phase. Knobs:
 * BENCH_CONCURRENCY, BENCH_SAMPLES (recorded streams per target), LOCAL_FLEET_SERVERS (4),
 * LOCAL_FLEET_TTFT_MS (150), LOCAL_FLEET_TOKENS_PER_SECOND (50), LOCAL_FLEET_ANSWER_TOKENS (200); any
 * handler setting (e.g. STOP_POLL_MS) passes through to the stack.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT } from '../local/repo-root';
import { login } from '../test/support/local-stack';
import { closedLoop } from './first-token/closed-loop';
import { startBenchProcesses } from './first-token/processes';
import { cpuTable, goalLines, latencyTable, summarize, type TargetRun } from './first-token/report';
import { runStream, type StreamTarget } from './first-token/stream-client';

const env = process.env;
const CONCURRENCY = Number(env.BENCH_CONCURRENCY ?? 100);
const SAMPLES = Number(env.BENCH_SAMPLES ?? 1000);
const SERVERS = Number(env.LOCAL_FLEET_SERVERS ?? 4);
const TTFT_MS = Number(env.LOCAL_FLEET_TTFT_MS ?? 150);
const TOKENS_PER_SECOND = Number(env.LOCAL_FLEET_TOKENS_PER_SECOND ?? 50);
const ANSWER_TOKENS = Number(env.LOCAL_FLEET_ANSWER_TOKENS ?? 200);
// Every server could hold every stream: however the app routes them, no sequence waits for a slot.
const SLOTS = CONCURRENCY;
const STREAM_MS = TTFT_MS + (ANSWER_TOKENS * 1000) / TOKENS_PER_SECOND;
// BENCH_CPU_PROF=<dir>: the stack runs under `node --cpu-prof` and writes its profile there when it stops.
const CPU_PROF_DIR = env.BENCH_CPU_PROF;
// BENCH_TARGETS: which of direct,proxy,app to run (all by default; e.g. `app` alone while profiling).
const TARGETS = new Set((env.BENCH_TARGETS ?? 'direct,proxy,app').split(','));
// BENCH_DYNAMODB=in-process: dynalite inside the stack's process, as `npm start` runs it. By default it runs
// in a process of its own, as on AWS the table is not in the function's process; its CPU is shown apart.
const DYNAMODB_IN_PROCESS = env.BENCH_DYNAMODB === 'in-process';

const DIRECT = 'inference server directly';
const APP = 'POST /chat through the app';

const completionBody = (index: number) =>
  JSON.stringify({
    model: 'local-llm',
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: 1024,
    messages: [{ role: 'user', content: `question ${index}` }],
  });

function upstreamTarget(baseUrls: readonly string[]): StreamTarget {
  return {
    url: (index) => new URL('/v1/chat/completions', baseUrls[index % baseUrls.length]),
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: completionBody,
    isContent: (data) => {
      if (data === '[DONE]') return false;
      const chunk = JSON.parse(data) as { choices?: { delta?: { content?: string } }[] };
      return Boolean(chunk.choices?.[0]?.delta?.content);
    },
    endedCleanly: (tail) => tail.endsWith('data: [DONE]\n\n'),
  };
}

function appTarget(stackUrl: string, idToken: string): StreamTarget {
  return {
    url: () => new URL('/chat', stackUrl),
    headers: { authorization: `Bearer ${idToken}`, 'content-type': 'application/json' },
    body: (index) => JSON.stringify({ prompt: `question ${index}`, stream: true }),
    isContent: (data) => data.startsWith('{"content"'),
    endedCleanly: (tail) => tail.endsWith('data: [DONE]\n\n') && !tail.includes('event: error'),
  };
}

const dataDir = await mkdtemp(join(tmpdir(), 'bench-first-token-'));
const processes = await startBenchProcesses({
  dataDir,
  fleetEnv: {
    LOCAL_FLEET_SERVERS: String(SERVERS),
    LOCAL_FLEET_SLOTS: String(SLOTS),
    LOCAL_FLEET_TTFT_MS: String(TTFT_MS),
    LOCAL_FLEET_TOKENS_PER_SECOND: String(TOKENS_PER_SECOND),
    LOCAL_FLEET_ANSWER_TOKENS: String(ANSWER_TOKENS),
  },
  servers: SERVERS,
  capacity: SLOTS + 3,
  dynamoDbInProcess: DYNAMODB_IN_PROCESS,
  stackEnv: CPU_PROF_DIR ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${CPU_PROF_DIR}` } : {},
}).catch(async (error: unknown) => {
  await rm(dataDir, { recursive: true, force: true });
  throw error;
});
const { stack } = processes;
try {
  const token = (await login(stack.url, 'bob@example.com', 'LocalDemo-2026!')).idToken;
  const app = appTarget(stack.url, token);
  // The first prompt is refused until the heartbeat wrote a view: wait for one admitted stream.
  for (let attempt = 0; (await runStream(app, -1)).status !== 200; attempt++) {
    if (attempt > 60) throw new Error('the app admitted nothing for 30 s');
    await sleep(500);
  }
  const watched = processes.pids;
  const options = { concurrency: CONCURRENCY, samples: SAMPLES, staggerMs: STREAM_MS / CONCURRENCY };
  const runs: TargetRun[] = [];
  for (const [key, name, target] of [
    ['direct', DIRECT, upstreamTarget(processes.fleetUrls)],
    ['proxy', 'pass-through proxy', upstreamTarget([processes.proxyUrl])],
    ['app', APP, app],
  ] as const) {
    if (TARGETS.has(key)) runs.push({ name, loop: await closedLoop(target, options, watched) });
  }
  const summaries = runs.map(summarize);
  const direct = summaries.find((summary) => summary.name === DIRECT);
  const viaApp = summaries.find((summary) => summary.name === APP);
  const lines = [
    `first content frame, ${CONCURRENCY} concurrent streams (closed loop), ${SAMPLES} recorded per target;` +
      ` ${SERVERS} servers × ${SLOTS} slots, TTFT ${TTFT_MS} ms, ${ANSWER_TOKENS} tokens at ${TOKENS_PER_SECOND}/s;` +
      ` dynalite ${DYNAMODB_IN_PROCESS ? 'inside the stack' : 'in its own process'}`,
    '',
    ...latencyTable(summaries, direct),
    '',
    ...cpuTable(summaries, Object.keys(watched)),
    '',
    ...(direct && viaApp ? goalLines(direct, viaApp, 'stack') : []),
  ];
  console.log(lines.join('\n'));
  const resultsDir = join(REPO_ROOT, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(
    join(resultsDir, 'first-token.json'),
    `${JSON.stringify({ concurrency: CONCURRENCY, samples: SAMPLES, servers: SERVERS, summaries }, null, 2)}\n`,
  );
} finally {
  await processes.stop();
  await rm(dataDir, { recursive: true, force: true });
}
