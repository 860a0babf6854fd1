import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findCatalog } from '../../src/io/catalog-files.js';
import { sortKeysDeep } from '../../src/catalog/props.js';
import { HostProfile } from '../../src/model/host.js';
import { isValid } from '../../src/model/validate.js';
import { launchQemu } from '../../src/qmp/launcher.js';
import { regenerateCatalog } from '../../src/probe/regen.js';
import { kvmDefaultsTable } from '../../src/io/rules-files.js';
import { probeHost } from '../../src/probe/host-probe.js';
import { liveStarter } from '../../src/probe/session.js';
import type { QemuArch } from '../../src/qmp/build.js';
import { requireQemu } from '../helpers.js';

// Power (pseries) and Arm (virt) under TCG, as `catalog regen --arch ppc64|aarch64` probes them.
for (const arch of ['ppc64', 'aarch64'] as QemuArch[]) {
  for (const version of ['5.2', '7.2', '10.0']) {
    test(`QEMU ${version} ${arch}: probing the real build reproduces the shipped catalog exactly`, async (t) => {
      const build = requireQemu(t, version, arch);
      if (!build) return;
      const fresh = await regenerateCatalog({ starter: liveStarter(build), toolVersion: 'live-test', arch, noKvm: 'not x86', table: kvmDefaultsTable() });
      const shipped = findCatalog(version, [], arch).data;
      const strip = (c: typeof shipped) => sortKeysDeep({ ...c, probe: { ...c.probe, tool: '' } });
      assert.deepEqual(strip(fresh), strip(shipped), `npm run catalog:regen -- --arch ${arch} would change data/catalog: the probe or QEMU changed`);
    });

    test(`QEMU ${version} ${arch}: every machine type and CPU model the build lists is in the catalog`, async (t) => {
      const build = requireQemu(t, version, arch);
      if (!build) return;
      const catalog = findCatalog(version, [], arch);
      const q = await launchQemu(build, ['-machine', 'none', '-nodefaults', '-display', 'none', '-S', '-accel', 'tcg']);
      try {
        const machines = await q.qmp.execute<{ name: string }[]>('query-machines');
        const cpus = await q.qmp.execute<{ name: string }[]>('query-cpu-definitions');
        assert.deepEqual(catalog.data.machines.map((m) => m.name).sort(), machines.map((m) => m.name).sort());
        assert.deepEqual(catalog.data.cpuModels.map((m) => m.name).sort(), cpus.map((m) => m.name).sort());
        const family = arch === 'ppc64' ? 'pseries' : 'virt';
        for (const m of catalog.data.machines.filter((x) => x.family === family)) assert.notEqual(m.probe, 'skipped', `${m.name} was probed`);
      } finally {
        await q.stop();
      }
      const profile = await probeHost({ starter: liveStarter(build), accel: 'tcg', arch, binary: build.binary, toolVersion: 'live-test' });
      assert.ok(isValid(HostProfile, profile));
      assert.equal(profile.qemu.catalog, catalog.id, 'the profile names the shipped catalog of its build');
    });
  }
}
