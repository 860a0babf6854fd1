import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findCatalog } from '../../src/io/catalog-files.js';
import { parseGuestText } from '../../src/formats/guest-input.js';
import { hostTarget } from '../../src/io/host-files.js';
import { TierMatrix, ValidationReport, type TierPolicy, type TierResult } from '../../src/model/policy.js';
import { validate } from '../../src/model/validate.js';
import { openOsinfoDb, resolveOs, type OsinfoDb } from '../../src/osinfo/db.js';
import { loadTierPolicy, loadVulnerabilityMap, VULNERABILITY_FILE } from '../../src/io/policy-files.js';
import { guestVisibility } from '../../src/io/rules-files.js';
import { guestOsTier } from '../../src/policy/tier.js';
import { validateGuest, validationPlatform } from '../../src/policy/validate.js';
import { cli, FIXTURES, OSINFO_DIR, requireOsinfo } from '../helpers.js';

/**
 * Tiers and validation, built from the real osinfo-db files the Debian package installs: every
 * expected date and device below is read from those files, not typed in.
 */

/** A field of an osinfo-db OS file, read with a plain regex: the test's own oracle. */
function osinfoField(file: string, field: string): string | undefined {
  return new RegExp(`<${field}>([^<]+)</${field}>`).exec(readFileSync(join(OSINFO_DIR, 'os', file), 'utf8'))?.[1];
}

function tier(db: OsinfoDb, os: string, machine: string, today: string, extra: { policy?: TierPolicy; arch?: string; confidential?: boolean; qemu?: string } = {}): TierResult {
  return guestOsTier({
    os: resolveOs(db, db.get(os)),
    catalog: findCatalog(extra.qemu ?? '10.0'),
    machine,
    today,
    policy: extra.policy ?? loadTierPolicy(),
    ...(extra.arch ? { arch: extra.arch } : {}),
    ...(extra.confidential ? { secure: { confidential: true } } : {}),
  });
}

const codes = (r: { reasons: { code: string }[] }) => r.reasons.map((x) => x.code);

test('osinfo-db: devices are inherited through derives-from, as libosinfo does, and supported="false" removes one', (t) => {
  if (!requireOsinfo(t)) return;
  const db = openOsinfoDb(OSINFO_DIR);
  const rhel610 = readFileSync(join(OSINFO_DIR, 'os/redhat.com/rhel-6.10.xml'), 'utf8');
  assert.doesNotMatch(rhel610, /<device /, 'RHEL 6.10 lists no devices of its own');
  const own = [...readFileSync(join(OSINFO_DIR, 'os/redhat.com/rhel-6.0.xml'), 'utf8').matchAll(/<device id="([^"]+)"/g)].map((m) => m[1]);
  const r = resolveOs(db, db.get('rhel6.10'));
  for (const id of own) assert.ok(r.devices.some((d) => d.id === id), `rhel6.10 inherits ${id} from rhel6.0`);
  assert.ok(!r.devices.some((d) => d.id === 'http://pcisig.com/pci/1af4/1041'), 'and no virtio 1.0');
  assert.equal(r.eolDate, osinfoField('redhat.com/rhel-6.10.xml', 'eol-date'));
  // Ubuntu 22.04 says virtio1.0-gpu is not supported, though an OS it derives from lists it.
  const ubuntu = readFileSync(join(OSINFO_DIR, 'os/ubuntu.com/ubuntu-22.04.xml'), 'utf8');
  const unsupported = /<device id="([^"]+)" supported="false"/.exec(ubuntu)?.[1];
  assert.ok(unsupported);
  assert.ok(!resolveOs(db, db.get('ubuntu22.04')).devices.some((d) => d.id === unsupported));
  // Names and classes come from osinfo-db's device files.
  assert.equal(r.devices.find((d) => d.id === 'http://pcisig.com/pci/1af4/1000')?.class, 'net');
});

