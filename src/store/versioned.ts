import { sql, type Kysely } from 'kysely';
import { RunError } from '../util/errors.js';
import { NotFound, PreconditionRequired, VersionConflict } from './errors.js';
import type { HistoryEntry, IfMatch, WriteOptions, WriteResult } from './store.js';
import type { Database, TablePair } from './tables.js';

/**
 * Writes shared by hosts and guests: a current table keyed by name with a version, and an
 * append-only history keyed by (name, version). The tables differ only in their content columns,
 * so these functions see them untyped; hosts.ts and guests.ts map their rows.
 */
export type Row = Record<string, unknown>;
type LooseDb = Record<string, Row>;

export function loose(db: Kysely<Database>): Kysely<LooseDb> {
  return db as unknown as Kysely<LooseDb>;
}

/** The time of a write: ISO 8601 UTC with milliseconds, so that text order is time order. */
export function stamp(now?: Date): string {
  return (now ?? new Date()).toISOString();
}

/** One write in one transaction: the current row (version bumped) and its history row. */
export async function putVersioned(db: Kysely<Database>, pair: TablePair, name: string, current: Row, history: Row, opts: WriteOptions): Promise<WriteResult> {
  const at = stamp(opts.now);
  return db.transaction().execute(async (trx) => {
    const t = loose(trx);
    const w = await writeCurrent(t, pair, name, { ...current, updated_at: at, source: opts.source }, opts.ifMatch);
    await t.insertInto(pair.history).values({ ...history, name, version: w.version, at, source: opts.source, deleted: 0 }).execute();
    return w;
  });
}

async function writeCurrent(t: Kysely<LooseDb>, pair: TablePair, name: string, row: Row, ifMatch: IfMatch | undefined): Promise<WriteResult> {
  if (typeof ifMatch === 'number') {
    const v = await update(t, pair, name, row, ifMatch);
    if (v !== undefined) return { version: v, created: false };
    throw new VersionConflict(pair.kind, name, ifMatch, (await currentVersion(t, pair, name)) ?? null);
  }
  if (ifMatch === '*') {
    const v = await update(t, pair, name, row);
    if (v !== undefined) return { version: v, created: false };
  }
  const created = await insertNew(t, pair, name, row);
  if (created !== undefined) return { version: created, created: true };
  // The row exists: it did before (no If-Match), or another writer created it since the update above ('*').
  const again = ifMatch === '*' ? await update(t, pair, name, row) : undefined;
  if (again !== undefined) return { version: again, created: false };
  const current = await currentVersion(t, pair, name);
  if (ifMatch === undefined && current !== undefined) throw new PreconditionRequired(pair.kind, name, current);
  throw new RunError(`${pair.kind} '${name}' was changed by another writer during this write; retry`);
}

/** Replace the row (at version `expected` when given); its new version, or undefined when no row matched. */
async function update(t: Kysely<LooseDb>, pair: TablePair, name: string, row: Row, expected?: number): Promise<number | undefined> {
  let q = t
    .updateTable(pair.current)
    .set({ ...row, version: sql`version + 1` })
    .where('name', '=', name);
  if (expected !== undefined) q = q.where('version', '=', expected);
  const r = await q.returning('version').executeTakeFirst();
  return r ? Number(r.version) : undefined;
}

/** Create the row, numbered after its last history entry (a re-created resource continues its history). */
async function insertNew(t: Kysely<LooseDb>, pair: TablePair, name: string, row: Row): Promise<number | undefined> {
  const next = sql<number>`(select coalesce(max(version), 0) + 1 from ${sql.table(pair.history)} where name = ${name})`;
  const r = await t
    .insertInto(pair.current)
    .values({ ...row, name, version: next })
    .onConflict((oc) => oc.column('name').doNothing())
    .returning('version')
    .executeTakeFirst();
  return r ? Number(r.version) : undefined;
}

export async function currentVersion(t: Kysely<LooseDb>, pair: TablePair, name: string): Promise<number | undefined> {
  const r = await t.selectFrom(pair.current).select('version').where('name', '=', name).executeTakeFirst();
  return r ? Number(r.version) : undefined;
}

/** Delete the row and append a history entry marked deleted; its version is the next one. */
export async function deleteVersioned(db: Kysely<Database>, pair: TablePair, name: string, opts: WriteOptions): Promise<{ version: number }> {
  const at = stamp(opts.now);
  return db.transaction().execute(async (trx) => {
    const t = loose(trx);
    const removed = await deleteCurrent(t, pair, name, opts.ifMatch);
    const version = removed + 1;
    await t.insertInto(pair.history).values({ name, version, at, source: opts.source, deleted: 1 }).execute();
    return { version };
  });
}

async function deleteCurrent(t: Kysely<LooseDb>, pair: TablePair, name: string, ifMatch: IfMatch | undefined): Promise<number> {
  if (ifMatch === undefined) {
    const current = await currentVersion(t, pair, name);
    if (current === undefined) throw new NotFound(pair.kind, name);
    throw new PreconditionRequired(pair.kind, name, current);
  }
  let q = t.deleteFrom(pair.current).where('name', '=', name);
  if (ifMatch !== '*') q = q.where('version', '=', ifMatch);
  const r = await q.returning('version').executeTakeFirst();
  if (r) return Number(r.version);
  const current = await currentVersion(t, pair, name);
  if (current === undefined) throw new NotFound(pair.kind, name);
  throw new VersionConflict(pair.kind, name, ifMatch === '*' ? current : ifMatch, current);
}

export async function historyOf(db: Kysely<Database>, pair: TablePair, name: string): Promise<HistoryEntry[]> {
  const rows = await loose(db).selectFrom(pair.history).select(['version', 'at', 'source', 'deleted']).where('name', '=', name).orderBy('version').execute();
  return rows.map((r) => ({ version: Number(r.version), at: String(r.at), source: String(r.source), deleted: Number(r.deleted) === 1 }));
}

/** A history row that is not a deletion: at that version, or the last one written at or before `at`. */
export async function pastRow(db: Kysely<Database>, pair: TablePair, name: string, when: { version: number } | { at: string }): Promise<Row | undefined> {
  let q = loose(db).selectFrom(pair.history).selectAll().where('name', '=', name);
  q = 'version' in when ? q.where('version', '=', when.version) : q.where('at', '<=', when.at).orderBy('version', 'desc').limit(1);
  const row = await q.executeTakeFirst();
  return row && Number(row.deleted) === 0 ? row : undefined;
}
