import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { checkMigration } from '../../src/check/check.js';
import { migrationRules } from '../../src/io/rules-files.js';
import { parseArgvText } from '../../src/formats/argv-in.js';
import { parseLibvirtXml } from '../../src/formats/libvirt-in.js';
import { hostTarget } from '../../src/io/host-files.js';
import { readFileSync } from 'node:fs';
import { CheckResult } from '../../src/model/verdict.js';
import { isValid } from '../../src/model/validate.js';
import { FIXTURES } from '../helpers.js';

const host = (v: string) => hostTarget(join(FIXTURES, 'hosts', `host-${v}.json`), 'x86_64').hosts[0]!;
const rules = migrationRules();
function check(guest: string, from: string, to: string, dest?: string, bothWays = false) {
  return checkMigration({
    source: parseArgvText(guest, 'guest'),
    destination: dest ? parseArgvText(dest, 'dest') : undefined,
    from: host(from),
    to: host(to),
    rules,
    bothWays,
  });
}
const codes = (r: ReturnType<typeof check>) => r.forward.reasons.map((x) => x.code);
const B = '-m 128 -nodefaults -cpu qemu64';

test('the issue\'s facts: pc-q35-7.2 goes 7.2 -> 10.0 and back; the rollback fence is the first newer q35 type', () => {
  const r = check(`-machine pc-q35-7.2 ${B} -device virtio-net-pci`, '7.2-tcg', '10.0-tcg', undefined, true);
  assert.ok(isValid(CheckResult, r));
  assert.equal(r.forward.outcome, 'safe');
  assert.equal(r.rollback!.outcome, 'safe');
  assert.equal(r.outcome, 'safe');
  const fence = r.fence!.find((f) => f.subject === 'pc-q35')!;
  assert.match(fence.message, /pc-q35-8\.0/);
  assert.ok(fence.details!.includes('pc-q35-10.0'));
});

test('an alias resolved on each side gives two machine types: QEMU refuses the stream', () => {
  const r = check(`-machine q35 ${B}`, '7.2-tcg', '10.0-tcg');
  assert.equal(r.outcome, 'impossible');
  const m = r.forward.reasons.find((x) => x.code === 'MACHINE_TYPE_DIFFERS')!;
  assert.deepEqual([m.a, m.b], ['pc-q35-7.2', 'pc-q35-10.0']);
  assert.ok(m.remedy);
});

test('another CPU model on the destination migrates silently: unsafe, with both sides\' values', () => {
  const r = check(`-machine pc-q35-7.2 ${B}`, '7.2-tcg', '7.2-tcg', `-machine pc-q35-7.2 -m 128 -nodefaults -cpu Westmere`);
  assert.equal(r.outcome, 'unsafe');
  const d = r.forward.reasons.find((x) => x.code === 'CPU_DEFINITION_DIFFERS')!;
  assert.ok(d.details!.some((x) => x.startsWith('family: 15 -> 6')));
});

test('without enforce a build that lacks features filters them silently; with enforce it refuses', () => {
  const filtered = check(`-machine pc-q35-7.2 -m 128 -nodefaults -cpu EPYC-v1`, '10.0-tcg', '7.2-tcg');
  assert.equal(filtered.outcome, 'unsafe');
  assert.ok(codes(filtered).includes('CPU_FEATURE_FILTERED'));
  const enforced = check(`-machine pc-q35-7.2 ${B}`, '7.2-tcg', '7.2-tcg', '-machine pc-q35-7.2 -m 128 -nodefaults -cpu Nehalem-v2,enforce');
  assert.equal(enforced.outcome, 'impossible');
  assert.ok(codes(enforced).includes('CPU_FEATURE_MISSING'));
});

test('catalog differences between builds: VGA resolution on pc-q35-5.2, use-disabled-flag on pc-q35-4.2', () => {
  const vga = check(`-machine pc-q35-5.2 ${B} -device VGA`, '5.2-tcg', '10.0-tcg');
  const x = vga.forward.reasons.find((r) => r.subject === 'VGA.xres')!;
  assert.deepEqual([x.a, x.b, x.effect], [1024, 1280, 'unsafe']);
  const flag = check(`-machine pc-q35-4.2 ${B} -device virtio-net-pci`, '5.2-tcg', '7.2-tcg');
  assert.ok(flag.forward.reasons.some((r) => r.subject === 'virtio-net-pci.use-disabled-flag'));
});

