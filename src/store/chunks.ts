/**
 * Parameters per statement stay well below SQLite's limit (32766) and PostgreSQL's (65535):
 * lists of names go in slices of CHUNK_NAMES, rows of a bulk write in slices of CHUNK_ROWS.
 */
export const CHUNK_NAMES = 1000;
export const CHUNK_ROWS = 500;

export function* chunks<T>(items: readonly T[], size = CHUNK_NAMES): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}

/** The values found for `names`, in the order of `names`, each once; missing ones left out. */
export function inOrder<T>(names: readonly string[], found: ReadonlyMap<string, T>): T[] {
  const out: T[] = [];
  for (const n of new Set(names)) {
    const v = found.get(n);
    if (v !== undefined) out.push(v);
  }
  return out;
}
