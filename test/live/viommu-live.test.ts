import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { viommuAnswer } from '../../src/check/viommu.js';
import { shellSplit } from '../../src/formats/qemuopts.js';
import { parseGuestText } from '../../src/formats/guest-input.js';
import { findCatalog } from '../../src/io/catalog-files.js';
import { fixtureIommu, viommuRules } from '../../src/io/viommu-files.js';
import { launchQemu } from '../../src/qmp/launcher.js';
import { FIXTURES, requireQemu } from '../helpers.js';

/**
 * The guest side of each vIOMMU case against the real build: QEMU starts the guest (its assigned
 * devices left out: there is no device to give it here) exactly when guestabi viommu says it does,
 * and refuses with the words the catalog holds.
 */
const cases = (parse(readFileSync(join(FIXTURES, 'viommu', 'cases.yaml'), 'utf8')) as { cases: { name: string; qemu: string; guest: string }[] }).cases;

for (const c of cases) {
  test(`live: vIOMMU case ${c.name} starts on QEMU ${c.qemu} exactly when guestabi viommu says so`, async (t) => {
    const guest = parseGuestText(c.guest, c.name, 'argv').spec;
    const arch = guest.arch === 'aarch64' ? 'aarch64' : 'x86_64';
    const build = requireQemu(t, c.qemu, arch);
    if (!build) return;
    const catalog = findCatalog(c.qemu, [], arch);
    const machine = catalog.resolveMachineAlias(guest.machine.type) ?? guest.machine.type;
    const report = viommuAnswer({ guest, catalog, machine, host: fixtureIommu('none', undefined, 'test'), rules: viommuRules() });
    const words = shellSplit(c.guest).filter((w) => !w.startsWith('qemu-system-'));
    const args: string[] = [];
    for (let i = 0; i < words.length; i++) {
      if (words[i] === '-device' && words[i + 1]!.startsWith('vfio-pci')) i++;
      else args.push(words[i]!);
    }
    let error: string | undefined;
    try {
      const q = await launchQemu(build, [...args, '-display', 'none', '-S', '-accel', 'tcg']);
      await q.stop();
    } catch (e) {
      error = (e as Error).message;
    }
    t.diagnostic(`${c.name}: ${error ? `refused: ${error.split('\n')[0]}` : 'starts'}`);
    assert.equal(Boolean(error), report.start.length > 0, `${c.name}: QEMU ${error ? 'refuses' : 'starts'}, guestabi says ${report.start.length ? 'refused' : 'starts'}`);
    if (error) assert.ok(error.includes(report.start[0]!.message.split(': ').at(-1)!), `QEMU's words: ${error}`);
  });
}
