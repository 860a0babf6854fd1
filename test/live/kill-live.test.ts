import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, requireQemu, requireTool } from '../helpers.js';
import { removeStaleTempDirs } from '../../src/qmp/launcher.js';

const BIN = fileURLToPath(new URL('../../../bin/guestabi.js', import.meta.url));

/** Processes whose command line mentions `needle` (the private TMPDIR given to one guestabi, which
 *  every QEMU it starts carries in its -qmp socket path), and that have not exited (zombies, waiting
 *  for init to reap them, are gone already). */
function processesMentioning(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (cmd.includes(needle) && stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z') out.push(Number(e));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

const tempFolders = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('guestabi-qemu-'));

/** Wait for `cond`, bounded so that a broken build cannot hang the suite (not a timing assertion). */
async function until(cond: () => boolean, ms = 120_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

/**
 * SIGKILL guestabi once `qemus` QEMUs of its own run, then count what is left: no QEMU (the kernel's
 * parent-death signal killed them), and the private folders of the dead guestabi, which it could not
 * remove; the next guestabi that starts a QEMU removes them (stale folders of dead pids).
 */
async function killMidRun(args: string[], qemus: number): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'guestabi-killtest-'));
  try {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: 'ignore', env: { ...process.env, TMPDIR: tmp } });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    assert.ok(await until(() => processesMentioning(tmp).length >= qemus), `guestabi ${args.join(' ')} started ${qemus} QEMU`);
    const running = processesMentioning(tmp);
    child.kill('SIGKILL');
    await exited;
    assert.ok(await until(() => processesMentioning(tmp).length === 0), `QEMU left running after SIGKILL of guestabi: ${processesMentioning(tmp).join(', ')} (were ${running.join(', ')})`);
    const left = tempFolders(tmp);
    assert.ok(left.every((n) => n.startsWith(`guestabi-qemu-${child.pid}-`)), `only the killed process's folders: ${left.join(', ')}`);
    // The next run cleans up after the killed one.
    const next = cli(['probe', '--qemu', '7.2', '--host-only', '--accel', 'tcg', '--json'], { TMPDIR: tmp });
    assert.equal(next.code, 0, next.stderr);
    assert.match(next.stderr, /^probe: this host with .*qemu-system-x86_64 \(TCG\)\n/, 'piped, the probe says what it does');
    assert.deepEqual(tempFolders(tmp), [], 'no private folder left after the next run');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

test('SIGKILL of guestabi probe leaves no QEMU running, and its folders go at the next start', async (t) => {
  if (!requireQemu(t, '7.2') || !requireTool(t, 'setpriv', 'util-linux')) return;
  await killMidRun(['probe', '--qemu', '7.2', '--accel', 'tcg'], 1);
});

test('SIGKILL of guestabi probe of an extracted build (unshare, sh, exec) leaves no QEMU running', async (t) => {
  if (!requireQemu(t, '10.0') || !requireQemu(t, '7.2') || !requireTool(t, 'setpriv', 'util-linux')) return;
  await killMidRun(['probe', '--qemu', '10.0', '--accel', 'tcg'], 1);
});

test('SIGKILL of guestabi lab migrate with both QEMUs running leaves none', async (t) => {
  if (!requireQemu(t, '7.2') || !requireQemu(t, '10.0') || !requireTool(t, 'setpriv', 'util-linux')) return;
  // A guest with enough memory that the migration is still going when both sides run.
  await killMidRun(['lab', 'migrate', '--from-qemu', '7.2', '--to-qemu', '10.0', '--accel', 'tcg', '--guest-argv', '-machine pc-q35-7.2 -m 2048'], 2);
});

for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  test(`${signal} of guestabi lab migrate: exit ${code}, no QEMU and no private folder left`, async (t) => {
    if (!requireQemu(t, '7.2') || !requireQemu(t, '10.0')) return;
    const tmp = mkdtempSync(join(tmpdir(), 'guestabi-killtest-'));
    try {
      const child = spawn(process.execPath, [BIN, 'lab', 'migrate', '--from-qemu', '7.2', '--to-qemu', '10.0', '--accel', 'tcg', '--guest-argv', '-machine pc-q35-7.2 -m 2048'], { stdio: 'ignore', env: { ...process.env, TMPDIR: tmp } });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      assert.ok(await until(() => processesMentioning(tmp).length >= 1), 'lab migrate started QEMU');
      child.kill(signal);
      assert.equal(await exited, code);
      assert.deepEqual(processesMentioning(tmp), []);
      assert.deepEqual(tempFolders(tmp), [], 'no private folder left, without waiting for a next run');
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });
}

test('stale private folders: those of dead pids go, those of live ones stay', () => {
  const root = mkdtempSync(join(tmpdir(), 'guestabi-staletest-'));
  try {
    // A pid that is surely not running: above the kernel's pid_max.
    const dead = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1;
    for (const n of [`guestabi-qemu-${dead}-abc123`, `guestabi-qemu-${process.pid}-def456`, `guestabi-qemu-${process.ppid}-ghi789`, 'guestabi-qemu-old1x2']) mkdirSync(join(root, n));
    assert.equal(removeStaleTempDirs(root), 1);
    assert.deepEqual(tempFolders(root).sort(), [`guestabi-qemu-${process.pid}-def456`, `guestabi-qemu-${process.ppid}-ghi789`, 'guestabi-qemu-old1x2'].sort());
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
