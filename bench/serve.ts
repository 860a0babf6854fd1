/**
 * npm run bench:serve: the HTTP service under load on loopback (autocannon), with the database in
 * the path: guestabi serve runs in its own process, as in production; figures only, no assertions.
 *   node dist/bench/serve.js [--pg URL] [--seconds N] [--connections N]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { addToken } from '../src/server/tokens.js';
import { postgresDatabase } from '../test/databases.js';
import { api, HOST_FIXTURES, loadFixtures, spawnServe, stopServe } from '../test/server-helpers.js';

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (opts: object) => Promise<{ requests: { average: number; total: number }; latency: { p50: number; p99: number; average: number }; non2xx: number; errors: number }>;

/** guestabi serve over `db` for a benchmark: no probe, no rate limit, large bodies allowed. */
export function serveProcess(db: string, tokensFile: string) {
  return spawnServe(['--db', db, '--listen', '127.0.0.1:0', '--no-probe', '--tokens', tokensFile, '--rate-limit', '0', '--max-body', String(512 * 1024 * 1024)], { stderr: 'inherit' });
}

async function load(name: string, url: string, path: string, body: unknown, seconds: number, connections: number): Promise<void> {
  const r = await autocannon({ url: `${url}${path}`, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), duration: seconds, connections });
  console.log(`${name.padEnd(44)} ${r.requests.average.toFixed(0).padStart(7)} req/s  p50 ${String(r.latency.p50).padStart(4)} ms  p99 ${String(r.latency.p99).padStart(4)} ms  (${r.requests.total} requests, ${r.non2xx} not 2xx, ${r.errors} errors)`);
}

async function run(db: string, label: string, seconds: number, connections: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-bench-'));
  const tokensFile = join(dir, 'tokens.yaml');
  const token = addToken(tokensFile, 'bench', 'write');
  const { child, url } = await serveProcess(db, tokensFile);
  try {
    await loadFixtures(api(url, token));
    console.log(`\n# ${label}: guestabi serve on loopback, ${connections} connections, ${seconds} s each`);
    await load('POST /api/check (stored guest, 7.2 -> 10.0)', url, '/api/check', { guest: 'argv-0', from: 'host-7.2-tcg', to: 'host-10.0-tcg' }, seconds, connections);
    await load('POST /api/check (both ways + fence)', url, '/api/check', { guest: 'argv-0', from: 'host-7.2-tcg', to: 'host-10.0-tcg', bothWays: true }, seconds, connections);
    await load('POST /api/check (definition in the request)', url, '/api/check', { definition: '-machine pc-q35-7.2 -cpu Westmere -m 2G -nodefaults -device virtio-net-pci', from: HOST_FIXTURES[1], to: HOST_FIXTURES[2] }, seconds, connections);
  } finally {
    await stopServe(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { pg: { type: 'string' }, seconds: { type: 'string' }, connections: { type: 'string' } } });
  const seconds = Number(values.seconds ?? 5);
  const connections = Number(values.connections ?? 10);
  const sqliteDir = mkdtempSync(join(tmpdir(), 'guestabi-bench-db-'));
  await run(join(sqliteDir, 'bench.db'), 'SQLite', seconds, connections);
  rmSync(sqliteDir, { recursive: true, force: true });
  if (values.pg) process.env.GUESTABI_TEST_PG = values.pg;
  if (process.env.GUESTABI_TEST_PG) {
    const pg = await postgresDatabase();
    await run(pg.url, 'PostgreSQL', seconds, connections);
    await pg.drop();
  } else console.log('\n(PostgreSQL: give --pg URL or GUESTABI_TEST_PG to measure it too)');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
