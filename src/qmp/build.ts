import { accessSync, constants, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { isSystemError, UserError } from '../util/errors.js';
import { compareVersions } from '../util/versions.js';

/** The QEMU targets scripts/fetch-qemu.sh fetches: qemu-system-x86_64, -ppc64 (pseries) and -aarch64. */
export type QemuArch = 'x86_64' | 'ppc64' | 'aarch64';
export const QEMU_ARCHES: readonly QemuArch[] = ['x86_64', 'ppc64', 'aarch64'];

/** How to run one QEMU build: the binary plus what an extracted (not installed) build needs. */
export interface QemuBuild {
  /** What the user asked for or we picked: "7.2", "system", or a path. */
  label: string;
  /** The target the binary emulates. */
  arch: QemuArch;
  binary: string;
  /** Passed with -L, in order, before QEMU's compiled-in data folders. */
  dataDirs: string[];
  /** Bind-mounted over the compiled-in module path in a private mount namespace. */
  moduleDir: string | null;
  /** Prepended to LD_LIBRARY_PATH: another suite's libraries kept beside the build. */
  libraryPath: string | null;
}

/** The module folder compiled into Debian's QEMU builds. An extracted build would load the
 *  system build's modules from here, which crash it (QEMU 10.0 aborts in qom-list-types). */
export const COMPILED_IN_MODULE_DIR = '/usr/lib/x86_64-linux-gnu/qemu';

export function qemuCacheDir(): string {
  return process.env.GUESTABI_QEMU_CACHE ?? join(homedir(), '.cache', 'guestabi', 'qemu');
}

interface Manifest {
  version: string;
  /** Absent in x86_64 manifests (build.json). */
  arch?: string;
  package?: string;
  binary: string;
  dataDirs?: string[];
  moduleDir?: string | null;
  libraryPath?: string | null;
}

function readManifest(file: string): Manifest {
  let m: unknown;
  try {
    m = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UserError(`cannot read QEMU build manifest: ${(e as Error).message}`, file);
  }
  const mm = m as Manifest;
  if (typeof mm?.binary !== 'string') throw new UserError('field "binary" is missing', file);
  return mm;
}

function fromManifest(label: string, file: string, arch: QemuArch): QemuBuild {
  const m = readManifest(file);
  const has = m.arch ?? 'x86_64';
  if (has !== arch) throw new UserError(`this is a build for ${has}, not ${arch}`, file);
  return {
    label,
    arch,
    binary: m.binary,
    dataDirs: m.dataDirs ?? [],
    moduleDir: m.moduleDir ?? null,
    libraryPath: m.libraryPath ?? null,
  };
}

/** The manifest of an arch's build in a version folder: build.json for x86_64, build.<arch>.json otherwise. */
export function manifestName(arch: QemuArch = 'x86_64'): string {
  return arch === 'x86_64' ? 'build.json' : `build.${arch}.json`;
}

/** The Debian package that holds an arch's qemu-system binary. */
const DEBIAN_PACKAGE: Record<QemuArch, string> = {
  x86_64: 'qemu-system-x86',
  ppc64: 'qemu-system-ppc',
  aarch64: 'qemu-system-arm',
};

/** The command that fetches an arch's build of a version (x86_64 needs no --arch). */
function fetchCommand(arch: QemuArch, version: string): string {
  return `scripts/fetch-qemu.sh ${arch === 'x86_64' ? '' : `--arch ${arch} `}${version}`;
}

function checkArch(arch: QemuArch): void {
  if (!QEMU_ARCHES.includes(arch)) throw new UserError(`unknown QEMU architecture '${String(arch)}' (known: ${QEMU_ARCHES.join(', ')})`);
}

/** Builds fetched by scripts/fetch-qemu.sh for one arch, by version label. */
export function cachedBuilds(arch: QemuArch = 'x86_64'): Map<string, string> {
  checkArch(arch);
  const dir = qemuCacheDir();
  const found = new Map<string, string>();
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    const manifest = join(dir, entry, manifestName(arch));
    if (existsSync(manifest)) found.set(entry, manifest);
  }
  return found;
}

