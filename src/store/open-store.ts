import { Kysely } from 'kysely';
import { RunError, UserError, errorMessage } from '../util/errors.js';
import { KyselyStore } from './kysely-store.js';
import { migrateToLatest } from './migrations.js';
import { isPostgresUrl, postgresDialect, redactUrl } from './postgres.js';
import { sqliteDialect } from './sqlite.js';
import type { Store, StoreDialect } from './store.js';
import type { Database } from './tables.js';

/** Which database a --db value names: a postgres:// or postgresql:// URL, else a SQLite file (or :memory:). */
export function storeDialectOf(url: string): StoreDialect {
  return isPostgresUrl(url) ? 'postgres' : 'sqlite';
}

/** The Kysely instance on that database, not yet migrated. */
export function openKysely(url: string): { kysely: Kysely<Database>; db: StoreDialect } {
  if (!url.trim()) throw new UserError('give a SQLite file path or a postgres:// URL', 'db');
  const db = storeDialectOf(url);
  const dialect = db === 'postgres' ? postgresDialect(url) : sqliteDialect(url);
  return { kysely: new Kysely<Database>({ dialect }), db };
}

/**
 * Open the store at `url` and bring its schema up to date. A database written by a newer guestabi
 * is refused (SchemaTooNew); one that cannot be reached is a RunError naming it (password hidden).
 */
export async function openStore(url: string): Promise<Store> {
  const { kysely, db } = openKysely(url);
  const where = db === 'postgres' ? redactUrl(url) : url;
  try {
    await migrateToLatest(kysely, db, where);
  } catch (e) {
    await kysely.destroy();
    if (e instanceof UserError || e instanceof RunError) throw e;
    throw new RunError(`${where}: cannot open the database: ${errorMessage(e)}`, { cause: e });
  }
  return new KyselyStore(kysely, db);
}
