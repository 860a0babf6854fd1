import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkOutputFile, checkOutputFolder, writeFileAtomic } from '../../src/util/files.js';
import { RunError, UserError } from '../../src/util/errors.js';
import { cli } from '../helpers.js';

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'guestabi-outtest-'));
}

test('output files: a folder, a device, a missing parent, a special file system are refused, naming the flag', () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'file'), 'x');
    const refused: [string, RegExp][] = [
      [dir, /--f: .* is a folder; give a file name/],
      ['/dev/null', /is not a regular file/],
      [join(dir, 'missing', 'h.json'), /folder .*missing does not exist \(create it first\)/],
      [join(dir, 'file', 'h.json'), /is not a folder/],
      ['/proc/nope.json', /is on \/proc, a special file system/],
      ['/sys/h.json', /is on \/sys/],
      ['/dev/h.json', /is on \/dev/],
      ['', /give a file name/],
    ];
    for (const [path, message] of refused) assert.throws(() => checkOutputFile(path, '--f'), (e: unknown) => e instanceof UserError && message.test(e.message), path);
    checkOutputFile(join(dir, 'new.json'), '--f');
    checkOutputFile(join(dir, 'file'), '--f');
    assert.equal(existsSync(join(dir, 'missing')), false, 'no folder made by a check');
    assert.deepEqual(readdirSync(dir), ['file'], 'the write check leaves nothing behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('output folders: an existing file is refused; a new folder in an existing one is fine', () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'file'), 'x');
    assert.throws(() => checkOutputFolder(join(dir, 'file'), '--out'), /--out: .* is a file; --out takes a folder/);
    assert.throws(() => checkOutputFolder(join(dir, 'a', 'b'), '--out'), /folder .*a does not exist/);
    assert.throws(() => checkOutputFolder('/proc/nope', '--out'), /special file system/);
    assert.throws(() => checkOutputFolder('/proc', '--out'), /special file system/);
    checkOutputFolder(dir, '--out');
    checkOutputFolder(join(dir, 'new'), '--out');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeFileAtomic on /proc fails at once (Node recursive mkdir spins there) and leaves no temporary file', () => {
  // Before: mkdirSync('/proc/nope', { recursive: true }) looped forever at 100% CPU.
  assert.throws(() => writeFileAtomic('/proc/nope/x.json', '{}'), (e: unknown) => e instanceof RunError && /cannot write \/proc\/nope\/x.json/.test(e.message));
  const dir = scratch();
  try {
    // The target became a folder after the check: the rename fails, the temporary file goes.
    assert.throws(() => writeFileAtomic(dir, '{}'), RunError);
    assert.equal(existsSync(`${dir}.tmp-${process.pid}`), false);
    writeFileAtomic(join(dir, 'x', 'y.json'), '{"a":1}\n');
    assert.equal(readFileSync(join(dir, 'x', 'y.json'), 'utf8'), '{"a":1}\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI: bad output paths are exit 2 naming the flag, before any probe, without a stack trace', () => {
  const dir = scratch();
  try {
    writeFileSync(join(dir, 'file'), 'x');
    const cases: [string[], RegExp][] = [
      [['schema', '--out', '/proc/nope'], /^guestabi: --out: \/proc\/nope is on \/proc/],
      [['schema', '--out', join(dir, 'file')], /--out: .* is a file; --out takes a folder/],
      [['schema', 'catalog', '--out', dir], /give no NAME with it/],
      // --qemu names a binary that does not exist: the output check must come first.
      [['probe', '--qemu', '/nonexistent/qemu', '--host-out', '/tmp'], /^guestabi: --host-out: \/tmp is a folder/],
      [['probe', '--qemu', '/nonexistent/qemu', '--host-out', '/nonexistent/h.json'], /--host-out: folder \/nonexistent does not exist/],
      [['probe', '--qemu', '/nonexistent/qemu', '--catalog-out', '/dev/null'], /--catalog-out: \/dev\/null is not a regular file/],
      [['probe', '--qemu', '/nonexistent/qemu', '--record', '/proc/rec'], /--record: .* special file system/],
      [['probe', '--qemu', '/nonexistent/qemu', '--host-out', join(dir, 'a.json'), '--catalog-out', join(dir, 'a.json')], /name the same file/],
      [['catalog', 'regen', '--out', join(dir, 'file')], /--out: .* is a file/],
    ];
    for (const [args, message] of cases) {
      const r = cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
    assert.equal(existsSync('/nonexistent'), false, 'no folder made');
    assert.deepEqual(readdirSync(dir), ['file'], 'nothing written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
