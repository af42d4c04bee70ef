/**
 * Chat-function containers and the life of one prompt in them. A pool like Lambda's: a prompt takes the
 * most recently used idle container, or a new one (a new FleetGate: cold, its own view cache and
 * staleness); a container serves one prompt at a time and is busy for the whole stream (Lambda bills it).
 *
 * One prompt, as use-cases/start-turn.ts runs it: admit(tier, 0) → pick() → send; a server that refuses (503) is
 * released and another one picked, up to selector.attempts servers before the first token; if they all
 * refuse, the prompt is refused with selector.overloaded(); when the stream ends, release().
 */

import type { Tier } from '../../contract/turn';
import { isDomainError } from '../../domain/errors';
import type { InferenceServer, ServerSelector } from '../../domain/ports';
import type { Admission } from '../../use-cases/fleet-gate';
import type { Sequence, SimServer } from './server-model';
import type { PhaseStats, ScenarioStats } from './stats';
import type { VirtualTime } from './virtual-time';

export interface Container {
  readonly gate: Admission;
}

export class ContainerPool {
  private readonly idle: Container[] = [];
  busy = 0;
  peakBusy = 0;
  created = 0;

  constructor(private readonly create: () => Container) {}

  acquire(): Container {
    this.busy++;
    if (this.busy > this.peakBusy) this.peakBusy = this.busy;
    const warm = this.idle.pop();
    if (warm) return warm;
    this.created++;
    return this.create();
  }

  release(container: Container): void {
    this.busy--;
    this.idle.push(container);
  }
}

export interface Prompt {
  readonly tier: Tier;
  readonly promptTokens: number;
  readonly answerTokens: number;
  readonly arrivedAt: number;
  readonly phase: PhaseStats;
}

export interface PromptContext {
  readonly time: VirtualTime;
  readonly pool: ContainerPool;
  readonly servers: ReadonlyMap<string, SimServer>;
  readonly stats: ScenarioStats;
  readonly epochMs: number;
  /** Overrides of the servers a prompt may try before its first token, by tier (default: the selector's). */
  readonly serverAttempts: Readonly<Partial<Record<Tier, number>>>;
}

/** A stream on a simulated server: the Sequence the server runs; `ended` runs when its last token is out. */
class Stream implements Sequence {
  readonly promptTokens: number;
  readonly answerTokens: number;
  ended: () => void = () => {};

  constructor(private readonly prompt: Prompt) {
    this.promptTokens = prompt.promptTokens;
    this.answerTokens = prompt.answerTokens;
  }

  onStart(firstTokenAt: number): void {
    const ttft = firstTokenAt - this.prompt.arrivedAt;
    this.prompt.phase.ttft.add(ttft);
    this.prompt.phase.ttftByTier[this.prompt.tier].add(ttft);
  }

  onDone(): void {
    this.ended();
  }
}

/**
 * Admission and routing are awaited; the stream's end is a callback (release the server, free the
 * container), so nothing async stays suspended for the seconds a stream lasts (far less memory churn).
 */
export async function servePrompt(prompt: Prompt, context: PromptContext): Promise<void> {
  const container = context.pool.acquire();
  let streaming = false;
  try {
    streaming = await run(container, prompt, context);
  } finally {
    if (!streaming) context.pool.release(container);
  }
}

/** True when a stream started (the container is released when it ends). */
async function run(container: Container, prompt: Prompt, context: PromptContext): Promise<boolean> {
  const { phase } = prompt;
  let selector: ServerSelector;
  let server: InferenceServer;
  try {
    selector = await container.gate.admit(prompt.tier, 0);
    server = await selector.pick();
  } catch (error) {
    return refuse(prompt, context, error);
  }
  const stream = new Stream(prompt);
  // As many servers as the selector allows (the product's own number, ServerSelector.attempts), unless the
  // simulation asks a what-if (SIM_PREMIUM_SERVER_ATTEMPTS / SIM_FREE_SERVER_ATTEMPTS).
  const attempts = context.serverAttempts[prompt.tier] ?? selector.attempts;
  const tried = new Set<string>();
  const offer = (target: InferenceServer) => {
    const sim = context.servers.get(target.id);
    if (!sim) return false;
    const overSafe = sim.loadNow(context.time.now()) >= 1;
    const accepted = sim.offer(stream);
    if (accepted && overSafe) phase.sentOverSafe.add(target.id);
    return accepted;
  };
  for (let attempt = 1; !offer(server); attempt++) {
    selector.release(server);
    tried.add(server.id);
    if (attempt >= attempts) return refuse(prompt, context, selector.overloaded());
    phase.failovers++;
    try {
      server = await selector.pick(tried);
    } catch (error) {
      return refuse(prompt, context, error);
    }
  }
  const chosen = server;
  stream.ended = () => {
    selector.release(chosen);
    context.pool.release(container);
  };
  const now = context.time.now();
  phase.admitted[prompt.tier]++;
  phase.admissionMs.add(now - prompt.arrivedAt);
  context.stats.countAdmission(Math.floor((now - context.epochMs) / 1000));
  return true;
}

function refuse(prompt: Prompt, context: PromptContext, error: unknown): false {
  const { phase } = prompt;
  phase.admissionMs.add(context.time.now() - prompt.arrivedAt);
  if (isDomainError(error) && error.code === 'overloaded') {
    const reason = String(error.details.reason ?? 'unknown');
    phase.refused[prompt.tier][reason] = (phase.refused[prompt.tier][reason] ?? 0) + 1;
    return false;
  }
  const name = error instanceof Error ? `${error.name}: ${error.message.slice(0, 80)}` : String(error);
  phase.errors[name] = (phase.errors[name] ?? 0) + 1;
  return false;
}
