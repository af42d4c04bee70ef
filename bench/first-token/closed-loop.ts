/**
 * A closed loop: `concurrency` workers, each sending its next stream when its previous one ended, until
 * `samples` streams were recorded. Worker i starts i × `staggerMs` after the first, so arrivals are
 * spread over one stream's length instead of coming in waves of `concurrency` at once. Each worker's
 * first stream warms up (connections, JIT, caches) and its latency is not recorded; the CPU of the
 * watched processes is read around the whole loop and divided by every stream and token in it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { readCpu } from './cpu';
import { runStream, type StreamResult, type StreamTarget } from './stream-client';

export interface LoopResult {
  /** The recorded streams (warm-up ones excluded). */
  readonly results: StreamResult[];
  /** Every stream, warm-up included, and the tokens they reported: what the CPU was spent on. */
  readonly streams: number;
  readonly tokens: number;
  readonly wallMs: number;
  /** CPU (µs) each watched process spent during the loop, by name. */
  readonly cpuMicros: Readonly<Record<string, number>>;
}

export async function closedLoop(
  target: StreamTarget,
  options: { readonly concurrency: number; readonly samples: number; readonly staggerMs: number },
  watched: Readonly<Record<string, number>>,
): Promise<LoopResult> {
  const results: StreamResult[] = [];
  let sent = 0;
  let inFlight = 0;
  let streams = 0;
  let tokens = 0;
  const run = async () => {
    const result = await runStream(target, sent++);
    streams++;
    tokens += result.tokens;
    return result;
  };
  const worker = async (index: number) => {
    await sleep(index * options.staggerMs);
    await run();
    while (results.length + inFlight < options.samples) {
      inFlight++;
      const result = await run();
      inFlight--;
      results.push(result);
    }
  };
  const startCpu = await readCpu(watched);
  const startedAt = performance.now();
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => worker(index)));
  const wallMs = performance.now() - startedAt;
  const endCpu = await readCpu(watched);
  const cpuMicros = Object.fromEntries(
    Object.keys(watched).map((name) => [name, (endCpu[name] ?? 0) - (startCpu[name] ?? 0)]),
  );
  return { results, streams, tokens, wallMs, cpuMicros };
}
