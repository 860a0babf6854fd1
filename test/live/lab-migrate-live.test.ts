import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, FIXTURES, requireQemu, requireTool } from '../helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/guestabi.js', import.meta.url));

/** The accelerators on the printed source command line. */
const accels = (stdout: string) => [...stdout.matchAll(/-accel (\w+)/g)].map((m) => m[1]);

test('lab migrate --accel tcg replaces the accelerator of every input format', (t) => {
  if (!requireQemu(t, '7.2')) return;
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-accel-'));
  try {
    const spec = join(dir, 'guest.yaml');
    writeFileSync(spec, 'accel: kvm\nmachine: {type: pc-q35-7.2}\ncpu: {mode: custom, model: qemu64}\nmemory: {sizeMiB: 256}\nvcpus: {count: 1}\ndevices: []\n');
    const inputs: [string, string[]][] = [
      ['libvirt XML of a kvm domain', [join(FIXTURES, 'libvirt', 'modern.xml')]],
      ['argv with -accel kvm', ['--guest-argv', '-machine pc-q35-7.2,accel=kvm -enable-kvm -accel kvm -m 256']],
      ['GuestSpec with accel: kvm', [spec]],
    ];
    for (const [what, guest] of inputs) {
      const r = cli(['lab', 'migrate', '--from-qemu', '7.2', '--to-qemu', '7.2', '--accel', 'tcg', ...guest]);
      const source = r.stdout.split('\n').find((l) => l.startsWith('source')) ?? '';
      assert.deepEqual(accels(source), ['tcg'], `${what}: ${r.stdout}${r.stderr}`);
      assert.doesNotMatch(source, /enable-kvm|accel=kvm/, what);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('lab migrate: a --from-qemu or --to-qemu that is not QEMU is exit 2 before any guest starts', (t) => {
  if (!requireQemu(t, '7.2')) return;
  for (const [flag, other] of [
    ['--from-qemu', '--to-qemu'],
    ['--to-qemu', '--from-qemu'],
  ] as const) {
    const r = cli(['lab', 'migrate', flag, '/bin/true', other, '7.2', '--accel', 'tcg', '--guest-argv', '-machine pc-q35-7.2']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^guestabi: ${flag}: /bin/true is not QEMU`));
    assert.equal(r.stdout, '', 'no verdict');
  }
});

test('lab migrate: a source that cannot start the guest is a failure to run (exit 2), not a verdict', (t) => {
  if (!requireQemu(t, '7.2')) return;
  const r = cli(['lab', 'migrate', '--from-qemu', '7.2', '--to-qemu', '7.2', '--accel', 'tcg', '--guest-argv', '-machine pc-q35-7.2', '--dest-guest-argv', '-machine pc-q35-7.2']);
  assert.equal(r.code, 0, r.stderr);
  const bad = cli(['lab', 'migrate', '--from-qemu', '7.2', '--to-qemu', '7.2', '--accel', 'tcg', '--guest-argv', '-machine pc-q35-7.2 -device no-such-device']);
  // Both sides refuse it; the destination starts first and refusing is its verdict (impossible).
  assert.equal(bad.code, 1, bad.stderr);
  const src = cli(['lab', 'migrate', '--from-qemu', '7.2', '--to-qemu', '7.2', '--accel', 'tcg', '--guest-argv', '-machine pc-q35-7.2 -device no-such-device', '--dest-guest-argv', '-machine pc-q35-7.2']);
  assert.equal(src.code, 2, src.stderr);
  assert.match(src.stderr, /could not run the migration: the source \(--from-qemu 7\.2\) did not start the guest: .*no-such-device/);
});

test('lab migrate --accel kvm without a usable /dev/kvm is exit 2 naming --accel (and a kvm guest says so too)', (t) => {
  if (!requireQemu(t, '7.2') || !requireTool(t, 'unshare', 'util-linux')) return;
  if (process.getuid?.() !== 0) return t.skip('hiding /dev/kvm in a mount namespace needs root');
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-nokvm-'));
  try {
    // /dev/kvm hidden behind an empty file in a private mount namespace: a host without KVM.
    const fake = join(dir, 'kvm');
    writeFileSync(fake, '');
    const noKvm = (args: string[]) =>
      spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /dev/kvm && shift && exec "$@"', 'sh', fake, process.execPath, BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
    const flag = noKvm(['lab', 'migrate', '--from-qemu', '7.2', '--to-qemu', '7.2', '--accel', 'kvm', '--guest-argv', '-machine pc-q35-7.2']);
    assert.equal(flag.status, 2, flag.stderr);
    assert.match(flag.stderr, /^guestabi: --accel: KVM is not usable here \(\/dev\/kvm is not a device\); use --accel tcg/);
    const guest = noKvm(['lab', 'migrate', '--from-qemu', '7.2', '--to-qemu', '7.2', join(FIXTURES, 'libvirt', 'modern.xml')]);
    assert.equal(guest.status, 2, guest.stderr);
    assert.match(guest.stderr, /the guest runs on KVM, which is not usable here .*give --accel tcg/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
