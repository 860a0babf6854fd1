import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireQemu } from '../helpers.js';

const BIN = fileURLToPath(new URL('../../../bin/guestabi.js', import.meta.url));

function run(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function fakeQemu(body: string): { path: string; pidfile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-fake-'));
  const path = join(dir, 'qemu-system-x86_64');
  const pidfile = join(dir, 'pid');
  writeFileSync(path, `#!/bin/sh\necho $$ > ${pidfile}\n${body}\n`);
  chmodSync(path, 0o755);
  return { path, pidfile };
}

test('a binary that is not QEMU: exit 2 with what it printed', () => {
  const fake = fakeQemu('echo "I am not QEMU" >&2; exit 3');
  const r = run(['probe', '--qemu', fake.path, '--host-only']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /QEMU did not start: .*exited \(exit code 3\): I am not QEMU/);
});

test('a QEMU that hangs before opening its monitor is killed, exit 2', () => {
  const fake = fakeQemu('exec sleep 600');
  // The timeout only keeps a broken build from hanging the suite; exit 2 with this message is the
  // proof that guestabi gave up by itself.
  const r = spawnSync(process.execPath, [BIN, 'probe', '--qemu', fake.path, '--host-only'], { encoding: 'utf8', timeout: 300_000, env: { ...process.env } });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /did not open its QMP monitor within \d+ ms .*it was killed/);
  const pid = Number(readFileSync(fake.pidfile, 'utf8'));
  assert.equal(existsSync(`/proc/${pid}`), false, 'the hanging process is gone');
});

test('a QEMU that crashes mid-probe: exit 2, and no QEMU left behind', (t) => {
  const build = requireQemu(t, '7.2');
  if (!build) return;
  // The real QEMU, killed a moment after it starts for one machine type of the catalog probe.
  const fake = fakeQemu(`case "$*" in *pc-q35-4.2*) ( sleep 0.05; kill -9 $$ ) & ;; esac\nexec ${build.binary} "$@"`);
  const r = run(['probe', '--qemu', fake.path]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /connection closed|did not start|exited/);
  const pid = Number(readFileSync(fake.pidfile, 'utf8'));
  assert.equal(existsSync(`/proc/${pid}`), false);
});

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(e));
    } catch {
      /* gone */
    }
  }
  return out;
}

test('Ctrl-C during a probe stops every QEMU it started', async (t) => {
  const build = requireQemu(t, '7.2');
  if (!build) return;
  const child = spawn(process.execPath, [BIN, 'probe', '--qemu', '7.2'], { stdio: 'ignore' });
  let qemu: number[] = [];
  // A bound on waiting, not a timing assertion: generous for a busy machine, left as soon as QEMU runs.
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    qemu = childrenOf(child.pid!);
    if (qemu.length) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(qemu.length > 0, 'the probe started QEMU');
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  assert.equal(await exited, 130);
  await new Promise((r) => setTimeout(r, 200));
  for (const pid of qemu) assert.equal(existsSync(`/proc/${pid}`), false, `QEMU ${pid} is gone (and reaped)`);
});
