import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cachedBuilds, findQemuBuild, manifestName, type QemuArch } from '../../src/qmp/build.js';
import { UserError } from '../../src/util/errors.js';

/** A fake cache laid out as scripts/fetch-qemu.sh lays it out, with executable fake binaries. */
function fakeCache(): string {
  const cache = mkdtempSync(join(tmpdir(), 'guestabi-qemu-arch-'));
  const put = (version: string, arch: QemuArch, label: string): void => {
    const root = join(cache, version, arch === 'x86_64' ? 'root' : `root-${arch}`);
    mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
    const binary = join(root, 'usr', 'bin', `qemu-system-${arch}`);
    writeFileSync(binary, '#!/bin/sh\nexit 0\n');
    chmodSync(binary, 0o755);
    const manifest: Record<string, unknown> = { version: label };
    if (arch !== 'x86_64') manifest.arch = arch;
    Object.assign(manifest, {
      package: `Debian ${label}`,
      binary,
      dataDirs: [join(root, 'usr', 'share', 'qemu')],
      moduleDir: join(root, 'usr', 'lib', 'x86_64-linux-gnu', 'qemu'),
      libraryPath: null,
    });
    writeFileSync(join(cache, version, manifestName(arch)), JSON.stringify(manifest, null, 2));
  };
  put('5.2', 'x86_64', '5.2');
  put('10.0', 'x86_64', '10.0.2');
  put('5.2', 'ppc64', '5.2');
  put('10.0', 'ppc64', '10.0.2');
  put('10.0', 'aarch64', '10.0.2');
  mkdirSync(join(cache, 'apt'));   // the private apt folder: not a build
  return cache;
}

