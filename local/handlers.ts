import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REPO_ROOT } from './repo-root';

/** Imports an entry file (relative to the repository root) and returns its `handler` export. */
export async function loadHandler(entry: string): Promise<unknown> {
  const module: unknown = await import(pathToFileURL(join(REPO_ROOT, entry)).href);
  const handler: unknown =
    typeof module === 'object' && module !== null ? Reflect.get(module, 'handler') : undefined;
  if (typeof handler !== 'function') throw new Error(`${entry} does not export a handler function`);
  return handler;
}
