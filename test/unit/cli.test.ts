import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { SCHEMAS } from '../../src/model/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin/guestabi.js');

export function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('catalog list --json names the three shipped builds', () => {
  const r = cli(['catalog', 'list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { id: string; aliases: string[] }[];
  assert.deepEqual(list.map((c) => c.id), ['qemu-5.2.0-x86_64', 'qemu-7.2.22-x86_64', 'qemu-10.0.2-x86_64']);
  assert.ok(list[2]!.aliases.includes('q35 = pc-q35-10.0'));
});

test('catalog show --machine prints the compat facts of one type', () => {
  const r = cli(['catalog', 'show', '7.2', '--machine', 'pc-i440fx-4.0']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /bare CPU model names are the legacy, unversioned definitions/);
  assert.match(r.stdout, /CPU qemu64: family=6 model=6/);
  const j = cli(['catalog', 'show', '7.2', '--machine', 'q35', '--json']);
  assert.equal((JSON.parse(j.stdout) as { machine: { name: string } }).machine.name, 'pc-q35-7.2');
});

test('catalog diff prints the differences for a person and exact JSON with --json', () => {
  const r = cli(['catalog', 'diff', '5.2', '7.2', '--machine', 'pc-q35-4.2']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /virtio-net-pci: use-disabled-flag: true -> false/);
  const j = cli(['catalog', 'diff', '5.2', '7.2', '--json']);
  const d = JSON.parse(j.stdout) as { a: string; b: string; machines: unknown[] };
  assert.equal(d.a, 'qemu-5.2.0-x86_64');
  assert.ok(d.machines.length > 10);
});

test('bad input: exit 2 and a message that names the problem, never a stack trace', () => {
  const cases: [string[], RegExp][] = [
    [['nosuch'], /unknown command 'nosuch'/],
    [['catalog', 'show', '9.9'], /no catalog for QEMU 9\.9/],
    [['catalog', 'show', '7.2', '--machine', 'pc-q35-99.0'], /--machine: no machine type 'pc-q35-99\.0'/],
    [['catalog', 'diff', '7.2'], /expected two catalogs/],
    [['catalog', 'show', '7.2', '--bogus'], /Unknown option '--bogus'/],
    [['probe', '--accel', 'xen'], /--accel: must be one of kvm, tcg/],
    [['probe', '--qemu', '9.9'], /--qemu: QEMU 9\.9 is not in .* fetch it with scripts\/fetch-qemu\.sh 9\.9/],
    [['probe', '--qemu', '/no/such/qemu'], /--qemu: no such file: \/no\/such\/qemu/],
    [['catalog', 'show', '/no/such/catalog.json'], /\/no\/such\/catalog\.json: cannot read catalog: no such file/],
    [['schema', 'nosuch'], /no schema 'nosuch'/],
  ];
  for (const [args, message] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, `${args.join(' ')}: no stack trace`);
  }
});

test('a catalog file that is not a catalog names the field that is wrong', () => {
  const r = cli(['catalog', 'show', join(ROOT, 'package.json')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /package\.json: not valid as a Catalog/);
});

test('the published JSON Schemas are the ones the model defines', () => {
  const dir = join(ROOT, 'schema');
  const files = readdirSync(dir).filter((f) => f.endsWith('.schema.json')).sort();
  assert.deepEqual(files, Object.keys(SCHEMAS).map((n) => `${n}.schema.json`).sort());
  for (const [name, schema] of Object.entries(SCHEMAS)) {
    assert.deepEqual(JSON.parse(readFileSync(join(dir, `${name}.schema.json`), 'utf8')), JSON.parse(JSON.stringify(schema)), `${name}: run npm run schema:regen`);
  }
});
