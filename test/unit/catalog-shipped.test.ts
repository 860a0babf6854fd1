import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffCatalogs } from '../../src/catalog/diff.js';
import { findCatalog, shippedCatalogs } from '../../src/io/catalog-files.js';
import type { PropValue } from '../../src/model/common.js';

test('the three shipped catalogs load, validate and resolve every CPU model version', () => {
  const all = shippedCatalogs();
  assert.deepEqual(
    all.map((c) => `${c.data.qemu.major}.${c.data.qemu.minor}`),
    ['5.2', '7.2', '10.0'],
  );
  for (const c of all) {
    for (const m of c.data.cpuModels) {
      if (m.hostDependent) continue;
      const e = c.cpuExpansion(m.name);
      assert.ok(e, `${c.id}: ${m.name} resolves`);
      assert.equal(typeof e.family, 'number');
    }
    const def = c.defaultMachine()!;
    assert.equal(def.alias, 'pc');
    assert.ok(!def.cpuDelta && !def.cpuModelDeltas, `${c.id}: the default type is the reference and has no compat deltas`);
  }
});

test('a version is stored as a delta on the version before it', () => {
  const c = findCatalog('10.0');
  const v4 = c.cpuModel('EPYC-v4')!;
  assert.equal(v4.deltaFrom, 'EPYC-v3');
  assert.ok(!v4.props);
  const v3 = c.cpuExpansion('EPYC-v3')!;
  const e4 = c.cpuExpansion('EPYC-v4')!;
  for (const [k, v] of Object.entries(v4.delta!)) assert.equal(e4[k], v ?? undefined);
  for (const k of Object.keys(v3)) if (!(k in v4.delta!)) assert.equal(e4[k], v3[k]);
});

/** QEMU 10.0 lists each machine type's compat properties itself (query-machines compat-props).
 *  Where one names a probe device type exactly, the value we measured on an instance must be it. */
test('QEMU 10.0: measured device properties agree with the compat properties QEMU lists', () => {
  const c = findCatalog('10.0');
  const byType = new Map(c.data.probe.devices.map((d) => [d.type, d.key]));
  let checked = 0;
  for (const m of c.data.machines) {
    if (m.probe !== 'ok' || !m.compatProps) continue;
    // Later entries are older machine types' compat arrays and win, as QEMU applies them in order.
    const last = new Map<string, string>();
    for (const cp of m.compatProps) last.set(`${cp.qomType}\u0000${cp.property}`, cp.value);
    for (const [k, value] of last) {
      const [type, property] = k.split('\u0000') as [string, string];
      const key = byType.get(type);
      if (!key) continue;
      const props = c.deviceOn(m.name, key);
      if (!props || !(property in props)) continue;
      assert.ok(sameValue(props[property]!, value), `${m.name}: ${type}.${property} measured ${String(props[property])}, compat says ${value}`);
      checked++;
    }
  }
  assert.ok(checked > 20, `only ${checked} compat properties could be checked`);
});

function sameValue(measured: PropValue, compat: string): boolean {
  if (typeof measured === 'boolean') return measured === ['on', 'true', 'yes'].includes(compat);
  if (typeof measured === 'number') return measured === Number(compat);
  return measured === compat;
}

test('the diff shows what the issue names: use-disabled-flag on 4.2, VGA resolution on 4.1..5.2, qemu64-v1', () => {
  const d = diffCatalogs(findCatalog('5.2'), findCatalog('10.0'));
  const change = (machine: string, subject: string, property: string) =>
    d.machines.find((m) => m.machine === machine)?.devices.find((s) => s.subject === subject)?.changes.find((c) => c.property === property);
  assert.deepEqual(change('pc-q35-4.2', 'virtio-net-pci', 'use-disabled-flag'), { property: 'use-disabled-flag', a: true, b: false });
  for (const v of ['4.1', '4.2', '5.0', '5.1', '5.2']) {
    const x = change(`pc-i440fx-${v}`, 'VGA', 'xres');
    assert.ok(x && x.a !== x.b, `pc-i440fx-${v} VGA xres differs`);
  }
  assert.equal(change('pc-i440fx-4.0', 'VGA', 'xres'), undefined, 'types before 4.1 agree on xres');
  const q = d.cpuModelDefinitions.find((s) => s.subject === 'qemu64-v1')!;
  assert.deepEqual(q.changes.find((c) => c.property === 'family'), { property: 'family', a: 6, b: 15 });
  assert.ok(d.machinesAdded.includes('pc-q35-10.0'));
  assert.ok(d.machinesRemoved.includes('pc-i440fx-1.4'));
  assert.ok(d.cpuModelsAdded.includes('EPYC-v4'));
});

test('a catalog compared with itself shows no difference', () => {
  const c = findCatalog('7.2');
  const d = diffCatalogs(c, c);
  assert.deepEqual([d.machines, d.cpuModelDefinitions, d.familyDevices, d.machinesAdded, d.cpuModelsAdded], [[], [], [], [], []]);
});

test('catalogs are found by version, prefix or id, and an unknown version is a clear error', () => {
  assert.equal(findCatalog('7.2').id, 'qemu-7.2.22-x86_64');
  assert.equal(findCatalog('qemu-5.2.0-x86_64').version, '5.2.0');
  assert.equal(findCatalog('10').id, 'qemu-10.0.2-x86_64');
  assert.throws(() => findCatalog('9.9'), /no catalog for QEMU 9\.9 \(have: 5\.2\.0, 7\.2\.22, 10\.0\.2\)/);
});
