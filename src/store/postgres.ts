import pg from 'pg';
import { CompiledQuery, PostgresDialect, type Dialect } from 'kysely';

/** postgres://user:SECRET@host/db -> postgres://user:***@host/db, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/^(postgres(?:ql)?:\/\/[^:/@]*:)[^@]*@/, '$1***@');
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

/**
 * Documents are tens of kB of JSON: PostgreSQL compresses them (TOAST). lz4 compresses as well as
 * the default pglz here and loads a bulk of guests about twice as fast; servers built without it
 * keep their default.
 */
const LZ4_WHEN_AVAILABLE = `select set_config('default_toast_compression', 'lz4', false)
  from pg_settings where name = 'default_toast_compression' and 'lz4' = any(enumvals)`;

/**
 * A pool on the URL. Every connection commits synchronously (synchronous_commit = on), so that a
 * write is on disk when its commit returns, whatever the server's default; documents use lz4.
 */
export function postgresDialect(url: string, max = 10): Dialect {
  const pool = new pg.Pool({ connectionString: url, max });
  pool.on('error', (err) => process.emitWarning(`PostgreSQL ${redactUrl(url)}: an idle connection failed: ${err.message}`));
  return new PostgresDialect({
    pool,
    onCreateConnection: async (conn) => {
      await conn.executeQuery(CompiledQuery.raw('set synchronous_commit = on'));
      await conn.executeQuery(CompiledQuery.raw(LZ4_WHEN_AVAILABLE));
    },
  });
}
