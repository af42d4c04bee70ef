/**
 * One policy's run: a fresh stack (fresh DATA_DIR) with the shared fleet settings, the users, a short
 * warm-up, then the arrival schedule replayed open-loop while the fleet and the CPU are sampled.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnLocalStack } from '../../test/support/local-stack';
import { type Arrival, PROMPTS } from './arrivals';
import { type PromptResult, sendPrompt } from './client';
import { type BenchConfig, type PolicyName, stackEnv } from './config';
import {
  type CpuSample,
  type FleetSample,
  sampleCpu,
  sampleFleet,
  serversFromOutput,
  waitForQuietMachine,
} from './sampler';
import { createUsers, tokenIsPremium } from './users';

export interface PromptRecord {
  /** Planned arrival (s from the start of the load). */
  readonly at: number;
  /** When it was actually sent (s). */
  readonly sentAt: number;
  readonly premium: boolean;
  readonly result: PromptResult;
  /** The server its answer started on (from the chat function's "first token" log line). */
  readonly server?: string;
}

export interface ModeChange {
  readonly t: number;
  readonly mode: string;
  readonly load: number | null;
  readonly freeAdmitRatio: number | null;
}

export interface ServerTotals {
  readonly id: string;
  readonly requestsTotal: number;
  readonly completed: number;
  readonly aborted: number;
  readonly rejected: number;
}

export interface PolicyRun {
  readonly policy: PolicyName;
  readonly env: Record<string, string>;
  readonly setupSeconds: number;
  /** Share of all cores busy just before the load (other work on the shared machine). */
  readonly machineBusyBefore: number;
  readonly loadSeconds: number;
  readonly records: PromptRecord[];
  readonly fleet: FleetSample[];
  readonly cpu: CpuSample[];
  readonly modes: ModeChange[];
  readonly serverIds: string[];
  /** Answers started during the load, by tier (the benchmark's) and server (the chat function's log). */
  readonly firstTokens: Record<string, Record<string, number>>;
  readonly serverTotals: ServerTotals[];
}

const log = (message: string) => process.stdout.write(`${message}\n`);

/**
 * From the stack's log lines: the heartbeat's mode changes, and the server each answer started on
 * ("first token", by message id). The tier is taken from the benchmark's own records, not from the log
 * line: locally one logger serves concurrent invocations, so its appended keys (tier, user) can belong to
 * another request; the message id and server are passed with the line itself.
 */
function parseLogs(
  output: string,
  wallStart: number,
): { modes: ModeChange[]; serverOf: Map<string, string> } {
  const modes: ModeChange[] = [];
  const seen = new Set<string>();
  const serverOf = new Map<string, string>();
  for (const line of output.split('\n')) {
    const isMode = line.includes('"message":"fleet mode changed"');
    const isFirstToken = !isMode && line.includes('"message":"first token"');
    if (!isMode && !isFirstToken) continue;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue; // A line cut by the pipe.
    }
    if (isFirstToken) {
      if (typeof entry.message_id === 'string' && typeof entry.server === 'string') {
        serverOf.set(entry.message_id, entry.server);
      }
      continue;
    }
    const { timestamp, to } = entry;
    if (typeof timestamp !== 'string' || typeof to !== 'string') continue;
    const key = `${timestamp}/${to}`;
    if (seen.has(key)) continue;
    seen.add(key);
    modes.push({
      t: (Date.parse(timestamp) - wallStart) / 1000,
      mode: to,
      load: typeof entry.load === 'number' ? entry.load : null,
      freeAdmitRatio: typeof entry.free_admit_ratio === 'number' ? entry.free_admit_ratio : null,
    });
  }
  return { modes, serverOf };
}

/** Answers started per tier and server. */
function firstTokensByTier(records: readonly PromptRecord[]): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const record of records) {
    const server = record.server;
    if (server === undefined) continue;
    const tier = record.premium ? 'premium' : 'free';
    const byServer = out[tier] ?? {};
    byServer[server] = (byServer[server] ?? 0) + 1;
    out[tier] = byServer;
  }
  return out;
}

async function serverTotals(servers: readonly { id: string; baseUrl: string }[]): Promise<ServerTotals[]> {
  return Promise.all(
    servers.map(async (server) => {
      try {
        const body = (await (await fetch(`${server.baseUrl}/admin/stats`)).json()) as Record<string, unknown>;
        const num = (key: string) => (typeof body[key] === 'number' ? body[key] : -1);
        return {
          id: server.id,
          requestsTotal: num('requestsTotal'),
          completed: num('completed'),
          aborted: num('aborted'),
          rejected: num('rejected'),
        };
      } catch {
        return { id: server.id, requestsTotal: -1, completed: -1, aborted: -1, rejected: -1 };
      }
    }),
  );
}

/** Waits until no server runs or queues anything (after the warm-up, and to let the heartbeat see it). */
async function waitIdle(servers: readonly { baseUrl: string }[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const loads = await Promise.all(
      servers.map(async (server) => {
        const body = (await (await fetch(`${server.baseUrl}/admin/stats`)).json()) as {
          running?: number;
          waiting?: number;
        };
        return (body.running ?? 0) + (body.waiting ?? 0);
      }),
    );
    if (loads.every((load) => load === 0)) return;
    await sleep(250);
  }
}

