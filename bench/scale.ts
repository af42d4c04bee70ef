/**
 * `npm run sim:scale`: a virtual-time simulation of the whole fleet at full scale (2,300 servers, 64
 * heartbeat shards, 5,800 prompts/s with a 3× burst, and a fleet-table outage) that runs the project's
 * real admission (FleetGate), routing, fleet views (DynamoDbFleetRepository), server registry and
 * heartbeat (HeartbeatWorker) against an in-memory DynamoDB model and simulated vLLM servers.
 * See bench/scale/config.ts for the SIM_* settings (SIM_SERVERS=300 SIM_SECONDS_SCALE=0.2 for a quick run).
 *
 * Speed: tsx compiles with esbuild's keepNames, which wraps every closure and made the real code's hot
 * paths ~3× slower; so this entry bundles bench/scale/main.ts with esbuild (no keepNames, packages left
 * external) into bench/results/.build and runs that. SIM_BUNDLE=0 runs the sources through tsx instead.
 * Exit code 0 even when a goal fails (it is a benchmark); a crash exits 1.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(here, 'results');

async function start(): Promise<void> {
  if (process.env.SIM_BUNDLE === '0') {
    const { main } = await import('./scale/main');
    return main(resultsDir);
  }
  const { build } = await import('esbuild');
  const outdir = join(resultsDir, '.build');
  await mkdir(outdir, { recursive: true });
  const outfile = join(outdir, 'scale.mjs');
  await build({
    entryPoints: [join(here, 'scale', 'main.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  const bundled = (await import(pathToFileURL(outfile).href)) as { main: (dir: string) => Promise<void> };
  return bundled.main(resultsDir);
}

start().catch((error: unknown) => {
  process.stderr.write(
    `sim:scale failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
});
