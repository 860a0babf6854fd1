import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkMigration } from '../../src/check/check.js';
import { smpTopology } from '../../src/check/runtime.js';
import { findCatalog } from '../../src/io/catalog-files.js';
import { migrationRules } from '../../src/io/rules-files.js';
import { parseGuestText } from '../../src/formats/guest-input.js';
import { HostProfile } from '../../src/model/host.js';
import { validate } from '../../src/model/validate.js';
import { indexHost, type TargetHost } from '../../src/resolve/target.js';
import { FIXTURES } from '../helpers.js';

/**
 * The general rules lab fuzz made us add (issue 10), each on the shipped catalogs and the fixture
 * host profiles; the lab suite (lab/scenarios.yaml) holds the real migrations behind them.
 */
const rules = migrationRules();

function host(name: string, change: (p: HostProfile) => HostProfile = (p) => p): TargetHost {
  const file = join(FIXTURES, 'hosts', `host-${name}.json`);
  const p = change(validate(HostProfile, JSON.parse(readFileSync(file, 'utf8')), file));
  return indexHost(p, findCatalog(p.qemu.catalog));
}

function check(from: TargetHost, to: TargetHost, guest: string, dest?: string) {
  const spec = (t: string) => parseGuestText(t, 'guest', 'argv').spec;
  return checkMigration({ source: spec(guest), destination: dest === undefined ? undefined : spec(dest), from, to, rules }).forward;
}

const codes = (v: ReturnType<typeof check>) => v.reasons.map((r) => r.code);
const B = '-cpu qemu64 -m 128 -nodefaults';

test('Hyper-V enlightenments under KVM: refused by the host profile, unknown without its record, given otherwise', () => {
  const guest = `-machine pc-q35-7.2 -cpu qemu64,hv-relaxed=on,hv-vpindex=on -m 128 -nodefaults -accel kvm`;
  const refusing = host('7.2-kvm', (p) => ({ ...p, hyperv: { refused: { 'hv-vpindex': "kernel doesn't allow setting HyperV VP_INDEX" } } }));
  const giving = host('7.2-kvm', (p) => ({ ...p, hyperv: { refused: {} } }));
  const v = check(giving, refusing, guest);
  assert.equal(v.outcome, 'impossible');
  const r = v.reasons.find((x) => x.code === 'HYPERV_FEATURE_REFUSED')!;
  assert.equal(r.subject, 'hv-vpindex');
  assert.match(r.message, /VP_INDEX/);
  assert.equal(check(giving, giving, guest).outcome, 'safe');
  const unrecorded = check(host('7.2-kvm'), host('7.2-kvm'), guest);
  assert.equal(unrecorded.outcome, 'unknown');
  assert.ok(codes(unrecorded).includes('HYPERV_SUPPORT_UNKNOWN'));
  // Under TCG nothing asks the kernel.
  assert.ok(!codes(check(host('7.2-tcg'), host('7.2-tcg'), guest.replace('-accel kvm', '-accel tcg'))).includes('HYPERV_SUPPORT_UNKNOWN'));
});

test('features kept in an MSR under KVM: refused by the host profile, unknown without its record, nothing when the gate is off', () => {
  const guest = `-machine pc-q35-7.2 -cpu Cooperlake -m 128 -nodefaults -accel kvm`;
  const words = 'failed to set MSR 0x10a to 0x69';
  const refusing = host('7.2-kvm', (p) => ({ ...p, kvmMsrFeatures: { refused: { 'rdctl-no': words, 'mds-no': words } } }));
  const taking = host('7.2-kvm', (p) => ({ ...p, kvmMsrFeatures: { refused: {} } }));
  const v = check(taking, refusing, guest);
  assert.equal(v.outcome, 'impossible');
  const r = v.reasons.find((x) => x.code === 'KVM_MSR_FEATURE_REFUSED')!;
  assert.equal(r.subject, 'rdctl-no mds-no');
  assert.match(r.message, /IA32_ARCH_CAPABILITIES/);
  assert.ok(!codes(check(taking, taking, guest)).some((c) => c.startsWith('KVM_MSR')));
  assert.ok(codes(check(host('7.2-kvm'), host('7.2-kvm'), guest)).includes('KVM_MSR_FEATURE_UNKNOWN'));
  // Without its CPUID gate QEMU clears the bits: nothing is written.
  assert.ok(!codes(check(refusing, refusing, guest.replace('Cooperlake', 'Cooperlake,arch-capabilities=off'))).some((c) => c.startsWith('KVM_MSR')));
  // Under TCG nothing asks the kernel.
  assert.ok(!codes(check(host('7.2-tcg'), host('7.2-tcg'), guest.replace('-accel kvm', '-accel tcg'))).some((c) => c.startsWith('KVM_MSR')));
});

