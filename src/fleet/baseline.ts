import type { CatalogIndex } from '../catalog/catalog.js';
import { compareMachineNames, parseCpuModelName } from '../catalog/names.js';
import { concreteHostModel } from '../check/check.js';
import { runtimeCpu } from '../check/runtime.js';
import type { Props } from '../model/common.js';
import { sameProps } from '../catalog/props.js';
import { FLEET_BASELINE_SCHEMA_ID, type Baseline, type BaselineCandidate } from '../model/fleet.js';
import type { GuestSpec } from '../model/guest.js';
import type { VulnerabilityMap } from '../model/policy.js';
import { reason, type Reason } from '../model/reason.js';
import { HOST_MODEL_EXCLUDED } from '../resolve/cpu-features.js';
import { ResolveError, type TargetHost } from '../resolve/target.js';
import { UserError } from '../util/errors.js';
import { groupGuests, type ClassGroup, type FleetGuest } from './classes.js';
import { hostKinds, type HostKinds, type KindOptions } from './kinds.js';

export interface BaselineInput {
  hosts: TargetHost[];
  /** Guests: their machine families choose the machine types, and adopting a candidate restarts
   *  every guest that does not run it already. */
  guests?: FleetGuest[];
  /** Vulnerability data (data/policy/vulnerabilities.yaml): mitigations a candidate takes away. */
  vulnerabilityMap?: VulnerabilityMap;
  /** How many candidates to give, best first (default 10). */
  limit?: number;
  /** Host-kind ids the caller keeps per host (hostKindId): see KindOptions. */
  kindOf?: KindOptions['kindOf'];
}

interface Kind {
  id: string;
  host: TargetHost;
  members: string[];
  /** The TargetHost of each member. */
  hosts: TargetHost[];
  /** CPUID features the host CPU could give a guest (null: the profile has no host CPU expansion). */
  give: Set<string> | null;
}

interface Candidate {
  cpu: string;
  machine: string;
  extras: Record<string, boolean>;
  /** Per kind id, the features the guest gets on it. */
  has: Map<string, Set<string>>;
  otherVendor: number;
}

const NOT_AFFECTED = /^Not affected/i;

function featuresOn(e: Props | undefined, catalog: CatalogIndex): Set<string> {
  const all = catalog.cpuFeatures();
  const out = new Set<string>();
  if (e) for (const k in e) if (e[k] === true && all.has(k)) out.add(k);
  return out;
}

function kindsOf(kinds: HostKinds): Kind[] {
  return kinds.kinds.map((k) => {
    const host = kinds.hosts.get(k.id)![0]!;
    const all = host.catalog.cpuFeatures();
    const give = host.hostFeatures ? new Set([...host.hostFeatures].filter((f) => all.has(f) && !HOST_MODEL_EXCLUDED.test(f))) : null;
    return { id: k.id, host, members: k.members, hosts: kinds.hosts.get(k.id)!, give };
  });
}

/** The newest versioned machine type of a family that every build has (and probed). */
function commonMachine(family: string, catalogs: CatalogIndex[]): string | undefined {
  const ok = (c: CatalogIndex, name: string) => {
    const m = c.machine(name);
    return !!m && m.name === name && m.probe === 'ok';
  };
  return catalogs[0]!
    .family(family)
    .filter((m) => m.version !== null && catalogs.every((c) => ok(c, m.name)))
    .map((m) => m.name)
    .sort(compareMachineNames)
    .at(-1);
}

/** Machine families the guests use, most guests first (pc-q35 without guests). */
function familiesOf(guests: FleetGuest[], hosts: Map<string, TargetHost>, fallback: CatalogIndex): string[] {
  const count = new Map<string, number>();
  for (const g of guests) {
    const catalog = (g.host !== null ? hosts.get(g.host)?.catalog : undefined) ?? fallback;
    const family = catalog.machine(g.spec.machine.type)?.family;
    if (family) count.set(family, (count.get(family) ?? 0) + 1);
  }
  const out = [...count].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([f]) => f);
  return out.length ? out : ['pc-q35'];
}

/** Versioned models every build has (not deprecated) and every host can run, by its profile. */
function runnableModels(kinds: Kind[], catalogs: CatalogIndex[]): string[] {
  const runs = (k: Kind, name: string) => {
    const a = k.host.profile.cpuModels[name];
    return a?.runnable === true && a.unavailableFeatures.length === 0;
  };
  return catalogs[0]!.data.cpuModels
    .filter((m) => m.version !== null && !m.hostDependent)
    .filter((m) => catalogs.every((c) => c.cpuModel(m.name) && !c.cpuModel(m.name)!.deprecated))
    .filter((m) => kinds.every((k) => runs(k, m.name)))
    .map((m) => m.name);
}

