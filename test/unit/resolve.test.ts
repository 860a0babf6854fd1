import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { parseArgvText } from '../../src/formats/argv-in.js';
import { clusterTarget, hostTarget } from '../../src/io/host-files.js';
import type { GuestSpec } from '../../src/model/guest.js';
import { PinnedAbi, type ResolutionPolicy } from '../../src/model/pinned.js';
import { isValid } from '../../src/model/validate.js';
import { effectiveCpu } from '../../src/resolve/cpu.js';
import { pinGuest } from '../../src/resolve/pin.js';
import { guestVisibility } from '../../src/io/rules-files.js';
import { ResolveError, type Target } from '../../src/resolve/target.js';
import { UserError } from '../../src/util/errors.js';
import { FIXTURES } from '../helpers.js';

const HOSTS = join(FIXTURES, 'hosts');
const host = (v: string) => hostTarget(join(HOSTS, `host-${v}.json`), 'x86_64');
const cluster = (name: string) => clusterTarget(join(HOSTS, name), 'x86_64');
const NOW = new Date('2026-11-21T12:00:00Z');
const pin = (argv: string, target: Target, policy: ResolutionPolicy = 'highest-runnable') =>
  pinGuest(parseArgvText(argv, 'test'), target, { policy, now: NOW, tool: 'test', visibility: guestVisibility() });
const codes = (p: PinnedAbi) => [...p.provenance.decisions, ...p.warnings].map((r) => r.code);

test('q35 on QEMU 10.0 is pc-q35-10.0; on a 7.2 + 10.0 cluster it is pc-q35-7.2, held back by the 7.2 host', () => {
  assert.equal(pin('-machine q35 -cpu qemu64 -nodefaults', host('10.0-tcg')).machine.type, 'pc-q35-10.0');
  const p = pin('-machine q35 -cpu qemu64 -nodefaults', cluster('cluster-7.2-10.0.yaml'));
  assert.equal(p.machine.type, 'pc-q35-7.2');
  const held = p.provenance.decisions.find((r) => r.code === 'MACHINE_HELD_BACK')!;
  assert.equal(held.subject, 'pc-q35-10.0');
  assert.equal(held.host, 'host-7.2-tcg');
  assert.equal(pin('-machine pc -cpu qemu64 -nodefaults', cluster('cluster-5.2-7.2-10.0.yaml')).machine.type, 'pc-i440fx-5.2');
  assert.ok(isValid(PinnedAbi, p));
});

/** The rule, checked against what QEMU's query-cpu-definitions said on each host (the profiles). */
function expectedHighest(target: Target, base: string): string | undefined {
  const versions = target.hosts[0]!.catalog.cpuVersions(base).map((m) => m.name).reverse();
  return versions.find((v) => target.hosts.every((h) => h.profile.cpuModels[v]?.runnable === true));
}

test('every bare CPU name becomes the highest -vN runnable on every host, or a clear error per host', () => {
  for (const target of [host('5.2-tcg'), host('10.0-tcg'), host('7.2-kvm'), cluster('cluster-7.2-10.0.yaml'), cluster('cluster-5.2-7.2-10.0.yaml')]) {
    const c = target.hosts[0]!.catalog;
    const bases = [...new Set(c.data.cpuModels.filter((m) => m.aliasOf && m.name === m.aliasOf.replace(/-v\d+$/, '')).map((m) => m.name))];
    assert.ok(bases.length > 30);
    for (const base of bases) {
      const want = expectedHighest(target, base);
      try {
        const p = pin(`-machine q35 -cpu ${base} -nodefaults`, target);
        assert.equal(p.cpu.model, want, `${target.name}: ${base}`);
        for (const r of p.provenance.decisions.filter((x) => x.code === 'CPU_VERSION_PASSED_OVER')) {
          assert.ok(r.details!.length > 0 && r.host, `${base}: a passed-over version names host and features`);
        }
      } catch (e) {
        if (!(e instanceof ResolveError)) throw e;
        assert.equal(want, undefined, `${target.name}: ${base} has a runnable version ${want}, yet: ${e.message}`);
        for (const h of target.hosts) assert.ok(e.reasons.some((r) => r.host === h.name || r.code === 'CPU_VERSIONS_DIFFER') || target.hosts.length > 1, `${base}: names ${h.name}`);
        assert.ok(e.reasons.every((r) => r.code !== 'CPU_NO_RUNNABLE_VERSION' || r.details!.length > 0));
      }
    }
  }
});

