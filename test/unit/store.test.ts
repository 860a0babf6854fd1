import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { parseGuestText } from '../../src/formats/guest-input.js';
import { hostTarget } from '../../src/io/host-files.js';
import { pinGuest } from '../../src/resolve/pin.js';
import { guestVisibility } from '../../src/io/rules-files.js';
import {
  migrateToLatest,
  NotFound,
  openKysely,
  openStore,
  PreconditionRequired,
  SCHEMA_VERSION,
  SchemaTooNew,
  schemaVersionOf,
  VersionConflict,
} from '../../src/store/index.js';
import { UserError } from '../../src/util/errors.js';
import { FIXTURES } from '../helpers.js';
import { content, guestInput, HOST_FIXTURE, hostInput, hostProfile } from '../store-fixtures.js';
import { storeTargets, withStore, type StoreTarget } from '../store-targets.js';

const SRC = { source: 'test' };
const T = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute));

/** The error a promise rejects with, checked to be of that class. */
async function rejection<E extends Error>(p: Promise<unknown>, cls: new (...a: never[]) => E): Promise<E> {
  const e = await p.then(
    () => assert.fail(`expected ${cls.name}`),
    (err: unknown) => err,
  );
  assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
  return e;
}

function hostTests(target: StoreTarget): void {
  test('a host is created, read, listed, replaced and deleted, each write a new version', () =>
    withStore(target, async (store) => {
      const profile = hostProfile();
      assert.deepEqual(await store.putHost('h1', hostInput(profile), { ...SRC, now: T(1) }), { version: 1, created: true });
      const got = await store.getHost('h1');
      assert.equal(got?.version, 1);
      assert.equal(got?.updatedAt, T(1).toISOString());
      assert.deepEqual(got?.profile, profile);
      assert.deepEqual(await store.listHosts(), [{ name: 'h1', version: 1, updatedAt: T(1).toISOString(), source: 'test', ...withoutProfile(hostInput(profile)) }]);
      assert.deepEqual(await store.putHost('h1', hostInput(profile, 'hk-other'), { ...SRC, ifMatch: 1, now: T(2) }), { version: 2, created: false });
      assert.equal((await store.getHost('h1'))?.kind, 'hk-other');
      assert.deepEqual(await store.deleteHost('h1', { source: 'op', ifMatch: 2, now: T(3) }), { version: 3 });
      assert.equal(await store.getHost('h1'), undefined);
      assert.deepEqual(await store.listHosts(), []);
      assert.deepEqual(await store.putHost('h1', hostInput(profile), { ...SRC, now: T(4) }), { version: 4, created: true }, 'a re-created host continues its history');
      assert.deepEqual(
        (await store.hostHistory('h1')).map((h) => [h.version, h.at, h.source, h.deleted]),
        [
          [1, T(1).toISOString(), 'test', false],
          [2, T(2).toISOString(), 'test', false],
          [3, T(3).toISOString(), 'op', true],
          [4, T(4).toISOString(), 'test', false],
        ],
      );
      assert.equal((await store.hostAt('h1', 1))?.profile.name, profile.name);
      assert.equal(await store.hostAt('h1', 3), undefined, 'a deletion has no profile');
      assert.equal(await store.hostAt('h1', 9), undefined);
    }));

  test('a real host profile reads back byte-equal after parse, current and past', () =>
    withStore(target, async (store) => {
      const text = readFileSync(HOST_FIXTURE, 'utf8');
      const canonical = JSON.stringify(JSON.parse(text));
      await store.putHost('h', hostInput(JSON.parse(text)), SRC);
      assert.equal(JSON.stringify((await store.getHost('h'))!.profile), canonical);
      assert.equal(JSON.stringify((await store.hostAt('h', 1))!.profile), canonical);
      assert.equal(JSON.stringify((await store.getHostsByNames(['h', 'missing']))[0]!.profile), canonical);
    }));
}

function withoutProfile<T extends { profile: unknown }>(h: T): Omit<T, 'profile'> {
  const { profile: _p, ...rest } = h;
  return rest;
}

