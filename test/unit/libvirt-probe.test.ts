import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCatalog } from '../../src/io/catalog-files.js';
import { guestVisibility } from '../../src/io/rules-files.js';
import { HostProfile, type CpuModelAvailability } from '../../src/model/host.js';
import { isValid } from '../../src/model/validate.js';
import { blockersOf, libvirtFacts, profileFromLibvirt, type LibvirtFacts, type Virsh } from '../../src/probe/libvirt.js';
import { cli, FIXTURES } from '../helpers.js';

const DIR = join(FIXTURES, 'libvirt', 'hosts');
const read = <T>(f: string) => JSON.parse(readFileSync(join(DIR, f), 'utf8')) as T;
const catalog = findCatalog('7.2');
const svmOnly = guestVisibility().svmOnly;

for (const accel of ['kvm', 'tcg']) {
  test(`libvirt's recorded answers (QEMU 7.2, ${accel}) give the CPU models guestabi's own probe found, with the same blockers`, () => {
    const facts = read<LibvirtFacts>(`qemu-7.2-${accel}.facts.json`);
    const probed = read<{ cpuModels: Record<string, CpuModelAvailability> }>(`qemu-7.2-${accel}.probed-cpu-models.json`).cpuModels;
    const p = profileFromLibvirt(facts, catalog, svmOnly);
    assert.ok(isValid(HostProfile, p));
    assert.equal(p.accel, accel);
    assert.equal(p.qemu.catalog, catalog.id);
    assert.deepEqual(p.libvirt, { uri: 'qemu:///system', libvirt: '9.0.0', qemu: '7.2.22' });
    assert.equal(p.iommu.notProbed, true);
    assert.equal(p.kernel.release, 'unknown');
    const names = Object.keys(probed).filter((n) => n !== 'host' && n !== 'max');
    for (const n of names) {
      assert.equal(p.cpuModels[n]?.runnable, probed[n]!.runnable, `${n}: runnable`);
      assert.deepEqual([...new Set(p.cpuModels[n]!.unavailableFeatures)].sort(), [...new Set(probed[n]!.unavailableFeatures)].sort(), `${n}: blockers`);
    }
    assert.ok(p.hostCpu.props, 'the host CPU from libvirt\u2019s host-model');
  });
}

test('without a catalog of its build the profile still lists libvirt\u2019s models, blockers in libvirt\u2019s words', () => {
  const facts = read<LibvirtFacts>('qemu-7.2-kvm.facts.json');
  const p = profileFromLibvirt({ ...facts, compare: { Westmere: 'error: the CPU is incompatible with host CPU: Host CPU does not provide required features: pni, sse4.1, aes' } }, undefined, svmOnly);
  assert.match(p.qemu.catalog, /no shipped catalog/);
  assert.deepEqual(p.cpuModels.Westmere, { runnable: false, unavailableFeatures: ['aes', 'pni', 'sse4.1'] });
  assert.deepEqual(p.cpuModels.qemu64!.unavailableFeatures, ['(libvirt gave no blockers)']);
  assert.equal(p.hostCpu.props, undefined);
  assert.deepEqual(blockersOf('Host CPU does not provide required features: pni, ssse3'), ['pni', 'ssse3']);
  assert.equal(blockersOf('the CPU is identical'), undefined);
});

test('probe --libvirt: a libvirt that runs no QEMU, a missing URI and flags that do not go with it are exit 2, named', async () => {
  // libvirt's own test driver (in virsh, no daemon): it runs no QEMU.
  const fake: Virsh = { run: async () => ({ code: 0, stdout: 'Compiled against library: libvirt 9.0.0\nUsing library: libvirt 9.0.0\nUsing API: TEST 9.0.0\nRunning hypervisor: TEST 9.0.0\n', stderr: '' }) };
  await assert.rejects(libvirtFacts('test:///default', fake, () => undefined), /libvirt does not run QEMU there/);
  const failing: Virsh = { run: async () => ({ code: 1, stdout: '', stderr: 'error: failed to connect to the hypervisor\nerror: no such host\n' }) };
  await assert.rejects(libvirtFacts('qemu+ssh://nowhere/system', failing, () => undefined), /--libvirt qemu\+ssh:\/\/nowhere\/system: virsh version failed: failed to connect to the hypervisor \| no such host/);
  for (const args of [['probe', '--libvirt', 'test:///default'], ['probe', '--libvirt', ''], ['probe', '--libvirt', 'qemu:///system', '--qemu', '7.2'], ['probe', '--libvirt', 'qemu:///system', '--accel', 'xen']]) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
