import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { SCHEMAS } from '../../src/model/index.js';
import { cli } from '../helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));


test('catalog list --json names the three shipped builds of each architecture', () => {
  const r = cli(['catalog', 'list', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout) as { id: string; aliases: string[] }[];
  const ids = ['5.2.0', '7.2.22', '10.0.2'].flatMap((v) => ['aarch64', 'ppc64', 'x86_64'].map((a) => `qemu-${v}-${a}`));
  assert.deepEqual(list.map((c) => c.id), ids);
  assert.ok(list.find((c) => c.id === 'qemu-10.0.2-x86_64')!.aliases.includes('q35 = pc-q35-10.0'));
  assert.ok(list.find((c) => c.id === 'qemu-7.2.22-ppc64')!.aliases.includes('pseries = pseries-7.2'));
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

test('resolve: a guest file against a host, for a person, as JSON, libvirt XML and argv', () => {
  const host = join(ROOT, 'test/fixtures/hosts/host-10.0-tcg.json');
  const guest = join(ROOT, 'test/fixtures/libvirt/westmere.xml');
  const r = cli(['resolve', guest, '--host', host]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /machine {2}pc-q35-7\.2 -> pc-q35-7\.2/);
  assert.match(r.stdout, /cpu {6}custom Westmere -> Westmere-v\d/);
  const j = JSON.parse(cli(['resolve', guest, '--host', host, '--json']).stdout) as { schema: string; machine: { type: string } };
  assert.equal(j.schema, 'guestabi/pinned-abi@1');
  assert.match(cli(['resolve', guest, '--host', host, '--output', 'libvirt']).stdout, /<model fallback="forbid">Westmere(-v[2-9]\d*)?<\/model>/);
  assert.match(cli(['resolve', '--guest-argv', '-machine q35 -cpu Nehalem', '--host', host, '--output', 'argv']).stdout, /-machine pc-q35-10\.0 \\\n {2}-accel tcg \\\n {2}-cpu Nehalem-v1,enforce/);
});

test('resolve: no runnable version is a negative answer (exit 1) naming the blocking features per host', () => {
  const r = cli(['resolve', '--guest-argv', '-machine q35 -cpu EPYC', '--cluster', join(ROOT, 'test/fixtures/hosts/cluster-7.2-10.0.yaml')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no version of EPYC can run on every host/);
  assert.match(r.stderr, /EPYC-v1 passed over: host-7\.2-tcg lacks .*nrip-save/);
  assert.match(r.stderr, /EPYC-v1 passed over: host-10\.0-tcg lacks .*nrip-save/);
});

test('resolve: bad input exits 2 and names the place', () => {
  const host = join(ROOT, 'test/fixtures/hosts/host-7.2-tcg.json');
  const cases: [string[], RegExp][] = [
    [['resolve', '--guest-argv', '-machine q35'], /give one of --host FILE or --cluster FILE/],
    [['resolve', '--guest-argv', '-machine nosuch', '--host', host], /unknown machine type 'nosuch'/],
    [['resolve', '--guest-argv', '-machine q35', '--host', host, '--policy', 'best'], /--policy: must be one of highest-runnable, machine-default, keep/],
    [['resolve', join(ROOT, 'test/fixtures/bad/not-a-profile.json'), '--host', host], /not-a-profile\.json: not valid as a GuestSpec/],
    [['resolve', '--guest-argv', '-machine q35', '--cluster', join(ROOT, 'test/fixtures/bad/cluster-missing.yaml')], /cluster-missing\.yaml: hosts\[1\]/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
});

test('check: exit 0 when safe, 1 otherwise, exact JSON with --json, 2 on bad input', () => {
  const h = (v: string) => join(ROOT, `test/fixtures/hosts/host-${v}.json`);
  const safe = cli(['check', '--guest-argv', '-machine pc-q35-7.2 -cpu qemu64 -m 128 -nodefaults', '--from', h('7.2-tcg'), '--to', h('10.0-tcg'), '--both-ways']);
  assert.equal(safe.code, 0, safe.stderr);
  assert.match(safe.stdout, /forward .*: SAFE/);
  assert.match(safe.stdout, /Rollback fence/);
  const bad = cli(['check', '--guest-argv', '-machine q35 -cpu qemu64 -m 128 -nodefaults', '--from', h('7.2-tcg'), '--to', h('10.0-tcg'), '--json']);
  assert.equal(bad.code, 1);
  const j = JSON.parse(bad.stdout) as { outcome: string; forward: { reasons: { code: string }[] } };
  assert.equal(j.outcome, 'impossible');
  assert.equal(j.forward.reasons[0]!.code, 'MACHINE_TYPE_DIFFERS');
  const missing = cli(['check', '--guest-argv', '-machine q35', '--from', h('7.2-tcg')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /give --from HOST and --to HOST/);
});

test('--help and -h print the usage of each command and exit 0', () => {
  for (const args of [['--help'], ['check', '--help'], ['resolve', '-h'], ['lab', '--help'], ['lab', 'verify', '-h'], ['catalog', 'help'], ['probe', '--help']]) {
    const r = cli(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /usage: guestabi/, args.join(' '));
  }
  // A value that looks like a flag still belongs to its option.
  const r = cli(['check', '--guest-argv', '-h', '--from', 'x.json', '--to', 'y.json']);
  assert.equal(r.code, 2);
  assert.doesNotMatch(r.stdout, /usage:/);
});
