import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { progressReporter } from '../../src/cli/output.js';
import { cli } from '../helpers.js';

const README = fileURLToPath(new URL('../../../README.md', import.meta.url));

test('catalog diff --machine of a type one build lacks says which build lacks it', () => {
  const r = cli(['catalog', 'diff', '7.2', '10.0', '--machine', 'pc-q35-10.0']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, 'pc-q35-10.0 is only in qemu-10.0.2-x86_64; qemu-7.2.22-x86_64 lacks it, so there is nothing to compare\n');
  const j = cli(['catalog', 'diff', '10.0', '7.2', '--machine', 'pc-q35-10.0', '--json']);
  assert.equal(JSON.parse(j.stdout).machineLackedBy, 'qemu-7.2.22-x86_64');
  const alias = cli(['catalog', 'diff', '7.2', '10.0', '--machine', 'q35']);
  assert.equal(alias.code, 2);
  assert.match(alias.stderr, /--machine: 'q35' is an alias: pc-q35-7\.2 in .*, pc-q35-10\.0 in .*; give a versioned machine type/);
});

test("the README's catalog show example runs", () => {
  const line = readFileSync(README, 'utf8').split('\n').find((l) => l.startsWith('guestabi catalog show'))!;
  const cpu = /--cpu (\S+)\]/.exec(line)![1]!;
  const machine = /--machine (\S+)/.exec(line)![1]!;
  for (const args of [['--cpu', cpu], ['--machine', machine]]) {
    const r = cli(['catalog', 'show', '7.2', ...args]);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
});

test('progress when piped: silent unless asked, then a line at the start, at every tenth and at the end', () => {
  const written: string[] = [];
  const write = process.stderr.write;
  const tty = process.stderr.isTTY;
  process.stderr.isTTY = false;
  process.stderr.write = ((s: string) => written.push(s) > 0) as typeof process.stderr.write;
  try {
    const quiet = progressReporter('q');
    const lines = progressReporter('probing', { lines: true });
    for (let i = 0; i <= 58; i++) {
      quiet(i, 58, `m${i}`);
      lines(i, 58, `m${i}`);
    }
  } finally {
    process.stderr.write = write;
    process.stderr.isTTY = tty;
  }
  assert.equal(written.length, 11, written.join(''));
  assert.equal(written[0], 'probing: 0/58 m0\n');
  assert.equal(written.at(-1), 'probing: 58/58 m58\n');
  assert.ok(written.every((l) => !l.includes('\r')), 'no terminal control in a log');
});
