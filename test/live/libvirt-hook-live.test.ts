import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kvmUnusable } from '../../src/lab/preflight.js';
import { DEFAULT_HOOKS_DIR, DEFAULT_STATE } from '../../src/hook/state.js';
import { cli, requireLibvirtd, requireQemu, smallDomain } from '../helpers.js';

/**
 * Issue 15: the hook installed into the running libvirtd (/etc/libvirt/hooks/qemu.d, SIGHUP), driven
 * through virsh: a TCG domain this host gives exactly starts, one that asks for a CPU feature TCG
 * cannot give (QEMU would drop it silently: check='none') is refused by the hook with its reason in
 * libvirt's error. libvirt refuses a migration to the same host, so `migrate begin` is driven as
 * libvirt drives it: the script, the domain's name and the XML libvirt passes (the migratable,
 * secure format: virsh dumpxml --migratable --security-info). A hook that cannot decide in time
 * lets the start through. Uninstall leaves nothing behind.
 */
const virsh = (...a: string[]) => spawnSync('virsh', ['-c', 'qemu:///system', ...a], { encoding: 'utf8', timeout: 120_000 });
const domain = (name: string, type: 'qemu' | 'kvm', features: string, model = 'qemu64') => smallDomain(name, { type, features, model });
const listing = () => ['/etc/libvirt/hooks', '/var/lib'].map((d) => (existsSync(d) ? readdirSync(d, { recursive: true }).map(String).filter((f) => /guestabi|qemu\.d/.test(f)).sort().join(',') : '-')).join(' | ');

