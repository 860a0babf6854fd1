import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkMigration } from '../../src/check/check.js';
import { parseGuestText } from '../../src/formats/guest-input.js';
import { findCatalog } from '../../src/io/catalog-files.js';
import { loadHostProfile } from '../../src/io/host-files.js';
import { migrationRules } from '../../src/io/rules-files.js';
import { runHook } from '../../src/hook/run.js';
import { hookScript } from '../../src/hook/script.js';
import { hookStatus } from '../../src/hook/status.js';
import { HOOK_CONFIG_SCHEMA_ID, HookDecision, type HookConfig } from '../../src/model/hook.js';
import { validate } from '../../src/model/validate.js';
import { indexHost } from '../../src/resolve/target.js';
import { FIXTURES, smallDomain } from '../helpers.js';
import { api, testServer, testTokens } from '../server-helpers.js';

/**
 * Issue 15: the libvirt hook's decisions, on the fixture host profiles (the live test drives the
 * installed script through libvirtd): an incoming migration this host cannot give exactly is
 * refused, one it can is let through as unknown without an inventory (never safe: the source build
 * is not known) and checked against the source's profile with one; a start is logged, refused only
 * when configured; a stale profile is unknown; and the script never blocks libvirt on its own failure.
 */
const HOST = join(FIXTURES, 'hosts', 'host-7.2-tcg.json');
const domain = (name: string, machine: string, features: string) => smallDomain(name, { machine, features });
const OK = domain('ok', 'pc-q35-7.2', '');
const DROPS = domain('drops', 'pc-q35-7.2', "<feature policy='require' name='avx512f'/>");
const NO_MACHINE = domain('nomachine', 'pc-q35-10.0', '');

function state(over: Partial<HookConfig> = {}): { dir: string; emulator: string } {
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-hook-'));
  const emulator = join(dir, 'qemu-system-x86_64');
  writeFileSync(emulator, 'a stand-in for the emulator binary');
  copyFileSync(HOST, join(dir, 'host.json'));
  const profile = loadHostProfile(HOST);
  const config: HookConfig = {
    schema: HOOK_CONFIG_SCHEMA_ID,
    installedAt: '2026-12-02T00:00:00Z',
    uri: 'qemu:///system',
    script: join(dir, 'hooks', 'guestabi'),
    createdHooksDir: true,
    host: profile.name,
    profiles: [{ arch: 'x86_64', accel: 'tcg', file: 'host.json', qemu: '7.2.22', catalog: profile.qemu.catalog, emulator: { path: emulator, size: 34, mtimeMs: 0 }, from: 'probe' }],
    starts: 'log',
    unknown: 'allow',
    timeoutSeconds: 10,
    ...over,
  };
  utimesSync(emulator, 1, 0);
  config.profiles[0]!.emulator.mtimeMs = 0;
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return { dir, emulator };
}
// The domain names the emulator it runs; the stand-in takes its place.
const on = (xml: string, emulator: string) => xml.replace('/usr/bin/qemu-system-x86_64', emulator);
const codes = (d: HookDecision | undefined) => d!.reasons.map((r) => r.code);

