import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { checkMigration } from '../../src/check/check.js';
import { parseArgvText } from '../../src/formats/argv-in.js';
import { findCatalog } from '../../src/io/catalog-files.js';
import { migrationRules } from '../../src/io/rules-files.js';
import { kvmUnusable } from '../../src/lab/preflight.js';
import { LabHosts } from '../../src/lab/verify.js';
import type { Scenario } from '../../src/lab/scenarios.js';
import type { HostProfile } from '../../src/model/host.js';
import { indexHost } from '../../src/resolve/target.js';
import { cli, requireLibvirtd, requireQemu } from '../helpers.js';

/**
 * Issue 15: the host profile guestabi makes from libvirt's answers (probe --libvirt) against its own
 * probe of the same QEMU (the system's 7.2, the one libvirtd runs), under each accelerator this
 * machine has: the CPU models libvirt lists, whether each runs and what blocks it, are the same;
 * and check gives the same verdict from either profile on every x86 lab scenario of that build,
 * except where the libvirt profile cannot know (the expansion of -cpu host: unknown, never safe).
 */
const scenarios = (parse(readFileSync(new URL('../../../lab/scenarios.yaml', import.meta.url), 'utf8')) as { scenarios?: Scenario[] } | Scenario[]);
const all: Scenario[] = Array.isArray(scenarios) ? scenarios : (scenarios.scenarios ?? []);
const hosts = new LabHosts();

for (const accel of ['tcg', 'kvm'] as const) {
  test(`live: the libvirt-derived profile of QEMU 7.2 (${accel}) agrees with guestabi's own probe, and so do check's verdicts`, async (t) => {
    if (!requireLibvirtd(t) || !requireQemu(t, '7.2')) return;
    if (accel === 'kvm' && kvmUnusable()) {
      t.diagnostic(`KVM scenario skipped: ${kvmUnusable()}`);
      t.skip(`no usable /dev/kvm: ${kvmUnusable()}`);
      return;
    }
    const r = cli(['probe', '--libvirt', 'qemu:///system', '--accel', accel, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const fromLibvirt = JSON.parse(r.stdout) as HostProfile;
    assert.equal(fromLibvirt.qemu.catalog, 'qemu-7.2.22-x86_64');
    assert.ok(fromLibvirt.libvirt, 'the profile says its facts came from libvirt');
    const probed = (await hosts.get('7.2', accel)).host.profile;
    // Every named model guestabi's probe lists (libvirt lists the unversioned names; the versioned
    // ones come from its host-model CPU), host and max aside (they are the host's CPU itself).
    const names = Object.keys(probed.cpuModels).filter((n) => n !== 'host' && n !== 'max');
    assert.ok(names.length > 100, `the build's CPU models (${names.length})`);
    for (const n of names) {
      const [a, b] = [fromLibvirt.cpuModels[n], probed.cpuModels[n]];
      assert.ok(a && b, `${n}: in both profiles`);
      assert.equal(a!.runnable, b!.runnable, `${n}: runnable`);
      assert.deepEqual([...new Set(a!.unavailableFeatures)].sort(), [...new Set(b!.unavailableFeatures)].sort(), `${n}: what blocks it`);
    }
    const rules = migrationRules();
    const catalog = findCatalog('7.2');
    const lv = indexHost(fromLibvirt, catalog);
    const pr = indexHost(probed, catalog);
    let same = 0;
    const unknownOnly: string[] = [];
    for (const s of all.filter((x) => x.from === '7.2' && x.to === '7.2' && (x.arch ?? 'x86_64') === 'x86_64' && (x.accel ?? 'tcg') === accel)) {
      const source = parseArgvText(`qemu-system-x86_64 ${s.guest} -accel ${accel}`, s.name);
      const destination = s.destGuest ? parseArgvText(`qemu-system-x86_64 ${s.destGuest} -accel ${accel}`, s.name) : undefined;
      const a = checkMigration({ source, destination, from: pr, to: pr, rules }).forward.outcome;
      const vb = checkMigration({ source, destination, from: lv, to: lv, rules }).forward;
      const b = vb.outcome;
      if (a === b) same++;
      else {
        // The differences a libvirt profile may make: it cannot expand -cpu host, nor say whether
        // the kernel takes the features kept in MSRs (libvirt does not start a guest to ask), so
        // those are unknown.
        assert.equal(b, 'unknown', `${s.name}: probed ${a}, from libvirt ${b}`);
        const msr = vb.reasons.some((r) => r.code === 'KVM_MSR_FEATURE_UNKNOWN');
        assert.ok(msr || /-cpu (host|max)\b/.test(s.guest), `${s.name}: probed ${a}, from libvirt unknown, and neither a -cpu host guest nor an MSR feature`);
        unknownOnly.push(s.name);
      }
    }
    t.diagnostic(`${names.length} CPU models agree; lab scenarios on 7.2 (${accel}): ${same} same verdict, ${unknownOnly.length} unknown from libvirt (-cpu host or MSR features: ${unknownOnly.join(', ') || 'none'})`);
    assert.ok(same > 0);
  });
}

test('live: preflight answers for a domain defined in libvirtd (qemu:///system both ways): safe with the virsh command, a domain the hosts cannot run refused, a missing one named', async (t) => {
  if (!requireLibvirtd(t) || !requireQemu(t, '7.2')) return;
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync: read, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const path = await import('node:path');
  const virsh = (...a: string[]) => spawnSync('virsh', ['-c', 'qemu:///system', ...a], { encoding: 'utf8', timeout: 120_000 });
  const base = read(new URL('../../../test/fixtures/libvirt/plain-q35.xml', import.meta.url), 'utf8').replace(/<uuid>[^<]*<\/uuid>\s*/, '');
  const dir = mkdtempSync(path.join(tmpdir(), 'guestabi-preflight-'));
  const domains = {
    'guestabi-preflight-ok': base,
    'guestabi-preflight-bad': base.replace("check='none'", "check='full'").replace('>qemu64<', '>Icelake-Server<'),
  };
  try {
    for (const [name, xml] of Object.entries(domains)) {
      const file = path.join(dir, `${name}.xml`);
      writeFileSync(file, xml.replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`));
      const d = virsh('define', file);
      assert.equal(d.status, 0, d.stderr);
    }
    const ok = cli(['preflight', 'guestabi-preflight-ok', '--from', 'qemu:///system', '--to', 'qemu:///system', '--both-ways', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const j = JSON.parse(ok.stdout) as { result: { outcome: string }; command?: string };
    assert.equal(j.result.outcome, 'safe');
    assert.match(j.command ?? '', /^virsh -c qemu:\/\/\/system migrate --live --persistent --verbose guestabi-preflight-ok qemu:\/\/\/system$/);
    const bad = cli(['preflight', 'guestabi-preflight-bad', '--from', 'qemu:///system', '--to', 'qemu:///system']);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stdout, /IMPOSSIBLE/);
    assert.match(bad.stdout, /Not safe/);
    const missing = cli(['preflight', 'guestabi-no-such-domain', '--from', 'qemu:///system', '--to', 'qemu:///system']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /guestabi-no-such-domain/);
  } finally {
    for (const name of Object.keys(domains)) virsh('undefine', name);
    rmSync(dir, { recursive: true, force: true });
  }
});
