import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findCatalog } from '../../src/io/catalog-files.js';
import { checkMigration, concreteHostModel } from '../../src/check/check.js';
import { migrationRules } from '../../src/io/rules-files.js';
import { planBaseline } from '../../src/fleet/baseline.js';
import { guestSpecKey, type FleetGuest } from '../../src/fleet/classes.js';
import { hostKindId, hostKinds } from '../../src/fleet/kinds.js';
import { effectCodes, matrixFromClasses, planMatrix } from '../../src/fleet/matrix.js';
import { planUpgrade } from '../../src/fleet/upgrade.js';
import { plannedHost } from '../../src/fleet/upgraded.js';
import { parseArgvText } from '../../src/formats/argv-in.js';
import { Baseline, FleetMatrix, UpgradePlan } from '../../src/model/fleet.js';
import type { GuestSpec } from '../../src/model/guest.js';
import { isValid } from '../../src/model/validate.js';
import { loadVulnerabilityMap } from '../../src/io/policy-files.js';
import { indexHost, type TargetHost } from '../../src/resolve/target.js';
import { UserError } from '../../src/util/errors.js';
import { generateFleet, loadFixture, maskedProfile } from '../../bench/fleet-gen.js';

const rules = migrationRules();

/** A host named `name` from a fixture profile, masked as CPU generation `gen` (0: as probed). */
function fixtureHost(fixture: string, name: string, gen = 0): TargetHost {
  const { profile, catalog } = loadFixture(`host-${fixture}`);
  return indexHost({ ...maskedProfile(profile, catalog, gen), name }, catalog, name);
}

/** Hosts of every fixture profile, two of each, plus CPU generations that can run fewer models. */
function fixtureFleet(): TargetHost[] {
  const out: TargetHost[] = [];
  for (const f of ['5.2-tcg', '7.2-tcg', '7.2-kvm', '10.0-tcg', '10.0-kvm']) out.push(fixtureHost(f, `${f}-a`), fixtureHost(f, `${f}-b`));
  out.push(fixtureHost('7.2-tcg', '7.2-tcg-old', 8), fixtureHost('10.0-tcg', '10.0-tcg-old', 7), fixtureHost('10.0-tcg', '10.0-tcg-old2', 7));
  return out;
}

const B = '-m 1024 -nodefaults';
const GUESTS: [string, string | null, string][] = [
  ['q35-72', '7.2-tcg-a', `-machine pc-q35-7.2 -cpu qemu64 ${B} -device virtio-net-pci`],
  ['q35-72-b', '7.2-tcg-b', `-machine pc-q35-7.2 -cpu qemu64 ${B} -device virtio-net-pci`],
  ['q35-72-kvm', '7.2-kvm-a', `-machine pc-q35-7.2 -cpu qemu64 ${B} -device virtio-net-pci`],
  ['alias', '10.0-tcg-a', `-machine q35 -cpu Westmere ${B}`],
  ['westmere-enforce', '7.2-tcg-a', `-machine pc-q35-7.2 -cpu Westmere,enforce ${B} -device e1000`],
  ['epyc-filtered', '10.0-tcg-a', `-machine pc-q35-7.2 -cpu EPYC-v1 ${B}`],
  ['old-52', '5.2-tcg-a', `-machine pc-i440fx-4.2 -cpu Nehalem ${B} -device VGA`],
  ['pc-13', '5.2-tcg-b', `-machine pc-1.3 -cpu qemu64 ${B}`],
  ['deprecated-q35', '7.2-tcg-b', `-machine pc-q35-5.2 -cpu qemu64 ${B} -device virtio-blk-pci,drive=d0`],
  ['passthrough', '10.0-kvm-a', `-machine pc-q35-7.2 -cpu host ${B}`],
  ['max', '7.2-tcg-old', `-machine pc-q35-7.2 -cpu max ${B}`],
  ['unplaced', null, `-machine pc-q35-10.0 -cpu qemu64 ${B}`],
  ['unplaced-old', null, `-machine pc-i440fx-2.12 -cpu pentium3 ${B}`],
  ['only-10', '10.0-tcg-old', `-machine pc-q35-10.0 -cpu qemu64 ${B} -device virtio-rng-pci`],
  // An option guestabi does not model: unknown across builds.
  ['unmodelled', '7.2-tcg-a', `-machine pc-q35-7.2 -cpu qemu64 ${B} -rtc base=localtime`],
];

