/**
 * The fleet matrix served: a generated fleet (bench/fleet-gen.ts: real profiles of QEMU 5.2, 7.2,
 * 10.0 masked into CPU generations) loaded into a store, then POST /api/plans/matrix to
 * `guestabi serve` on loopback, timed from request to the last byte. Figures only.
 *   node dist/bench/serve-fleet.js [--hosts 10000] [--kinds 50] [--guests 100000] [--abis 500] [--pg URL]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { argvToText, pinnedToArgv, specAsPinned } from '../src/formats/argv-out.js';
import { openStore, type GuestPut, type Store } from '../src/store/index.js';
import { abiClass, cpuAsWritten, hostColumns } from '../src/server/summaries.js';
import { addToken } from '../src/server/tokens.js';
import { postgresDatabase } from '../test/databases.js';
import { stopServe } from '../test/server-helpers.js';
import { generateFleet, type Fleet } from './fleet-gen.js';
import { serveProcess } from './serve.js';

const { values } = parseArgs({ options: { hosts: { type: 'string' }, kinds: { type: 'string' }, guests: { type: 'string' }, abis: { type: 'string' }, pg: { type: 'string' } } });
const n = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
const opts = { hosts: n(values.hosts, 10_000), kinds: n(values.kinds, 50), guests: n(values.guests, 100_000), abis: n(values.abis, 500) };

async function load(store: Store, fleet: Fleet): Promise<void> {
  let t = performance.now();
  for (const h of fleet.hosts) await store.putHost(h.name, { profile: { ...h.profile, name: h.name }, ...hostColumns(h.profile, h.catalog) }, { source: 'bench', ifMatch: '*' });
  console.log(`  stored ${fleet.hosts.length} host profiles in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  t = performance.now();
  const items: GuestPut[] = fleet.guests.map((g) => ({
    name: g.name,
    guest: {
      host: g.host,
      format: 'argv',
      definition: argvToText(pinnedToArgv(specAsPinned(g.spec)).slice(1)),
      spec: g.spec,
      pinned: null,
      pinError: null,
      abiClass: abiClass(g.spec, null),
      os: null,
      machine: g.spec.machine.type,
      cpu: cpuAsWritten(g.spec),
      pinnedMachine: null,
      pinnedCpu: null,
      flags: [],
    },
  }));
  for (let i = 0; i < items.length; i += 10_000) await store.putGuests(items.slice(i, i + 10_000), { source: 'bench' });
  console.log(`  stored ${items.length} guests in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}

async function timeMatrix(url: string, label: string): Promise<void> {
  const t = performance.now();
  const res = await fetch(`${url}/api/plans/matrix`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  const text = await res.text();
  const ms = performance.now() - t;
  const m = JSON.parse(text) as { summary: { guests: number; hosts: number; guestClasses: number; hostKinds: number; cells: number } };
  console.log(`  POST /api/plans/matrix (${label}): ${(ms / 1000).toFixed(2)} s, HTTP ${res.status}, ${(text.length / 1e6).toFixed(1)} MB; ${m.summary.hosts} hosts (${m.summary.hostKinds} kinds) x ${m.summary.guests} guests (${m.summary.guestClasses} classes) = ${m.summary.cells} cells`);
}

async function run(db: string, label: string, fleet: Fleet): Promise<void> {
  console.log(`\n# ${label}: ${opts.hosts} hosts of ${opts.kinds} kinds, ${opts.guests} guests of ${opts.abis} ABIs`);
  const store = await openStore(db);
  await load(store, fleet);
  await store.close();
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-bench-'));
  const tokensFile = join(dir, 'tokens.yaml');
  addToken(tokensFile, 'bench', 'read');
  const { child, url } = await serveProcess(db, tokensFile);
  try {
    await timeMatrix(url, 'first request: profiles read and indexed, classes grouped in SQL');
    await timeMatrix(url, 'again: indexed hosts cached, check caches cold');
  } finally {
    await stopServe(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

const fleet = generateFleet(opts);
const dir = mkdtempSync(join(tmpdir(), 'guestabi-bench-db-'));
await run(join(dir, 'fleet.db'), 'SQLite', fleet);
rmSync(dir, { recursive: true, force: true });
if (values.pg) process.env.GUESTABI_TEST_PG = values.pg;
if (process.env.GUESTABI_TEST_PG) {
  const pg = await postgresDatabase();
  await run(pg.url, 'PostgreSQL', fleet);
  await pg.drop();
}
