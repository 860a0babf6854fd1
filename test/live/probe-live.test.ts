import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CatalogIndex } from '../../src/catalog/catalog.js';
import { findCatalog } from '../../src/io/catalog-files.js';
import { sortKeysDeep } from '../../src/catalog/props.js';
import { HostProfile } from '../../src/model/host.js';
import { isValid } from '../../src/model/validate.js';
import { launchQemu } from '../../src/qmp/launcher.js';
import { PROBE_BASE_ARGS } from '../../src/probe/catalog-probe.js';
import { withoutKvm } from '../../src/probe/kvm-defaults.js';
import { regenerateCatalog } from '../../src/probe/regen.js';
import { kvmDefaultsTable } from '../../src/io/rules-files.js';
import { kvmUnusable } from '../../src/lab/preflight.js';
import { apartGroups, probeDeviceArgs, sharing } from '../../src/probe/devices.js';
import { probeHost } from '../../src/probe/host-probe.js';
import { liveStarter } from '../../src/probe/session.js';
import { requireQemu } from '../helpers.js';

for (const version of ['5.2', '7.2', '10.0']) {
  test(`QEMU ${version}: probing the real build reproduces the shipped catalog exactly`, async (t) => {
    const build = requireQemu(t, version);
    if (!build) return;
    // How long it takes is a figure of npm run bench:commands -- --probe, not a test.
    const noKvm = kvmUnusable();
    const fresh = await regenerateCatalog({ starter: liveStarter(build), toolVersion: 'live-test', noKvm, table: kvmDefaultsTable() });
    const shipped = findCatalog(version).data;
    // Everything but the version of the tool that probed it; what KVM sets on every model is
    // compared where KVM can be used (shipped catalogs are probed with it).
    const strip = (c: typeof shipped) => sortKeysDeep({ ...withoutKvm(c), probe: { ...c.probe, tool: '' } });
    assert.deepEqual(strip(fresh), strip(shipped), 'npm run catalog:regen would change data/catalog: the probe or QEMU changed');
    if (noKvm) {
      console.log(`# notice: QEMU ${version}: the catalog's KVM defaults not probed again: KVM is not usable here (${noKvm})`);
      return;
    }
    // kvm_default_props is the build's; which per-model extras show can depend on the host
    // kernel's KVM (x2apic API, split irqchip): those are reported, not failed on.
    assert.deepEqual(fresh.kvm?.defaults, shipped.kvm?.defaults, 'what KVM sets on most models');
    const extras = (c: typeof shipped) => JSON.stringify(sortKeysDeep([c.cpuModels.map((m) => m.kvmDelta ?? null), c.machines.map((m) => m.kvmCpuDeltas ?? null)]));
    if (extras(fresh) !== extras(shipped)) t.diagnostic(`QEMU ${version}: per-model KVM deltas differ from the shipped catalog on this host's KVM`);
  });

  test(`QEMU ${version}: the catalog's device properties are what qom-get reads on a live instance`, async (t) => {
    const build = requireQemu(t, version);
    if (!build) return;
    const catalog = findCatalog(version);
    const machines = catalog.data.machines.filter((m) => m.probe === 'ok' && m.family.startsWith('pc-') && !m.refusedDevices);
    // Oldest, middle and newest of each family: qom-get is another path than the probe's qtree.
    const sample = ['pc-i440fx', 'pc-q35'].flatMap((f) => {
      const list = machines.filter((m) => m.family === f);
      return [list[0]!, list[Math.floor(list.length / 2)]!, list[list.length - 1]!];
    });
    let compared = 0;
    // The probe starts the shared devices in one instance and each group that cannot share it in
    // an instance of its own (qxl-vga beside VGA, sound): so does this test.
    const instances = [sharing(), ...apartGroups().map(([, devices]) => devices)];
    for (const m of sample) {
      const known = catalog.devicesOn(m.name)!;
      for (const devices of instances) {
        const keys = new Set(devices.map((d) => d.key));
        if (![...keys].some((k) => known.has(k))) continue; // a group this machine type refuses
        const q = await launchQemu(build, ['-machine', m.name, ...PROBE_BASE_ARGS, ...probeDeviceArgs(devices)]);
        try {
          for (const [key, props] of known) {
            if (!keys.has(key)) continue; // board devices, other instances, placements
            const path = `/machine/peripheral/probe-${key}`;
            const list = await q.qmp.execute<{ name: string; type: string }[]>('qom-list', { path });
            const names = new Set(list.filter((p) => !p.type.startsWith('child<') && !p.type.startsWith('link<')).map((p) => p.name));
            for (const [prop, value] of Object.entries(props)) {
              if (!names.has(prop) || typeof value !== 'boolean') continue;
              const live = await q.qmp.execute('qom-get', { path, property: prop });
              assert.equal(live, value, `${version} ${m.name} ${key}.${prop}`);
              compared++;
            }
          }
        } finally {
          await q.stop();
        }
      }
    }
    assert.ok(compared > 500, `compared ${compared} properties`);
  });

  test(`QEMU ${version}: the host profile under TCG says what query-cpu-definitions says`, async (t) => {
    const build = requireQemu(t, version);
    if (!build) return;
    const profile = await probeHost({ starter: liveStarter(build), accel: 'tcg', binary: build.binary, toolVersion: 'live-test' });
    assert.ok(isValid(HostProfile, profile));
    const q = await launchQemu(build, ['-machine', 'pc', '-nodefaults', '-display', 'none', '-S', '-accel', 'tcg']);
    try {
      const defs = await q.qmp.execute<{ name: string; 'unavailable-features': string[] }[]>('query-cpu-definitions');
      for (const d of defs) assert.equal(profile.cpuModels[d.name]!.runnable, d['unavailable-features'].length === 0, d.name);
    } finally {
      await q.stop();
    }
    assert.ok(new CatalogIndex(findCatalog(version).data).id === profile.qemu.catalog, 'the profile names the shipped catalog of its build');
  });
}