/** Run with GUESTABI_QEMU_CACHE set to a fake cache and PATH without any qemu-system binary. */
function withCache(fn: (cache: string) => void): void {
  const cache = fakeCache();
  const saved = { cache: process.env.GUESTABI_QEMU_CACHE, path: process.env.PATH };
  process.env.GUESTABI_QEMU_CACHE = cache;
  process.env.PATH = join(cache, 'no-bin');
  try {
    fn(cache);
  } finally {
    for (const [key, value] of [['GUESTABI_QEMU_CACHE', saved.cache], ['PATH', saved.path]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    rmSync(cache, { recursive: true, force: true });
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function userError(pattern: RegExp): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof UserError, String(e));
    assert.match(e.message, pattern);
    return true;
  };
}

test('manifest names: build.json for x86_64, build.<arch>.json for the others', () => {
  assert.equal(manifestName(), 'build.json');
  assert.equal(manifestName('x86_64'), 'build.json');
  assert.equal(manifestName('ppc64'), 'build.ppc64.json');
  assert.equal(manifestName('aarch64'), 'build.aarch64.json');
});

test('cachedBuilds lists the builds of one arch, x86_64 by default', () => {
  withCache((cache) => {
    assert.deepEqual([...cachedBuilds().keys()].sort(), ['10.0', '5.2']);
    assert.deepEqual([...cachedBuilds('x86_64').entries()].sort(), [
      ['10.0', join(cache, '10.0', 'build.json')],
      ['5.2', join(cache, '5.2', 'build.json')],
    ]);
    assert.deepEqual([...cachedBuilds('ppc64').entries()].sort(), [
      ['10.0', join(cache, '10.0', 'build.ppc64.json')],
      ['5.2', join(cache, '5.2', 'build.ppc64.json')],
    ]);
    assert.deepEqual([...cachedBuilds('aarch64').keys()], ['10.0']);
  });
});

test('findQemuBuild by version picks the manifest of the arch and says its arch', () => {
  withCache((cache) => {
    const x86 = findQemuBuild('5.2');
    assert.equal(x86.arch, 'x86_64');
    assert.equal(x86.label, '5.2');
    assert.equal(x86.binary, join(cache, '5.2', 'root', 'usr', 'bin', 'qemu-system-x86_64'));
    assert.deepEqual(findQemuBuild('5.2', 'x86_64'), x86);

    const ppc = findQemuBuild('5.2', 'ppc64');
    assert.deepEqual(ppc, {
      label: '5.2',
      arch: 'ppc64',
      binary: join(cache, '5.2', 'root-ppc64', 'usr', 'bin', 'qemu-system-ppc64'),
      dataDirs: [join(cache, '5.2', 'root-ppc64', 'usr', 'share', 'qemu')],
      moduleDir: join(cache, '5.2', 'root-ppc64', 'usr', 'lib', 'x86_64-linux-gnu', 'qemu'),
      libraryPath: null,
    });

    const arm = findQemuBuild('10.0.2', 'aarch64');
    assert.equal(arm.arch, 'aarch64');
    assert.equal(arm.label, '10.0.2');
    assert.equal(arm.binary, join(cache, '10.0', 'root-aarch64', 'usr', 'bin', 'qemu-system-aarch64'));
  });
});

test('without a version: the newest cached build of the arch (no system QEMU on PATH)', () => {
  withCache(() => {
    assert.equal(findQemuBuild().label, '10.0');
    assert.equal(findQemuBuild(undefined, 'ppc64').label, '10.0');
    assert.equal(findQemuBuild(undefined, 'ppc64').arch, 'ppc64');
    assert.equal(findQemuBuild('', 'aarch64').binary.endsWith('/root-aarch64/usr/bin/qemu-system-aarch64'), true);
  });
});

test('"system" is qemu-system-<arch> on PATH', () => {
  withCache((cache) => {
    const bin = join(cache, 'bin');
    mkdirSync(bin);
    for (const arch of ['ppc64', 'aarch64'] as const) {
      writeFileSync(join(bin, `qemu-system-${arch}`), '#!/bin/sh\n');
      chmodSync(join(bin, `qemu-system-${arch}`), 0o755);
    }
    process.env.PATH = bin;
    assert.deepEqual(findQemuBuild('system', 'ppc64'), {
      label: 'system', arch: 'ppc64', binary: join(bin, 'qemu-system-ppc64'), dataDirs: [], moduleDir: null, libraryPath: null,
    });
    assert.equal(findQemuBuild(undefined, 'aarch64').binary, join(bin, 'qemu-system-aarch64'));
    // No qemu-system-x86_64 there: x86_64 falls back to the cache, and "system" is refused.
    assert.equal(findQemuBuild().label, '10.0');
    assert.throws(() => findQemuBuild('system'), userError(/^--qemu: no qemu-system-x86_64 on PATH \(install it: apt-get install qemu-system-x86\)$/));
  });
});

test('a missing build names the fetch command of its arch', () => {
  withCache((cache) => {
    assert.throws(() => findQemuBuild('7.2', 'ppc64'), userError(
      new RegExp(`^--qemu: QEMU 7\\.2 for ppc64 is not in ${escapeRegExp(cache)} \\(have: 5\\.2, 10\\.0\\); fetch it with scripts/fetch-qemu\\.sh --arch ppc64 7\\.2$`),
    ));
    assert.throws(() => findQemuBuild('5.2.0', 'aarch64'), userError(/QEMU 5\.2\.0 for aarch64 is not in .* \(have: 10\.0\); fetch it with scripts\/fetch-qemu\.sh --arch aarch64 5\.2$/));
    // x86_64 keeps its message, with no --arch.
    assert.throws(() => findQemuBuild('7.2'), userError(/^--qemu: QEMU 7\.2 is not in .* \(have: 5\.2, 10\.0\); fetch it with scripts\/fetch-qemu\.sh 7\.2$/));
    assert.throws(() => findQemuBuild('system', 'aarch64'), userError(/no qemu-system-aarch64 on PATH \(install it: apt-get install qemu-system-arm\)/));
  });
});

test('an empty cache: the error names the package and the fetch command of the arch', () => {
  withCache((cache) => {
    rmSync(cache, { recursive: true, force: true });
    assert.equal(cachedBuilds('ppc64').size, 0);
    assert.throws(() => findQemuBuild(undefined, 'ppc64'), userError(/^--qemu: no QEMU for ppc64 found: install qemu-system-ppc or run scripts\/fetch-qemu\.sh --arch ppc64 all$/));
    assert.throws(() => findQemuBuild(undefined), userError(/^--qemu: no QEMU found: install qemu-system-x86 or run scripts\/fetch-qemu\.sh$/));
    assert.throws(() => findQemuBuild('5.2', 'ppc64'), userError(/\(have: none\); fetch it with scripts\/fetch-qemu\.sh --arch ppc64 5\.2$/));
  });
});

test('paths: a version folder reads the arch manifest; a binary of a fetched build brings its manifest', () => {
  withCache((cache) => {
    const folder = join(cache, '10.0');
    assert.equal(findQemuBuild(folder, 'ppc64').binary, join(folder, 'root-ppc64', 'usr', 'bin', 'qemu-system-ppc64'));
    assert.equal(findQemuBuild(folder).binary, join(folder, 'root', 'usr', 'bin', 'qemu-system-x86_64'));
    assert.throws(() => findQemuBuild(join(cache, '5.2'), 'aarch64'), userError(/5\.2 is a folder without a build\.aarch64\.json$/));

    const ppcBinary = join(cache, '5.2', 'root-ppc64', 'usr', 'bin', 'qemu-system-ppc64');
    const viaBinary = findQemuBuild(ppcBinary, 'ppc64');
    assert.equal(viaBinary.label, '5.2');
    assert.equal(viaBinary.arch, 'ppc64');
    assert.deepEqual(viaBinary.dataDirs, [join(cache, '5.2', 'root-ppc64', 'usr', 'share', 'qemu')]);
    // The same binary asked for as x86_64 (the default): refused, not run as the wrong arch.
    assert.throws(() => findQemuBuild(ppcBinary), userError(/is the ppc64 build of QEMU 5\.2, not x86_64$/));
  });
});

test('a manifest that names another arch is refused', () => {
  withCache((cache) => {
    const file = join(cache, '5.2', 'build.aarch64.json');
    writeFileSync(file, JSON.stringify({ version: '5.2', arch: 'ppc64', binary: '/bin/true' }));
    assert.throws(() => findQemuBuild('5.2', 'aarch64'), userError(/build\.aarch64\.json: this is a build for ppc64, not aarch64$/));
  });
});