function preconditionTests(target: StoreTarget): void {
  test('writes are refused: no If-Match on an existing row (428), a stale one (412), a missing row (404)', () =>
    withStore(target, async (store) => {
      await store.putGuest('g', guestInput('g'), SRC);
      const required = await rejection(store.putGuest('g', guestInput('g', 2), SRC), PreconditionRequired);
      assert.equal(required.status, 428);
      assert.equal(required.current, 1);
      assert.ok(required instanceof UserError && /If-Match/.test(required.message));
      assert.equal((await rejection(store.deleteGuest('g', SRC), PreconditionRequired)).status, 428);
      await store.putGuest('g', guestInput('g', 2), { ...SRC, ifMatch: 1 });
      const stale = await rejection(store.putGuest('g', guestInput('g', 3), { ...SRC, ifMatch: 1 }), VersionConflict);
      assert.deepEqual([stale.status, stale.expected, stale.current], [412, 1, 2]);
      assert.equal((await rejection(store.deleteGuest('g', { ...SRC, ifMatch: 1 }), VersionConflict)).current, 2);
      const absent = await rejection(store.putGuest('nope', guestInput('nope'), { ...SRC, ifMatch: 1 }), VersionConflict);
      assert.equal(absent.current, null);
      const missing = await rejection(store.deleteGuest('nope', { ...SRC, ifMatch: '*' }), NotFound);
      assert.deepEqual([missing.status, missing.code], [404, 'GUEST_UNKNOWN']);
      assert.equal((await store.getGuest('g'))?.version, 2, 'refused writes change nothing');
      assert.equal((await store.guestHistory('g')).length, 2);
    }));

  test("If-Match '*' replaces whatever is stored, or creates", () =>
    withStore(target, async (store) => {
      assert.deepEqual(await store.putGuest('g', guestInput('g'), { ...SRC, ifMatch: '*' }), { version: 1, created: true });
      assert.deepEqual(await store.putGuest('g', guestInput('g', 2), { ...SRC, ifMatch: '*' }), { version: 2, created: false });
      assert.deepEqual(await store.deleteGuest('g', { ...SRC, ifMatch: '*' }), { version: 3 });
    }));

  test('two writers with the same If-Match: exactly one wins, the others see the winner’s version', () =>
    withStore(target, async (store, db) => {
      await store.putGuest('g', guestInput('g'), SRC);
      // PostgreSQL: writers on separate pools. SQLite: one connection per process (better-sqlite3
      // is synchronous, so a second connection in this process would wait on the first's lock).
      const other = target.kind === 'postgres' ? await openStore(db.url) : store;
      try {
        const writers = Array.from({ length: 6 }, (_, i) => (i % 2 ? other : store).putGuest('g', guestInput('g', 10 + i), { ...SRC, ifMatch: 1 }));
        const settled = await Promise.allSettled(writers);
        const won = settled.filter((s) => s.status === 'fulfilled');
        assert.equal(won.length, 1);
        for (const s of settled) if (s.status === 'rejected') assert.ok(s.reason instanceof VersionConflict && s.reason.current === 2, String(s.reason));
        const winner = settled.findIndex((s) => s.status === 'fulfilled');
        assert.deepEqual(content((await store.getGuest('g'))!), content(guestInput('g', 10 + winner)));
        assert.deepEqual((await store.guestHistory('g')).map((h) => h.version), [1, 2]);
      } finally {
        if (other !== store) await other.close();
      }
    }));
}

