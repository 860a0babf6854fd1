import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { registerData, vmmPolicies } from '../../src/io/register-files.js';
import { createVm, getReg, regList, runVm, setReg } from '../../src/registers/kernel.js';
import { registerCheck, registerMigration } from '../../src/registers/migrate.js';
import { lookupRelease, registerDataProblems } from '../../src/registers/releases.js';
import type { HostLevels, RegisterData, Release } from '../../src/model/registers.js';
import { cli, FIXTURES } from '../helpers.js';
import { isValid } from '../../src/model/validate.js';
import { RegisterCheck, RegisterMatrix } from '../../src/model/registers.js';

const data = registerData();
const policies = vmmPolicies(data);
const row = (r: string): Release => data.releases.find((x) => x.release === r)!;
const LEVELS: HostLevels = { KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1: 'AVAIL', KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2: 'NOT_REQUIRED', KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3: 'AVAIL' };

interface Steps {
  hypercalls: { selftest: string; releases: string[]; registers: Record<string, { reset: number; set: number; then?: number; beyond: number; limit: number }> }[];
  getRegList: { selftest: string; releases: string[]; blessed: string[] }[];
}
const selftests = parse(readFileSync(join(FIXTURES, 'registers/selftests.yaml'), 'utf8')) as Steps;

for (const s of selftests.hypercalls) {
  for (const release of s.releases) {
    test(`selftest replay: ${s.selftest.split(':')[0]} hypercalls.c on Linux ${release}`, () => {
      const vm = createVm(data, row(release), { psci02: false });
      const ok = (value: number) => ({ ok: true, value });
      for (const [name, x] of Object.entries(s.registers)) {
        // test_fw_regs_before_vm_start
        assert.deepEqual(getReg(vm, name), ok(x.reset), `${name}: the first read is its reset value`);
        assert.deepEqual(setReg(vm, name, x.set), ok(x.set), `${name}: set ${x.set}`);
        assert.deepEqual(getReg(vm, name), ok(x.set));
        if (x.then !== undefined) assert.deepEqual(setReg(vm, name, x.then), ok(x.then));
        assert.deepEqual(setReg(vm, name, x.beyond), { ok: false, errno: 'EINVAL' }, `${name}: a bit beyond the supported ones`);
      }
      runVm(vm);
      for (const name of Object.keys(s.registers)) {
        // test_fw_regs_after_vm_start
        assert.deepEqual(getReg(vm, name), ok(0), `${name}: still the value written before the run`);
        assert.deepEqual(setReg(vm, name, s.registers[name]!.limit), { ok: false, errno: 'EBUSY' }, `${name}: frozen once the VM has run`);
        assert.deepEqual(setReg(vm, name, 0), ok(0), `${name}: the same value is still accepted (hypercalls.c:552-560)`);
      }
    });
  }
}

for (const s of selftests.getRegList) {
  for (const release of s.releases) {
    test(`selftest replay: ${s.selftest.split(':')[0]} get-reg-list.c on Linux ${release}`, () => {
      const vm = createVm(data, row(release), { psci02: false, levels: LEVELS });
      const listed = regList(vm);
      for (const b of s.blessed) assert.ok(listed.includes(b), `${b} is blessed and must be listed`);
      for (const name of listed) {
        const v = getReg(vm, name);
        assert.equal(v.ok, true, `${name} reads`);
        if (v.ok === true) assert.equal(setReg(vm, name, v.value).ok, true, `${name} takes back ${v.value}`);
      }
      // Without PSCI 0.2 the version reads 0.1 and only 0.1 is accepted.
      assert.deepEqual(getReg(vm, 'KVM_REG_ARM_PSCI_VERSION'), { ok: true, value: 1 });
      assert.deepEqual(setReg(vm, 'KVM_REG_ARM_PSCI_VERSION', 0x10000), { ok: false, errno: 'EINVAL' });
    });
  }
}

