/**
 * Fleet planning figures: node dist/bench/fleet.js (after npx tsc -p tsconfig.json).
 * Fleets come from bench/fleet-gen.ts (real host profiles of QEMU 5.2, 7.2, 10.0, masked into CPU
 * generations). Wall-clock and CPU time of each call; generating the fleet is not counted.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { findCatalog } from '../src/io/catalog-files.js';
import { migrationRules } from '../src/io/rules-files.js';
import { planBaseline } from '../src/fleet/baseline.js';
import { guestSpecKey, type PreGroupedClass } from '../src/fleet/classes.js';
import { shortHash } from '../src/fleet/hash.js';
import { hostKindId, hostKinds } from '../src/fleet/kinds.js';
import { matrixFromClasses, planMatrix } from '../src/fleet/matrix.js';
import { planUpgrade } from '../src/fleet/upgrade.js';
import type { FleetMatrix } from '../src/model/fleet.js';
import { loadVulnerabilityMap } from '../src/io/policy-files.js';
import type { TargetHost } from '../src/resolve/target.js';
import { generateFleet, makeHosts, type Fleet } from './fleet-gen.js';

const rules = migrationRules();
const mib = (kb: number) => `${(kb / 1024).toFixed(0)} MiB`;

function timed<T>(fn: () => T): { value: T; wall: number; cpu: number } {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { value, wall, cpu: (c.user + c.system) / 1000 };
}

function line(what: string, t: { wall: number; cpu: number }, extra = ''): void {
  const rss = process.resourceUsage().maxRSS;
  console.log(`${what.padEnd(56)} ${t.wall.toFixed(0).padStart(6)} ms wall ${t.cpu.toFixed(0).padStart(6)} ms cpu   peak RSS ${mib(rss).padStart(8)}   ${extra}`);
}

const shape = (m: FleetMatrix) =>
  `${m.summary.hostKinds} kinds x ${m.summary.guestClasses} classes = ${m.summary.cells} cells; safe ${m.summary.byOutcome.safe}, unsafe ${m.summary.byOutcome.unsafe}, impossible ${m.summary.byOutcome.impossible}, unknown ${m.summary.byOutcome.unknown}`;

/** The classes a store would hand over: ABI (here a hash of the definition), host, count, a sample. */
function storeClasses(fleet: Fleet): PreGroupedClass[] {
  const byKey = new Map<string, PreGroupedClass>();
  for (const g of fleet.guests) {
    const abiClass = shortHash(guestSpecKey(g.spec), 12);
    const key = `${abiClass}\u0000${g.host}`;
    const c = byKey.get(key);
    if (c) c.count++;
    else byKey.set(key, { abiClass, host: g.host, count: 1, sample: { name: g.name, spec: g.spec } });
  }
  return [...byKey.values()];
}

type Stage = () => void;

const big = () => generateFleet({ hosts: 10_000, kinds: 50, guests: 100_000, abis: 500 });

function matrixStage(n: number): Stage {
  return () => {
    const fleet = big();
    const guests = fleet.guests.slice(0, n);
    const t = timed(() => planMatrix({ hosts: fleet.hosts, guests, rules }));
    line(`matrix 10,000 hosts x ${n.toLocaleString('en')} guests`, t, shape(t.value));
  };
}

const STAGES: Record<string, Stage> = {
  kinds: () => {
    const fleet = big();
    line('host kinds of 10,000 hosts (shared indexes)', timed(() => hostKinds(fleet.hosts)));
    const perIndex = new Map<object, string>();
    for (const h of fleet.hosts) if (!perIndex.has(h.unavailable)) perIndex.set(h.unavailable, hostKindId(h));
    const kindOf = (h: TargetHost) => perIndex.get(h.unavailable);
    line('host kinds of 10,000 hosts (ids kept by a store)', timed(() => hostKinds(fleet.hosts, { kindOf })));
    line('hostKindId of one host (when a store saves it)', timed(() => hostKindId(fleet.hosts[0]!)));
    const independent = makeHosts(1_000, 50, true).hosts;
    line('host kinds of 1,000 hosts (each indexed)', timed(() => hostKinds(independent)));
  },
  'matrix-1k': matrixStage(1_000),
  'matrix-10k': matrixStage(10_000),
  'matrix-100k': matrixStage(100_000),
  'matrix-classes': () => {
    const classes = storeClasses(big());
    const t = timed(() => matrixFromClasses({ hosts: makeHosts(10_000, 50).hosts, classes, rules }));
    line(`matrix from ${classes.length.toLocaleString('en')} store classes (100,000 guests)`, t, shape(t.value));
  },
  upgrade: () => {
    const fleet = big();
    const to = findCatalog('10.0');
    const old = fleet.hosts.filter((h) => h.catalog.id !== to.id).map((h) => h.name);
    const waves = [0, 1, 2, 3].map((i) => old.filter((_, j) => j % 4 === i));
    const t = timed(() => planUpgrade({ hosts: fleet.hosts, guests: fleet.guests, to, waves, rules }));
    const s = t.value.summary;
    line('upgrade plan to 10.0, 100,000 guests, 4 waves', t, `${s.guests} guests on the waves' hosts; not safe forward ${s.loseForward}, rollback ${s.loseRollback}; deprecated ${s.deprecatedMachines}, removed ${s.removedMachines}`);
  },
  baseline: () => {
    const fleet = generateFleet({ hosts: 1_000, kinds: 50, guests: 10_000, abis: 500, seed: 2 });
    const t = timed(() => planBaseline({ hosts: fleet.hosts, guests: fleet.guests, vulnerabilityMap: loadVulnerabilityMap() }));
    const best = t.value.candidates[0];
    line('baseline over 1,000 hosts (50 kinds), 10,000 guests', t, best ? `best ${best.cpu} on ${best.machine} of ${t.value.candidates.length}` : 'no candidate');
    const tcg = fleet.hosts.filter((h) => h.profile.accel === 'tcg' && h.catalog.version !== '10.0.2');
    const t2 = timed(() => planBaseline({ hosts: tcg, guests: [], vulnerabilityMap: loadVulnerabilityMap() }));
    const best2 = t2.value.candidates[0];
    line(`baseline over the ${tcg.length} TCG hosts of 5.2 and 7.2`, t2, best2 ? `best ${best2.cpu} +${Object.keys(best2.features).length} features on ${best2.machine}` : 'no candidate');
  },
};

const stage = process.argv[2];
if (stage) {
  const run = STAGES[stage];
  if (!run) throw new Error(`no stage ${stage} (have: ${Object.keys(STAGES).join(', ')})`);
  run();
} else {
  // Each figure in a process of its own: no cache warmed by another, and its own peak RSS
  // (which includes the generated fleet).
  console.log(`node ${process.version}, ${availableParallelism()} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const name of Object.keys(STAGES)) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.stdout.write(r.stdout);
    if (r.status !== 0) process.exitCode = 1;
  }
}
