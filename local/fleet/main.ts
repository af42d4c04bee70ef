// Runs the simulated inference fleet on its own: `node --import tsx local/fleet/main.ts`.
// Configured by the LOCAL_FLEET_* variables (see fleetOptionsFromEnv); prints one JSON line per server.

import { fleetOptionsFromEnv, startFleet } from './fleet';

const fleet = await startFleet(fleetOptionsFromEnv(process.env));
for (const server of fleet.servers) {
  console.log(JSON.stringify({ id: server.id, baseUrl: server.baseUrl, openai: `${server.baseUrl}/v1` }));
}

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  fleet.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