test('virtio legacy/modern and vectors mismatches fail; a device on one side only is impossible or unsafe', () => {
  const legacy = check(`-machine pc-q35-7.2 ${B} -device virtio-net-pci,disable-legacy=off`, '7.2-tcg', '7.2-tcg', `-machine pc-q35-7.2 ${B} -device virtio-net-pci,disable-legacy=on`);
  assert.equal(legacy.outcome, 'impossible');
  const srcOnly = check(`-machine pc-q35-7.2 ${B} -device e1000`, '7.2-tcg', '7.2-tcg', `-machine pc-q35-7.2 ${B}`);
  assert.ok(codes(srcOnly).includes('DEVICE_ONLY_ON_SOURCE'));
  assert.equal(srcOnly.outcome, 'impossible');
  const dstOnly = check(`-machine pc-q35-7.2 ${B}`, '7.2-tcg', '7.2-tcg', `-machine pc-q35-7.2 ${B} -device e1000`);
  assert.equal(dstOnly.outcome, 'unsafe');
});

test('memory and vCPU differences', () => {
  assert.equal(check(`-machine pc-q35-7.2 ${B}`, '7.2-tcg', '7.2-tcg', '-machine pc-q35-7.2 -m 256 -nodefaults -cpu qemu64').outcome, 'impossible');
  assert.equal(check(`-machine pc-q35-7.2 ${B} -smp 2`, '7.2-tcg', '7.2-tcg', `-machine pc-q35-7.2 ${B} -smp 1`).outcome, 'impossible');
  assert.equal(check(`-machine pc-q35-7.2 ${B} -smp 1`, '7.2-tcg', '7.2-tcg', `-machine pc-q35-7.2 ${B} -smp 2`).outcome, 'unsafe');
});

test('a machine type the destination lacks, and a build that lacks an option, are impossible', () => {
  assert.ok(codes(check(`-machine pc-q35-9.0 ${B}`, '10.0-tcg', '7.2-tcg')).includes('MACHINE_TYPE_UNKNOWN'));
  const r = check(`-machine pc-q35-7.2 -no-hpet ${B}`, '7.2-tcg', '10.0-tcg');
  assert.equal(r.outcome, 'impossible');
  assert.ok(codes(r).includes('OPTION_UNKNOWN'));
});

test('unknown, never safe: a device the catalogs do not know across builds, differing unmodelled options', () => {
  const r = check(`-machine pc-q35-7.2 ${B} -device pvpanic`, '7.2-tcg', '10.0-tcg');
  assert.equal(r.outcome, 'unknown');
  assert.ok(codes(r).includes('DEVICE_NOT_IN_CATALOG'));
  const same = check(`-machine pc-q35-7.2 ${B} -device pvpanic`, '7.2-tcg', '7.2-tcg');
  assert.equal(same.outcome, 'safe', 'the same build and settings: the same device');
  const opts = check(`-machine pc-q35-7.2 ${B} -smbios type=1,serial=a`, '7.2-tcg', '7.2-tcg', `-machine pc-q35-7.2 ${B} -smbios type=1,serial=b`);
  assert.equal(opts.outcome, 'unknown');
});

test('host-passthrough between different builds compares the two host CPUs', () => {
  assert.equal(check(`-machine pc-q35-7.2 -m 128 -nodefaults -cpu max`, '7.2-tcg', '10.0-tcg').outcome, 'unsafe');
  assert.equal(check(`-machine pc-q35-10.0 -m 128 -nodefaults -cpu max`, '10.0-tcg', '10.0-tcg').outcome, 'safe');
});

test('a libvirt guest from virsh dumpxml checks like its command line', () => {
  const { spec } = parseLibvirtXml(readFileSync(join(FIXTURES, 'libvirt', 'westmere.xml'), 'utf8'), 'westmere.xml');
  const r = checkMigration({ source: spec, from: host('7.2-tcg'), to: host('10.0-tcg'), rules, bothWays: true });
  assert.ok(['safe', 'unsafe', 'unknown'].includes(r.forward.outcome));
  for (const reason of [...r.forward.reasons, ...r.rollback!.reasons]) {
    assert.ok(reason.code && reason.subject && reason.message, 'every reason has a code, a subject and a message');
  }
});

test('confidential guests and passed-through devices are blocked', () => {
  const sev = check(`-machine pc-q35-7.2 ${B} -object sev-guest,id=s0`, '7.2-tcg', '7.2-tcg');
  assert.ok(codes(sev).includes('MIGRATION_BLOCKED'));
  assert.equal(sev.outcome, 'impossible');
});
