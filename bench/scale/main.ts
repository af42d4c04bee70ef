/**
 * The simulation run: every scenario of SIM_SCENARIOS, then the report and bench/results/scale.json.
 * Scenarios are independent worlds, so each runs in its own worker thread (this machine has two cores);
 * SIM_PARALLEL=0 (or SIM_BUNDLE=0, the unbundled sources) runs them one after the other in this thread.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type ScenarioSpec, scenarioSpec, simConfigFromEnv } from './config';
import { goalsOf, headline, headlineText, scenarioText } from './report';
import { runScenario, type ScenarioResult } from './scenario';
import { realSettingsFromEnv } from './world';

const say = (message: string) => process.stdout.write(`${message}\n`);

interface WorkerJob {
  readonly simScenario: ScenarioSpec['name'];
  readonly seed: number;
}

function runHere(name: ScenarioSpec['name'], seed: number): Promise<ScenarioResult> {
  const config = simConfigFromEnv();
  return runScenario(scenarioSpec(name, config), config, realSettingsFromEnv(), seed);
}

function runInWorker(job: WorkerJob): Promise<ScenarioResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: job });
    worker.once('message', (result: ScenarioResult) => resolve(result));
    worker.once('error', reject);
    worker.once('exit', (code) => {
      if (code !== 0) reject(new Error(`scenario ${job.simScenario} worker exited with ${code}`));
    });
  });
}

export async function main(resultsDir: string): Promise<void> {
  const wallStart = performance.now();
  const config = simConfigFromEnv();
  const settings = realSettingsFromEnv();
  // Workers load this module again: only the bundle can be (the tsx loader does not reach worker threads).
  const bundled = !import.meta.url.endsWith('.ts');
  const parallel = bundled && process.env.SIM_PARALLEL !== '0' && config.scenarios.length > 1;
  say(
    `sim:scale — ${config.servers} servers, ${config.shards} heartbeat shards, ${Math.round(config.baseRate)} prompts/s base, ` +
      `phases × ${config.secondsScale}, seed ${config.seed}, heartbeat every ${settings.intervalMs} ms` +
      (parallel ? `, ${config.scenarios.length} scenarios in parallel` : ''),
  );
  const jobs = config.scenarios.map((name, index) => ({
    simScenario: name,
    seed: config.seed * 1000 + index,
  }));
  const results: ScenarioResult[] = [];
  if (parallel) results.push(...(await Promise.all(jobs.map(runInWorker))));
  else for (const job of jobs) results.push(await runHere(job.simScenario, job.seed));
  for (const result of results) {
    say('');
    say(scenarioText(result));
  }
  const h = headline(results, config, settings, performance.now() - wallStart);
  const goals = goalsOf(h);
  say('');
  say(headlineText(h, goals));
  await mkdir(resultsDir, { recursive: true });
  const file = join(resultsDir, 'scale.json');
  await writeFile(file, `${JSON.stringify({ ...h, goals, scenarios: results }, null, 2)}\n`);
  say(`\nWrote ${file}`);
}

// In a scenario worker: run the one scenario and hand its (plain-data) result back.
if (!isMainThread && (workerData as Partial<WorkerJob> | undefined)?.simScenario) {
  const job = workerData as WorkerJob;
  runHere(job.simScenario, job.seed).then(
    (result) => parentPort?.postMessage(result),
    (error: unknown) => {
      throw error;
    },
  );
}
