import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkMigration } from '../../src/check/check.js';
import { findCatalog } from '../../src/io/catalog-files.js';
import { loadInventory } from '../../src/io/inventory-files.js';
import { migrationRules } from '../../src/io/rules-files.js';
import { describedProfile } from '../../src/fleet/described.js';
import { HostProfile } from '../../src/model/host.js';
import { isValid } from '../../src/model/validate.js';
import { cli, FIXTURES } from '../helpers.js';

const HOSTS = join(FIXTURES, 'hosts');

function inventory(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-inv-'));
  const file = join(dir, 'inventory.yaml');
  writeFileSync(
    file,
    `name: test
hosts:
  - {name: a72, profile: ${join(HOSTS, 'host-7.2-tcg.json')}}
  - {name: b100, profile: ${join(HOSTS, 'host-10.0-tcg.json')}}
  - {name: c52, profile: ${join(HOSTS, 'host-5.2-tcg.json')}}
  - {name: planned, describe: {qemu: '10.0', cpu: Westmere-v2, accel: tcg}}
guests:
  - {file: ${join(FIXTURES, 'libvirt', 'westmere.xml')}, host: a72}
  - {argv: "-machine pc-q35-7.2 -cpu Westmere-v1 -m 1G -nodefaults", name: vm3, host: a72, state: shut-off}
  - {argv: "-machine pc-i440fx-5.2 -cpu qemu64 -m 512 -nodefaults", name: vm4, host: c52, snapshots: [{name: before, memory: true}, {name: disk-only, memory: false}]}
`,
  );
  return { dir, file };
}