/** A model on a machine type, plus the features every host CPU has and the model lacks somewhere. */
function candidate(cpu: string, machine: string, kinds: Kind[], common: Set<string> | null): Candidate {
  const on = new Map(kinds.map((k) => [k.id, featuresOn(k.host.catalog.cpuOnMachine(cpu, machine) ?? k.host.catalog.cpuExpansion(cpu), k.host.catalog)]));
  const extras: Record<string, boolean> = {};
  for (const f of [...(common ?? [])].sort()) if (kinds.some((k) => !on.get(k.id)!.has(f))) extras[f] = true;
  const has = new Map([...on].map(([id, s]) => [id, new Set([...s, ...Object.keys(extras)])]));
  const vendor = kinds[0]!.host.catalog.cpuExpansion(cpu)?.vendor;
  const otherVendor = kinds.reduce((n, k) => n + (vendor !== undefined && k.host.profile.cpu.vendor !== vendor ? k.members.length : 0), 0);
  return { cpu, machine, extras, has, otherVendor };
}

function featuresLost(c: Candidate, kinds: Kind[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const k of kinds) {
    const has = c.has.get(k.id)!;
    const lost = k.give ? [...k.give].filter((f) => !has.has(f)).sort() : [];
    for (const name of k.members) out[name] = lost;
  }
  return out;
}

/** Vulnerabilities a host reports affected that a guest could mitigate with what that host's CPU
 *  gives, but not with the candidate's features. */
function mitigationsLost(c: Candidate, kinds: Kind[], map: VulnerabilityMap | undefined): BaselineCandidate['mitigationsLost'] {
  if (!map) return [];
  const lost = new Map<string, BaselineCandidate['mitigationsLost'][number]>();
  for (const k of kinds) {
    const hostHas = k.host.hostFeatures;
    if (!hostHas) continue;
    const has = c.has.get(k.id)!;
    k.members.forEach((name, i) => {
      const p = k.hosts[i]!.profile;
      for (const [vuln, status] of Object.entries(p.vulnerabilities)) {
        if (NOT_AFFECTED.test(status)) continue;
        for (const row of map.rows) {
          if (row.vulnerability !== vuln || (row.vendor && row.vendor !== p.cpu.vendor) || !row.guestMitigates || !row.needs?.length) continue;
          const can = (set: ReadonlySet<string>) => row.needs!.some((alt) => alt.every((f) => set.has(f)));
          if (!can(hostHas) || can(has)) continue;
          const key = `${vuln}\u0000${JSON.stringify(row.needs)}`;
          if (!lost.has(key)) lost.set(key, { vulnerability: vuln, hosts: [], needs: row.needs });
          lost.get(key)!.hosts.push(name);
        }
      }
    });
  }
  return [...lost.values()];
}


type Running = { machine: string | null; cpu: Props | null } | { error: string };

/** What a class of guests runs now on its host (host-model as libvirt resolved it), or why that
 *  cannot be told (its guests are then counted as ones to restart). */
function running(cls: ClassGroup): Running {
  const from = cls.from!.host;
  try {
    const spec = cls.spec.cpu.mode === 'host-model' ? concreteHostModel(cls.spec, from).spec : cls.spec;
    const p = runtimeCpu(spec, from, `guest ${cls.guest}`);
    return { machine: p.machine, cpu: p.cpuHostDependent ? null : p.cpu };
  } catch (e) {
    if (e instanceof UserError || e instanceof ResolveError) return { error: e.message };
    throw e;
  }
}

function unknownGuests(now: Map<ClassGroup, Running>): Reason[] {
  const failed = [...now].filter((x): x is [ClassGroup, { error: string }] => 'error' in x[1]);
  if (!failed.length) return [];
  const guests = failed.reduce((n, [c]) => n + c.doc.count, 0);
  return [
    reason('BASELINE_GUEST_PLATFORM_UNKNOWN', 'warn', 'guests', `what ${guests} guests run now cannot be told: they are counted as guests to restart`, {
      details: failed.slice(0, 50).map(([c, r]) => `${c.guest} on ${c.from!.name}: ${r.error}`),
    }),
  ];
}

/** Guests that do not run the candidate's machine type and CPU already: adopting it restarts them. */
function guestsToRestart(c: Candidate, classes: ClassGroup[], kinds: Map<string, Kind>, now: Map<ClassGroup, Running>): string[] {
  const spec: GuestSpec = {
    machine: { type: c.machine },
    cpu: { mode: 'custom', model: c.cpu, enforce: true, features: Object.keys(c.extras).map((name) => ({ name, policy: 'require' as const })) },
    memory: { sizeMiB: 1024 },
    vcpus: { count: 1 },
    devices: [],
  };
  const onKind = new Map<string, Props | null>();
  const out: string[] = [];
  for (const cls of classes) {
    const r = now.get(cls)!;
    let same = !('error' in r) && r.machine === c.machine;
    if (same && !('error' in r)) {
      const kind = cls.doc.source!;
      if (!onKind.has(kind)) onKind.set(kind, runtimeCpu(spec, kinds.get(kind)!.host, 'baseline').cpu);
      same = sameProps(r.cpu, onKind.get(kind)!);
    }
    if (!same) out.push(...cls.doc.members);
  }
  return out;
}

function intersection(sets: Set<string>[]): Set<string> {
  const [first, ...rest] = sets;
  return new Set([...(first ?? [])].filter((f) => rest.every((s) => s.has(f))));
}