test('machine-check banks on the source only: impossible under KVM, a CPU change under TCG', () => {
  const guest = '-machine pc-q35-7.2 -cpu kvm32 -m 128 -nodefaults';
  const dest = '-machine pc-q35-7.2 -cpu pentium-v1 -m 128 -nodefaults';
  const kvm = check(host('7.2-kvm'), host('7.2-kvm'), `${guest} -accel kvm`, `${dest} -accel kvm`);
  assert.ok(kvm.reasons.some((r) => r.code === 'MCE_BANKS_DIFFER' && r.effect === 'impossible'));
  assert.equal(kvm.outcome, 'impossible');
  // The other way the destination only sets banks up: no abort.
  assert.ok(!codes(check(host('7.2-kvm'), host('7.2-kvm'), `${dest} -accel kvm`, `${guest} -accel kvm`)).includes('MCE_BANKS_DIFFER'));
  assert.ok(!codes(check(host('7.2-tcg'), host('7.2-tcg'), guest, dest)).includes('MCE_BANKS_DIFFER'));
});

test('a compat value QEMU refuses once the definition turns the virtio interface back on', () => {
  const blk = '-blockdev null-co,node-name=d -device virtio-blk-pci,drive=d';
  const v = check(host('7.2-tcg'), host('7.2-tcg'), `-machine pc-i440fx-1.7 ${B} ${blk},disable-modern=off`);
  assert.equal(v.outcome, 'impossible');
  assert.ok(v.reasons.some((r) => r.code === 'DEVICE_SETTING_REFUSED' && /scsi=on, which pc-i440fx-1.7 gives it/.test(r.message)));
  // Legacy-only as the type makes it, or on a type without the compat value: it starts.
  assert.ok(!codes(check(host('7.2-tcg'), host('7.2-tcg'), `-machine pc-i440fx-1.7 ${B} ${blk}`)).includes('DEVICE_SETTING_REFUSED'));
  assert.ok(!codes(check(host('7.2-tcg'), host('7.2-tcg'), `-machine pc-i440fx-2.7 ${B} ${blk},disable-modern=off`)).includes('DEVICE_SETTING_REFUSED'));
});

test('device settings: a property the build lacks, and one QEMU refuses alone but not with others', () => {
  const v = check(host('10.0-tcg'), host('7.2-tcg'), `-machine pc-q35-7.2 ${B} -blockdev null-co,node-name=d -device virtio-blk-pci-non-transitional,drive=d,in_order=on`);
  assert.equal(v.outcome, 'impossible');
  assert.ok(v.reasons.some((r) => r.code === 'DEVICE_SETTING_REFUSED' && /in_order/.test(r.message)));
  const alone = check(host('7.2-tcg'), host('7.2-tcg'), `-machine pc-q35-7.2 ${B} -device virtio-balloon-pci,free-page-hint=on`);
  assert.ok(alone.reasons.some((r) => r.code === 'DEVICE_SETTING_REFUSED' && /iothread/.test(r.message)));
  // iommu_platform is refused on a transitional device, taken with disable-legacy=on.
  const modern = check(host('7.2-tcg'), host('7.2-tcg'), `-machine pc-q35-7.2 ${B} -device virtio-net-pci,disable-legacy=on,iommu_platform=on`);
  assert.ok(!codes(modern).includes('DEVICE_SETTING_REFUSED'));
});

test('-smp is compared as the topology QEMU derives from it', () => {
  assert.deepEqual(smpTopology({ count: 2 }, '7.2.22', '7.2'), { sockets: 1, cores: 2, threads: 1, dies: 1, max: 2 });
  assert.deepEqual(smpTopology({ count: 2 }, '7.2.22', '5.2'), { sockets: 2, cores: 1, threads: 1, dies: 1, max: 2 });
  assert.deepEqual(smpTopology({ count: 2 }, '5.2.0', '5.2'), { sockets: 2, cores: 1, threads: 1, dies: 1, max: 2 });
  assert.deepEqual(smpTopology({ count: 4, sockets: 2 }, '10.0.2', '10.0'), { sockets: 2, cores: 2, threads: 1, dies: 1, max: 4 });
  const h = host('7.2-tcg');
  assert.equal(check(h, h, `-machine pc-q35-7.2 ${B}`, `-machine pc-q35-7.2 ${B} -smp 1,sockets=1,cores=1,threads=1`).outcome, 'safe');
  assert.equal(check(h, h, `-machine pc-q35-7.2 ${B} -smp 2`, `-machine pc-q35-7.2 ${B} -smp 2,sockets=2`).outcome, 'unsafe');
});

