import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** A database for one test: a SQLite file in a temp folder, or a fresh PostgreSQL database. */
export interface TestDatabase {
  kind: 'sqlite' | 'postgres';
  url: string;
  drop(): Promise<void>;
}

export const PG_URL = process.env.GUESTABI_TEST_PG;

/** Why PostgreSQL tests cannot run here, or undefined when they can. Under CI they must run. */
export function postgresMissing(): string | undefined {
  if (PG_URL) return undefined;
  const why = 'PostgreSQL tests need GUESTABI_TEST_PG=postgres://USER:PASS@HOST/DB (a role that may CREATE DATABASE)';
  if (process.env.CI === 'true') throw new Error(`${why}; under CI every test must run (.ci/run starts PostgreSQL)`);
  return why;
}

export function sqliteDatabase(): TestDatabase {
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-db-'));
  return { kind: 'sqlite', url: join(dir, 'guestabi.db'), drop: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** A new database on the test server, dropped afterwards. */
export async function postgresDatabase(): Promise<TestDatabase> {
  const name = `guestabi_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_URL!);
  url.pathname = `/${name}`;
  return {
    kind: 'postgres',
    url: url.href,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** The databases every store and server test runs on: SQLite always, PostgreSQL when configured. */
export function databaseKinds(): { kind: 'sqlite' | 'postgres'; skip: string | undefined; open: () => Promise<TestDatabase> }[] {
  const skip = postgresMissing();
  return [
    { kind: 'sqlite', skip: undefined, open: async () => sqliteDatabase() },
    { kind: 'postgres', skip, open: postgresDatabase },
  ];
}