function systemQemu(arch: QemuArch): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, `qemu-system-${arch}`);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch (e) {
      // Not in this PATH entry (ENOENT), or not executable (EACCES): look in the next one.
      if (!isSystemError(e)) throw e;
    }
  }
  return undefined;
}

const VERSION_LABEL = /^\d+\.\d+(\.\d+)?$/;

/**
 * Turn `--qemu` into a build of one arch (x86_64 unless told). Accepts a version fetched by
 * scripts/fetch-qemu.sh ("5.2", "10.0"), "system" (qemu-system-<arch> on PATH), or a path to a
 * binary or to a version folder. Without a value: the system QEMU, else the newest cached build.
 */
export function findQemuBuild(spec?: string, arch: QemuArch = 'x86_64'): QemuBuild {
  const cached = cachedBuilds(arch);
  const binaryName = `qemu-system-${arch}`;
  const forArch = arch === 'x86_64' ? '' : ` for ${arch}`;
  if (spec === undefined || spec === '' || spec === 'system') {
    const sys = systemQemu(arch);
    if (sys) return { label: 'system', arch, binary: sys, dataDirs: [], moduleDir: null, libraryPath: null };
    if (spec === 'system') throw new UserError(`no ${binaryName} on PATH (install it: apt-get install ${DEBIAN_PACKAGE[arch]})`, '--qemu');
    const newest = [...cached.keys()].sort(compareVersions).pop();
    if (newest) return fromManifest(newest, cached.get(newest)!, arch);
    if (arch === 'x86_64') throw new UserError('no QEMU found: install qemu-system-x86 or run scripts/fetch-qemu.sh', '--qemu');
    throw new UserError(`no QEMU${forArch} found: install ${DEBIAN_PACKAGE[arch]} or run ${fetchCommand(arch, 'all')}`, '--qemu');
  }
  if (VERSION_LABEL.test(spec)) {
    const short = spec.split('.').slice(0, 2).join('.');
    const manifest = cached.get(spec) ?? cached.get(short);
    if (manifest) return fromManifest(spec, manifest, arch);
    const known = [...cached.keys()].sort(compareVersions);
    throw new UserError(
      `QEMU ${spec}${forArch} is not in ${qemuCacheDir()} (have: ${known.length ? known.join(', ') : 'none'}); fetch it with ${fetchCommand(arch, short)}`,
      '--qemu',
    );
  }
  const path = resolve(spec);
  if (!existsSync(path)) throw new UserError(`no such file: ${path}`, '--qemu');
  if (statSync(path).isDirectory()) {
    const manifest = join(path, manifestName(arch));
    if (existsSync(manifest)) return fromManifest(spec, manifest, arch);
    throw new UserError(`${path} is a folder without a ${manifestName(arch)}`, '--qemu');
  }
  try {
    accessSync(path, constants.X_OK);
  } catch (e) {
    if (!isSystemError(e)) throw e;
    throw new UserError(`not executable: ${path}`, '--qemu');
  }
  // A binary inside a fetched build: use its manifest so that libraries and modules come along.
  for (const [label, manifest] of cached) {
    const m = readManifest(manifest);
    if (resolve(m.binary) === path) return fromManifest(label, manifest, arch);
  }
  // The binary of another arch's fetched build: say so rather than run it as this arch.
  for (const other of QEMU_ARCHES) {
    if (other === arch) continue;
    for (const [label, manifest] of cachedBuilds(other)) {
      if (resolve(readManifest(manifest).binary) === path) throw new UserError(`${path} is the ${other} build of QEMU ${label}, not ${arch}`, '--qemu');
    }
  }
  return { label: spec, arch, binary: path, dataDirs: [], moduleDir: null, libraryPath: null };
}