test('memory hotplug: another slot count does not load, another maxmem changes what the guest is told', () => {
  const h = host('7.2-tcg');
  const m = (x: string) => `-machine pc-q35-7.2 -cpu qemu64 -m ${x} -nodefaults`;
  assert.deepEqual([check(h, h, m('128,slots=2,maxmem=1G'), m('128')).outcome, codes(check(h, h, m('128,slots=2,maxmem=1G'), m('128')))[0]], ['impossible', 'MEMORY_SLOTS_DIFFERS']);
  assert.equal(check(h, h, m('128,slots=2,maxmem=1G'), m('128,slots=4,maxmem=1G')).outcome, 'impossible');
  assert.equal(check(h, h, m('128,slots=2,maxmem=1G'), m('128,slots=2,maxmem=2G')).outcome, 'unsafe');
});

test('migration stream globals: off on one side does not load; off on both turns the machine type check off', () => {
  const h = host('7.2-tcg');
  const off = '-global migration.send-configuration=off';
  assert.ok(codes(check(h, h, `-machine pc-q35-7.2 ${B} ${off}`, `-machine pc-q35-7.2 ${B}`)).includes('MIGRATION_STREAM_FORMAT_DIFFERS'));
  const both = check(h, h, `-machine pc-q35-7.2 ${B} ${off}`, `-machine pc-q35-7.1 ${B} ${off}`);
  assert.ok(codes(both).includes('MACHINE_TYPE_CHECK_OFF') && !codes(both).includes('MACHINE_TYPE_DIFFERS'));
  assert.equal(check(h, h, `-machine pc-q35-7.2 ${B}`, `-machine pc-q35-7.1 ${B}`).outcome, 'impossible');
});

test('migration stream globals as the machine type sets them: old types send no configuration section', () => {
  const h = host('7.2-tcg');
  const old = check(h, h, `-machine pc-i440fx-2.1 ${B}`, `-machine pc-i440fx-2.3 ${B}`);
  assert.ok(codes(old).includes('MACHINE_TYPE_CHECK_OFF') && !codes(old).includes('MACHINE_TYPE_DIFFERS'));
  assert.match(old.reasons.find((r) => r.code === 'MACHINE_TYPE_CHECK_OFF')!.message, /source: the default of pc-i440fx-2\.1/);
  const on = check(h, h, `-machine pc-i440fx-2.1 ${B}`, `-machine pc-i440fx-2.1 ${B} -global migration.send-configuration=on`);
  assert.equal(on.outcome, 'impossible');
  assert.ok(codes(on).includes('MIGRATION_STREAM_FORMAT_DIFFERS'));
  // A catalog that did not probe the type: a -global on the other side is not known to match.
  const unprobed = (t: TargetHost): TargetHost => ({ ...t, catalog: Object.assign(Object.create(Object.getPrototypeOf(t.catalog) as object) as TargetHost['catalog'], t.catalog, { machine: (n: string) => { const m = t.catalog.machine(n); return m && { ...m, migrationStream: undefined }; } }) });
  const u = check(unprobed(h), h, `-machine pc-i440fx-2.1 ${B}`, `-machine pc-i440fx-2.1 ${B} -global migration.send-configuration=on`);
  assert.equal(u.outcome, 'unknown');
  assert.equal(u.reasons.find((r) => r.code === 'MIGRATION_STREAM_FORMAT_DIFFERS')!.effect, 'unknown');
});

test('a virtio-pci device behind a port is PCI Express only if modern when its PCI side is realized', () => {
  const h = host('10.0-tcg');
  const port = (extra: string) => `-machine pc-q35-2.6 ${B} -device pcie-root-port,id=rp0,chassis=1 -device virtio-gpu-pci,id=d0,bus=rp0${extra}`;
  // pc-q35-2.6 gives virtio-pci disable-modern=on: the modern-only virtio-gpu-pci is conventional PCI.
  assert.equal(check(h, h, port(''), port(',ats=on')).outcome, 'unsafe');
  const one = check(h, h, port(''), port(',disable-modern=off'));
  assert.equal(one.outcome, 'impossible');
  const r = one.reasons.find((x) => x.code === 'DEVICE_PROPERTY_DIFFERS')!;
  assert.deepEqual([r.subject, r.a, r.b], ['virtio-gpu-pci d0', 'conventional PCI', 'PCI Express']);
  assert.equal(check(h, h, port(',disable-modern=off'), port(',disable-modern=off,ats=on')).outcome, 'impossible');
});

