/**
 * `npm run model:cost`: the cost per turn of the app as the code stands, measured, not guessed. Real turns
 * run through the real handlers, use cases and adapters on the local stack, with every SDK call and log
 * line counted (bench/cost/); DynamoDB units follow the service's rules on the items read back, with the
 * projections and table class of the synthesized stack. Priced at 200M turns/day (prices in
 * bench/cost/prices.ts), with the levers, the quotas at the peak, and bench/results/cost.json.
 * Quicker runs: COST_TURNS=2 COST_ANSWER_TOKENS=100 (bench/cost/scenario.ts lists the knobs).
 * COST_BASELINE=<an earlier cost.json> adds the measured change of every component since that run.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { REPO_ROOT } from '../local/repo-root';
import { leverRows } from './cost/levers';
import { measure } from './cost/measure';
import { MeteredStack } from './cost/metered-stack';
import { price } from './cost/pricing';
import {
  deploymentOf,
  heartbeatDaily,
  type ModelConfig,
  metricSeries,
  sweeperDaily,
  turnQuantities,
} from './cost/quantities';
import { quotaRows } from './cost/quotas';
import { renderBaseline, renderText, resultJson } from './cost/report';
import { scenarioFromEnv, TARGET } from './cost/scenario';

const startedAt = performance.now();
const scenario = scenarioFromEnv();
const stack = await MeteredStack.start({ scenario });
const progress = (text: string) => stack.logs.print(text);
let report: Parameters<typeof renderText>[0];
try {
  progress(`stack up in ${Math.round((performance.now() - startedAt) / 1000)} s; measuring\n`);
  const measurement = await measure(stack, scenario, progress);
  const deployment = deploymentOf(stack.settings, scenario);
  const current: ModelConfig = {
    postChatMemoryMb: deployment.postChatMemoryMb,
    tables: stack.stateful.tables,
    stopReads: 'measured',
    text: 'measured',
    logLines: 'measured',
    sse: 'measured',
  };
  const series = metricSeries(measurement, deployment);
  const evaluate = (config: ModelConfig) =>
    price({
      turn: turnQuantities(measurement, config),
      heartbeat: heartbeatDaily(measurement, config, deployment),
      sweeper: sweeperDaily(measurement, config, deployment),
      metricSeries: series,
      config,
      target: TARGET,
    });
  const turn = turnQuantities(measurement, current);
  const heartbeat = heartbeatDaily(measurement, current, deployment);
  report = {
    measurement,
    deployment,
    turn,
    costs: evaluate(current),
    levers: leverRows(measurement, deployment, current, evaluate),
    quotas: quotaRows({
      turn,
      heartbeat,
      sweeper: sweeperDaily(measurement, current, deployment),
      deployment,
      target: TARGET,
      idTokenValidityMinutes: stack.stateful.idTokenValidityMinutes,
    }),
    target: TARGET,
    heartbeat: {
      perDay: heartbeat.dynamodb,
      ticksPerSecond: measurement.heartbeat.ticks / (measurement.heartbeat.durationMs / 1000),
    },
    runSeconds: (performance.now() - startedAt) / 1000,
  };
} finally {
  await stack.stop();
}
console.log(renderText(report));
const json = resultJson(report);
const baselinePath = process.env.COST_BASELINE;
if (baselinePath) {
  const baseline = JSON.parse(await readFile(baselinePath, 'utf8')) as typeof json;
  console.log(`\n${renderBaseline(baseline, json, baselinePath)}`);
}
const results = join(REPO_ROOT, 'bench', 'results');
await mkdir(results, { recursive: true });
await writeFile(join(results, 'cost.json'), `${JSON.stringify(json, null, 2)}\n`);
console.log('\nWrote bench/results/cost.json');
