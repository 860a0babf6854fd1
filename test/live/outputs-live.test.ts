import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { shellSplit } from '../../src/formats/qemuopts.js';
import { launchQemu } from '../../src/qmp/launcher.js';
import type { QemuBuild } from '../../src/qmp/build.js';
import { kvmUnusable } from '../../src/lab/preflight.js';
import { LabHosts } from '../../src/lab/verify.js';
import { checkMigration } from '../../src/check/check.js';
import { parseArgvText } from '../../src/formats/argv-in.js';
import { migrationRules } from '../../src/io/rules-files.js';
import { cli, FIXTURES, requireLibvirtd, requireQemu } from '../helpers.js';

/**
 * Every output starts (issue 9): each fixture domain resolved for a build, written as a command
 * line and as libvirt XML, is started on that build. The argv goes to QEMU directly (paused, with
 * the -nodefaults and the null-co placeholder disks the writer emits); the XML through libvirtd
 * (virsh define + start, paused). Both run under TCG: the host profiles were probed with TCG, and
 * a guest of <domain type='kvm'> or -accel kvm is started with TCG here (the only change made).
 */
const LIBVIRT = join(FIXTURES, 'libvirt');
const HOSTS = join(FIXTURES, 'hosts');
const fixtures = readdirSync(LIBVIRT).filter((f) => f.endsWith('.xml')).sort();
const BUILDS = ['5.2', '7.2', '10.0'];