test('XSAVE components under KVM: what the host profile says its KVM keeps', () => {
  const guest = `-machine pc-q35-7.2 -cpu Skylake-Client -m 128 -nodefaults -accel kvm`;
  const noMpx = host('7.2-kvm', (p) => ({ ...p, kvmXsaveComponents: ['x87', 'sse', 'avx'] }));
  const xsave = (v: ReturnType<typeof check>) => v.reasons.filter((r) => r.subject.includes('xsave-components') || /xsave-components/.test(r.message));
  assert.equal(xsave(check(noMpx, noMpx, guest, guest.replace('Skylake-Client', 'Skylake-Client,mpx=on'))).length, 0);
  // A profile without the record keeps what the features ask for: the components differ.
  assert.ok(xsave(check(host('7.2-kvm'), host('7.2-kvm'), guest, guest.replace('Skylake-Client', 'Skylake-Client,mpx=on'))).length > 0);
});

test('pseries takes memory only in whole 256 MiB blocks (probed), at every start', () => {
  const h = host('7.2-ppc64-tcg');
  const ppc = (m: string) => `qemu-system-ppc64 -machine pseries-7.2 -m ${m} -nodefaults`;
  const v = check(h, h, ppc('128'));
  assert.equal(v.outcome, 'impossible');
  const r = v.reasons.find((x) => x.code === 'MEMORY_SIZE_REFUSED')!;
  assert.match(r.message, /256 MiB blocks/);
  assert.match(r.remedy ?? '', /256 MiB/);
  assert.ok(codes(check(h, h, ppc('512,slots=2,maxmem=1000M'))).includes('MEMORY_SIZE_REFUSED'));
  assert.equal(check(h, h, ppc('512')).outcome, 'safe');
  assert.equal(check(h, h, ppc('512,slots=2,maxmem=1G')).outcome, 'safe');
  // x86 takes any size.
  assert.ok(!codes(check(host('7.2-tcg'), host('7.2-tcg'), `-machine pc-q35-7.2 -cpu qemu64 -m 129 -nodefaults`)).includes('MEMORY_SIZE_REFUSED'));
});

test('a device knob the older build lacks: as the newer build on the type named after it, unless the older build reshaped it', () => {
  const e1000e = (extra: string) => `-machine pc-i440fx-2.6 ${B} -device e1000e,id=d0${extra}`;
  const v = check(host('5.2-tcg'), host('10.0-tcg'), e1000e(''), e1000e(',migrate-timadj=on'));
  assert.equal(v.outcome, 'impossible');
  const r = v.reasons.find((x) => x.subject === 'e1000e d0.migrate-timadj')!;
  assert.deepEqual([r.a, r.b, r.effect], [false, true, 'impossible']);
  assert.equal(check(host('5.2-tcg'), host('10.0-tcg'), e1000e('')).outcome, 'safe');
  // The default e1000 of pc-i440fx-1.4: romsize follows the type's ROM file in 7.2, so 5.2 is not inferred.
  assert.ok(!check(host('7.2-tcg'), host('5.2-tcg'), `-machine pc-i440fx-1.4 -cpu qemu64 -m 128`).reasons.some((r) => r.subject.endsWith('.romsize')));
  // 7.2's root port has x-native-hotplug (off on pc-q35-6.1) where 10.0 has the inverse knob.
  const port = `-machine pc-q35-6.1 ${B} -device pcie-root-port,id=rp0,chassis=1`;
  assert.ok(!check(host('7.2-tcg'), host('10.0-tcg'), port).reasons.some((r) => r.subject.includes('native-hotplug')));
});

test('lmce the host KVM lacks is refused only on a vCPU with machine-check banks', () => {
  const noLmce = host('7.2-kvm', (p) => ({ ...p, hostCpu: { ...p.hostCpu, props: { ...p.hostCpu.props, lmce: false } } }));
  const guest = (cpu: string) => `-machine pc-q35-7.2 -cpu ${cpu},lmce=on -m 128 -nodefaults -accel kvm`;
  assert.ok(codes(check(noLmce, noLmce, guest('Haswell-noTSX'))).includes('KVM_OPTION_REFUSED'));
  assert.ok(!codes(check(noLmce, noLmce, guest('pentium'))).includes('KVM_OPTION_REFUSED'));
});

test('invtsc under KVM blocks migration unless tsc-frequency is set', () => {
  const h = host('7.2-kvm');
  const g = (cpu: string) => `-machine pc-q35-7.2 -cpu ${cpu} -m 128 -nodefaults -accel kvm`;
  const blocked = check(h, h, g('qemu64,+invtsc'));
  assert.ok(codes(blocked).includes('MIGRATION_BLOCKED_INVTSC'), codes(blocked).join(' '));
  assert.ok(!codes(check(h, h, g('qemu64,+invtsc,tsc-frequency=2000000000'))).includes('MIGRATION_BLOCKED_INVTSC'));
});