function fixtureGuests(): FleetGuest[] {
  const out: FleetGuest[] = GUESTS.map(([name, host, argv]) => ({ name, host, spec: { ...parseArgvText(argv, name), name } }));
  const hm = parseArgvText(`-machine pc-q35-7.2 -cpu qemu64 ${B}`, 'host-model');
  out.push({ name: 'host-model', host: '7.2-tcg-a', spec: { ...hm, name: 'host-model', cpu: { mode: 'host-model' } } });
  return out;
}

test('host kinds: hosts that check alike share a kind, whose id depends only on what checks read', () => {
  const hosts = fixtureFleet();
  const kinds = hostKinds(hosts);
  assert.equal(kinds.kinds.length, 7, 'five fixture profiles and two masked generations');
  for (const k of kinds.kinds) {
    const members = k.members.map((m) => kinds.byName.get(m)!.host);
    assert.ok(members.every((h) => h.catalog.id === k.catalog && h.profile.accel === k.accel));
    assert.ok(k.label.includes(members[0]!.catalog.version) && k.label.includes(k.accel.toUpperCase()) && k.label.includes(k.cpu));
    for (const h of members) assert.equal(hostKindId(h), k.id, 'the id of each member is the kind id');
  }
  assert.deepEqual(kinds.kinds.find((k) => k.members.includes('10.0-tcg-old'))!.members, ['10.0-tcg-old', '10.0-tcg-old2']);
  // Stable for the same content: another index of the same profiles gives the same ids.
  assert.deepEqual(hostKinds(fixtureFleet()).kinds.map((k) => k.id), kinds.kinds.map((k) => k.id));
  assert.throws(() => hostKinds([...hosts, fixtureHost('5.2-tcg', '7.2-tcg-a')]), (e: unknown) => e instanceof UserError && /hosts\[13\].*7\.2-tcg-a/.test(e.message));
  // Ids a store keeps per host group hosts without comparing them, alone or mixed with compared hosts.
  const ids = new Map(hosts.map((h) => [h.name, hostKindId(h)]));
  const members = (k: ReturnType<typeof hostKinds>) => Object.fromEntries(k.kinds.map((x) => [x.id, [...x.members].sort()]));
  assert.deepEqual(hostKinds(hosts, { kindOf: (h) => ids.get(h.name) }).kinds, kinds.kinds);
  assert.deepEqual(members(hostKinds(hosts, { kindOf: (h) => (h.name.endsWith('-b') ? ids.get(h.name) : undefined) })), members(kinds));
});

test('every cell of the matrix is what checkMigration says for the same guest and hosts', () => {
  const hosts = fixtureFleet();
  const guests = fixtureGuests();
  const m = planMatrix({ hosts, guests, rules });
  assert.ok(isValid(FleetMatrix, m), 'a valid fleet-matrix document');
  assert.equal(m.cells.length, m.guestClasses.length * m.hostKinds.length);
  assert.equal(m.summary.guests, guests.length);
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const specOf = new Map(guests.map((g) => [g.name, g.spec]));
  const seen = new Set<string>();
  for (const cell of m.cells) {
    const cls = m.guestClasses.find((c) => c.id === cell.guestClass)!;
    const kind = m.hostKinds.find((k) => k.id === cell.hostKind)!;
    assert.ok(kind.members.includes(cell.to), 'the destination is of the target kind');
    if (cls.source === null) assert.equal(cell.from, cell.to, 'a guest on no host: a start check on the destination');
    else assert.ok(m.hostKinds.find((k) => k.id === cls.source)!.members.includes(cell.from));
    if (cls.source === cell.hostKind && kind.members.length > 1) assert.notEqual(cell.from, cell.to, 'two hosts of one kind');
    let direct;
    try {
      direct = checkMigration({ source: specOf.get(cell.guest)!, from: byName.get(cell.from)!, to: byName.get(cell.to)!, rules });
    } catch (e) {
      assert.equal(cell.outcome, 'unknown');
      assert.ok(cell.error!.startsWith((e as Error).message), 'the error that stopped the check');
      continue;
    }
    assert.equal(cell.outcome, direct.outcome, `${cell.guest} ${cell.from} -> ${cell.to}`);
    assert.deepEqual(cell.codes, effectCodes(direct.forward.reasons), `${cell.guest} ${cell.from} -> ${cell.to}`);
    seen.add(cell.outcome);
  }
  assert.deepEqual([...seen].sort(), ['impossible', 'safe', 'unknown', 'unsafe'], 'the fleet exercises every outcome');
});

