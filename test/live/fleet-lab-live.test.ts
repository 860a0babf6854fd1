import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planMatrix } from '../../src/fleet/index.js';
import { parseArgvText } from '../../src/formats/argv-in.js';
import { migrationRules } from '../../src/io/rules-files.js';
import { labMigrate } from '../../src/lab/migrate.js';
import { LabHosts, labArgs } from '../../src/lab/verify.js';
import { liveQemuCount } from '../../src/qmp/launcher.js';
import { requireQemu } from '../helpers.js';

/** Guests on the build they run on: each exercises something the builds differ in (see lab/scenarios.yaml). */
const GUESTS: { name: string; build: string; argv: string }[] = [
  { name: 'q35-5.2-virtio', build: '5.2', argv: '-machine pc-q35-5.2 -cpu qemu64 -m 128 -nodefaults -device virtio-net-pci' },
  { name: 'q35-7.2-blk', build: '7.2', argv: '-machine pc-q35-7.2 -cpu qemu64 -m 128 -nodefaults -device virtio-net-pci -blockdev null-co,node-name=d0 -device virtio-blk-pci,drive=d0' },
  { name: 'i440fx-5.2-emulated', build: '5.2', argv: '-machine pc-i440fx-5.2 -cpu qemu64 -m 128 -nodefaults -device e1000 -device VGA' },
  { name: 'q35-7.2-westmere', build: '7.2', argv: '-machine pc-q35-7.2 -cpu Westmere -m 128 -nodefaults' },
  { name: 'q35-10.0-virtio', build: '10.0', argv: '-machine pc-q35-10.0 -cpu qemu64 -m 128 -nodefaults -device virtio-net-pci' },
  { name: 'i440fx-4.2-virtio', build: '5.2', argv: '-machine pc-i440fx-4.2 -cpu qemu64 -m 128 -nodefaults -device virtio-net-pci' },
  { name: 'q35-alias-7.2', build: '7.2', argv: '-machine q35 -cpu qemu64 -m 128 -nodefaults' },
  { name: 'i440fx-5.1-vga', build: '5.2', argv: '-machine pc-i440fx-5.1 -cpu qemu64 -m 128 -nodefaults -device VGA' },
  { name: 'q35-6.0-qemu64', build: '7.2', argv: '-machine pc-q35-6.0 -cpu qemu64 -m 128 -nodefaults' },
  { name: 'q35-7.2-westmere-v1-enforce', build: '10.0', argv: '-machine pc-q35-7.2 -cpu Westmere-v1,enforce -m 128 -nodefaults' },
];

test('fleet matrix: every cell of a fleet of the three real builds proven by a real migration, 0 false safe', async (t) => {
  for (const v of ['5.2', '7.2', '10.0']) if (!requireQemu(t, v)) return;
  const lab = new LabHosts();
  const builds = new Map<string, Awaited<ReturnType<LabHosts['get']>>>();
  for (const v of ['5.2', '7.2', '10.0']) builds.set(v, await lab.get(v, 'tcg'));
  const hosts = [...builds.values()].map((b) => b.host);
  const hostOf = (v: string) => builds.get(v)!.host.name;
  const guests = GUESTS.map((g) => ({ name: g.name, spec: parseArgvText(`${g.argv} -accel tcg`, g.name), host: hostOf(g.build) }));
  const matrix = planMatrix({ hosts, guests, rules: migrationRules() });
  assert.ok(matrix.cells.length >= 30, `${matrix.cells.length} cells`);
  const versionOf = new Map([...builds].map(([v, b]) => [b.host.name, v]));
  const wrong: string[] = [];
  let agree = 0;
  for (const c of matrix.cells) {
    const g = GUESTS.find((x) => x.name === c.guest)!;
    const args = labArgs(g.argv, 'tcg');
    const run = await labMigrate({ from: builds.get(versionOf.get(c.from)!)!.build, to: builds.get(versionOf.get(c.to)!)!.build, sourceArgs: args, destinationArgs: args, rules: migrationRules() });
    const line = `${c.guest} ${versionOf.get(c.from)} -> ${versionOf.get(c.to)}: predicted ${c.outcome} (${c.codes.join(' ')}), observed ${run.observed}`;
    if (c.outcome === run.observed) agree++;
    else t.diagnostic(`disagreement: ${line} ${run.error ?? run.differences.map((d) => `${d.where} ${d.property}`).join(', ')}`);
    if (c.outcome === 'safe' && run.observed !== 'safe') wrong.push(line);
  }
  t.diagnostic(`${agree} of ${matrix.cells.length} cells agree with the lab`);
  assert.deepEqual(wrong, [], 'no cell predicted safe that was not');
  assert.equal(liveQemuCount(), 0);
});