test('the kernel rules beyond the selftests: PSCI versions per release, workaround levels against the host', () => {
  const vm = createVm(data, row('5.19.0'), { levels: LEVELS });
  assert.deepEqual(getReg(vm, 'KVM_REG_ARM_PSCI_VERSION'), { ok: true, value: 0x10001 }, '1.1 is 5.19\u2019s newest');
  assert.deepEqual(setReg(vm, 'KVM_REG_ARM_PSCI_VERSION', 0x10003), { ok: false, errno: 'EINVAL' }, '1.3 came with 6.13');
  assert.deepEqual(setReg(vm, 'KVM_REG_ARM_PSCI_VERSION', 0x10000), { ok: true, value: 0x10000 });
  assert.deepEqual(setReg(vm, 'KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1', 2), { ok: false, errno: 'EINVAL' }, 'NOT_REQUIRED above a host at AVAIL');
  assert.deepEqual(setReg(vm, 'KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1', 0), { ok: true, value: 1 }, 'a lower level loads; reads stay the host\u2019s');
  assert.deepEqual(setReg(vm, 'KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2', 2), { ok: true, value: 3 }, 'AVAIL narrows to NOT_REQUIRED');
  assert.deepEqual(setReg(vm, 'KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_2', 0x20), { ok: false, errno: 'EINVAL' });
  assert.deepEqual(getReg(vm, 'KVM_REG_ARM_VENDOR_HYP_BMAP_2'), { ok: false, errno: 'ENOENT' });
  assert.equal(getReg(createVm(data, row('5.19.0')), 'KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_1').ok, 'unknown', 'no host level given');
});

const at = (kernel: string, vmm = 'qemu', levels: HostLevels | null = LEVELS) => ({ kernel, vmm, ...(levels ? { levels } : {}) });
const codes = (v: { reasons: { code: string }[] }) => v.reasons.map((r) => r.code).sort();

test('rollback 6.13 -> 5.19 under QEMU is impossible (PSCI 1.3), and a VMM that pins PSCI 1.1 makes it safe', () => {
  const v = registerMigration(data, policies, at('6.13.2'), at('5.19.0'), 'rollback');
  assert.equal(v.outcome, 'impossible');
  const refused = v.reasons.find((r) => r.code === 'REGISTER_VALUE_REFUSED')!;
  assert.equal(refused.subject, 'KVM_REG_ARM_PSCI_VERSION');
  assert.match(String(refused.a), /^1\.3/);
  assert.ok(v.fence.some((f) => /pins KVM_REG_ARM_PSCI_VERSION to 1\.1/.test(f.message)), JSON.stringify(v.fence));
  const pinned = registerMigration(data, policies, at('6.13.2', 'pin-5.15'), at('5.19.0', 'pin-5.15'), 'rollback');
  assert.equal(pinned.outcome, 'safe', JSON.stringify(pinned.reasons));
  assert.deepEqual(pinned.fence, []);
});

test('a register the destination kernel does not list: impossible, with the kernel fence (no VMM helps)', () => {
  const v = registerMigration(data, policies, at('7.1.3', 'pin-5.15'), at('6.14.0', 'pin-5.15'), 'rollback');
  assert.equal(v.outcome, 'impossible');
  assert.deepEqual(codes(v).filter((c) => c !== 'REGISTERS_CARRIED'), ['REGISTER_MISSING']);
  assert.match(v.fence[0]!.message, /Linux 7\.1\.3 or newer/);
  const back = registerMigration(data, policies, at('5.19.0'), at('5.15.0'), 'rollback');
  assert.match(back.fence.find((f) => f.message.startsWith('kernel'))!.message, /Linux 5\.19\.0 or newer/);
});

test('services a guest had without a register: gained on a newer kernel (unsafe), the same on an equal one (safe)', () => {
  const v = registerMigration(data, policies, at('5.10.0'), at('5.19.0'), 'forward');
  assert.equal(v.outcome, 'unsafe');
  const trng = v.reasons.find((r) => r.code === 'REGISTER_BITS_DIFFER' && r.subject === 'KVM_REG_ARM_STD_BMAP')!;
  assert.match(trng.message, /gains TRNG_V1_0/);
  assert.equal(registerMigration(data, policies, at('5.15.0', 'qemu', { ...LEVELS, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3: 'NOT_AVAIL' }), at('5.19.0', 'qemu', { ...LEVELS, KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3: 'NOT_AVAIL' }), 'forward').outcome, 'safe');
  assert.equal(registerMigration(data, policies, at('5.10.0'), at('5.15.0'), 'forward').outcome, 'unsafe', '5.15 answers TRNG and the vendor calls, 5.10 did not');
});

