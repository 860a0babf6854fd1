import { Migrator, sql, type Kysely, type Migration, type MigrationProvider, type RawBuilder } from 'kysely';
import { RunError } from '../util/errors.js';
import { SchemaTooNew } from './errors.js';
import type { StoreDialect } from './store.js';
import type { Database } from './tables.js';

type DataTypeExpression = 'text' | RawBuilder<unknown>;

/**
 * Names sort the same on both databases: byte order (SQLite's default BINARY collation; "C" on
 * PostgreSQL, whatever the database's locale).
 */
function nameType(dialect: StoreDialect): DataTypeExpression {
  return dialect === 'postgres' ? sql`text collate "C"` : 'text';
}

/**
 * Kysely's own DDL works on both SQLite and PostgreSQL: text, integer, composite primary keys.
 * The large JSON columns come last: SQLite reads a row's columns in order through its overflow
 * pages, so the list columns before them are read without touching the documents.
 */
async function initial(db: Kysely<unknown>, dialect: StoreDialect): Promise<void> {
  const name = nameType(dialect);
  await db.schema
    .createTable('hosts')
    .addColumn('name', name, (c) => c.primaryKey())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('arch', 'text', (c) => c.notNull())
    .addColumn('qemu', 'text', (c) => c.notNull())
    .addColumn('catalog', 'text', (c) => c.notNull())
    .addColumn('accel', 'text', (c) => c.notNull())
    .addColumn('cpu', 'text', (c) => c.notNull())
    .addColumn('kernel', 'text', (c) => c.notNull())
    .addColumn('profile', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('host_versions')
    .addColumn('name', name, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('profile', 'text')
    .addPrimaryKeyConstraint('host_versions_pk', ['name', 'version'])
    .execute();
  await db.schema.createIndex('hosts_kind').on('hosts').columns(['kind', 'name']).execute();
  await createGuestTables(db, name);
}

async function createGuestTables(db: Kysely<unknown>, name: DataTypeExpression): Promise<void> {
  await db.schema
    .createTable('guests')
    .addColumn('name', name, (c) => c.primaryKey())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('host', name)
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('abi_class', 'text', (c) => c.notNull())
    .addColumn('os', 'text')
    .addColumn('machine', 'text', (c) => c.notNull())
    .addColumn('cpu', 'text', (c) => c.notNull())
    .addColumn('pinned_machine', 'text')
    .addColumn('pinned_cpu', 'text')
    .addColumn('flags', 'text', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('spec', 'text', (c) => c.notNull())
    .addColumn('pinned', 'text')
    .addColumn('pin_error', 'text')
    .execute();
  let history = db.schema
    .createTable('guest_versions')
    .addColumn('name', name, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0));
  for (const col of GUEST_CONTENT_COLUMNS) history = history.addColumn(col, col === 'host' ? name : 'text');
  await history.addPrimaryKeyConstraint('guest_versions_pk', ['name', 'version']).execute();
  await db.schema.createIndex('guests_class').on('guests').columns(['abi_class', 'host', 'name']).execute();
  await db.schema.createIndex('guests_host').on('guests').columns(['host', 'name']).execute();
}

const GUEST_CONTENT_COLUMNS = ['host', 'format', 'abi_class', 'os', 'machine', 'cpu', 'pinned_machine', 'pinned_cpu', 'flags', 'definition', 'spec', 'pinned', 'pin_error'];

type Step = (db: Kysely<unknown>, dialect: StoreDialect) => Promise<void>;

/** Every migration, in order. Never edit one that has shipped: add the next. */
const STEPS: [string, Step][] = [['0001_initial', initial]];

/** The schema this guestabi writes: the number of its migrations. */
export const SCHEMA_VERSION = STEPS.length;

/** The migrations, defined in code; the same steps on both databases, told which one they run on. */
export class CodeMigrations implements MigrationProvider {
  constructor(private readonly dialect: StoreDialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return Object.fromEntries(STEPS.map(([n, step]) => [n, { up: (db: Kysely<unknown>) => step(db, this.dialect) }]));
  }
}

/** The schema version the database records, creating its table when missing (0: a new database). */
async function storedSchemaVersion(db: Kysely<Database>): Promise<number> {
  await db.schema
    .createTable('schema_version')
    .ifNotExists()
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  return schemaVersionOf(db);
}

/**
 * Bring the database to this guestabi's schema; refuse one written by a newer guestabi. Running it
 * on an up-to-date database changes nothing. Returns the names of the migrations it ran.
 */
export async function migrateToLatest(db: Kysely<Database>, dialect: StoreDialect, where: string, now = new Date()): Promise<string[]> {
  const found = await storedSchemaVersion(db);
  if (found > SCHEMA_VERSION) throw new SchemaTooNew(where, found, SCHEMA_VERSION);
  const { error, results } = await new Migrator({ db, provider: new CodeMigrations(dialect) }).migrateToLatest();
  if (error) throw new RunError(`${where}: migrating the database failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  if (found < SCHEMA_VERSION) await recordSchemaVersion(db, now);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

async function recordSchemaVersion(db: Kysely<Database>, now: Date): Promise<void> {
  await db
    .insertInto('schema_version')
    .values({ id: 1, version: SCHEMA_VERSION, updated_at: now.toISOString() })
    .onConflict((oc) => oc.column('id').doUpdateSet({ version: SCHEMA_VERSION, updated_at: now.toISOString() }))
    .execute();
}

/** The schema version recorded in the database. */
export async function schemaVersionOf(db: Kysely<Database>): Promise<number> {
  const row = await db.selectFrom('schema_version').select('version').where('id', '=', 1).executeTakeFirst();
  return row ? Number(row.version) : 0;
}