test('features the guest turns off can make a higher version runnable', () => {
  const t = host('10.0-tcg');
  assert.equal(pin('-machine q35 -cpu Nehalem -nodefaults', t).cpu.model, 'Nehalem-v1');
  const p = pin('-machine q35 -cpu Nehalem,-spec-ctrl -nodefaults', t);
  assert.equal(p.cpu.model, 'Nehalem-v2');
  assert.equal(p.cpu.features['spec-ctrl'], false);
  assert.equal(p.effective[0]!.cpu!['spec-ctrl'], false);
});

test('machine-default is what QEMU picks: -v1 on current types, the legacy definition on pc-*-4.0', () => {
  const t = host('7.2-tcg');
  assert.equal(pin('-machine pc-q35-7.2 -cpu Westmere -nodefaults', t, 'machine-default').cpu.model, 'Westmere-v1');
  const legacy = pin('-machine pc-i440fx-4.0 -cpu Westmere -nodefaults', t, 'machine-default');
  assert.equal(legacy.cpu.model, 'Westmere');
  assert.ok(codes(legacy).includes('CPU_LEGACY_DEFINITION'));
});

test('keep never changes the CPU a guest has: for every bare model on every machine type', () => {
  const t = host('7.2-tcg');
  const c = t.hosts[0]!.catalog;
  const bare = c.data.cpuModels.filter((m) => m.aliasOf && t.hosts[0]!.profile.cpuModels[m.aliasOf]?.runnable).map((m) => m.name);
  let checked = 0;
  for (const m of c.data.machines.filter((x) => x.probe === 'ok' && x.family.startsWith('pc-'))) {
    for (const model of bare) {
      const now = c.cpuOnMachine(model, m.name)!;
      let p: PinnedAbi;
      try {
        p = pin(`-machine ${m.name} -cpu ${model} -nodefaults`, t, 'keep');
      } catch (e) {
        if (e instanceof ResolveError) continue; // the version the name stands for cannot run here
        throw e;
      }
      assert.deepEqual(effectiveCpu(p.cpu, m.name, c), now, `${m.name} ${model} -> ${p.cpu.model}`);
      checked++;
    }
  }
  assert.ok(checked > 500, `checked ${checked}`);
});

test('keep: qemu64 before 6.1 keeps the bare name (family 6), EPYC on 3.1 gets its compat features explicitly', () => {
  const t = host('7.2-tcg');
  const q = pin('-machine pc-i440fx-6.0 -cpu qemu64 -nodefaults', t, 'keep');
  assert.equal(q.cpu.model, 'qemu64');
  const kept = q.provenance.decisions.find((r) => r.code === 'CPU_BARE_NAME_KEPT')!;
  assert.match(kept.message, /family 6 -> 15/);
  assert.equal(q.cpu.identity!.family, 6);
  assert.equal(pin('-machine pc-i440fx-6.1 -cpu qemu64 -nodefaults', t, 'keep').cpu.model, 'qemu64-v1');
});

test('host-model is a named runnable model plus the features the hosts share; host-passthrough is host-dependent', () => {
  const t = host('10.0-tcg');
  const p = pin('-machine q35 -cpu qemu64 -nodefaults', t);
  assert.equal(p.cpu.hostDependent, false);
  const spec = parseArgvText('-machine q35 -nodefaults', 'x');
  const hm: GuestSpec = { ...spec, cpu: { mode: 'host-model' } };
  const r = pinGuest(hm, t, { policy: 'highest-runnable', now: NOW, tool: 'test', visibility: guestVisibility() });
  assert.ok(t.hosts[0]!.profile.cpuModels[r.cpu.model!]!.runnable);
  const maxProps = t.hosts[0]!.profile.hostCpu.props!;
  for (const [f, on] of Object.entries(r.cpu.features)) assert.equal(maxProps[f] === true, on, `${f} is on in -cpu max iff host-model sets it`);
  const pt = pin('-machine q35 -cpu host -nodefaults', t);
  assert.equal(pt.cpu.hostDependent, true);
  assert.ok(codes(pt).includes('HOST_DEPENDENT_CPU'));
});