test('the matrix from pre-grouped classes (the store) gives the same cells as from the guests', () => {
  const hosts = fixtureFleet();
  const guests = fixtureGuests();
  const m = planMatrix({ hosts, guests, rules });
  const classes = m.guestClasses.map((c) => {
    const sample = guests.find((g) => g.name === c.members[0])!;
    return { abiClass: c.abi, host: sample.host, count: c.count, sample: { name: sample.name, spec: sample.spec } };
  });
  const fromClasses = matrixFromClasses({ hosts, classes, rules });
  assert.ok(isValid(FleetMatrix, fromClasses));
  assert.deepEqual(fromClasses.cells.map((c) => [c.guestClass, c.hostKind, c.outcome, c.codes]), m.cells.map((c) => [c.guestClass, c.hostKind, c.outcome, c.codes]));
  assert.equal(fromClasses.summary.guests, guests.length);
  assert.throws(() => matrixFromClasses({ hosts, classes: [{ ...classes[0]!, host: 'nowhere' }], rules }), /classes\[0\]\.host: no host 'nowhere'/);
});

test('grouping never puts guests with different definitions or on different host kinds in one class', () => {
  const fleet = generateFleet({ hosts: 300, kinds: 15, guests: 4000, abis: 120, seed: 7 });
  const m = planMatrix({ hosts: fleet.hosts, guests: fleet.guests, rules });
  const guest = new Map(fleet.guests.map((g) => [g.name, g]));
  const kinds = hostKinds(fleet.hosts);
  const kindOf = (g: FleetGuest) => (g.host === null ? null : kinds.byName.get(g.host)!.kind);
  let members = 0;
  const classOf = new Map<string, string>();
  for (const c of m.guestClasses) {
    const gs = c.members.map((n) => guest.get(n)!);
    members += gs.length;
    assert.equal(c.count, gs.length);
    assert.equal(new Set(gs.map((g) => guestSpecKey(g.spec))).size, 1, `${c.id}: one definition`);
    assert.ok(gs.every((g) => kindOf(g) === c.source), `${c.id}: one source kind`);
    classOf.set(`${guestSpecKey(gs[0]!.spec)}\u0000${c.source}`, c.id);
  }
  assert.equal(members, fleet.guests.length, 'every guest is in one class');
  assert.equal(classOf.size, m.guestClasses.length, 'one class per definition and source kind');
  // The same definition on two host kinds: two classes.
  const hosts = fixtureFleet();
  const spec = parseArgvText(`-machine pc-q35-7.2 -cpu qemu64 ${B}`, 'g');
  const two = planMatrix({ hosts, guests: [{ name: 'a', spec, host: '7.2-tcg-a' }, { name: 'b', spec, host: '7.2-kvm-a' }, { name: 'c', spec, host: '7.2-tcg-b' }], rules });
  assert.deepEqual(two.guestClasses.map((c) => c.members), [['a', 'c'], ['b']]);
  assert.throws(() => planMatrix({ hosts, guests: [{ name: 'a', spec, host: 'nowhere' }], rules }), /guests\[0\]\.host: no host 'nowhere'/);
});

const to = findCatalog('10.0');
/** The real 10.0 profile of the same accelerator, as the host after its upgrade. */
const probedOn10 = (h: TargetHost) => fixtureHost(`10.0-${h.profile.accel}`, h.name);

function upgradeFleet() {
  const hosts = fixtureFleet().filter((h) => !h.name.startsWith('10.0-tcg-old'));
  const guests = fixtureGuests().filter((g) => g.host === null || hosts.some((h) => h.name === g.host));
  const waves = [['7.2-tcg-a', '7.2-kvm-a', '5.2-tcg-a'], ['7.2-tcg-old', '7.2-tcg-b'], ['7.2-kvm-b', '5.2-tcg-b']];
  return { hosts, guests, waves };
}

