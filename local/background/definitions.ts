/** The background functions' deployment settings (lib/resources.ts), looked up by id. */
import { backgroundFunctions } from '../../lib/resources';

export type BackgroundFunction = (typeof backgroundFunctions)[number];

export function backgroundFunction(id: BackgroundFunction['id']): BackgroundFunction {
  const definition = backgroundFunctions.find((candidate) => candidate.id === id);
  if (!definition) throw new Error(`No background function ${id} in lib/resources.ts`);
  return definition;
}