test('live: the hook in a running libvirtd refuses a start (and an incoming migration) this host cannot give exactly, lets the others through, never blocks on its own timeout, and uninstalls without a trace', async (t) => {
  if (!requireLibvirtd(t) || !requireQemu(t, '7.2')) return;
  if (existsSync(DEFAULT_STATE) || existsSync(join(DEFAULT_HOOKS_DIR, 'guestabi'))) {
    t.skip(`a guestabi hook is installed on this machine (${DEFAULT_STATE}): not touched`);
    return;
  }
  const before = listing();
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-hook-live-'));
  const kvm = kvmUnusable() === undefined;
  const domains: Record<string, string> = {
    'gabi-hook-ok': domain('gabi-hook-ok', 'qemu', ''),
    'gabi-hook-drops': domain('gabi-hook-drops', 'qemu', "<feature policy='require' name='avx512f'/>"),
  };
  if (!kvm) t.diagnostic(`KVM domain skipped: ${kvmUnusable()}`);
  try {
    const inst = cli(['hook', 'install', '--starts', 'refuse', '--json']);
    assert.equal(inst.code, 0, inst.stderr);
    assert.match((JSON.parse(inst.stdout) as { reloaded: string }).reloaded, /SIGHUP/);
    // Under KVM, a model this host runs (qemu64 itself lacks pni on some hosts: the hook says so).
    const kvmModel = kvm ? runnableUnderKvm() : undefined;
    if (kvmModel) domains['gabi-hook-kvm'] = domain('gabi-hook-kvm', 'kvm', '', kvmModel);
    else if (kvm) t.diagnostic('KVM domain skipped: no plain model runs under KVM here');
    for (const [name, xml] of Object.entries(domains)) {
      writeFileSync(join(dir, `${name}.xml`), xml);
      virsh('undefine', name);
      const d = virsh('define', join(dir, `${name}.xml`));
      assert.equal(d.status, 0, d.stderr);
    }
    // The daemon reloads on SIGHUP in its own thread: the first start may come before it looked.
    let ok = virsh('start', 'gabi-hook-ok', '--paused');
    for (let i = 0; i < 120 && ok.status === 0 && !readLog().some((e) => e.domain === 'gabi-hook-ok'); i++) {
      virsh('destroy', 'gabi-hook-ok');
      await new Promise((r) => setTimeout(r, 500));
      ok = virsh('start', 'gabi-hook-ok', '--paused');
    }
    assert.equal(ok.status, 0, ok.stderr);
    virsh('destroy', 'gabi-hook-ok');
    const drops = virsh('start', 'gabi-hook-drops', '--paused');
    assert.notEqual(drops.status, 0, 'the hook refuses the start');
    assert.match(drops.stderr, /Hook script execution failed/);
    assert.match(drops.stderr, /guestabi refuses the start of gabi-hook-drops \(unsafe\): CPU_FEATURE_FILTERED avx512f/);
    const starts = readLog().filter((e) => e.operation === 'prepare begin');
    assert.deepEqual(starts.map((e) => [e.domain, e.action]).slice(-2), [['gabi-hook-ok', 'allow'], ['gabi-hook-drops', 'refuse']]);

    // migrate begin, as libvirt calls it on the destination.
    const script = join(DEFAULT_HOOKS_DIR, 'guestabi');
    const moves: [string, boolean][] = [['gabi-hook-ok', false], ['gabi-hook-drops', true], ...(kvmModel ? [['gabi-hook-kvm', false] as [string, boolean]] : [])];
    for (const [name, refused] of moves) {
      const xml = virsh('dumpxml', '--migratable', '--security-info', name);
      assert.equal(xml.status, 0, xml.stderr);
      const r = spawnSync(script, [name, 'migrate', 'begin', '-'], { input: xml.stdout, encoding: 'utf8' });
      assert.equal(r.stdout, '', 'nothing on stdout: libvirt would take it as the new domain XML');
      assert.equal(r.status, refused ? 1 : 0, `${name}: ${r.stderr}`);
      if (refused) assert.match(r.stderr, /refuses the incoming migration of gabi-hook-drops/);
      const last = readLog().at(-1)!;
      assert.equal(last.domain, name);
      assert.equal(last.outcome, refused ? 'unsafe' : 'unknown', 'without an inventory a migration that passes is unknown, never safe');
    }

    // A hook that cannot decide in time lets libvirt start the domain it would have refused. The
    // installed script is pointed at a node that hangs, so the timeout fires on any machine.
    const slow = cli(['hook', 'install', '--starts', 'refuse', '--timeout', '1']);
    assert.equal(slow.code, 0, slow.stderr);
    const hang = join(dir, 'hanging-node');
    writeFileSync(hang, '#!/bin/sh\nsleep 60\n', { mode: 0o755 });
    writeFileSync(script, readFileSync(script, 'utf8').replace(`'${process.execPath}'`, `'${hang}'`));
    assert.ok(readFileSync(script, 'utf8').includes(hang), 'the script runs the hanging node');
    const through = virsh('start', 'gabi-hook-drops', '--paused');
    assert.equal(through.status, 0, through.stderr);
    virsh('destroy', 'gabi-hook-drops');
    assert.match(String(readLog().at(-1)!.why), /did not decide within 1 s; libvirt proceeds/);

    const status = cli(['hook', 'status', '--json']);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { installed: boolean }).installed, true);
  } finally {
    for (const name of Object.keys(domains)) {
      virsh('destroy', name);
      virsh('undefine', name);
    }
    const un = cli(['hook', 'uninstall']);
    rmSync(dir, { recursive: true, force: true });
    assert.equal(un.code, 0, un.stderr);
  }
  assert.equal(listing(), before, 'uninstall leaves nothing behind');
  const again = cli(['hook', 'status']);
  assert.equal(again.code, 1);
  assert.match(again.stdout, /not installed/);
});

function runnableUnderKvm(): string | undefined {
  const p = JSON.parse(readFileSync(join(DEFAULT_STATE, 'host-x86_64-kvm.json'), 'utf8')) as { cpuModels: Record<string, { runnable: boolean }> };
  return ['qemu64', 'kvm64', 'Nehalem', 'Westmere', 'SandyBridge', 'Haswell-noTSX', 'Skylake-Client'].find((m) => p.cpuModels[m]?.runnable);
}

function readLog(): Record<string, unknown>[] {
  const f = join(DEFAULT_STATE, 'hook.log');
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : [];
}