test('upgrade plan rows are checkMigration both ways from the guest\'s host to an upgraded host of its kind', () => {
  const { hosts, guests, waves } = upgradeFleet();
  const plan = planUpgrade({ hosts, guests, to, waves, rules, upgradedProfile: probedOn10 });
  assert.ok(isValid(UpgradePlan, plan), 'a valid fleet-upgrade document');
  assert.deepEqual(Object.keys(plan).slice(0, 3), ['schema', 'to', 'summary'], 'summary first');
  const byName = new Map(hosts.map((h) => [h.name, h]));
  const kinds = hostKinds(hosts);
  const spec = new Map(guests.map((g) => [g.name, g.spec]));
  const rows = plan.waves.flatMap((w) => w.guests);
  assert.equal(rows.length, guests.filter((g) => g.host !== null && waves.flat().includes(g.host)).length, 'the guests on the hosts of the waves');
  for (const row of rows) {
    const from = byName.get(row.host)!;
    const up = probedOn10(byName.get(row.forwardTo)!);
    assert.equal(kinds.byName.get(row.forwardTo)!.kind, kinds.byName.get(row.host)!.kind, 'forward to a host of the same kind');
    const r = checkMigration({ source: spec.get(row.guest)!, from, to: up, rules, bothWays: true });
    assert.equal(row.forward, r.forward.outcome, row.guest);
    const back = kinds.byName.get(row.rollbackTo!)!;
    assert.equal(back.host.catalog.id, from.catalog.id, 'rollback to a host on the old build');
    let rollback = r.rollback!;
    if (back.kind !== kinds.byName.get(row.host)!.kind && r.forward.to.machine && r.forward.outcome !== 'impossible') {
      const running = concreteHostModel(spec.get(row.guest)!, from).spec;
      rollback = checkMigration({ source: { ...running, machine: { ...running.machine, type: r.forward.to.machine } }, from: up, to: back.host, rules }).forward;
    }
    assert.equal(row.rollback, rollback.outcome, row.guest);
    assert.deepEqual(row.codes, effectCodes([...r.forward.reasons, ...rollback.reasons]), row.guest);
    assert.deepEqual(row.fence, row.rollback === 'safe' ? r.fence : []);
  }
  const last = plan.waves.at(-1)!.guests;
  assert.ok(last.some((r) => r.host.startsWith('5.2') && r.rollbackTo === r.host), 'no 5.2 host is left after the last wave: rollback is to the own host, rolled back');
  assert.ok(plan.waves[0]!.guests.every((r) => r.rollbackTo !== r.host), 'after the first wave, every build has hosts left');
  assert.equal(plan.summary.loseRollback, rows.filter((r) => r.rollback !== 'safe').length);
  assert.ok(rows.some((r) => r.rollbackTo && kinds.byName.get(r.rollbackTo)!.kind !== kinds.byName.get(r.host)!.kind), 'a rollback to another kind of the old build');
});

test('machine types that QEMU 10.0 deprecates or no longer has are flagged, with the newest of their family', () => {
  const { hosts, guests, waves } = upgradeFleet();
  const plan = planUpgrade({ hosts, guests, to, waves, rules, upgradedProfile: probedOn10 });
  const rows = new Map(plan.waves.flatMap((w) => w.guests).map((r) => [r.guest, r]));
  assert.deepEqual([rows.get('deprecated-q35')!.machineStatus, rows.get('deprecated-q35')!.suggestedMachine], ['deprecated', 'pc-q35-10.0']);
  assert.deepEqual([rows.get('old-52')!.machineStatus, rows.get('old-52')!.suggestedMachine], ['deprecated', 'pc-i440fx-10.0']);
  assert.deepEqual([rows.get('pc-13')!.machineStatus, rows.get('pc-13')!.forward], ['removed', 'impossible']);
  assert.equal(rows.get('q35-72')!.machineStatus, 'ok');
  for (const r of rows.values()) {
    const m = to.machine(r.machine);
    assert.equal(r.machineStatus, !m ? 'removed' : m.deprecated ? 'deprecated' : 'ok', r.machine);
  }
  assert.equal(plan.summary.deprecatedMachines, [...rows.values()].filter((r) => r.machineStatus === 'deprecated').length);
  assert.equal(plan.summary.removedMachines, 1, 'pc-1.3, gone since QEMU 7.0');
});

test('a planned upgrade (no probed profile) reuses what the profile knows, and is never safe where it does not', () => {
  // What the planned profiles say can run is what QEMU 10.0 said on the same machine.
  for (const [from, real] of [['5.2-tcg', '10.0-tcg'], ['7.2-tcg', '10.0-tcg'], ['7.2-kvm', '10.0-kvm']] as const) {
    const planned = plannedHost(fixtureHost(from, 'x'), to);
    const probed = fixtureHost(real, 'x').profile.cpuModels;
    const models = Object.entries(planned.host.profile.cpuModels);
    assert.ok(models.length > 100 && planned.unknown.length > 0, `${from}: most models known, the new ones unknown`);
    for (const [name, a] of models) assert.equal(a.runnable, probed[name]!.runnable, `${from} -> ${real}: ${name}`);
    assert.ok(planned.unknown.every((n) => !(n in planned.host.profile.cpuModels)));
    assert.ok(!planned.host.profile.hostCpu.props && !planned.host.profile.accelCpu, 'host CPU expansion: not known until probed');
  }
  // A profile that does not list Westmere: on the new build its availability is unknown.
  const hosts = [fixtureHost('7.2-tcg', 'a'), fixtureHost('7.2-tcg', 'b')];
  for (const h of hosts) for (const m of ['Westmere', 'Westmere-v1']) delete h.profile.cpuModels[m];
  const guests = ['Westmere', 'qemu64', 'max'].map((cpu) => ({ name: cpu, host: 'a', spec: parseArgvText(`-machine pc-q35-7.2 -cpu ${cpu} ${B}`, cpu) }));
  const plan = planUpgrade({ hosts, guests, to, waves: [['a']], rules });
  assert.ok(isValid(UpgradePlan, plan));
  assert.equal(plan.notes[0]!.code, 'UPGRADE_PROFILE_PLANNED');
  const rows = new Map(plan.waves[0]!.guests.map((r) => [r.guest, r]));
  assert.deepEqual([rows.get('Westmere')!.forward, rows.get('Westmere')!.codes], ['unknown', ['CPU_AVAILABILITY_UNKNOWN']]);
  assert.equal(rows.get('qemu64')!.forward, 'safe', 'a model whose availability carries over');
  assert.deepEqual([rows.get('max')!.forward, rows.get('max')!.codes], ['unknown', ['CPU_UNKNOWN']], 'the host CPU on the new build is unknown');
});

