import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { viommuAnswer } from '../../src/check/viommu.js';
import { parseGuestText } from '../../src/formats/guest-input.js';
import { findCatalog } from '../../src/io/catalog-files.js';
import { fixtureIommu, iommuHostFixtures, viommuRules } from '../../src/io/viommu-files.js';
import { ViommuReport } from '../../src/model/viommu.js';
import { isValid } from '../../src/model/validate.js';
import { decodeIntelIommu, decodeSmmuv3 } from '../../src/probe/host-facts.js';
import { cli, FIXTURES } from '../helpers.js';
import { expectFile } from '../golden.js';

interface Case {
  name: string;
  qemu: string;
  guest: string;
  hotplug?: string;
}
const DIR = join(FIXTURES, 'viommu');
const cases = (parse(readFileSync(join(DIR, 'cases.yaml'), 'utf8')) as { cases: Case[] }).cases;
const rules = viommuRules();

function run(c: Case, hostId: string, iommufd?: boolean) {
  const guest = parseGuestText(c.guest, c.name, 'argv').spec;
  const catalog = findCatalog(c.qemu, [], guest.arch ?? 'x86_64');
  const machine = catalog.resolveMachineAlias(guest.machine.type) ?? guest.machine.type;
  const hotplug = c.hotplug ? parseGuestText(`-device ${c.hotplug}`, 'hotplug', 'argv').spec.devices![0] : undefined;
  return viommuAnswer({ guest, catalog, machine, host: fixtureIommu(hostId, iommufd, 'test'), rules, ...(hotplug ? { hotplug } : {}) });
}

test('golden: the rung of every guest vIOMMU configuration on every host IOMMU fixture', () => {
  const all = iommuHostFixtures().hosts;
  const lines: string[] = [];
  for (const c of cases) {
    const arch = parseGuestText(c.guest, c.name, 'argv').spec.arch ?? 'x86_64';
    const hosts = all.filter((h) => h.arch === arch || h.arch === 'any').map((h) => h.id);
    const cells = hosts.map((h) => {
      const r = run(c, h);
      assert.ok(isValid(ViommuReport, r), `${c.name} on ${h}: a ViommuReport`);
      const start = r.start.length ? 'start-refused ' : '';
      return `${h}=${start}${r.devices.map((d) => d.rung).join(',')}${r.hotplug ? ` hotplug:${r.hotplug.rung}` : ''}`;
    });
    lines.push(`${c.name} (QEMU ${c.qemu}): ${cells.join(' | ')}`);
  }
  expectFile(join(DIR, 'expected.txt'), lines.join('\n') + '\n');
});

test('the ladder\u2019s facts, each from the data: compat aw-bits, QEMU\u2019s words, builds that do not check, units that differ', () => {
  const byName = Object.fromEntries(cases.map((c) => [c.name, c]));
  // pc-q35-9.1 gets aw-bits=39 from its compat properties (probed: pc_compat_9_1), 10.0's own default is 48.
  assert.equal(run(byName['intel-caching-9.1-type']!, 'intel-tgl-client').viommu?.props['aw-bits'], 39);
  const refused = run(byName['intel-caching']!, 'intel-tgl-client').devices[0]!;
  assert.equal(refused.rung, 'refused');
  assert.match(refused.reasons[0]!.message, /"aw-bits 48 > host aw-bits 39"/);
  // 7.2 does not check the width at start: still refused (the host cannot map every IOVA), and said so.
  assert.match(run(byName['intel-caching-aw48-7.2']!, 'intel-tgl-client').devices[0]!.reasons[0]!.message, /does not check it at start/);
  // Nesting on the host does not make x-flts=on exact in 10.0: QEMU refuses the assigned device.
  const flts = run(byName['intel-first-stage']!, 'intel-m50fcp-nesting', true).devices[0]!;
  assert.equal(flts.rung, 'refused');
  assert.match(flts.reasons[0]!.message, /uncompatible with stage-1 translation/);
  // QEMU's own start refusal, probed.
  assert.match(run(byName['intel-flts-without-scalable']!, 'none').start[0]!.message, /x-flts is only available in scalable mode/);
  // A host without an IOMMU, and a guest without a vIOMMU.
  assert.equal(run(byName['intel-caching']!, 'none').devices[0]!.rung, 'refused');
  assert.equal(run(byName['no-viommu']!, 'intel-tgl-client').devices[0]!.rung, 'none');
  // A frozen granule the hotplugged device's IOMMU does not map (no device at start narrowed it to one it does).
  const frozen = run(byName['virtio-iommu-64k-hotplug-only']!, 'intel-tgl-client').hotplug!;
  assert.equal(frozen.rung, 'refused');
  assert.match(frozen.reasons[0]!.message, /frozen granule/);
  assert.equal(run(byName['virtio-iommu-64k-cold-and-hotplug']!, 'intel-tgl-client').hotplug?.rung, 'shadowed');
  // A probed host without the VFIO container (no vfio modules) gives no assigned device, whatever the vIOMMU.
  const c = byName['no-viommu']!;
  const guest = parseGuestText(c.guest, c.name, 'argv').spec;
  const catalog = findCatalog(c.qemu, [], guest.arch ?? 'x86_64');
  const host = fixtureIommu('intel-tgl-client', undefined, 'test');
  const noVfio = viommuAnswer({ guest, catalog, machine: catalog.resolveMachineAlias(guest.machine.type)!, host: { ...host, iommu: { ...host.iommu, vfio: false } }, rules });
  assert.equal(noVfio.devices[0]!.rung, 'refused');
  assert.match(noVfio.devices[0]!.reasons[0]!.message, /\/dev\/vfio\/vfio/);
});

