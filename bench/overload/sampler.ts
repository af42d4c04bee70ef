/**
 * What the benchmark watches besides its own prompts: every simulated server's `/admin/stats` (running,
 * waiting, slots) every ~250 ms, and the CPU of the machine, of the stack's process and of this one every
 * second — to tell a fleet that is full from a machine that cannot keep up.
 */
import { readFile } from 'node:fs/promises';

export interface ServerRef {
  readonly id: string;
  readonly baseUrl: string;
}

export interface FleetSample {
  /** Seconds from the start of the load. */
  readonly t: number;
  /** Per server, in `servers` order; -1 when the scrape failed. */
  readonly running: readonly number[];
  readonly waiting: readonly number[];
  readonly slots: readonly number[];
}

export interface CpuSample {
  readonly t: number;
  /** Share of all cores busy on the machine, 0..1. */
  readonly machine: number;
  /** The stack process (gateway, handlers, fleet, emulators), in cores. */
  readonly stack: number;
  /** This load generator, in cores. */
  readonly bench: number;
  /** This process's event-loop delay p99 over the last second (ms). */
  readonly benchLoopP99Ms: number;
}

/** Parses the `inference_servers` start-up line: `gpu-1=http://127.0.0.1:PORT|10,…`. */
export function serversFromOutput(output: string): ServerRef[] {
  const match = /"msg":"inference_servers","servers":"([^"]*)"/.exec(output);
  if (!match?.[1]) throw new Error('the stack printed no inference_servers line');
  return match[1].split(',').map((entry) => {
    const [id = '', rest = ''] = entry.split('=');
    return { id, baseUrl: rest.split('|')[0] ?? '' };
  });
}

interface StatsBody {
  running?: unknown;
  waiting?: unknown;
  options?: { slots?: unknown };
}

async function stats(server: ServerRef): Promise<{ running: number; waiting: number; slots: number }> {
  try {
    const response = await fetch(`${server.baseUrl}/admin/stats`, { signal: AbortSignal.timeout(1_000) });
    const body = (await response.json()) as StatsBody;
    return {
      running: typeof body.running === 'number' ? body.running : -1,
      waiting: typeof body.waiting === 'number' ? body.waiting : -1,
      slots: typeof body.options?.slots === 'number' ? body.options.slots : -1,
    };
  } catch {
    return { running: -1, waiting: -1, slots: -1 };
  }
}

/** Samples the fleet every `everyMs` until stopped; a slow round is skipped, never piled up. */
export function sampleFleet(
  servers: readonly ServerRef[],
  everyMs: number,
  clock: () => number,
): { stop: () => FleetSample[] } {
  const samples: FleetSample[] = [];
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    const t = clock();
    void Promise.all(servers.map(stats)).then((all) => {
      samples.push({
        t,
        running: all.map((one) => one.running),
        waiting: all.map((one) => one.waiting),
        slots: all.map((one) => one.slots),
      });
      busy = false;
    });
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return samples;
    },
  };
}

async function machineTicks(): Promise<{ busy: number; total: number }> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  const values = line.trim().split(/\s+/).slice(1).map(Number);
  const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** utime + stime of a process, in clock ticks (USER_HZ, 100 on Linux). */
async function processTicks(pid: number): Promise<number> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  } catch {
    return 0;
  }
}

const USER_HZ = 100;

/** CPU once a second; Linux only (reads /proc), silently empty elsewhere. */
export function sampleCpu(
  stackPid: number | undefined,
  clock: () => number,
  loopDelay: { percentile(p: number): number; reset(): void },
): { stop: () => CpuSample[] } {
  const samples: CpuSample[] = [];
  let previous:
    | { at: number; machine: { busy: number; total: number }; stack: number; bench: NodeJS.CpuUsage }
    | undefined;
  const tick = async () => {
    try {
      const at = performance.now();
      const machine = await machineTicks();
      const stack = stackPid === undefined ? 0 : await processTicks(stackPid);
      const bench = process.cpuUsage();
      if (previous) {
        const seconds = (at - previous.at) / 1000;
        const total = machine.total - previous.machine.total;
        samples.push({
          t: clock(),
          machine: total > 0 ? (machine.busy - previous.machine.busy) / total : 0,
          stack: (stack - previous.stack) / USER_HZ / seconds,
          bench: (bench.user - previous.bench.user + bench.system - previous.bench.system) / 1e6 / seconds,
          benchLoopP99Ms: loopDelay.percentile(99) / 1e6,
        });
      }
      loopDelay.reset();
      previous = { at, machine, stack, bench };
    } catch {
      // No /proc: no CPU figures.
    }
  };
  void tick();
  const timer = setInterval(() => void tick(), 1_000);
  return {
    stop: () => {
      clearInterval(timer);
      return samples;
    },
  };
}

/**
 * The machine is shared: before a policy's load, wait (up to `timeoutMs`) for a `windowMs` stretch with
 * less than `maxBusy` of all cores busy, so the policies start on comparable machines. Returns the busy
 * share of the last window (NaN without /proc).
 */
export async function waitForQuietMachine(
  maxBusy: number,
  windowMs: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let busy = Number.NaN;
  for (;;) {
    try {
      const before = await machineTicks();
      await new Promise((resolve) => setTimeout(resolve, windowMs));
      const after = await machineTicks();
      busy = (after.busy - before.busy) / Math.max(1, after.total - before.total);
    } catch {
      return Number.NaN;
    }
    if (busy < maxBusy || Date.now() >= deadline) return busy;
  }
}
