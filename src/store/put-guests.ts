import { sql, type Kysely } from 'kysely';
import { UserError } from '../util/errors.js';
import { CHUNK_ROWS, chunks } from './chunks.js';
import { PreconditionRequired, VersionConflict } from './errors.js';
import { guestRow } from './guests.js';
import type { BatchOptions, GuestPut, IfMatch, WriteResult } from './store.js';
import { GUEST_TABLES, type Database } from './tables.js';
import { currentVersion, loose, stamp } from './versioned.js';

interface Known {
  current?: number;
  /** The last version in the history (a deleted guest's tombstone). */
  last?: number;
}

/**
 * Many guests in one transaction, with the preconditions of putGuest for each: versions are read
 * for the whole batch, then rows are written in multi-row statements. An upsert only replaces the
 * version it planned to replace, so a concurrent writer makes the batch fail, never lose a write.
 */
export async function putGuests(db: Kysely<Database>, items: readonly GuestPut[], opts: BatchOptions): Promise<WriteResult[]> {
  refuseDuplicates(items);
  const at = stamp(opts.now);
  return db.transaction().execute(async (trx) => {
    const known = await knownVersions(trx, items.map((i) => i.name));
    const plan = items.map((i) => planOne(i.name, i.ifMatch, known.get(i.name) ?? {}));
    for (const part of chunks(items.map((item, k) => ({ item, result: plan[k]! })), CHUNK_ROWS)) {
      await writeChunk(trx, part, at, opts.source);
    }
    return plan;
  });
}

function refuseDuplicates(items: readonly GuestPut[]): void {
  const seen = new Set<string>();
  for (const { name } of items) {
    if (seen.has(name)) throw new UserError(`guest '${name}' appears twice in one batch`, 'guests');
    seen.add(name);
  }
}

async function knownVersions(trx: Kysely<Database>, names: string[]): Promise<Map<string, Known>> {
  const known = new Map<string, Known>();
  const entry = (n: string) => known.get(n) ?? known.set(n, {}).get(n)!;
  for (const part of chunks(names)) {
    const cur = await trx.selectFrom('guests').select(['name', 'version']).where('name', 'in', part).execute();
    for (const r of cur) entry(r.name).current = Number(r.version);
    const hist = await trx
      .selectFrom('guest_versions')
      .select(['name', sql<number>`max(version)`.as('last')])
      .where('name', 'in', part)
      .groupBy('name')
      .execute();
    for (const r of hist) entry(r.name).last = Number(r.last);
  }
  return known;
}

/** The version this write will create, or the error putGuest would throw. */
function planOne(name: string, ifMatch: IfMatch | undefined, k: Known): WriteResult {
  if (k.current === undefined) {
    if (typeof ifMatch === 'number') throw new VersionConflict('guest', name, ifMatch, null);
    return { version: (k.last ?? 0) + 1, created: true };
  }
  if (ifMatch === undefined) throw new PreconditionRequired('guest', name, k.current);
  if (typeof ifMatch === 'number' && ifMatch !== k.current) throw new VersionConflict('guest', name, ifMatch, k.current);
  return { version: k.current + 1, created: false };
}

const CONTENT = ['host', 'format', 'definition', 'spec', 'pinned', 'pin_error', 'abi_class', 'os', 'machine', 'cpu', 'pinned_machine', 'pinned_cpu', 'flags', 'updated_at', 'source', 'version'] as const;

async function writeChunk(trx: Kysely<Database>, part: { item: GuestPut; result: WriteResult }[], at: string, source: string): Promise<void> {
  const rows = part.map(({ item, result }) => ({ ...guestRow(item.guest), name: item.name, version: result.version, updated_at: at, source }));
  const written = await trx
    .insertInto('guests')
    .values(rows)
    .onConflict((oc) =>
      oc
        .column('name')
        .doUpdateSet(Object.fromEntries(CONTENT.map((c) => [c, sql.ref(`excluded.${c}`)])))
        .where('guests.version', '=', sql<number>`excluded.version - 1`),
    )
    .returning('name')
    .execute();
  if (written.length !== rows.length) await conflictIn(trx, part, new Set(written.map((w) => w.name)));
  const history = rows.map(({ updated_at, ...r }) => ({ ...r, at: updated_at, deleted: 0 }));
  await trx.insertInto('guest_versions').values(history).execute();
}

/** Another writer changed a guest after the batch read its version: name it. */
async function conflictIn(trx: Kysely<Database>, part: { item: GuestPut; result: WriteResult }[], written: Set<string>): Promise<never> {
  const lost = part.find((p) => !written.has(p.item.name))!;
  const now = await currentVersion(loose(trx), GUEST_TABLES, lost.item.name);
  throw new VersionConflict('guest', lost.item.name, lost.result.version - 1, now ?? null);
}