test('RHEL 6.10 on pc-q35-10.0: supported with transitional devices behind a PCIe-to-PCI bridge, capped by its end-of-life', (t) => {
  if (!requireOsinfo(t)) return;
  const db = openOsinfoDb(OSINFO_DIR);
  const eol = osinfoField('redhat.com/rhel-6.10.xml', 'eol-date')!;
  const released = osinfoField('redhat.com/rhel-6.10.xml', 'release-date')!;
  const r = tier(db, 'rhel6.10', 'pc-q35-10.0', '2026-11-21');
  assert.equal(r.tier, 'supported');
  const net = r.settings.find((s) => s.subject === 'virtio-net-pci');
  assert.ok(net, 'a named setting for the NIC');
  assert.ok(net.libvirt.some((l) => l.includes("model type='virtio-transitional'")));
  assert.ok(net.qemu.some((l) => l.includes('pcie-pci-bridge')) && net.qemu.some((l) => l.includes('virtio-net-pci-transitional')));
  assert.ok(r.settings.some((s) => s.subject === 'virtio-blk-pci'));
  const eolReason = r.reasons.find((x) => x.code === 'OS_PAST_EOL');
  assert.equal(eolReason?.a, eol);
  // The device facts come from the catalog: virtio 1.0 behind the port, legacy behind the bridge.
  const why = r.reasons.find((x) => x.code === 'DEVICE_SETTING_NEEDED' && x.subject === 'virtio-net-pci');
  assert.equal(why?.a, findCatalog('10.0').deviceOn('pc-q35-10.0', 'virtio-net-pci@pcie-port')?.['pci.id']);
  assert.equal(why?.b, findCatalog('10.0').deviceOn('pc-q35-10.0', 'virtio-net-pci-transitional@pci-bridge')?.['pci.id']);
  assert.deepEqual(r.alternatives.map((a) => a.machine), ['pc-i440fx-10.0']);

  // Before its end-of-life and within the age window, only the settings hold it at supported,
  // and on i440fx (transitional on the root bus) it is recommended.
  const inWindow = `${Number(released.slice(0, 4)) + 4}${released.slice(4)}`;
  assert.ok(inWindow < eol);
  const early = tier(db, 'rhel6.10', 'pc-q35-10.0', inWindow);
  assert.equal(early.tier, 'supported');
  assert.ok(!codes(early).includes('OS_PAST_EOL') && !codes(early).includes('OS_TOO_OLD'));
  assert.equal(tier(db, 'rhel6.10', 'pc-i440fx-10.0', inWindow).tier, 'recommended');
});

