import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CatalogIndex } from '../../src/catalog/catalog.js';
import { Catalog } from '../../src/model/catalog.js';
import { isValid } from '../../src/model/validate.js';
import { probeCatalog } from '../../src/probe/catalog-probe.js';
import { guestVisibility } from '../../src/io/rules-files.js';
import { flattenDevice, parseQtree, walkQtree } from '../../src/probe/qtree.js';
import { keyOfProbeId } from '../../src/probe/devices.js';
import { replayStarter } from '../../src/probe/session.js';
import { FIXTURES, RECORDED_MACHINES } from '../helpers.js';
import { machineOf, readRecordings, replyTo, type Recording } from '../recording.js';

interface CpuDef {
  name: string;
  'alias-of'?: string;
  deprecated?: boolean;
  'unavailable-features'?: string[];
}
interface Expansion {
  model: { name: string; props: Record<string, unknown> };
}

for (const version of ['5.2', '7.2', '10.0']) {
  const dir = join(FIXTURES, 'qmp', version, 'catalog');

  test(`QEMU ${version}: the catalog built from recorded replies agrees with every recorded reply`, async () => {
    const catalog = await probeCatalog({ starter: replayStarter(dir), toolVersion: 'test', onlyMachines: RECORDED_MACHINES[version] });
    assert.ok(isValid(Catalog, catalog), 'the probe output validates against the Catalog schema');
    const index = new CatalogIndex(catalog);
    const recordings = readRecordings(dir);
    const build = recordings.find((r) => machineOf(r) === 'none')!;

    // Machine types, aliases, default and deprecation as QEMU listed them.
    const machines = replyTo<{ name: string; alias?: string; 'is-default'?: boolean; deprecated?: boolean }[]>(build, 'query-machines');
    assert.deepEqual(catalog.machines.map((m) => m.name).sort(), machines.map((m) => m.name).sort());
    for (const m of machines) {
      const c = index.machine(m.name)!;
      assert.equal(c.alias, m.alias, `${m.name} alias`);
      assert.equal(c.isDefault, m['is-default'] === true, `${m.name} is-default`);
      assert.equal(c.deprecated, m.deprecated === true, `${m.name} deprecated`);
    }
    if (version === '10.0') assert.ok(catalog.machines.some((m) => m.compatProps?.length), 'compat-props read on QEMU >= 9.1');

    // CPU models as QEMU listed them.
    const defs = replyTo<CpuDef[]>(build, 'query-cpu-definitions');
    assert.deepEqual(catalog.cpuModels.map((m) => m.name).sort(), defs.map((d) => d.name).sort());

    // Feature aliases: each one turned its feature on when QEMU was asked.
    assert.equal(catalog.cpuFeatureAliases.sse3, 'pni');
    assert.equal(catalog.cpuFeatureAliases['sse4_1'], 'sse4.1');

    for (const rec of recordings.filter((r) => machineOf(r) !== 'none' && !r.startError)) {
      checkMachine(index, rec);
    }
  });
}

/** Every model's effective expansion on the machine, every alias and every probe device,
 *  resolved through the catalog's deltas, equal what that machine's QEMU replied. */
function checkMachine(index: CatalogIndex, rec: Recording): void {
  const machine = machineOf(rec);
  const aliases = index.data.cpuFeatureAliases;
  // Placement instances (devices behind ports and bridges) hold device trees only.
  const defs = rec.exchanges.some((e) => e.execute === 'query-cpu-definitions') ? replyTo<CpuDef[]>(rec, 'query-cpu-definitions') : [];
  for (const d of defs) {
    if (d.name === 'host' || d.name === 'max') continue;
    assert.equal(index.cpuAliasOf(d.name, machine) ?? undefined, d['alias-of'], `${machine}: alias of ${d.name}`);
    const reply = replyTo<Expansion>(rec, 'query-cpu-model-expansion', (a) => (a as { model: { name: string } }).model.name === d.name);
    const expected = Object.fromEntries(Object.entries(reply.model.props).filter(([k]) => !guestVisibility().cpuExpansionOmits.has(k) && !(k in aliases)));
    assert.deepEqual(index.cpuOnMachine(d.name, machine), expected, `${machine}: expansion of ${d.name}`);
  }
  const qtree = replyTo<string>(rec, 'human-monitor-command');
  const omit = new Set(guestVisibility().catalogOmits);
  for (const { device, busType } of walkQtree(parseQtree(qtree))) {
    const key = keyOfProbeId(device.id);
    if (!key) continue;
    const flat = flattenDevice(device, busType, omit);
    assert.deepEqual(index.deviceOn(machine, key), flat, `${machine}: ${key}`);
  }
}

test('QEMU 5.2: devices QEMU refuses on old machine types are recorded with its reason', async () => {
  const dir = join(FIXTURES, 'qmp', '5.2', 'catalog');
  const catalog = new CatalogIndex(await probeCatalog({ starter: replayStarter(dir), toolVersion: 'test', onlyMachines: RECORDED_MACHINES['5.2'] }));
  const refused = catalog.machine('pc-i440fx-2.4')!.refusedDevices!;
  assert.match(refused['virtio-blk-pci-transitional']!, /scsi=off/);
  assert.equal(catalog.deviceOn('pc-i440fx-2.4', 'virtio-blk-pci-transitional'), undefined);
  assert.ok(catalog.deviceOn('pc-i440fx-2.4', 'virtio-net-pci'), 'the other devices were still probed');
  // Placement changes what the guest sees: disable-legacy=auto is modern-only behind a PCIe port.
  const port = catalog.deviceOn('pc-q35-4.2', 'virtio-net-pci@pcie-port')!;
  const root = catalog.deviceOn('pc-q35-4.2', 'virtio-net-pci')!;
  const bridge = catalog.deviceOn('pc-q35-4.2', 'virtio-net-pci@pci-bridge')!;
  assert.deepEqual([root['disable-legacy'], root['pci.id']], ['off', '1af4:1000']);
  assert.deepEqual([port['disable-legacy'], port['pci.id']], ['on', '1af4:1041']);
  assert.deepEqual([bridge['disable-legacy'], bridge['bus-type']], ['off', 'PCI']);
  assert.match(catalog.machine('isapc')!.refusedDevices!['VGA']!, /No 'PCI' bus/);
});

test('QEMU 7.2: bare CPU names are legacy on pc-*-4.0 and aliases of -v1 after, qemu64 keeps family 6 before 6.1', async () => {
  const dir = join(FIXTURES, 'qmp', '7.2', 'catalog');
  const c = new CatalogIndex(await probeCatalog({ starter: replayStarter(dir), toolVersion: 'test', onlyMachines: RECORDED_MACHINES['7.2'] }));
  assert.equal(c.machine('pc-i440fx-4.0')!.legacyCpuModels, true);
  assert.equal(c.cpuAliasOf('EPYC', 'pc-i440fx-7.2'), 'EPYC-v1');
  assert.equal(c.cpuAliasOf('EPYC', 'pc-i440fx-4.0'), null);
  assert.equal(c.cpuOnMachine('qemu64', 'pc-i440fx-6.0')!.family, 6);
  assert.equal(c.cpuOnMachine('qemu64-v1', 'pc-i440fx-6.0')!.family, 15);
  // microvm does not pin a CPU version: bare names take the newest one
  assert.equal(c.cpuAliasOf('EPYC', 'microvm'), c.cpuVersions('EPYC').at(-1)!.name);
});