test('never safe without the facts: no levels, an unread release between rows that differ, a release older than the data', () => {
  assert.equal(registerMigration(data, policies, at('6.1.10', 'qemu', null), at('6.1.10', 'qemu', null), 'forward').outcome, 'unknown');
  const mid = lookupRelease(data, '5.10.100');
  assert.equal(mid.row?.release, '5.10.0');
  assert.ok(mid.uncertain.has('KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3'), 'WORKAROUND_3 was backported somewhere between 5.10.0 and 5.10.198');
  assert.equal(registerMigration(data, policies, at('5.10.100'), at('5.10.0'), 'rollback').outcome, 'unknown');
  assert.equal(registerMigration(data, policies, at('4.19.0'), at('5.10.0'), 'forward').outcome, 'unknown');
  const between = lookupRelease(data, '6.4.0');
  assert.equal(between.row?.release, '6.2.1');
  assert.equal(between.uncertain.size, 0, '6.2.1 and 6.6.9 agree');
  const debian = lookupRelease(data, '6.1.0-27-arm64');
  assert.deepEqual([debian.row?.release, debian.uncertain.size], ['6.0.1', 0], 'a distribution kernel name: 6.1.0, between 6.0.1 and 6.1.10, which agree');
});

test('forward and rollback together; the same kernel and VMM both ways is safe', () => {
  const r = registerCheck(data, policies, at('6.6.9'), at('6.6.9'));
  assert.equal(r.outcome, 'safe');
  assert.equal(r.forward.reasons.find((x) => x.code === 'REGISTERS_CARRIED')?.details?.length, 8, '7 listed, and VENDOR_HYP_BMAP_2 that neither lists');
});

test('register data that names what does not exist is refused with the field', () => {
  const bad = structuredClone(data) as RegisterData;
  bad.releases[0]!.registers['KVM_REG_ARM_STD_BMAP'] = { bits: ['NOPE'], default: [] };
  assert.deepEqual(registerDataProblems(bad), ['releases[0] (5.10.0).registers.KVM_REG_ARM_STD_BMAP: no bit NOPE']);
});

