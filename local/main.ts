/**
 * `npm start`: the whole app locally. Settings: PORT (3000; 0 = any free port), HOST (127.0.0.1),
 * DATA_DIR (.data), the fleet's LOCAL_FLEET_* variables (see local/fleet/fleet.ts), and to use services
 * this process does not start: LOCAL_DYNAMODB_ENDPOINT (instead of dynalite) and INFERENCE_SERVERS
 * (instead of the simulated fleet).
 * Prints one line once it serves, then one JSON log line per invocation, and a plain line per code Cognito
 * would email (`Verification code for a@b.c: 123456`: there is no mailbox locally); SIGINT/SIGTERM stop it
 * cleanly (servers closed, cognito-local killed) with exit code 0.
 */

import { buildWeb } from '../web/build';
import { portFromEnv, stringFromEnv } from './env';
import { startLocalStack } from './stack';

const dataDir = stringFromEnv(process.env, 'DATA_DIR', '.data');
// The web client is bundled at every start (~50 ms), so `npm start` always serves the current source.
const web = await buildWeb();
const stack = await startLocalStack({
  staticDir: web.dir,
  dataDir,
  host: stringFromEnv(process.env, 'HOST', '127.0.0.1'),
  port: portFromEnv(process.env, 'PORT', 3000),
});
process.stdout.write(`Chat app listening on ${stack.url} (data in ${dataDir})\n`);

let stopping = false;
function shutdown(signal: NodeJS.Signals): void {
  if (stopping) {
    process.stderr.write(`${signal} again: exiting without waiting\n`);
    process.exit(1);
  }
  stopping = true;
  stack.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`Stopping failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
}
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