test('hook: without an inventory, an incoming guest this host gives exactly is let through as unknown, one it would change or cannot start is refused', async () => {
  const { dir, emulator } = state();
  try {
    const ok = await runHook(dir, ['ok', 'migrate', 'begin', '-'], on(OK, emulator));
    assert.equal(ok.refuse, false);
    assert.equal(ok.decision!.outcome, 'unknown', 'never safe: the source build is not known');
    assert.equal(ok.decision!.source, 'xml');
    assert.ok(codes(ok.decision).includes('ARRIVAL_SOURCE_XML') && codes(ok.decision).includes('PLATFORM_GIVEN'));
    const drops = await runHook(dir, ['drops', 'migrate', 'begin', '-'], on(DROPS, emulator));
    assert.equal(drops.refuse, true);
    assert.equal(drops.decision!.outcome, 'unsafe');
    assert.ok(codes(drops.decision).includes('CPU_FEATURE_FILTERED'));
    assert.match(drops.message!, /refuses the incoming migration of drops \(unsafe\): CPU_FEATURE_FILTERED avx512f/);
    const none = await runHook(dir, ['nomachine', 'migrate', 'begin', '-'], on(NO_MACHINE, emulator));
    assert.equal(none.refuse, true);
    assert.equal(none.decision!.outcome, 'impossible');
    assert.ok(codes(none.decision).includes('MACHINE_TYPE_UNKNOWN'));
    // Every other operation is none of the hook's business.
    assert.deepEqual(await runHook(dir, ['ok', 'started', 'begin', '-'], ''), { refuse: false });
    const log = readFileSync(join(dir, 'hook.log'), 'utf8').trim().split('\n').map((l) => validate(HookDecision, JSON.parse(l), 'hook.log'));
    assert.deepEqual(log.map((d) => [d.domain, d.action]), [['ok', 'allow'], ['drops', 'refuse'], ['nomachine', 'refuse']]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hook: a start is logged with what validate finds, refused only with --starts refuse; unknown refused only with --unknown refuse', async () => {
  const logged = state();
  const strict = state({ starts: 'refuse', unknown: 'refuse' });
  try {
    const a = await runHook(logged.dir, ['drops', 'prepare', 'begin', '-'], on(DROPS, logged.emulator));
    assert.equal(a.refuse, false);
    assert.equal(a.decision!.outcome, 'unsafe');
    assert.ok(a.decision!.findings!.some((f) => f.code === 'CPU_NOT_ENFORCED' && /avx512f/.test(f.message)), 'validate says the feature is dropped');
    const b = await runHook(strict.dir, ['drops', 'prepare', 'begin', '-'], on(DROPS, strict.emulator));
    assert.equal(b.refuse, true);
    assert.match(b.message!, /refuses the start of drops/);
    const c = await runHook(strict.dir, ['ok', 'prepare', 'begin', '-'], on(OK, strict.emulator));
    assert.equal(c.refuse, false, 'a start this host gives exactly goes through');
    assert.equal(c.decision!.outcome, 'safe');
    const d = await runHook(strict.dir, ['ok', 'migrate', 'begin', '-'], on(OK, strict.emulator));
    assert.equal(d.refuse, true, '--unknown refuse: without the source host, an incoming guest is refused');
  } finally {
    rmSync(logged.dir, { recursive: true, force: true });
    rmSync(strict.dir, { recursive: true, force: true });
  }
});

test('hook: a profile whose emulator changed since install, or another emulator, is unknown (never a refusal by default)', async () => {
  const { dir, emulator } = state();
  try {
    const other = await runHook(dir, ['ok', 'migrate', 'begin', '-'], OK);
    assert.equal(other.refuse, false);
    assert.equal(other.decision!.outcome, 'unknown');
    assert.match(other.decision!.reasons[0]!.message, /the domain runs \/usr\/bin\/qemu-system-x86_64/);
    writeFileSync(emulator, 'another build of the emulator, upgraded in place');
    const stale = await runHook(dir, ['drops', 'migrate', 'begin', '-'], on(DROPS, emulator));
    assert.equal(stale.refuse, false);
    assert.deepEqual(codes(stale.decision), ['HOOK_NO_PROFILE']);
    assert.match(stale.decision!.reasons[0]!.message, /changed since install/);
    const s = hookStatus(dir, join(dir, 'hooks'));
    assert.match(s.profiles[0]!.stale ?? '', /changed since install/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("hook: with an inventory, an incoming guest is checked against its source host's profile there; an inventory that does not answer leaves the XML", async () => {
  const tokens = testTokens();
  const db = mkdtempSync(join(tmpdir(), 'guestabi-hook-db-'));
  const server = await testServer(join(db, 'g.db'), tokens);
  const { dir, emulator } = state({ inventory: { url: server.url, token: tokens.read } });
  const down = state({ inventory: { url: 'http://127.0.0.1:9/' } });
  try {
    const put = api(server.url, tokens.write);
    const source = JSON.parse(readFileSync(join(FIXTURES, 'hosts', 'host-5.2-tcg.json'), 'utf8')) as { name: string };
    assert.equal((await put('PUT', '/api/hosts/old-host', { ...source, name: 'old-host' })).status, 201);
    const guest = domain('moving', 'pc-q35-5.2', '');
    assert.equal((await put('PUT', '/api/guests/moving', { definition: guest, format: 'libvirt', host: 'old-host' })).status, 201);
    const r = await runHook(dir, ['moving', 'migrate', 'begin', '-'], on(guest, emulator));
    assert.equal(r.decision!.source, 'inventory');
    assert.equal(r.decision!.from, 'old-host');
    const rules = migrationRules();
    const expected = checkMigration({
      source: parseGuestText(guest, 'moving', 'libvirt').spec,
      from: indexHost({ ...loadHostProfile(join(FIXTURES, 'hosts', 'host-5.2-tcg.json')), name: 'old-host' }, findCatalog('5.2')),
      to: indexHost(loadHostProfile(HOST), findCatalog('7.2')),
      rules,
    });
    assert.equal(r.decision!.outcome, expected.outcome, "check's verdict, source to here");
    assert.equal(r.refuse, expected.outcome === 'unsafe' || expected.outcome === 'impossible');
    const unknownGuest = await runHook(dir, ['not-there', 'migrate', 'begin', '-'], on(OK, emulator));
    assert.equal(unknownGuest.decision!.source, 'xml');
    assert.ok(codes(unknownGuest.decision).includes('HOOK_INVENTORY_UNANSWERED'));
    const unreachable = await runHook(down.dir, ['ok', 'migrate', 'begin', '-'], on(OK, down.emulator));
    assert.equal(unreachable.decision!.source, 'xml');
    assert.match(unreachable.decision!.reasons[0]!.message, /did not give the source host/);
  } finally {
    await server.close();
    for (const d of [dir, down.dir, db]) rmSync(d, { recursive: true, force: true });
  }
});

test('hook script: a refusal becomes exit 1 with the reason on stderr; a crash, a missing node or a timeout lets libvirt proceed, logged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-hook-script-'));
  try {
    const fake = (name: string, body: string) => {
      const f = join(dir, name);
      writeFileSync(f, `#!/bin/sh\n${body}\n`);
      chmodSync(f, 0o755);
      return f;
    };
    const run = (node: string, timeoutSeconds = 10, op = 'migrate') => {
      const script = fake('hook', hookScript({ node, guestabi: '/nonexistent/guestabi.js', state: dir, timeoutSeconds }).replace(/^#!\/bin\/sh\n/, ''));
      return spawnSync(script, ['web01', op, 'begin', '-'], { input: OK, encoding: 'utf8' });
    };
    const refuse = run(fake('refuses', 'cat >/dev/null; echo "guestabi refuses it" >&2; echo "<domain/>"; exit 3'));
    assert.equal(refuse.status, 1);
    assert.equal(refuse.stderr.trim(), 'guestabi refuses it');
    assert.equal(refuse.stdout, '', 'nothing on stdout: libvirt would take it as the new domain XML');
    const allow = run(fake('allows', 'cat >/dev/null; echo "<domain/>"; exit 0'));
    assert.equal(allow.status, 0);
    assert.equal(allow.stdout, '');
    const crash = run(fake('crashes', 'echo "TypeError: boom" >&2; exit 1'));
    assert.equal(crash.status, 0, 'its own failure never blocks libvirt');
    const missing = run(join(dir, 'no-such-node'));
    assert.equal(missing.status, 0);
    // Far longer than the timeout, which kills it: no race with a busy machine's scheduling.
    const slow = run(fake('slow', 'sleep 600'), 0.2);
    assert.equal(slow.status, 0);
    const other = run(fake('never-called', 'exit 3'), 10, 'stopped');
    assert.equal(other.status, 0, 'operations other than migrate and prepare are let through at once');
    const failures = readFileSync(join(dir, 'hook.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { why: string; detail: string; domain: string });
    assert.deepEqual(failures.map((f) => f.why), ['guestabi failed (exit 1); libvirt proceeds', 'guestabi failed (exit 127); libvirt proceeds', 'guestabi did not decide within 0.2 s; libvirt proceeds']);
    assert.match(failures[0]!.detail, /TypeError: boom/);
    assert.equal(failures[0]!.domain, 'web01');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