test('a current OS with virtio 1.0 is recommended; the age rule moves with --today and the policy', (t) => {
  if (!requireOsinfo(t)) return;
  const db = openOsinfoDb(OSINFO_DIR);
  const released = osinfoField('redhat.com/rhel-9.0.xml', 'release-date')!;
  const year = Number(released.slice(0, 4));
  const lastDay = new Date(Date.parse(`${year + 5}${released.slice(4)}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10);
  const r = tier(db, 'rhel9.0', 'pc-q35-10.0', lastDay);
  assert.equal(r.tier, 'recommended', JSON.stringify(r.reasons));
  assert.equal(r.settings.length, 0);
  assert.ok(r.reasons.some((x) => x.code === 'DEVICE_DEFAULT_WORKS' && x.a === findCatalog('10.0').deviceOn('pc-q35-10.0', 'virtio-net-pci@pcie-port')?.['pci.id']));
  const after = tier(db, 'rhel9.0', 'pc-q35-10.0', `${year + 5}${released.slice(4)}`);
  assert.equal(after.tier, 'supported');
  assert.ok(codes(after).includes('OS_TOO_OLD'));
  const longer = tier(db, 'rhel9.0', 'pc-q35-10.0', `${year + 5}${released.slice(4)}`, { policy: { ...loadTierPolicy(), ageYears: 10 } });
  assert.equal(longer.tier, 'recommended');
});

test('an OS of another architecture, or a guest architecture the machine type does not run, is unsupported', (t) => {
  if (!requireOsinfo(t)) return;
  const db = openOsinfoDb(OSINFO_DIR);
  const rhel9 = readFileSync(join(OSINFO_DIR, 'os/redhat.com/rhel-9.0.xml'), 'utf8');
  assert.doesNotMatch(rhel9, /arch="i686"/, 'RHEL 9 is not built for i686');
  const r = tier(db, 'rhel9.0', 'pc-q35-10.0', '2026-11-21', { arch: 'i686' });
  assert.equal(r.tier, 'unsupported');
  assert.ok(codes(r).includes('OS_ARCH_UNSUPPORTED'));
  const arm = tier(db, 'win10', 'pc-q35-10.0', '2026-11-21', { arch: 'aarch64' });
  assert.equal(arm.tier, 'unsupported');
  assert.ok(codes(arm).includes('ARCH_NOT_RUNNABLE') && codes(arm).includes('OS_ARCH_UNSUPPORTED'));
  // A 32-bit-only OS runs as an i686 guest on an x86_64 machine type.
  const win2k = tier(db, 'win2k', 'pc-i440fx-10.0', '2026-11-21');
  assert.notEqual(win2k.tier, 'unsupported');
  assert.equal(win2k.arch, 'i686');
});

test('chipset, firmware and confidential guests: q35 without osinfo support, UEFI-only Windows 11, SEV without virtio 1.0', (t) => {
  if (!requireOsinfo(t)) return;
  const db = openOsinfoDb(OSINFO_DIR);
  const xp = tier(db, 'winxp', 'pc-q35-10.0', '2026-11-21');
  assert.equal(xp.tier, 'unsupported');
  assert.ok(codes(xp).includes('CHIPSET_UNSUPPORTED'));
  assert.equal(tier(db, 'winxp', 'pc-i440fx-10.0', '2026-11-21').tier, 'supported');
  assert.match(readFileSync(join(OSINFO_DIR, 'os/microsoft.com/win-11.xml'), 'utf8'), /type="bios" supported="false"/);
  const w11 = tier(db, 'win11', 'pc-q35-10.0', '2026-11-21');
  assert.ok(w11.settings.some((s) => s.class === 'firmware' && s.subject === 'efi'));
  const sev = tier(db, 'rhel6.10', 'pc-q35-10.0', '2026-11-21', { confidential: true });
  assert.equal(sev.tier, 'unsupported');
  assert.ok(sev.reasons.some((x) => x.code === 'VIRTIO1_REQUIRED' && x.level === 'error'));
  assert.notEqual(tier(db, 'rhel9.0', 'pc-q35-10.0', '2026-11-21', { confidential: true }).tier, 'unsupported');
});

test('tier CLI: one answer, the matrix as JSON, and bad input (unknown OS, no osinfo-db, malformed policy, bad date) exits 2', (t) => {
  if (!requireOsinfo(t)) return;
  const one = cli(['tier', '--os', 'rhel6.10', '--machine', 'pc-q35-10.0', '--today', '2026-11-21']);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /SUPPORTED/);
  assert.match(one.stdout, /virtio-net-pci-transitional,bus=pci-bridge0/);
  const m = cli(['tier', '--matrix', '--os', 'rhel6.10,rhel9.0,win10,winxp', '--machine', 'pc-i440fx-10.0,pc-q35-5.2,pc-q35-10.0', '--today', '2026-11-21', '--json']);
  assert.equal(m.code, 0, m.stderr);
  const matrix = validate(TierMatrix, JSON.parse(m.stdout), 'tier --matrix --json');
  assert.equal(matrix.results.length, 12);
  assert.equal(matrix.results.find((r) => r.os.shortId === 'winxp' && r.machine.name === 'pc-q35-10.0')?.tier, 'unsupported');

  const unknown = cli(['tier', '--os', 'debian99', '--machine', 'q35']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /--os: osinfo-db .* has no OS 'debian99'; near: debian/);
  const noDb = cli(['tier', '--os', 'rhel9.0', '--machine', 'q35', '--osinfo', '/nonexistent/osinfo']);
  assert.equal(noDb.code, 2);
  assert.match(noDb.stderr, /osinfo-db is not installed/);
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-policy-'));
  const bad = join(dir, 'policy.yaml');
  writeFileSync(bad, readFileSync(join(FIXTURES, '../../data/policy/tiers.yaml'), 'utf8').replace('ageYears: 5', 'ageYears: five'));
  const badPolicy = cli(['tier', '--os', 'rhel9.0', '--machine', 'q35', '--policy', bad]);
  assert.equal(badPolicy.code, 2);
  assert.match(badPolicy.stderr, /policy\.yaml: not valid as a TierPolicy:\n\s+ageYears/);
  const badDate = cli(['tier', '--os', 'rhel9.0', '--machine', 'q35', '--today', '2026-13-01']);
  assert.equal(badDate.code, 2);
  assert.match(badDate.stderr, /--today: not a date/);
  const badMachine = cli(['tier', '--os', 'rhel9.0', '--machine', 'pc-q35-99.0']);
  assert.equal(badMachine.code, 2);
  assert.match(badMachine.stderr, /--machine: no shipped catalog has the machine type 'pc-q35-99.0'/);
  for (const r of [unknown, noDb, badPolicy, badDate, badMachine]) assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('the vulnerability map: every row cites a source, and every feature it names is a QEMU CPU feature', () => {
  const map = loadVulnerabilityMap();
  const features = findCatalog('10.0').cpuFeatures();
  for (const row of map.rows) {
    assert.ok(row.source.length > 10, `${row.vulnerability}: a source`);
    for (const f of [...(row.needs ?? []).flat(), ...(row.recommended ?? []), ...(row.mustNotClaim ?? [])]) {
      assert.ok(features.has(f), `${row.vulnerability}: ${f} is a feature of QEMU 10.0`);
    }
    if (row.guestMitigates === false) assert.equal(row.needs, undefined, `${row.vulnerability}: a host-only row names no guest features`);
  }
});

function validateFixture(guest: string, host: string, opts: { os?: boolean; hostEdit?: (p: ReturnType<typeof hostTarget>['hosts'][number]) => void } = {}): ValidationReport {
  const text = guest.startsWith('-') ? guest : readFileSync(join(FIXTURES, guest), 'utf8');
  const g = parseGuestText(text, guest);
  const h = hostTarget(join(FIXTURES, 'hosts', host), 'x86_64').hosts[0]!;
  opts.hostEdit?.(h);
  const db = opts.os === false ? null : openOsinfoDb(OSINFO_DIR);
  const osName = g.spec.os?.shortId ?? g.spec.os?.id;
  return validateGuest({
    platform: validationPlatform(g.spec, h, guestVisibility(), guest),
    vulnerabilities: loadVulnerabilityMap(),
    vulnerabilityFile: 'data/policy/vulnerabilities.yaml',
    os: db && osName ? resolveOs(db, db.get(osName)) : null,
    tierPolicy: loadTierPolicy(),
    today: '2026-11-21',
  });
}

test('validate: real libvirt XML on a real host profile; vulnerability rows trace to the cited data file', (t) => {
  if (!requireOsinfo(t)) return;
  const r = validateFixture('libvirt/rhel6.xml', 'host-7.2-kvm.json');
  const profile = JSON.parse(readFileSync(join(FIXTURES, 'hosts/host-7.2-kvm.json'), 'utf8')) as { vulnerabilities: Record<string, string>; cpu: { vendor: string } };
  const map = loadVulnerabilityMap();
  const vulnFindings = r.findings.filter((f) => f.check === 'vulnerability' && f.code !== 'HOST_NOT_AFFECTED');
  // One finding per affected vulnerability the host reports, each naming its row.
  const affected = Object.entries(profile.vulnerabilities).filter(([, s]) => !s.startsWith('Not affected')).map(([v]) => v);
  assert.deepEqual([...new Set(vulnFindings.map((f) => f.subject))].sort(), affected.sort());
  for (const f of vulnFindings) {
    if (f.code === 'VULNERABILITY_NOT_MAPPED') continue;
    const m = /^data\/policy\/vulnerabilities\.yaml#([a-z0-9_]+)(?:\/(\w+))?: (.*)$/.exec(f.source ?? '');
    assert.ok(m, `${f.subject}: source ${f.source}`);
    const row = map.rows.find((x) => x.vulnerability === m[1] && (x.vendor ?? undefined) === m[2]);
    assert.ok(row && row.source === m[3], `${f.subject}: the row of the data file`);
    assert.ok(!row.vendor || row.vendor === profile.cpu.vendor);
  }
  // Nehalem lacks ibpb: on this AMD host the guest cannot mitigate Spectre v2.
  const v2 = r.findings.find((f) => f.subject === 'spectre_v2' && f.code === 'VULNERABILITY_UNMITIGATED');
  assert.equal(v2?.level, 'fail');
  assert.equal(r.result, 'fail');
  // The transitional devices behind the bridge are ones RHEL 6.10 drives; the tier says what holds it.
  assert.ok(r.findings.some((f) => f.code === 'DEVICE_DRIVABLE' && f.subject.startsWith('virtio-net-pci-transitional')));
  const tierFinding = r.findings.find((f) => f.code === 'GUEST_OS_TIER');
  assert.equal(tierFinding?.level, 'warn');
  assert.match(tierFinding!.message, /already has the settings for virtio-blk-pci, virtio-net-pci/);
  assert.ok(r.findings.some((f) => f.code === 'CPU_NOT_PINNED' && f.b === 'Nehalem-v1'));
  assert.ok(r.findings.some((f) => f.code === 'CPU_NOT_ENFORCED'));
  assert.equal(r.tier?.tier, 'supported');
});

test('validate: a modern virtio device RHEL 6 cannot drive fails; a guest that names no OS is told its devices go unchecked', (t) => {
  if (!requireOsinfo(t)) return;
  // The NIC as plain virtio on the free PCIe root port (index 4) instead of transitional behind the bridge.
  const x = readFileSync(join(FIXTURES, 'libvirt/rhel6.xml'), 'utf8').replace(
    "<model type='virtio-transitional'/>\n      <address type='pci' domain='0x0000' bus='0x02' slot='0x01' function='0x0'/>",
    "<model type='virtio'/>\n      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>",
  );
  assert.match(x, /<model type='virtio'\/>/);
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-validate-'));
  writeFileSync(join(dir, 'vm.xml'), x);
  const r = cli(['validate', join(dir, 'vm.xml'), '--host', join(FIXTURES, 'hosts/host-7.2-kvm.json'), '--today', '2026-11-21', '--json']);
  assert.equal(r.code, 1, r.stderr);
  const rep = JSON.parse(r.stdout) as ValidationReport;
  const nd = rep.findings.find((f) => f.code === 'DEVICE_NOT_DRIVABLE');
  assert.ok(nd, 'virtio-net-pci behind a PCIe root port is virtio 1.0 only');
  assert.equal(nd.a, findCatalog('7.2').deviceOn('pc-q35-7.2', 'virtio-net-pci@pcie-port')?.['pci.id']);
  const modern = validateFixture('libvirt/modern.xml', 'host-7.2-kvm.json');
  assert.ok(!modern.findings.some((f) => f.code === 'DEVICE_NOT_DRIVABLE'));
  const noOs = validateFixture('-machine pc-i440fx-7.2 -cpu EPYC-v1,enforce -m 1G -nodefaults -device virtio-net-pci', 'host-7.2-kvm.json');
  assert.ok(noOs.findings.some((f) => f.code === 'GUEST_OS_UNKNOWN'));
});

/** The real profile, with a host CPU that offers these features too (for rules about them). */
const offering = (...features: string[]) => (h: ReturnType<typeof hostTarget>['hosts'][number]) => {
  h.hostFeatures = new Set([...(h.hostFeatures ?? []), ...features]);
};

test('validate: *-no bits that tell the guest it is not affected fail on an affected host; host-passthrough warns unless not migratable', () => {
  const r = validateFixture('-machine pc-q35-7.2 -cpu EPYC-v1,+amd-no-ssb,+ibpb,+virt-ssbd -m 1G -nodefaults', 'host-7.2-tcg.json', { os: false, hostEdit: offering('amd-no-ssb', 'ibpb', 'virt-ssbd') });
  const mis = r.findings.find((f) => f.code === 'VULNERABILITY_MISREPORTED');
  assert.equal(mis?.subject, 'spec_store_bypass');
  assert.equal(mis?.a, 'amd-no-ssb');
  assert.ok(r.findings.some((f) => f.code === 'VULNERABILITY_MITIGATED' && f.subject === 'spectre_v2' && f.a === 'ibpb'));
  // The same CPU on an Intel host with MDS unmitigated: md-clear missing is a FAIL; mds-no a lie.
  // (The host is the real profile with the vendor and the MDS line changed, in the words of
  // Linux Documentation/admin-guide/hw-vuln/mds.rst.)
  const intel = validateFixture('-machine pc-q35-10.0 -cpu Skylake-Server-v4,+mds-no -m 1G -nodefaults', 'host-10.0-tcg.json', {
    os: false,
    hostEdit: (h) => {
      offering('mds-no')(h);
      h.profile = { ...h.profile, cpu: { ...h.profile.cpu, vendor: 'GenuineIntel' }, vulnerabilities: { mds: 'Vulnerable: Clear CPU buffers attempted, no microcode; SMT vulnerable' } };
    },
  });
  assert.ok(intel.findings.some((f) => f.code === 'VULNERABILITY_UNMITIGATED' && f.subject === 'mds'));
  assert.ok(intel.findings.some((f) => f.code === 'VULNERABILITY_MISREPORTED' && f.subject === 'mds' && f.a === 'mds-no'));
  const pt = validateFixture('-machine pc-q35-7.2 -cpu host -m 1G -nodefaults', 'host-7.2-kvm.json', { os: false });
  assert.ok(pt.findings.some((f) => f.code === 'HOST_DEPENDENT_CPU' && f.level === 'warn'));
  const ptOff = validateFixture('-machine pc-q35-7.2 -cpu host,migratable=off -m 1G -nodefaults', 'host-7.2-kvm.json', { os: false });
  assert.ok(ptOff.findings.some((f) => f.code === 'HOST_DEPENDENT_CPU_NOT_MIGRATED' && f.level === 'pass'));
});

test('validate CLI: exit 0 when nothing fails, 1 when something does, 2 on bad input (unknown OS in the XML, missing host)', (t) => {
  if (!requireOsinfo(t)) return;
  // The real profile of this machine with every vulnerability file saying "Not affected".
  const dir0 = mkdtempSync(join(tmpdir(), 'guestabi-validate-'));
  const profile = JSON.parse(readFileSync(join(FIXTURES, 'hosts/host-7.2-tcg.json'), 'utf8')) as { vulnerabilities: Record<string, string> };
  for (const k of Object.keys(profile.vulnerabilities)) profile.vulnerabilities[k] = 'Not affected';
  writeFileSync(join(dir0, 'host.json'), JSON.stringify(profile));
  const clean = cli(['validate', '--guest-argv', '-machine pc-q35-7.2 -cpu qemu64-v1,enforce -m 1G -nodefaults -device virtio-net-pci', '--host', join(dir0, 'host.json'), '--os', 'rhel9.0', '--today', '2026-11-21', '--json']);
  assert.equal(clean.code, 0, clean.stdout + clean.stderr);
  const report = validate(ValidationReport, JSON.parse(clean.stdout), 'validate --json');
  // virtio-net-pci on q35's root bus is transitional, though RHEL 9 drives virtio 1.0: a warning.
  assert.equal(report.result, 'warn');
  assert.deepEqual(report.findings.filter((f) => f.level !== 'pass').map((f) => f.code), ['VIRTIO_LEGACY_FOR_MODERN_OS']);
  assert.ok(report.findings.some((f) => f.code === 'GUEST_OS_TIER' && f.a === 'recommended'));
  // The real host is affected by spectre_v2 (mitigated by retpolines): a guest with ibpb,
  // virt-ssbd and ibpb-brtype it cannot get would still fail; this one is judged on what it has.
  const ok = cli(['validate', '--guest-argv', '-machine pc-q35-7.2 -cpu qemu64-v1 -m 1G -nodefaults', '--host', join(FIXTURES, 'hosts/host-7.2-kvm.json'), '--os', 'rhel9.0', '--today', '2026-11-21']);
  assert.equal(ok.code, 1, 'qemu64 cannot mitigate what this host is affected by');
  assert.match(ok.stdout, /: FAIL\n/);
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-validate-'));
  writeFileSync(join(dir, 'vm.xml'), readFileSync(join(FIXTURES, 'libvirt/rhel6.xml'), 'utf8').replace('http://redhat.com/rhel/6.10', 'http://example.com/nosuch/1'));
  const badOs = cli(['validate', join(dir, 'vm.xml'), '--host', join(FIXTURES, 'hosts/host-7.2-kvm.json')]);
  assert.equal(badOs.code, 2);
  assert.match(badOs.stderr, /libosinfo:os: osinfo-db .* has no OS 'http:\/\/example\.com\/nosuch\/1'/);
  const noHost = cli(['validate', join(FIXTURES, 'libvirt/rhel6.xml')]);
  assert.equal(noHost.code, 2);
  assert.match(noHost.stderr, /give --host/);
  // The data file the findings cite is the one shipped.
  assert.ok(VULNERABILITY_FILE.endsWith('data/policy/vulnerabilities.yaml'));
});