test('host IOMMU decoding: VT-d address width and nesting, SMMUv3 stages', () => {
  const m50 = decodeIntelIommu('19ed008c40780c66', '3ee9e86f050df');
  assert.ok(m50.features!.includes('nested') && m50.features!.includes('scalable-mode') && m50.features!.includes('first-level'));
  assert.ok(m50.features!.includes('max-guest-address-width-57'));
  const tgl = decodeIntelIommu('d2008c40660462', 'f050da');
  assert.ok(tgl.features!.includes('max-guest-address-width-39') && !tgl.features!.includes('scalable-mode'));
  const smmu = decodeSmmuv3('1fff', '48');
  assert.deepEqual(smmu.addressWidths, [48]);
  assert.ok(smmu.features!.includes('stage-1') && smmu.features!.includes('stage-2'));
});

test('guestabi viommu: rungs, exit codes, JSON, the fixture list, bad input named', () => {
  const g = '-machine q35 -m 1G -nodefaults -device intel-iommu,caching-mode=on -device vfio-pci,host=0000:01:00.0';
  const ok = cli(['viommu', '--guest-argv', g, '--host-iommu', 'intel-m50fcp-nesting', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(JSON.parse(ok.stdout).devices[0].rung, 'shadowed');
  const no = cli(['viommu', '--guest-argv', g, '--host-iommu', 'intel-tgl-client']);
  assert.equal(no.code, 1);
  assert.match(no.stdout, /REFUSED/);
  assert.match(cli(['viommu', '--list-hosts']).stdout, /amd-epyc-7302p/);
  const bad = cli(['viommu', '--guest-argv', g, '--host-iommu', 'nope']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--host-iommu.*no host IOMMU 'nope'/s);
  const hot = cli(['viommu', '--guest-argv', g, '--host-iommu', 'none', '--hotplug', 'e1000']);
  assert.equal(hot.code, 2);
  assert.match(hot.stderr, /--hotplug/);
});

test('check and validate: the destination must give every assigned device a rung (its host IOMMU, its build)', async () => {
  const { checkMigration } = await import('../../src/check/check.js');
  const { migrationRules } = await import('../../src/io/rules-files.js');
  const { loadHostProfile } = await import('../../src/io/host-files.js');
  const { indexHost } = await import('../../src/resolve/target.js');
  const { answerValidate } = await import('../../src/service/answers.js');
  const withIommu = (version: string, id: string) => {
    const p = loadHostProfile(join(FIXTURES, `hosts/host-${version}-tcg.json`));
    return indexHost({ ...p, name: `${version}-${id}`, iommu: fixtureIommu(id, undefined, 'test').iommu }, findCatalog(version));
  };
  const guest = parseGuestText('-machine pc-q35-7.2 -cpu qemu64 -m 1G -nodefaults -device intel-iommu,caching-mode=on,aw-bits=48 -device vfio-pci,host=0000:01:00.0', 'g', 'argv').spec;
  const to39 = checkMigration({ source: guest, from: withIommu('7.2', 'intel-m50fcp-nesting'), to: withIommu('10.0', 'intel-tgl-client'), rules: migrationRules() });
  assert.ok(to39.forward.reasons.some((r) => r.code === 'VIOMMU_REFUSED' && /aw-bits 48 > host aw-bits 39/.test(r.message)), JSON.stringify(to39.forward.reasons.map((r) => r.code)));
  const to57 = checkMigration({ source: guest, from: withIommu('7.2', 'intel-tgl-client'), to: withIommu('10.0', 'intel-m50fcp-nesting'), rules: migrationRules() });
  assert.ok(!to57.forward.reasons.some((r) => r.code.startsWith('VIOMMU')));
  const report = answerValidate({ spec: guest, host: withIommu('10.0', 'intel-tgl-client'), source: 'g', today: '2026-12-02' } as Parameters<typeof answerValidate>[0]);
  const f = report.findings.find((x) => x.check === 'viommu')!;
  assert.equal(f.level, 'fail');
  assert.equal(f.code, 'VIOMMU_REFUSED');
});