test('an inventory file: probed and described hosts, guests from files and command lines, with their hosts', () => {
  const { dir, file } = inventory();
  try {
    const inv = loadInventory(file);
    assert.deepEqual(inv.hosts.map((h) => h.name), ['a72', 'b100', 'c52', 'planned']);
    assert.deepEqual(inv.guests.map((g) => [g.name, g.host, g.state]), [['rhel9-westmere', 'a72', 'running'], ['vm3', 'a72', 'shut-off'], ['vm4', 'c52', 'running']]);
    const planned = inv.hosts[3]!.profile;
    assert.ok(isValid(HostProfile, planned), 'a described host is a valid profile');
    assert.equal(planned.described?.cpu, 'Westmere-v2');
    assert.equal(planned.cpuModels['Westmere-v2']!.runnable, true);
    assert.equal(planned.cpuModels['Nehalem-v1']!.runnable, true, 'an older model whose features are a subset runs');
    assert.ok(planned.cpuModels['Skylake-Client-v1']!.unavailableFeatures.includes('avx2'), 'a newer one lacks what the described model lacks');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a described host has no host CPU expansion: host-passthrough to it is never safe', () => {
  const c = findCatalog('10.0');
  const p = describedProfile('x', { qemu: '10.0', cpu: 'EPYC-v4', accel: 'kvm' }, c, 'test');
  const inv = loadInventory(inventory().file);
  const r = checkMigration({ source: { ...inv.guests[2]!.spec, cpu: { mode: 'host-passthrough' } }, from: inv.hosts[0]!, to: { ...inv.hosts[3]!, profile: p }, rules: migrationRules() });
  assert.notEqual(r.outcome, 'safe');
});

test('an inventory folder: hosts/*.json and guests/HOST/*.xml', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-invdir-'));
  try {
    mkdirSync(join(dir, 'hosts'));
    mkdirSync(join(dir, 'guests', 'mia'), { recursive: true });
    copyFileSync(join(HOSTS, 'host-7.2-tcg.json'), join(dir, 'hosts', 'h.json'));
    copyFileSync(join(FIXTURES, 'libvirt', 'rhel6.xml'), join(dir, 'guests', 'mia', 'r6.xml'));
    const bad = cli(['plan', 'matrix', '--inventory', dir]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /guest 'rhel6-legacy' runs on 'mia', which is not among the hosts/);
    const name = (JSON.parse(readFileSync(join(HOSTS, 'host-7.2-tcg.json'), 'utf8')) as { name: string }).name;
    renameSync(join(dir, 'guests', 'mia'), join(dir, 'guests', name));
    const inv = loadInventory(dir);
    assert.deepEqual(inv.guests.map((g) => [g.name, g.host]), [['rhel6-legacy', name]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('plan matrix, upgrade, baseline and admit from the command line; the matrix JSON agrees with check', () => {
  const { dir, file } = inventory();
  try {
    const m = cli(['plan', 'matrix', '--inventory', file, '--format', 'json']);
    assert.equal(m.code, 0, m.stderr);
    const matrix = JSON.parse(m.stdout) as { cells: { outcome: string; guest: string; from: string; to: string }[] };
    const inv = loadInventory(file);
    const byName = new Map(inv.hosts.map((h) => [h.name, h]));
    for (const c of matrix.cells) {
      const g = inv.guests.find((x) => x.name === c.guest)!;
      assert.equal(checkMigration({ source: g.spec, from: byName.get(c.from)!, to: byName.get(c.to)!, rules: migrationRules() }).outcome, c.outcome, `${c.guest} ${c.from} -> ${c.to}`);
    }
    const csv = cli(['plan', 'matrix', '--inventory', file, '--format', 'csv']);
    assert.equal(csv.stdout.trim().split('\n').length, matrix.cells.length + 1);
    const table = cli(['plan', 'matrix', '--inventory', file]);
    assert.match(table.stdout, /S safe, U unsafe/);
    const up = cli(['plan', 'upgrade', '--inventory', file, '--to', '10.0', '--wave', 'a72', '--wave', 'c52', '--json']);
    const plan = JSON.parse(up.stdout) as { summary: { guests: number; deprecatedMachines: number; loseSavedState: number }; waves: { guests: { guest: string; state: string; memorySnapshots: number; forward: string }[] }[] };
    assert.equal(plan.summary.guests, 3);
    const rows = plan.waves.flatMap((w) => w.guests);
    assert.deepEqual(rows.map((r) => [r.guest, r.state, r.memorySnapshots]), [['rhel9-westmere', 'running', 0], ['vm3', 'shut-off', 0], ['vm4', 'running', 1]]);
    assert.equal(plan.summary.loseSavedState, rows.filter((r) => r.memorySnapshots > 0 && r.forward !== 'safe').length);
    assert.equal(plan.summary.deprecatedMachines, 1, 'pc-i440fx-5.2 is deprecated in 10.0');
    const loses = rows.some((r) => r.forward !== 'safe') || plan.waves.some((w) => w.guests.some((g) => (g as { rollback?: string }).rollback !== 'safe'));
    assert.equal(up.code, loses ? 1 : 0, 'exit 1 exactly when a guest loses its way forward or back');
    const base = cli(['plan', 'baseline', '--inventory', file, '--json']);
    assert.equal(base.code, 0, base.stderr);
    const top = (JSON.parse(base.stdout) as { candidates: { cpu: string }[] }).candidates[0]!.cpu;
    for (const h of inv.hosts) assert.equal(h.unavailable.get(top)?.size, 0, `${top} runs on ${h.name}`);
    const admit = cli(['plan', 'admit', join(HOSTS, 'host-10.0-tcg.json'), '--inventory', file]);
    assert.equal(admit.code, 0, admit.stdout + admit.stderr);
    assert.match(admit.stdout, /^ADMIT/);
    const held = JSON.parse(cli(['plan', 'admit', join(HOSTS, 'host-10.0-tcg.json'), '--cluster', join(HOSTS, 'cluster-5.2-7.2-10.0.yaml'), '--json']).stdout) as { heldBy: { hosts: string[]; gains: string[] }[] };
    assert.ok(held.heldBy.some((h) => h.gains.includes('avx2')), 'the 5.2 host holds back a baseline with avx2');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('plan: bad input names the flag or the field', () => {
  const cases: [string[], RegExp][] = [
    [['plan'], /which plan\?/],
    [['plan', 'matrix'], /give --inventory/],
    [['plan', 'upgrade', '--inventory', '/nonexistent.yaml', '--to', '10.0', '--wave', 'a'], /nonexistent\.yaml: cannot read inventory/],
    [['plan', 'matrix', '--inventory', inventory().file, '--format', 'xls'], /--format: must be one of table, json, csv/],
  ];
  for (const [args, re] of cases) {
    const r = cli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});
