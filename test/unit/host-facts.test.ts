import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAmdIommu, parseCpuinfo, readIommu, readVulnerabilities, type HostRoots } from '../../src/probe/host-facts.js';
import { FIXTURES } from '../helpers.js';

const roots = (name: string): HostRoots => {
  const base = join(FIXTURES, 'host', name);
  return { proc: join(base, 'proc'), sys: join(base, 'sys'), dev: join(base, 'dev') };
};

test('cpuinfo: vendor, family, model, stepping and flags of the first processor', () => {
  const text = readFileSync(join(FIXTURES, 'host/this-vm/proc/cpuinfo'), 'utf8');
  const cpu = parseCpuinfo(text);
  const field = (k: string) => new RegExp(`^${k}\\s*: (.*)$`, 'm').exec(text)![1]!;
  assert.equal(cpu.vendor, field('vendor_id'));
  assert.equal(cpu.family, Number(field('cpu family')));
  assert.equal(cpu.model, Number(field('model')));
  assert.deepEqual(cpu.flags, field('flags').split(' '));
});

test('vulnerabilities: one entry per file, with the kernel text', () => {
  const v = readVulnerabilities(roots('this-vm'));
  const dir = join(FIXTURES, 'host/this-vm/sys/devices/system/cpu/vulnerabilities');
  assert.deepEqual(Object.keys(v).sort(), readdirSync(dir).sort());
  assert.equal(v.spectre_v2, readFileSync(join(dir, 'spectre_v2'), 'utf8').trim());
});

test('no /sys/class/iommu: no IOMMU', () => {
  assert.deepEqual(readIommu(roots('this-vm')), { present: false, iommufd: false, vfio: false, groups: 0, units: [] });
});

test('Intel VT-d registers of a real Skylake unit decode to what its kernel reported', () => {
  const iommu = readIommu(roots('skylake-vtd'));
  assert.equal(iommu.present, true);
  assert.equal(iommu.groups, 3);
  const unit = iommu.units[0]!;
  assert.equal(unit.kind, 'intel-vtd');
  assert.deepEqual(unit.registers, { cap: 'd2008c40660462', ecap: 'f050da', version: '1:0' });
  // the kernel printed "Host address width 39" for this machine
  assert.ok(unit.decoded!.features!.includes('max-guest-address-width-39'));
  assert.deepEqual(unit.decoded!.addressWidths, [48]);
  assert.deepEqual(unit.decoded!.pageSizes, ['4K', '2M', '1G']);
  for (const f of ['queued-invalidation', 'interrupt-remapping', 'extended-interrupt-mode', 'pass-through', 'snoop-control']) {
    assert.ok(unit.decoded!.features!.includes(f), f);
  }
  assert.ok(!unit.decoded!.features!.includes('scalable-mode'));
});

test('AMD-Vi extended features decode to the names the kernel printed for them', () => {
  const iommu = readIommu(roots('amd-vi'));
  const unit = iommu.units[0]!;
  assert.equal(unit.kind, 'amd-vi');
  // Kernel: "AMD-Vi: Extended features (0x206d73ef22254ade): PPR X2APIC NX GT IA GA PC GA_vAPIC"
  const kernelNames: Record<string, string> = { PPR: 'ppr', X2APIC: 'x2apic', NX: 'no-execute', GT: 'guest-translation', IA: 'invalidate-all', GA: 'guest-apic', PC: 'performance-counters' };
  assert.deepEqual(unit.decoded!.features, Object.values(kernelNames));
  // Another real unit: "Extended features (0x58f77ef22294a5a): PPR NX GT IA PC GA_vAPIC"
  assert.deepEqual(decodeAmdIommu('58f77ef22294a5a').features, ['ppr', 'no-execute', 'guest-translation', 'invalidate-all', 'performance-counters']);
});