function limitsOf(kinds: Kind[], catalogs: CatalogIndex[], families: string[]): { notes: Reason[]; machines: string[] } {
  const notes: Reason[] = [];
  const unknown = kinds.filter((k) => !k.give).flatMap((k) => k.members);
  if (unknown.length) {
    notes.push(
      reason('BASELINE_HOST_CPU_UNKNOWN', 'warn', 'hosts', `${unknown.length} hosts have no host CPU expansion in their profile: no feature is added to the models, and what they lose is not counted`, {
        details: unknown.slice(0, 50),
        remedy: 'probe these hosts again (guestabi probe --host-only)',
      }),
    );
  }
  const machines: string[] = [];
  for (const f of families) {
    const m = commonMachine(f, catalogs);
    if (!m) {
      notes.push(reason('BASELINE_NO_COMMON_MACHINE', 'warn', f, `no versioned ${f} machine type is in every host's QEMU`));
      continue;
    }
    machines.push(m);
    const deprecated = catalogs.filter((c) => c.machine(m)!.deprecated).map((c) => c.version);
    if (deprecated.length) {
      notes.push(
        reason('BASELINE_MACHINE_DEPRECATED', 'warn', m, `${m}, the newest ${f} type every host's QEMU has, is deprecated in QEMU ${deprecated.join(', ')}`, {
          remedy: 'upgrade the hosts on the oldest builds: the baseline machine type then moves up',
        }),
      );
    }
  }
  return { notes, machines };
}

function costOf(c: Candidate, kinds: Kind[], input: BaselineInput, classes: ClassGroup[], now: Map<ClassGroup, Running>): Omit<BaselineCandidate, 'rank'> & { otherVendor: number } {
  const lost = featuresLost(c, kinds);
  const mitigations = mitigationsLost(c, kinds, input.vulnerabilityMap);
  const restart = guestsToRestart(c, classes, new Map(kinds.map((k) => [k.id, k])), now);
  return {
    cpu: c.cpu,
    features: c.extras,
    machine: c.machine,
    cost: {
      featuresLost: Object.values(lost).reduce((n, l) => n + l.length, 0),
      mitigationsLost: mitigations.reduce((n, m) => n + m.hosts.length, 0),
      guestsToRestart: restart.length,
    },
    featuresLost: lost,
    mitigationsLost: mitigations,
    guestsToRestart: restart,
    otherVendor: c.otherVendor,
  };
}

/** Best first: fewer features lost, fewer mitigations lost, the hosts' CPU vendor, fewer guests to
 *  restart, fewer features to add, the newer version. */
function better(a: ReturnType<typeof costOf>, b: ReturnType<typeof costOf>): number {
  const version = (x: typeof a) => parseCpuModelName(x.cpu).version ?? 0;
  return (
    a.cost.featuresLost - b.cost.featuresLost ||
    a.cost.mitigationsLost - b.cost.mitigationsLost ||
    a.otherVendor - b.otherVendor ||
    a.cost.guestsToRestart - b.cost.guestsToRestart ||
    Object.keys(a.features).length - Object.keys(b.features).length ||
    version(b) - version(a) ||
    a.cpu.localeCompare(b.cpu) ||
    compareMachineNames(b.machine, a.machine)
  );
}

/**
 * A CPU and machine type every host can run, for guests that must be able to go anywhere: each
 * versioned model every host's profile says can run, on the newest machine type of the guests'
 * families that every build has, with the features every host CPU has on top; ranked by what they
 * cost (features and mitigations the hosts could give and the baseline takes away, guests that must
 * restart to adopt it).
 */
export function planBaseline(input: BaselineInput): Baseline {
  if (!input.hosts.length) throw new UserError('no hosts to find a baseline for', 'hosts');
  const hk = hostKinds(input.hosts, { kindOf: input.kindOf });
  const kinds = kindsOf(hk);
  const catalogs = [...new Map(kinds.map((k) => [k.host.catalog.id, k.host.catalog])).values()];
  const guests = input.guests ?? [];
  const classes = groupGuests(guests, hk).filter((c) => c.from);
  const now = new Map(classes.map((c) => [c, running(c)]));
  const { notes, machines } = limitsOf(kinds, catalogs, familiesOf(guests, new Map([...hk.byName].map(([n, x]) => [n, x.host])), catalogs[0]!));
  notes.push(...unknownGuests(now));
  const models = runnableModels(kinds, catalogs);
  if (!models.length) notes.push(reason('BASELINE_NO_RUNNABLE_MODEL', 'warn', 'cpu', 'no versioned CPU model is in every host\'s QEMU and can run on every host'));
  const common = kinds.every((k) => k.give) ? intersection(kinds.map((k) => k.give!)) : null;
  const all = machines.flatMap((m) => models.map((cpu) => costOf(candidate(cpu, m, kinds, common), kinds, input, classes, now)));
  const candidates = all
    .sort(better)
    .slice(0, input.limit ?? 10)
    .map(({ otherVendor: _v, ...c }, i) => ({ rank: i + 1, ...c }));
  return { schema: FLEET_BASELINE_SCHEMA_ID, hosts: hk.byName.size, notes, candidates };
}
