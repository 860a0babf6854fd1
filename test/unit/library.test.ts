import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from '../helpers.js';

/**
 * guestabi as a library: imported by its package name, which Node resolves through the package's
 * own "exports" (package.json), as a dependent project would import it.
 */

const HOSTS = join(FIXTURES, 'hosts');
const EXAMPLE = join(FIXTURES, 'library-example.mjs');

test('library: the package imports by its name, and pins and checks a guest', async () => {
  const lib = await import('guestabi');
  const a = lib.hostTarget(join(HOSTS, 'host-7.2-tcg.json'), 'x86_64').hosts[0]!;
  const b = lib.hostTarget(join(HOSTS, 'host-10.0-tcg.json'), 'x86_64').hosts[0]!;
  const guest = lib.parseGuestText('-nodefaults -machine pc-q35-7.2 -cpu Westmere -m 2048', 'guest').spec;

  const pinned = lib.pinGuest(guest, { kind: 'cluster', name: 'a+b', hosts: lib.groupHosts([a, b]) }, { policy: 'highest-runnable', now: new Date(0), tool: 'test', visibility: lib.guestVisibility() });
  assert.equal(pinned.machine.type, 'pc-q35-7.2');
  assert.match(pinned.cpu.model ?? '', /^Westmere-v\d+$/);
  assert.ok(lib.isValid(lib.PinnedAbi, pinned), 'a PinnedAbi as its schema says');

  const result = lib.checkMigration({ source: lib.pinnedSpec(guest, pinned), from: a, to: b, rules: lib.migrationRules(), bothWays: true });
  assert.equal(result.outcome, 'safe');
  assert.ok(lib.isValid(lib.CheckResult, result));
  for (const r of result.forward.reasons) assert.ok(lib.isCode(r.code), r.code);
  assert.equal(lib.SCHEMAS.verdict, lib.CheckResult);
});

test('library: a refusal is a ResolveError with its reasons, a GuestabiError with exit code 1', async () => {
  const lib = await import('guestabi');
  const old = lib.hostTarget(join(HOSTS, 'host-5.2-tcg.json'), 'x86_64');
  const guest = lib.parseGuestText('-nodefaults -machine pc-q35-5.2 -cpu Skylake-Server -m 2048', 'guest').spec;
  assert.throws(
    () => lib.pinGuest(guest, old, { policy: 'highest-runnable', now: new Date(0), tool: 'test', visibility: lib.guestVisibility() }),
    (e: unknown) => {
      assert.ok(e instanceof lib.ResolveError && e instanceof lib.GuestabiError);
      assert.equal(e.exitCode, 1);
      const json = e.toJSON();
      assert.equal(json.error, e.message);
      assert.deepEqual(json.reasons, e.reasons);
      assert.ok(e.reasons.length > 0 && e.reasons.every((r) => r.code === 'CPU_NO_RUNNABLE_VERSION'));
      return true;
    },
  );
});

test('library: every error class guestabi throws has one base, with its exit code and JSON form', async () => {
  const lib = await import('guestabi');
  const cases: [InstanceType<typeof lib.GuestabiError>, number, Record<string, unknown>][] = [
    [new lib.UserError('no such file', 'guest.xml'), 2, { error: 'guest.xml: no such file', where: 'guest.xml' }],
    [new lib.RunError('QEMU crashed'), 2, { error: 'QEMU crashed' }],
    [new lib.HelpRequested('guestabi codes'), 0, { error: 'guestabi codes' }],
    [new lib.CatalogNotFound('no catalog for QEMU 1.0'), 2, { error: 'no catalog for QEMU 1.0' }],
    [new lib.ResolveError('no answer', []), 1, { error: 'no answer', reasons: [] }],
    [new lib.QmpCommandError('quit', 'GenericError', 'no'), 2, { error: 'QMP quit: GenericError: no' }],
    [new lib.QmpTimeoutError('quit', 5), 2, { error: 'QMP quit: no reply within 5 ms' }],
    [new lib.QmpClosedError(undefined, 'eof'), 2, { error: 'QMP connection closed (eof)' }],
    [new lib.ReplayMismatchError('sent another command'), 2, { error: 'sent another command' }],
    [new lib.HttpProblem(401, 'UNAUTHORIZED', 'who are you'), 2, { error: 'who are you', code: 'UNAUTHORIZED' }],
    [new lib.VersionConflict('host', 'h', 1, 2), 2, { error: "If-Match: host 'h' is at version 2, not 1: someone changed it since you read it; read it again and retry", code: 'VERSION_CONFLICT', where: 'If-Match' }],
    [new lib.NotFound('guest', 'g'), 2, { error: "no guest called 'g'", code: 'GUEST_UNKNOWN' }],
    [new lib.SchemaTooNew('db', 9, 1), 2, { error: 'db: the database has schema version 9, newer than this guestabi knows (1); use a guestabi at least as new as the one that wrote it', where: 'db' }],
  ];
  for (const [e, exit, json] of cases) {
    assert.ok(e instanceof lib.GuestabiError && e instanceof Error, e.name);
    assert.equal(e.exitCode, exit, e.name);
    assert.deepEqual(JSON.parse(JSON.stringify(e)), json, e.name);
  }
});

test('library: the store opens through the package, loaded on first call', async () => {
  const lib = await import('guestabi');
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-library-'));
  try {
    const store = await lib.openStore(join(dir, 'store.db'));
    try {
      assert.deepEqual(await store.listHosts(), []);
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('library: the README example runs as written, against two host profiles', () => {
  const readme = readFileSync(join(FIXTURES, '..', '..', 'README.md'), 'utf8');
  const code = readFileSync(EXAMPLE, 'utf8');
  assert.ok(readme.includes('```js\n' + code + '```\n'), 'README.md "Use it as a library" shows test/fixtures/library-example.mjs verbatim');
  const r = spawnSync(process.execPath, [EXAMPLE, join(HOSTS, 'host-7.2-tcg.json'), join(HOSTS, 'host-10.0-tcg.json')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'as written: impossible MACHINE_TYPE_DIFFERS\npinned: pc-q35-7.2 Westmere-v1 safe\n');
});