function guestTests(target: StoreTarget): void {
  test('guest history: every version, as of a time, and a deletion ends it', () =>
    withStore(target, async (store) => {
      await store.putGuest('g', guestInput('g', 1), { ...SRC, now: T(10) });
      await store.putGuest('g', guestInput('g', 2), { ...SRC, ifMatch: 1, now: T(20) });
      await store.deleteGuest('g', { ...SRC, ifMatch: 2, now: T(30) });
      assert.deepEqual(content((await store.guestAt('g', 1))!), content(guestInput('g', 1)));
      assert.equal((await store.guestAt('g', 2))?.updatedAt, T(20).toISOString());
      assert.equal(await store.guestAt('g', 3), undefined);
      const asOf = async (iso: string) => (await store.guestAsOf('g', iso))?.version;
      assert.equal(await asOf('2026-01-01T12:09:59Z'), undefined);
      assert.equal(await asOf(T(10).toISOString()), 1);
      assert.equal(await asOf('2026-01-01T13:15:00+01:00'), 1, 'any offset is read as the instant it names');
      assert.equal(await asOf('2026-01-01T12:25:00.000Z'), 2);
      assert.equal(await asOf('2026-01-01T12:30:00Z'), undefined, 'deleted by then');
      assert.equal(await asOf('2026-01-02'), undefined);
      await rejection(store.guestAsOf('g', 'yesterday'), UserError);
    }));

  test('a guest with a real pinned ABI reads back equal; lists carry summaries only', () =>
    withStore(target, async (store) => {
      const text = readFileSync(join(FIXTURES, 'libvirt', 'westmere.xml'), 'utf8');
      const loaded = parseGuestText(text, 'westmere.xml');
      const pinned = pinGuest(loaded.spec, hostTarget(HOST_FIXTURE, 'x86_64'), { policy: 'highest-runnable', now: T(0), tool: 'test', visibility: guestVisibility() });
      const g = guestInput('w', 1, { host: 'h', format: 'libvirt', definition: text, spec: loaded.spec, pinned, pinnedMachine: pinned.machine.type, pinnedCpu: pinned.cpu.model, os: 'rhel6.10' });
      await store.putGuest('w', g, SRC);
      await store.putGuest('e', guestInput('e', 1, { pinError: { message: 'no', reasons: [{ code: 'CPU_NO_RUNNABLE_VERSION', level: 'error', subject: 's', message: 'm' }] } }), SRC);
      const got = await store.getGuest('w');
      assert.equal(JSON.stringify(got!.pinned), JSON.stringify(pinned));
      assert.deepEqual(content(got!), content(g));
      assert.equal((await store.getGuest('e'))?.pinError?.reasons[0]?.code, 'CPU_NO_RUNNABLE_VERSION');
      const list = await store.listGuests();
      assert.deepEqual(
        list.map((s) => s.name),
        ['e', 'w'],
      );
      assert.deepEqual(Object.keys(list[1]!).sort(), ['abiClass', 'cpu', 'flags', 'format', 'host', 'machine', 'name', 'os', 'pinnedCpu', 'pinnedMachine', 'source', 'updatedAt', 'version']);
      assert.deepEqual(list[1]!.flags, g.flags);
      assert.deepEqual(
        (await store.getGuestsByNames(['w', 'missing', 'e', 'w'])).map((r) => r.name),
        ['w', 'e'],
      );
    }));

  test('guestClasses groups guests by ABI class and host in SQL, with a sample and the members', () =>
    withStore(target, async (store) => {
      const put = (name: string, abiClass: string, host: string | null) => store.putGuest(name, guestInput(name, 1, { abiClass, host }), SRC);
      for (const [n, c, h] of [
        ['g5', 'A', 'h1'],
        ['g1', 'A', 'h1'],
        ['g2', 'A', 'h2'],
        ['g3', 'B', 'h1'],
        ['g0', 'B', null],
        ['g4', 'B', null],
        ['g6', 'A', 'h1'],
      ] as const)
        await put(n, c, h);
      assert.deepEqual(await store.guestClasses(), [
        { abiClass: 'B', host: null, count: 2, sample: 'g0' },
        { abiClass: 'A', host: 'h1', count: 3, sample: 'g1' },
        { abiClass: 'A', host: 'h2', count: 1, sample: 'g2' },
        { abiClass: 'B', host: 'h1', count: 1, sample: 'g3' },
      ]);
      assert.deepEqual(
        (await store.guestClasses({ members: true })).map((c) => c.members),
        [['g0', 'g4'], ['g1', 'g5', 'g6'], ['g2'], ['g3']],
      );
      const stats = await store.stats();
      assert.deepEqual(stats, { db: target.kind, schemaVersion: SCHEMA_VERSION, hosts: 0, guests: 7, hostVersions: 0, guestVersions: 7, guestClasses: 4 });
    }));
}