test('upgrade waves must name known hosts, each once', () => {
  const { hosts, guests } = upgradeFleet();
  assert.throws(() => planUpgrade({ hosts, guests, to, waves: [['7.2-tcg-a', 'nowhere']], rules }), /waves\[0\]\[1\]: no host 'nowhere'/);
  assert.throws(() => planUpgrade({ hosts, guests, to, waves: [['7.2-tcg-a'], ['7.2-tcg-a']], rules }), /waves\[1\]\[0\]: host '7\.2-tcg-a' is in wave 1/);
});

test('baseline candidates can run on every host, by the profiles, with features every host CPU has', () => {
  const hosts = fixtureFleet().filter((h) => h.profile.accel === 'tcg');
  const guests = fixtureGuests().filter((g) => g.host === null || hosts.some((h) => h.name === g.host));
  const b = planBaseline({ hosts, guests, vulnerabilityMap: loadVulnerabilityMap() });
  assert.ok(isValid(Baseline, b), 'a valid fleet-baseline document');
  assert.equal(b.hosts, hosts.length);
  assert.ok(b.candidates.length > 0);
  for (const c of b.candidates) {
    assert.match(c.cpu, /-v\d+$/, 'a versioned model');
    for (const h of hosts) {
      const a = h.profile.cpuModels[c.cpu]!;
      assert.ok(a.runnable && a.unavailableFeatures.length === 0, `${c.cpu} runs on ${h.name}`);
      assert.ok(h.catalog.machine(c.machine)?.name === c.machine, `${h.name} has ${c.machine}`);
      for (const f of Object.keys(c.features)) assert.equal(h.profile.hostCpu.props![f], true, `${h.name} gives ${f}`);
      const has = { ...h.catalog.cpuOnMachine(c.cpu, c.machine), ...c.features };
      for (const f of c.featuresLost[h.name]!) assert.notEqual(has[f], true, `${f} is lost on ${h.name}`);
    }
    assert.equal(c.cost.guestsToRestart, c.guestsToRestart.length);
    assert.ok(!c.guestsToRestart.some((g) => g.startsWith('unplaced')), 'guests on no host need no restart');
  }
  const ranks = b.candidates.map((c) => c.rank);
  assert.deepEqual(ranks, ranks.map((_, i) => i + 1));
  // With the KVM hosts, whose nested KVM gives very little, only the oldest models remain.
  const all = planBaseline({ hosts: fixtureFleet() });
  for (const c of all.candidates) for (const h of fixtureFleet()) assert.equal(h.profile.cpuModels[c.cpu]!.runnable, true);
});

test('a guest that already runs the baseline need not restart', () => {
  const hosts = [fixtureHost('7.2-tcg', 'a'), fixtureHost('7.2-tcg', 'b')];
  const b = planBaseline({ hosts, limit: 1 });
  const best = b.candidates[0]!;
  const features = Object.keys(best.features).map((name) => ({ name, policy: 'require' as const }));
  const spec: GuestSpec = { machine: { type: best.machine }, cpu: { mode: 'custom', model: best.cpu, enforce: true, features }, memory: { sizeMiB: 1024 }, vcpus: { count: 1 }, devices: [] };
  const other = parseArgvText(`-machine ${best.machine} -cpu qemu64 ${B}`, 'other');
  const again = planBaseline({ hosts, guests: [{ name: 'on-it', spec, host: 'a' }, { name: 'other', spec: other, host: 'b' }], limit: 1 });
  assert.equal(again.candidates[0]!.cpu, best.cpu);
  assert.deepEqual(again.candidates[0]!.guestsToRestart, ['other']);
});
