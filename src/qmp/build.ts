import { accessSync, constants, existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { isSystemError, UserError } from '../util/errors.js';
import { compareVersions } from '../util/versions.js';

/** How to run one QEMU build: the binary plus what an extracted (not installed) build needs. */
export interface QemuBuild {
  /** What the user asked for or we picked: "7.2", "system", or a path. */
  label: string;
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

function fromManifest(label: string, file: string): QemuBuild {
  const m = readManifest(file);
  return {
    label,
    binary: m.binary,
    dataDirs: m.dataDirs ?? [],
    moduleDir: m.moduleDir ?? null,
    libraryPath: m.libraryPath ?? null,
  };
}

/** Builds fetched by scripts/fetch-qemu.sh, by version label. */
export function cachedBuilds(): Map<string, string> {
  const dir = qemuCacheDir();
  const found = new Map<string, string>();
  if (!existsSync(dir)) return found;
  for (const entry of readdirSync(dir)) {
    const manifest = join(dir, entry, 'build.json');
    if (existsSync(manifest)) found.set(entry, manifest);
  }
  return found;
}

function systemQemu(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'qemu-system-x86_64');
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
 * Turn `--qemu` into a build. Accepts a version fetched by scripts/fetch-qemu.sh ("5.2", "10.0"),
 * "system" (qemu-system-x86_64 on PATH), or a path to a binary. Without a value: the system
 * QEMU, else the newest cached build.
 */
export function findQemuBuild(spec?: string): QemuBuild {
  const cached = cachedBuilds();
  if (spec === undefined || spec === '' || spec === 'system') {
    const sys = systemQemu();
    if (sys) return { label: 'system', binary: sys, dataDirs: [], moduleDir: null, libraryPath: null };
    if (spec === 'system') throw new UserError('no qemu-system-x86_64 on PATH (install it: apt-get install qemu-system-x86)', '--qemu');
    const newest = [...cached.keys()].sort(compareVersions).pop();
    if (newest) return fromManifest(newest, cached.get(newest)!);
    throw new UserError('no QEMU found: install qemu-system-x86 or run scripts/fetch-qemu.sh', '--qemu');
  }
  if (VERSION_LABEL.test(spec)) {
    const short = spec.split('.').slice(0, 2).join('.');
    const manifest = cached.get(spec) ?? cached.get(short);
    if (manifest) return fromManifest(spec, manifest);
    const known = [...cached.keys()].sort(compareVersions);
    throw new UserError(
      `QEMU ${spec} is not in ${qemuCacheDir()} (have: ${known.length ? known.join(', ') : 'none'}); fetch it with scripts/fetch-qemu.sh ${short}`,
      '--qemu',
    );
  }
  const path = resolve(spec);
  if (!existsSync(path)) throw new UserError(`no such file: ${path}`, '--qemu');
  if (statSync(path).isDirectory()) {
    const manifest = join(path, 'build.json');
    if (existsSync(manifest)) return fromManifest(spec, manifest);
    throw new UserError(`${path} is a folder without a build.json`, '--qemu');
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
    if (resolve(m.binary) === path) return fromManifest(label, manifest);
  }
  return { label: spec, binary: path, dataDirs: [], moduleDir: null, libraryPath: null };
}
