/**
 * `npm run bench:first-token`: time from sending POST /chat (stream) to the first content event, over
 * HTTP through the whole local stack (gateway → auth → admission → in_progress write beside the
 * upstream request → SSE), against the baseline measured in the same run: the same simulated server
 * asked directly (request → first content chunk). The difference is what the application layer adds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchSse } from '../test/support/http';
import { login, spawnLocalStack } from '../test/support/local-stack';

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 60);
const TTFT_MS = Number(process.env.LOCAL_FLEET_TTFT_MS ?? 150);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

async function firstContentMs(
  url: string,
  init: RequestInit,
  isContent: (data: string) => boolean,
): Promise<number> {
  const started = performance.now();
  let first = Number.NaN;
  await fetchSse(url, init, {
    onEvent: (event) => {
      if (event.event === undefined && isContent(event.data)) {
        first = event.receivedAt - started;
        return true;
      }
      return false;
    },
  });
  return first;
}

const dataDir = await mkdtemp(join(tmpdir(), 'bench-first-token-'));
const stack = await spawnLocalStack({
  dataDir,
  env: { LOCAL_FLEET_SERVERS: '1', LOCAL_FLEET_TTFT_MS: String(TTFT_MS), LOCAL_FLEET_ANSWER_TOKENS: '20' },
});
try {
  const token = (await login(stack.url, 'bob@example.com', 'LocalDemo-2026!')).idToken;
  const server = /"servers":"[^=]+=(http:\/\/[^|",]+)/.exec(stack.output())?.[1];
  if (!server) throw new Error('the stack did not log its inference server');

  const direct: number[] = [];
  const viaApp: number[] = [];
  // Alternate the two so both see the same machine state; the first pair warms up connections and JIT.
  for (let i = 0; i <= SAMPLES; i++) {
    const d = await firstContentMs(
      `${server}/v1/chat/completions`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'local-llm',
          stream: true,
          messages: [{ role: 'user', content: `q ${i}` }],
        }),
      },
      (data) =>
        data !== '[DONE]' &&
        Boolean(
          (JSON.parse(data) as { choices?: { delta?: { content?: string } }[] }).choices?.[0]?.delta?.content,
        ),
    );
    const a = await firstContentMs(
      `${stack.url}/chat`,
      {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `q ${i}`, stream: true }),
      },
      (data) => data !== '[DONE]',
    );
    if (i > 0) {
      direct.push(d);
      viaApp.push(a);
    }
  }
  const row = (name: string, values: number[]) =>
    `${name.padEnd(34)} p50 ${percentile(values, 50).toFixed(1).padStart(7)} ms   p99 ${percentile(values, 99).toFixed(1).padStart(7)} ms`;
  const added = viaApp.map((value, i) => value - (direct[i] ?? 0));
  console.log(`first content event, ${SAMPLES} sequential streams, server time to first token ${TTFT_MS} ms`);
  console.log(row('inference server directly (baseline)', direct));
  console.log(row('POST /chat through the app', viaApp));
  console.log(row('added by the application layer', added));
  console.log(
    `ratio app / baseline: p50 ${(percentile(viaApp, 50) / percentile(direct, 50)).toFixed(2)}x, p99 ${(percentile(viaApp, 99) / percentile(direct, 99)).toFixed(2)}x`,
  );
} finally {
  await stack.stop();
  await rm(dataDir, { recursive: true, force: true });
}
