/**
 * Builds a record keyed by each definition's `id`, so stacks derive their resource maps from
 * lib/resources.ts instead of restating the ids. The record is complete by construction: every
 * definition in `definitions` contributes its key.
 */
export function byId<D extends { readonly id: string }, V>(
  definitions: readonly D[],
  make: (definition: D) => V,
): Record<D['id'], V> {
  const entries = new Map<D['id'], V>();
  for (const definition of definitions) {
    entries.set(definition.id, make(definition));
  }
  return Object.fromEntries(entries) as Record<D['id'], V>;
}