test('guestabi registers: diff exit codes and JSON, matrix, list; bad input is exit 2 naming the flag or field', () => {
  const L = 'WORKAROUND_1=AVAIL,WORKAROUND_2=NOT_REQUIRED,WORKAROUND_3=AVAIL';
  const safe = cli(['registers', 'diff', '--from', '6.1.10', '--to', '6.2.1', '--levels', L, '--json']);
  assert.equal(safe.code, 0, safe.stderr);
  assert.equal(JSON.parse(safe.stdout).schema, 'guestabi/register-verdict@1');
  assert.ok(isValid(RegisterCheck, JSON.parse(safe.stdout)), 'diff --json is a RegisterCheck (schema/register-verdict.schema.json)');
  const bad = cli(['registers', 'diff', '--from', '6.13.2+qemu', '--to', '5.19.0', '--levels', L]);
  assert.equal(bad.code, 1);
  assert.match(bad.stdout, /REGISTER_VALUE_REFUSED/);
  assert.match(bad.stdout, /fence/);
  const matrix = cli(['registers', 'matrix', '--kernels', '5.19.0,6.13.2', '--vmm', 'qemu,pin-5.15', '--levels', L, '--json']);
  assert.equal(matrix.code, 0, matrix.stderr);
  assert.equal(JSON.parse(matrix.stdout).results.length, 2);
  assert.ok(isValid(RegisterMatrix, JSON.parse(matrix.stdout)));
  assert.match(cli(['registers', 'list', '--kernel', '7.1.3']).stdout, /VENDOR_HYP_BMAP_2/);
  const notRelease = cli(['registers', 'diff', '--from', 'six', '--to', '5.19']);
  assert.equal(notRelease.code, 2);
  assert.match(notRelease.stderr, /--from/);
  assert.doesNotMatch(notRelease.stderr, /\n\s+at /);
  const level = cli(['registers', 'diff', '--from', '6.1', '--to', '6.2', '--levels', 'WORKAROUND_1=HIGH']);
  assert.equal(level.code, 2);
  assert.match(level.stderr, /--levels.*no level 'HIGH'/s);
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-reg-'));
  try {
    const file = join(dir, 'vmm.yaml');
    writeFileSync(file, 'vmms:\n  mine:\n    description: x\n    source: y\n    pin:\n      KVM_REG_ARM_STD_BMAP: [TRNG]\n');
    const r = cli(['registers', 'diff', '--from', '6.1+mine', '--to', '6.2+mine', '--policy', file]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /vmms\.mine\.pin\.KVM_REG_ARM_STD_BMAP.*no bit 'TRNG'/s);
    const unknownVmm = cli(['registers', 'diff', '--from', '6.1+nope', '--to', '6.2']);
    assert.equal(unknownVmm.code, 2);
    assert.match(unknownVmm.stderr, /no VMM policy 'nope'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('check: an aarch64 guest under KVM carries the firmware registers of both hosts\u2019 kernels', async () => {
  const { checkMigration } = await import('../../src/check/check.js');
  const { migrationRules } = await import('../../src/io/rules-files.js');
  const { parseArgvText } = await import('../../src/formats/argv-in.js');
  const { indexHost } = await import('../../src/resolve/target.js');
  const { findCatalog } = await import('../../src/io/catalog-files.js');
  const { loadHostProfile } = await import('../../src/io/host-files.js');
  const tcg = loadHostProfile(join(FIXTURES, 'hosts/host-7.2-aarch64-tcg.json'));
  const catalog = findCatalog('7.2', [], 'aarch64');
  // Profiles as a description gives them (accelerator, kernel, the host's levels): no arm64 KVM host here.
  const kvmHost = (name: string, release: string, levels: HostLevels | null = LEVELS) =>
    indexHost({ ...tcg, name, accel: 'kvm', kernel: { release, version: 'described' }, ...(levels ? { firmwareRegisters: { levels, from: 'described' as const } } : {}) }, catalog);
  const guest = parseArgvText('qemu-system-aarch64 -machine virt-7.2 -cpu cortex-a57 -m 256 -nodefaults', 'guest');
  const run = (from: ReturnType<typeof kvmHost>, to: ReturnType<typeof kvmHost>) => checkMigration({ source: guest, from, to, rules: migrationRules(), bothWays: true });
  const back = run(kvmHost('new', '6.13.2'), kvmHost('old', '5.19.0'));
  assert.equal(back.forward.outcome, 'impossible');
  assert.ok(back.forward.reasons.some((r) => r.code === 'REGISTER_VALUE_REFUSED' && r.subject === 'KVM_REG_ARM_PSCI_VERSION'));
  assert.ok(back.forward.reasons.some((r) => r.code === 'REGISTER_FENCE'));
  // The same kernel both ways: the firmware registers carry; the verdict is the rest of check's.
  const same = run(kvmHost('a', '6.6.9'), kvmHost('b', '6.6.9'));
  assert.equal(same.forward.outcome, 'safe', JSON.stringify(same.forward.reasons));
  assert.ok(same.forward.reasons.some((r) => r.code === 'REGISTERS_CARRIED'));
  // Another kernel: the system register list is not recorded per release (never safe).
  assert.equal(run(kvmHost('a', '6.1.10'), kvmHost('b', '6.13.2')).forward.outcome, 'unknown');
  // Without the hosts' levels the workaround registers are unknown.
  assert.equal(run(kvmHost('a', '6.6.9', null), kvmHost('b', '6.6.9', null)).forward.outcome, 'unknown');
  // Under TCG none of this applies.
  assert.ok(!run(indexHost(tcg, catalog), indexHost(tcg, catalog)).forward.reasons.some((r) => r.code.startsWith('REGISTER')));
  // The hosts' ID registers, where known: 6.12 takes the older CPU's lower AES; the way back is refused.
  const withIds = (name: string, release: string, isar0: string) => indexHost({ ...tcg, name, accel: 'kvm', kernel: { release, version: 'described' }, firmwareRegisters: { levels: LEVELS, from: 'described' as const }, idRegisters: { values: { ID_AA64ISAR0_EL1: isar0 }, from: 'described' as const } }, catalog);
  const ids = run(withIds('older-cpu', '6.12.0', '0x10'), withIds('newer-cpu', '6.12.0', '0x20'));
  assert.equal(ids.forward.outcome, 'safe', JSON.stringify(ids.forward.reasons));
  assert.ok(ids.forward.reasons.some((r) => r.code === 'ID_REGISTER_NARROWED'));
  assert.equal(ids.rollback!.outcome, 'impossible');
  assert.ok(ids.rollback!.reasons.some((r) => r.code === 'ID_REGISTER_REFUSED' && r.subject === 'ID_AA64ISAR0_EL1.AES'));
});

test('pseries capabilities are ordered-level registers: probed levels and defaults per build and type, one acceptance rule with the kernel', async () => {
  const { spaprCapRegisters, spaprLevel } = await import('../../src/registers/spapr.js');
  const { levelAccepted, levelOrder } = await import('../../src/registers/levels.js');
  const { findCatalog } = await import('../../src/io/catalog-files.js');
  const { migrationRules } = await import('../../src/io/rules-files.js');
  const caps = migrationRules().data.spaprCaps!;
  const new10 = spaprCapRegisters(findCatalog('10.0', [], 'ppc64'), 'pseries-10.0', caps);
  const cfpc = new10.find((r) => r.name === 'cap-cfpc')!;
  assert.deepEqual(cfpc.levels, ['broken', 'workaround', 'fixed']);
  assert.equal(cfpc.default, 'workaround');
  assert.match(new10.find((r) => r.name === 'cap-hpt-max-page-size')!.sent, /^always/);
  // pseries-2.12 of 5.2: older defaults, no cap-ail-mode-3, and hpt-max-page-size only sent when set.
  const old = spaprCapRegisters(findCatalog('5.2', [], 'ppc64'), 'pseries-2.12', caps);
  assert.equal(old.find((r) => r.name === 'cap-cfpc')!.default, 'broken');
  assert.equal(old.find((r) => r.name === 'cap-ail-mode-3'), undefined);
  assert.match(old.find((r) => r.name === 'cap-hpt-max-page-size')!.sent, /away from the default/);
  assert.deepEqual(spaprCapRegisters(findCatalog('10.0', [], 'ppc64'), 'no-such-type', caps), []);
  // The same rule as the kernel's level registers: a higher level is refused, a lower one taken.
  assert.equal(levelOrder(spaprLevel(cfpc.levels, 'fixed'), spaprLevel(cfpc.levels, 'workaround')), 'higher');
  assert.equal(levelAccepted(spaprLevel(cfpc.levels, 'broken'), spaprLevel(cfpc.levels, 'workaround')), true);
  assert.equal(spaprLevel([], 65536), 16);
  assert.equal(spaprLevel(['off', 'on'], true), 1);
  const out = cli(['registers', 'list', '--arch', 'ppc64', '--qemu', '7.2', '--machine', 'pseries', '--json']);
  assert.equal(out.code, 0, out.stderr);
  const j = JSON.parse(out.stdout) as { machine: string; registers: { name: string; kind: string }[] };
  assert.equal(j.machine, 'pseries-7.2');
  assert.ok(j.registers.every((r) => r.name.startsWith('cap-') && r.kind === 'level'));
  const bad = cli(['registers', 'list', '--arch', 'ppc64', '--machine', 'pc-q35-7.2']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--machine/);
});

interface IdStep { register: string; field?: string; whole?: boolean; host?: number; write: string; afterRun?: boolean; expect: string; unknownFrom?: string }

test('writable ID registers: the kernel selftest set_id_regs.c replayed on the simulator of 6.12.0 and 7.1.3, and every field inside its release\u2019s mask', async () => {
  const { idRegisterData } = await import('../../src/io/register-files.js');
  const { idRelease, setIdReg } = await import('../../src/registers/id-regs.js');
  const data = idRegisterData();
  const fx = parse(readFileSync(join(FIXTURES, 'registers/id-selftests.yaml'), 'utf8')) as { releases: string[]; steps: IdStep[] };
  for (const rel of fx.releases) {
    const row = idRelease(data, rel)!;
    assert.equal(row.release, rel);
    assert.equal(row.masksIoctl, true);
    for (const [reg, r] of Object.entries(row.registers)) {
      for (const [f, x] of Object.entries(r.fields ?? {})) {
        const [hi, lo] = x.bits.split(':').map(BigInt) as [bigint, bigint];
        const m = ((1n << (hi - lo + 1n)) - 1n) << lo;
        assert.equal(m & BigInt(r.mask), m, `${rel} ${reg}.${f} inside the writable mask (selftest: masks cover every field)`);
      }
    }
    for (const s of fx.steps) {
      const vers = (v: string) => v.split('.').map(Number);
      const limit = 0x1000_0000_0000_0000n;
      if (s.whole) {
        const w = setIdReg(row, s.register, limit, limit, limit + 1n, false);
        assert.equal(w.ok === false && w.errno, s.expect, `${rel} ${s.register}`);
        continue;
      }
      const f = row.registers[s.register]?.fields?.[s.field!];
      assert.ok(f, `${rel}: ${s.register}.${s.field} is writable`);
      const lo = BigInt(f.bits.split(':')[1]!);
      const host = BigInt(s.host!);
      const value = { higher: host + 1n, lower: host - 1n, 'lower-invalid': host - 1n, 'higher-safe': host + 1n, same: host }[s.write]!;
      // A HIGHER_SAFE field tested downwards needs a host above 0: the selftest's host has one.
      const base = s.write === 'lower-invalid' ? host + 1n : host;
      const lim = limit | (base << lo);
      const val = limit | ((s.write === 'lower-invalid' ? base - 1n : value) << lo);
      const w = setIdReg(row, s.register, lim, s.afterRun ? lim : lim, val, s.afterRun ?? false);
      const got = w.ok === true ? 'ok' : w.ok === 'unknown' ? 'unknown' : w.errno;
      const unknownHere = s.unknownFrom !== undefined && vers(rel) >= vers(s.unknownFrom);
      assert.equal(got, unknownHere ? 'unknown' : s.expect, `${rel} ${s.register}.${s.field} ${s.write}${s.afterRun ? ' after run' : ''}`);
    }
  }
});

test('ID registers carried to a destination: lower in a writable field is taken (the guest keeps its CPU), above or outside refused, 6.6.9 takes almost nothing', async () => {
  const { idRegisterData } = await import('../../src/io/register-files.js');
  const { idRegisterCheck } = await import('../../src/registers/id-regs.js');
  const data = idRegisterData();
  // Synthetic hosts (field positions from the data): the source's AES is 1, the destination's 2.
  const src = { ID_AA64ISAR0_EL1: '0x0000000000000010', MIDR_EL1: '0x00000000410fd0c0' };
  const dst = { ID_AA64ISAR0_EL1: '0x0000000000000020', MIDR_EL1: '0x00000000410fd0c0' };
  const forward = idRegisterCheck(data, '6.12.0', src, dst);
  assert.equal(forward.outcome, 'safe');
  assert.equal(forward.reasons[0]!.code, 'ID_REGISTER_NARROWED');
  const back = idRegisterCheck(data, '6.12.0', dst, src);
  assert.equal(back.outcome, 'impossible');
  assert.equal(back.reasons[0]!.subject, 'ID_AA64ISAR0_EL1.AES');
  assert.equal(idRegisterCheck(data, '6.6.9', src, dst).outcome, 'impossible');
  assert.equal(idRegisterCheck(data, '5.15.0', src, dst).outcome, 'unknown');
  assert.equal(idRegisterCheck(data, '6.12.0', { MIDR_EL1: '0x00000000410fd0c1' }, { MIDR_EL1: '0x00000000410fd0c0' }).outcome, 'impossible');
  assert.equal(idRegisterCheck(data, '6.12.0', { ID_AA64ISAR0_EL1: '0x10' }, {}).outcome, 'unknown');
  const { IdRegisterCheck } = await import('../../src/model/registers.js');
  assert.ok(isValid(IdRegisterCheck, back));
  const out = cli(['registers', 'id', '--kernel', '6.12.3', '--from-values', 'ID_AA64ISAR0_EL1=0x10', '--to-values', 'ID_AA64ISAR0_EL1=0x20', '--json']);
  assert.equal(out.code, 0, out.stderr);
  assert.equal((JSON.parse(out.stdout) as { readFrom: string }).readFrom, '6.12.0');
  const bad = cli(['registers', 'id', '--kernel', '6.12.0', '--from-values', 'ID_AA64ISAR0_EL1=zz', '--to-values', 'ID_AA64ISAR0_EL1=0x20']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--from-values/);
});
