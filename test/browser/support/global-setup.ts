import { buildWeb } from '../../../web/build';

/** The stack serves web/, whose index.html loads the bundle from web/dist/: build it once per run. */
export default async function setup(): Promise<void> {
  await buildWeb();
}