test('deprecated machine types warn and name the replacement', () => {
  const p = pin('-machine pc-q35-5.2 -cpu qemu64 -nodefaults', host('10.0-tcg'));
  const w = p.warnings.find((r) => r.code === 'MACHINE_TYPE_DEPRECATED')!;
  assert.match(w.remedy!, /pc-q35-10\.0/);
});

test('device properties are typed from the catalog; placement picks the measured variant', () => {
  const p = pin('-machine pc-q35-7.2 -cpu qemu64 -nodefaults -device pcie-root-port,id=rp,chassis=1 -device virtio-net-pci,bus=rp,mq=on,vectors=6 -device virtio-net-pci', host('7.2-tcg'));
  const [, behind, root] = p.devices;
  assert.deepEqual(behind!.explicit, { bus: 'rp', mq: true, vectors: 6 });
  assert.equal(behind!.catalogKey, 'virtio-net-pci@pcie-port');
  assert.equal(p.effective[0]!.devices[1]!['disable-legacy'], 'on');
  assert.equal(root!.catalogKey, 'virtio-net-pci');
  assert.equal(p.effective[0]!.devices[2]!['disable-legacy'], 'off');
});

test('QEMU would refuse the device: a negative answer with QEMU\'s reason', () => {
  assert.throws(
    () => pin('-machine pc-i440fx-2.4 -cpu qemu64 -nodefaults -device virtio-blk-pci-transitional,drive=d', host('7.2-tcg')),
    (e: unknown) => e instanceof ResolveError && e.reasons[0]!.code === 'DEVICE_REFUSED' && /scsi=off/.test(e.reasons[0]!.message),
  );
});

test('bad input is a UserError that names the place', () => {
  const t = host('7.2-tcg');
  const cases: [string, RegExp][] = [
    ['-machine pc-q35-99.0', /machine: unknown machine type 'pc-q35-99.0'/],
    ['-machine q35 -cpu NoSuchCPU', /cpu: unknown CPU model 'NoSuchCPU'/],
    ['-machine q35 -cpu EPYC,+nosuchfeature', /unknown CPU feature 'nosuchfeature'/],
  ];
  for (const [argv, re] of cases) assert.throws(() => pin(argv, t), (e: unknown) => e instanceof UserError && re.test(e.message), argv);
});

test('a device property the catalog does not list is kept as written, with a warning', () => {
  const p = pin('-machine q35 -cpu qemu64 -nodefaults -device qemu-xhci,p2=8', host('7.2-tcg'));
  assert.equal(p.devices[0]!.explicit.p2, '8');
  assert.ok(p.warnings.some((w) => w.code === 'DEVICE_PROPERTY_NOT_IN_CATALOG' && w.subject === 'qemu-xhci.p2'));
});

test('targets: another architecture, a cluster naming a missing profile, two hosts with one name', () => {
  assert.throws(() => hostTarget(join(HOSTS, 'host-7.2-tcg.json'), 'aarch64'), /host 'host-7.2-tcg' is x86_64, the guest is aarch64/);
  assert.throws(() => clusterTarget(join(FIXTURES, 'bad', 'cluster-missing.yaml'), 'x86_64'), /cluster-missing\.yaml: hosts\[1\]: .*no-such-host\.json: cannot read host profile: no such file/);
  assert.throws(() => clusterTarget(join(FIXTURES, 'bad', 'cluster-duplicate.yaml'), 'x86_64'), /hosts\[1\]: two hosts are called 'host-7.2-tcg'/);
  assert.throws(() => hostTarget(join(FIXTURES, 'bad', 'not-a-profile.json'), 'x86_64'), /not-a-profile\.json: not valid as a HostProfile/);
});