/** Whether KVM can be used here (a guest with the host's CPU, host-passthrough, needs it): the lab's own preflight answer. */
const KVM = kvmUnusable() === undefined;
const needsKvm = (text: string) => /(^|\s)-cpu host\b|mode=['"]host-passthrough/.test(text);

function resolveOut(fixture: string, version: string, output: 'argv' | 'libvirt', extra: string[] = []) {
  return cli(['resolve', join(LIBVIRT, fixture), '--host', join(HOSTS, `host-${version}-tcg.json`), '--output', output, ...extra]);
}

const labHosts = new LabHosts();
/** guestabi's own answer, from this machine's KVM profile, when its KVM cannot start -cpu host at
 *  all (a nested KVM on AMD EPYC refuses the IA32_ARCH_CAPABILITIES bits it reports): the
 *  refusal it predicts, which the start must then show; undefined when it can. */
async function cpuHostRefused(version: string): Promise<string | undefined> {
  const { host } = await labHosts.get(version, 'kvm');
  const spec = parseArgvText('qemu-system-x86_64 -machine pc -cpu host -m 128 -nodefaults -accel kvm', 'cpu-host');
  return checkMigration({ source: spec, from: host, to: host, rules: migrationRules() }).forward.reasons.find((r) => r.code === 'KVM_MSR_FEATURE_REFUSED')?.message;
}

/** A resolved command line as QEMU's arguments, with TCG for KVM unless the host's CPU is asked for. */
function argvOf(text: string): string[] {
  const words = shellSplit(text.replace(/\\\n/g, ' ')).slice(1);
  const accel = words.indexOf('-accel');
  const want = needsKvm(text) ? 'kvm' : 'tcg';
  if (accel >= 0) words[accel + 1] = want;
  else words.push('-accel', want);
  return words;
}

async function startsOn(build: QemuBuild, args: string[]): Promise<string | undefined> {
  try {
    const q = await launchQemu(build, [...args, '-display', 'none', '-S']);
    await q.stop();
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

test('live: every fixture domain resolved as a command line starts on each build it resolves for (5.2, 7.2, 10.0)', async (t) => {
  const builds = BUILDS.map((v) => [v, requireQemu(t, v)] as const);
  if (builds.some(([, b]) => !b)) return;
  const failures: string[] = [];
  let started = 0;
  for (const fixture of fixtures) {
    for (const [version, build] of builds) {
      const r = resolveOut(fixture, version, 'argv');
      if (r.code !== 0) {
        // Not resolvable for that build (its machine type is newer, its CPU does not run on the
        // TCG profile): nothing to start.
        assert.ok((r.code === 1 || r.code === 2) && !/internal error|\n\s+at /.test(r.stderr), `${fixture} on ${version}: resolve crashed: ${r.stderr}`);
        t.diagnostic(`${fixture} does not resolve for ${version}: ${r.stderr.trim().split('\n')[0]}`);
        continue;
      }
      if (needsKvm(r.stdout) && !KVM) {
        t.diagnostic(`${fixture} on ${version}: the host's CPU needs KVM, and /dev/kvm cannot be used here`);
        continue;
      }
      const refused = needsKvm(r.stdout) ? await cpuHostRefused(version) : undefined;
      const error = await startsOn(build!, argvOf(r.stdout));
      if (refused) {
        // guestabi says this host's KVM cannot run -cpu host: the start must fail as it says.
        if (!error || !/failed to set MSR/.test(error)) failures.push(`${fixture} on QEMU ${version}: guestabi predicted "${refused}", and it ${error ? `failed otherwise: ${error}` : 'started'}`);
        else t.diagnostic(`${fixture} on QEMU ${version}: this host's KVM cannot run -cpu host, as guestabi predicted: ${refused}`);
      } else if (error) failures.push(`${fixture} on QEMU ${version}: ${error}`);
      else started++;
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(started >= 8, `only ${started} command lines started`);
});

function virsh(...args: string[]) {
  return spawnSync('virsh', ['-c', 'qemu:///system', ...args], { encoding: 'utf8', timeout: 120_000 });
}

/**
 * The written domain made startable here without touching its ABI: its own name and no UUID (so
 * as not to meet a real domain), TCG, empty qcow2 images for its disks, a tap of libvirt's making
 * (type='ethernet') for every NIC (a network may not be running, and user networking has no
 * multiqueue). Under TCG, check='full' becomes check='partial': libvirt compares QEMU's CPU with
 * its own cpu_map model and refuses what QEMU adds to every model ("extra features: hypervisor,
 * lahf_lm"), which is no ABI change of the guest; QEMU's enforce is proven by the argv starts.
 */
function forThisHost(xml: string, name: string, images: string): string {
  let n = 0;
  return xml
    .replace(/<name>[^<]*<\/name>/, `<name>${name}</name>`)
    .replace(/<uuid>[^<]*<\/uuid>\s*/, '')
    .replace(/<domain type=['"]kvm['"]/, (m) => (needsKvm(xml) && KVM ? m : "<domain type='qemu'"))
    .replace(/<source file=['"][^'"]*['"]\s*\/>/g, () => {
      const img = join(images, `disk${n++}.qcow2`);
      const r = spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', img, '64M'], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return `<source file='${img}'/>`;
    })
    .replace(/<interface type=['"](network|user|bridge)['"]>/g, "<interface type='ethernet'>")
    .replace(/<source (network|bridge)=['"][^'"]*['"]\s*\/>/g, '')
    .replace(/check=['"]full['"]/, (m) => (needsKvm(xml) && KVM ? m : "check='partial'"))
    .replace(/<driver name=['"]qemu['"] type=['"]raw['"]/g, "<driver name='qemu' type='qcow2'");
}

test('live: every fixture domain resolved as libvirt XML starts through libvirtd (virsh define + start, QEMU 7.2, TCG)', async (t) => {
  if (!requireQemu(t, '7.2') || !requireLibvirtd(t)) return;
  // libvirtd's own images folder: the QEMU it starts may not see a private /tmp.
  const images = mkdtempSync('/var/lib/libvirt/images/gabi-live-');
  chmodSync(images, 0o755); // QEMU runs as libvirt-qemu and must reach the disks
  const failures: string[] = [];
  try {
    for (const fixture of fixtures) {
      // --policy keep: libvirt 9.0 refuses versioned CPU model names (Westmere-v1) at start,
      // and a fixture written by libvirt names its model unversioned already.
      const r = resolveOut(fixture, '7.2', 'libvirt', ['--policy', 'keep']);
      if (r.code === 1) {
        t.diagnostic(`${fixture} does not resolve for 7.2: ${r.stderr.trim().split('\n')[0]}`);
        continue;
      }
      assert.equal(r.code, 0, `${fixture}: ${r.stderr}`);
      if (needsKvm(r.stdout) && !KVM) {
        t.diagnostic(`${fixture}: the host's CPU needs KVM, and /dev/kvm cannot be used here`);
        continue;
      }
      const name = `gabi-live-${fixture.replace(/\.xml$/, '')}`;
      const file = join(images, `${name}.xml`);
      writeFileSync(file, forThisHost(r.stdout, name, images));
      virsh('destroy', name);
      virsh('undefine', name);
      const def = virsh('define', file);
      if (def.status !== 0) {
        failures.push(`${fixture}: virsh define: ${def.stderr.trim()}`);
        continue;
      }
      try {
        const refused = needsKvm(r.stdout) ? await cpuHostRefused('7.2') : undefined;
        const start = virsh('start', name, '--paused');
        if (refused) {
          if (start.status === 0 || !/failed to set MSR/.test(start.stderr)) failures.push(`${fixture}: guestabi predicted "${refused}", and virsh start ${start.status === 0 ? 'started it' : `failed otherwise: ${start.stderr.trim()}`}`);
          else t.diagnostic(`${fixture}: this host's KVM cannot run host-passthrough, as guestabi predicted: ${refused}`);
        } else if (start.status !== 0) failures.push(`${fixture}: virsh start: ${start.stderr.trim()}`);
      } finally {
        virsh('destroy', name);
        virsh('undefine', name);
      }
    }
  } finally {
    rmSync(images, { recursive: true, force: true });
  }
  assert.deepEqual(failures, []);
});

/** check's forward verdict and the lab's observation on the same domain, 7.2 -> 10.0. */
for (const fixture of fixtures) {
  test(`live: lab migrate of ${fixture} (its command line, 7.2 -> 10.0) agrees with check`, async (t) => {
    if (!requireQemu(t, '7.2') || !requireQemu(t, '10.0')) return;
    const file = join(LIBVIRT, fixture);
    const xml = readFileSync(file, 'utf8');
    // host-model is libvirt's to expand on the source host; QEMU (and so the lab) runs the
    // expansion, which resolve writes: both sides then judge that same definition.
    const hostModel = /mode=['"]host-model/.test(xml);
    const guest = hostModel ? ['--guest-argv', resolveOut(fixture, '7.2', 'argv').stdout.trim()] : [file];
    const check = cli(['check', ...guest, '--from', join(HOSTS, 'host-7.2-tcg.json'), '--to', join(HOSTS, 'host-10.0-tcg.json'), '--json']);
    assert.ok(check.code !== null && check.code < 2, `${fixture}: check failed to run: ${check.stderr}`);
    const verdict = (JSON.parse(check.stdout) as { forward: { outcome: string } }).forward.outcome;
    // A plain libvirt guest (virt-install's defaults) has a definite verdict across builds.
    if (fixture.startsWith('plain-') || fixture.startsWith('debian11-')) assert.notEqual(verdict, 'unknown', `${fixture}: check 7.2 -> 10.0 is unknown`);
    if (needsKvm(xml) && !KVM) {
      t.skip(`${fixture}: the host's CPU needs KVM, and /dev/kvm cannot be used here`);
      return;
    }
    const lab = cli(['lab', 'migrate', '--from-qemu', '7.2', '--to-qemu', '10.0', '--accel', needsKvm(xml) ? 'kvm' : 'tcg', ...guest, '--json']);
    assert.ok(lab.code !== null && lab.code < 2, `${fixture}: lab migrate failed to run: ${lab.stderr}`);
    const observed = (JSON.parse(lab.stdout) as { observed: string }).observed;
    t.diagnostic(`${fixture}: check ${verdict}, lab ${observed}`);
    assert.equal(verdict === 'safe', observed === 'safe', `${fixture}: check ${verdict}, lab ${observed}`);
  });
}
