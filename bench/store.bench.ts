/**
 * Bulk load of the store: N guests in one putGuests call, then the reads the fleet service makes.
 *   node dist/bench/store.bench.js [--guests N] [--small] [URL ...]
 * Without URLs: a SQLite file in a temporary directory, and a fresh database on GUESTABI_TEST_PG
 * when it is set (dropped afterwards). --small stores unpinned one-line guests instead of a libvirt
 * domain with its pinned ABI (about 34 kB of text per guest, twice: current row and history).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { parseGuestText } from '../src/formats/guest-input.js';
import { hostTarget } from '../src/io/host-files.js';
import { pinGuest } from '../src/resolve/pin.js';
import { guestVisibility } from '../src/io/rules-files.js';
import { openStore, redactUrl, type GuestInput, type GuestPut } from '../src/store/index.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

function realisticGuest(): GuestInput {
  const text = readFileSync(join(FIXTURES, 'libvirt', 'westmere.xml'), 'utf8');
  const { spec } = parseGuestText(text, 'westmere.xml');
  const pinned = pinGuest(spec, hostTarget(join(FIXTURES, 'hosts', 'host-7.2-tcg.json'), 'x86_64'), { policy: 'highest-runnable', now: new Date(), tool: 'bench', visibility: guestVisibility() });
  return { host: null, format: 'libvirt', definition: text, spec, pinned, pinError: null, abiClass: '', os: 'rhel6.10', machine: spec.machine.type, cpu: spec.cpu.model ?? spec.cpu.mode, pinnedMachine: pinned.machine.type, pinnedCpu: pinned.cpu.model, flags: ['machine-unpinned'] };
}

function smallGuest(): GuestInput {
  const spec = { machine: { type: 'q35' }, cpu: { mode: 'custom' as const, model: 'EPYC' }, memory: { sizeMiB: 2048 }, vcpus: { count: 2 }, devices: [] };
  return { host: null, format: 'argv', definition: '-machine q35 -cpu EPYC -m 2048 -smp 2 -nodefaults', spec, pinned: null, pinError: null, abiClass: '', os: null, machine: 'q35', cpu: 'EPYC', pinnedMachine: null, pinnedCpu: null, flags: ['not-pinned'] };
}

/** N guests on 50 hosts in 40 ABI classes, sharing one definition (each row still stores its own copy). */
function fleet(n: number, base: GuestInput): GuestPut[] {
  return Array.from({ length: n }, (_, i) => ({ name: `vm-${String(i).padStart(6, '0')}`, guest: { ...base, host: `host-${i % 50}`, abiClass: `p-${i % 40}` } }));
}

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t = performance.now();
  const r = await fn();
  console.log(`  ${label}: ${((performance.now() - t) / 1000).toFixed(2)} s`);
  return r;
}

async function run(url: string, items: GuestPut[]): Promise<void> {
  console.log(`${redactUrl(url)}`);
  const store = await openStore(url);
  try {
    await timed(`putGuests(${items.length}) in one transaction`, () => store.putGuests(items, { source: 'bench' }));
    const list = await timed('listGuests()', () => store.listGuests());
    const classes = await timed('guestClasses()', () => store.guestClasses());
    await timed('guestClasses({members: true})', () => store.guestClasses({ members: true }));
    await timed(`getGuestsByNames(${classes.length} samples)`, () => store.getGuestsByNames(classes.map((c) => c.sample)));
    await timed('getGuestsByNames(1000)', () => store.getGuestsByNames(list.slice(0, 1000).map((g) => g.name)));
    const again = items.slice(0, 1000).map((i) => ({ ...i, ifMatch: 1 }));
    await timed('putGuests(1000 replacements, If-Match)', () => store.putGuests(again, { source: 'bench' }));
    await timed('100 x putGuest (one transaction each)', async () => {
      for (let i = 0; i < 100; i++) await store.putGuest(`single-${i}`, items[0]!.guest, { source: 'bench' });
    });
    console.log(`  ${JSON.stringify(await store.stats())}`);
  } finally {
    await store.close();
  }
}

async function pgAdmin(base: string, statement: string): Promise<void> {
  const c = new pg.Client({ connectionString: base });
  await c.connect();
  await c.query(statement).finally(() => c.end());
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const at = args.indexOf('--guests');
  const n = at >= 0 ? Number(args.splice(at, 2)[1]) : 100_000;
  const small = args.includes('--small');
  const urls = args.filter((a) => a !== '--small');
  const items = fleet(n, small ? smallGuest() : realisticGuest());
  console.log(`node ${process.version}; ${n} guests, ${small ? 'small unpinned' : 'libvirt XML with a pinned ABI'}`);
  if (urls.length) {
    for (const u of urls) await run(u, items);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-bench-'));
  await run(join(dir, 'bench.db'), items).finally(() => rmSync(dir, { recursive: true, force: true }));
  const base = process.env.GUESTABI_TEST_PG;
  if (!base) return console.log('GUESTABI_TEST_PG is not set: PostgreSQL not measured');
  const name = `guestabi_bench_${process.pid}`;
  await pgAdmin(base, `create database ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  await run(url.toString(), items).finally(() => pgAdmin(base, `drop database if exists ${name} with (force)`));
}

await main();