function batchTests(target: StoreTarget): void {
  test('putGuests writes a batch in one transaction, with the preconditions of putGuest', () =>
    withStore(target, async (store) => {
      const names = Array.from({ length: 1203 }, (_, i) => `b${String(i).padStart(4, '0')}`);
      const first = await store.putGuests(
        names.map((name) => ({ name, guest: guestInput(name) })),
        { ...SRC, now: T(1) },
      );
      assert.ok(first.every((r) => r.version === 1 && r.created));
      assert.equal((await store.listGuests()).length, names.length);
      await store.deleteGuest('b0002', { ...SRC, ifMatch: 1 });
      const second = await store.putGuests(
        [
          { name: 'b0000', guest: guestInput('b0000', 2), ifMatch: 1 },
          { name: 'b0001', guest: guestInput('b0001', 2), ifMatch: '*' },
          { name: 'b0002', guest: guestInput('b0002', 3) },
          { name: 'new', guest: guestInput('new') },
        ],
        { ...SRC, now: T(2) },
      );
      assert.deepEqual(second, [
        { version: 2, created: false },
        { version: 2, created: false },
        { version: 3, created: true },
        { version: 1, created: true },
      ]);
      assert.deepEqual(content((await store.guestAt('b0000', 2))!), content(guestInput('b0000', 2)));
      assert.equal((await store.getGuest('b0002'))?.definition, guestInput('b0002', 3).definition);
      assert.equal((await store.stats()).guestVersions, names.length + 1 + 4);
    }));

  test('a batch with one refused write writes nothing', () =>
    withStore(target, async (store) => {
      await store.putGuests([{ name: 'a', guest: guestInput('a') }], SRC);
      const batch = (ifMatch?: number) => [
        { name: 'z', guest: guestInput('z') },
        { name: 'a', guest: guestInput('a', 2), ...(ifMatch === undefined ? {} : { ifMatch }) },
      ];
      assert.equal((await rejection(store.putGuests(batch(), SRC), PreconditionRequired)).resource, 'a');
      assert.equal((await rejection(store.putGuests(batch(7), SRC), VersionConflict)).current, 1);
      await rejection(store.putGuests([{ name: 'q', guest: guestInput('q') }, { name: 'q', guest: guestInput('q') }], SRC), UserError);
      assert.equal(await store.getGuest('z'), undefined);
      assert.equal((await store.stats()).guestVersions, 1);
    }));
}

function migrationTests(target: StoreTarget): void {
  test('migrations run once: a second run is a no-op; a newer schema is refused', () =>
    withStore(target, async (store, db) => {
      await store.putHost('h', hostInput(hostProfile()), SRC);
      const { kysely, db: dialect } = openKysely(db.url);
      try {
        assert.deepEqual(await migrateToLatest(kysely, dialect, db.url), []);
        assert.deepEqual(await migrateToLatest(kysely, dialect, db.url), []);
        assert.equal(await schemaVersionOf(kysely), SCHEMA_VERSION);
        assert.equal((await store.getHost('h'))?.version, 1);
        await sql`update schema_version set version = ${SCHEMA_VERSION + 1}`.execute(kysely);
      } finally {
        await kysely.destroy();
      }
      const refused = await rejection(openStore(db.url), SchemaTooNew);
      assert.match(refused.message, /newer than this guestabi/);
    }));

  test('a new database gets every migration and records the schema version', async () => {
    const db = await target.open();
    const { kysely, db: dialect } = openKysely(db.url);
    try {
      assert.deepEqual(await migrateToLatest(kysely, dialect, db.url), ['0001_initial']);
      assert.equal(await schemaVersionOf(kysely), SCHEMA_VERSION);
    } finally {
      await kysely.destroy();
      await db.drop();
    }
  });
}

for (const target of storeTargets()) {
  describe(`store on ${target.kind}`, { skip: target.skip }, () => {
    hostTests(target);
    preconditionTests(target);
    guestTests(target);
    batchTests(target);
    migrationTests(target);
  });
}