export async function runPolicy(
  config: BenchConfig,
  policy: PolicyName,
  arrivals: readonly Arrival[],
): Promise<PolicyRun> {
  const setupStart = performance.now();
  const dataDir = await mkdtemp(join(tmpdir(), `bench-overload-${policy}-`));
  const env = stackEnv(config, policy);
  const stack = await spawnLocalStack({ dataDir, env }).catch(async (error: unknown) => {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  });
  // If this process is interrupted or dies, the stack must not outlive it.
  const killStack = () => {
    if (stack.child.exitCode === null && stack.child.signalCode === null) stack.child.kill('SIGTERM');
  };
  const onSignal = (signal: NodeJS.Signals) => {
    killStack();
    process.stderr.write(`${signal}: stopped the ${policy} stack\n`);
    process.exit(130);
  };
  process.once('exit', killStack);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const servers = serversFromOutput(stack.output());
    log(`[${policy}] stack at ${stack.url} (${servers.length} servers); creating ${config.users} users…`);
    const users = await createUsers(stack.config, config.users, config.premiumShare);
    const premiumTokens = users.filter((user) => tokenIsPremium(user.idToken)).length;
    const premiumUsers = users.filter((user) => user.premium).length;
    if (premiumTokens !== premiumUsers) {
      throw new Error(`${premiumUsers} premium users but ${premiumTokens} tokens carry the premium group`);
    }
    const chatUrl = `${stack.url}/chat?stream=true`;
    // Warm-up (not measured): load the handler's lazy paths (JWKS, SDK clients) for both tiers.
    for (const user of [users.find((one) => one.premium), users.find((one) => !one.premium)]) {
      if (!user) continue;
      const warm = await sendPrompt(chatUrl, user.idToken, 'Warm-up: say hello.', 30_000);
      if (warm.outcome !== 'completed') {
        throw new Error(
          `warm-up prompt ${warm.outcome} (${warm.status} ${warm.code ?? ''})\n${stack.output()}`,
        );
      }
    }
    await waitIdle(servers, 15_000);
    // Also two heartbeats or more, so the fleet state says "idle" before the load starts.
    const machineBusyBefore = await waitForQuietMachine(0.6, 2_500, 90_000);
    const setupSeconds = (performance.now() - setupStart) / 1000;
    log(
      `[${policy}] ${premiumUsers} premium / ${users.length} users ready in ${setupSeconds.toFixed(1)} s; ` +
        `machine ${(machineBusyBefore * 100).toFixed(0)} % busy; load starts`,
    );

    const start = performance.now();
    const wallStart = Date.now() - (performance.now() - start);
    const clock = () => (performance.now() - start) / 1000;
    const loopDelay = monitorEventLoopDelay({ resolution: 20 });
    loopDelay.enable();
    const fleetSampler = sampleFleet(servers, config.sampleEveryMs, clock);
    const cpuSampler = sampleCpu(stack.child.pid, clock, loopDelay);

    const records: (PromptRecord | undefined)[] = new Array(arrivals.length);
    const inFlight = new Set<Promise<void>>();
    let nextReport = 10;
    for (let index = 0; index < arrivals.length; ) {
      const arrival = arrivals[index];
      if (!arrival) break;
      const now = clock();
      if (arrival.at > now) {
        await sleep(Math.max(1, (arrival.at - now) * 1000));
        continue;
      }
      const user = users[arrival.user];
      if (!user) throw new Error(`no user ${arrival.user}`);
      const sentAt = clock();
      const slot = index;
      const work = sendPrompt(
        chatUrl,
        user.idToken,
        PROMPTS[arrival.prompt] ?? 'Hello',
        config.clientTimeoutMs,
      ).then((result) => {
        records[slot] = { at: arrival.at, sentAt, premium: user.premium, result };
      });
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
      index++;
      if (now >= nextReport) {
        log(
          `[${policy}] t=${now.toFixed(0)} s  sent ${index}/${arrivals.length}  in flight ${inFlight.size}`,
        );
        nextReport += 10;
      }
    }
    const loadSeconds = clock();
    log(`[${policy}] all ${arrivals.length} prompts sent; waiting for ${inFlight.size} in flight…`);
    await Promise.all(inFlight);
    const fleet = fleetSampler.stop();
    const cpu = cpuSampler.stop();
    loopDelay.disable();
    const totals = await serverTotals(servers);
    // Let the last log lines reach the pipe.
    await sleep(300);
    const parsed = parseLogs(stack.output(), wallStart);
    const done = records
      .filter((record): record is PromptRecord => record !== undefined)
      .map((record) => {
        const server = record.result.messageId && parsed.serverOf.get(record.result.messageId);
        return server ? { ...record, server } : record;
      });
    return {
      policy,
      env,
      setupSeconds,
      machineBusyBefore,
      loadSeconds,
      records: done,
      fleet,
      cpu,
      modes: parsed.modes,
      serverIds: servers.map((server) => server.id),
      firstTokens: firstTokensByTier(done),
      serverTotals: totals,
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', killStack);
    const code = await stack.stop();
    if (code !== 0) log(`[${policy}] the stack exited with ${code}`);
    await rm(dataDir, { recursive: true, force: true });
  }
}
