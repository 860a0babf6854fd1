import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { cachedBuilds, findQemuBuild, type QemuArch, type QemuBuild } from '../src/qmp/build.js';

/** test/fixtures, found from the compiled test (dist/test/...) as from the source. */
export const FIXTURES = fileURLToPath(new URL('../../test/fixtures/', import.meta.url));

/** Machine types whose probe is recorded per build: the default, and types that show compat
 *  properties, legacy CPU names, refused devices and machines without PCI. */
export const RECORDED_MACHINES: Record<string, string[]> = {
  '5.2': ['pc-i440fx-2.4', 'pc-i440fx-4.0', 'pc-q35-4.2', 'isapc'],
  '7.2': ['pc-i440fx-4.0', 'pc-i440fx-6.0', 'pc-q35-4.2', 'microvm'],
  '10.0': ['pc-i440fx-4.0', 'pc-q35-4.2', 'pc-q35-7.2'],
};

/**
 * A QEMU build for a live test. Missing QEMU skips the test on a developer machine, and fails it
 * under CI (CI=true), where every live test must run.
 */
export function requireQemu(t: TestContext, version: string, arch: QemuArch = 'x86_64'): QemuBuild | undefined {
  const system = arch === 'x86_64' ? '/usr/bin/qemu-system-x86_64' : `/usr/bin/qemu-system-${arch}`;
  const have = (version === '7.2' && arch === 'x86_64' && existsSync(system)) || cachedBuilds(arch).has(version);
  if (!have) {
    const fetch = arch === 'x86_64' ? `scripts/fetch-qemu.sh ${version}` : `scripts/fetch-qemu.sh --arch ${arch} ${version}`;
    const why = `QEMU ${version} for ${arch} is not installed (run ${fetch})`;
    if (process.env.CI === 'true') throw new Error(`${why}; under CI every live test must run`);
    t.skip(why);
    return undefined;
  }
  return findQemuBuild(version, arch);
}

/** A command-line tool a test needs (virt-xml-validate...): skipped when missing, a failure under CI. */
export function requireTool(t: TestContext, tool: string, pkg: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const p = `${dir}/${tool}`;
    if (dir && existsSync(p)) return p;
  }
  const why = `${tool} is not installed (apt-get install ${pkg})`;
  if (process.env.CI === 'true') throw new Error(`${why}; under CI every test must run`);
  t.skip(why);
  return undefined;
}

/** The real osinfo-db as the Debian package installs it: skipped when missing, a failure under CI. */
export const OSINFO_DIR = '/usr/share/osinfo';
export function requireOsinfo(t: TestContext): string | undefined {
  if (existsSync(`${OSINFO_DIR}/os`)) return OSINFO_DIR;
  const why = `osinfo-db is not installed (apt-get install osinfo-db)`;
  if (process.env.CI === 'true') throw new Error(`${why}; under CI every test must run`);
  t.skip(why);
  return undefined;
}

const BIN = fileURLToPath(new URL('../../bin/guestabi.js', import.meta.url));

/** Run the guestabi command as a user would, in a child process. */
export function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking this process: for tests whose server runs in this process. */
export function cliAsync(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

/** libvirtd answering on qemu:///system: skipped with a notice otherwise, a failure under CI. */
export function requireLibvirtd(t: TestContext): boolean {
  if (!requireTool(t, 'virsh', 'libvirt-clients')) return false;
  const r = spawnSync('virsh', ['-c', 'qemu:///system', 'version'], { encoding: 'utf8', timeout: 120_000 });
  if (r.status === 0) return true;
  const why = `libvirtd does not answer on qemu:///system (apt-get install libvirt-daemon-system; libvirtd -d): ${r.stderr.trim()}`;
  if (process.env.CI === 'true') throw new Error(`${why}; under CI every live test must run`);
  t.skip(why);
  return false;
}

/** A small domain that starts under libvirt in a second (no disk, no network): the hook's tests. */
export function smallDomain(name: string, o: { type?: 'qemu' | 'kvm'; machine?: string; model?: string; features?: string } = {}): string {
  return `<domain type='${o.type ?? 'qemu'}'>
  <name>${name}</name>
  <memory unit='KiB'>131072</memory>
  <vcpu placement='static'>1</vcpu>
  <os><type arch='x86_64' machine='${o.machine ?? 'pc-q35-7.2'}'>hvm</type></os>
  <cpu mode='custom' match='exact' check='none'><model fallback='forbid'>${o.model ?? 'qemu64'}</model>${o.features ?? ''}</cpu>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
`;
}
