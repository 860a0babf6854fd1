import type { CatalogIndex } from '../catalog/catalog.js';
import { parseMachineName } from '../catalog/names.js';
import { checkMigration, concreteHostModel, newCheckCache, type CheckCache } from '../check/check.js';
import type { Rules } from '../check/rules.js';
import { FLEET_UPGRADE_SCHEMA_ID, type UpgradePlan, type UpgradeRow } from '../model/fleet.js';
import type { GuestSpec } from '../model/guest.js';
import type { Reason } from '../model/reason.js';
import type { Outcome, Verdict } from '../model/verdict.js';
import type { TargetHost } from '../resolve/target.js';
import { UserError } from '../util/errors.js';
import { groupGuests, type ClassGroup, type FleetGuest } from './classes.js';
import { hostKindId, hostKinds, type HostKinds, type KindOptions } from './kinds.js';
import { effectCodes, failedCheck, type Progress } from './matrix.js';
import { plannedHost } from './upgraded.js';

export interface UpgradeInput {
  hosts: TargetHost[];
  guests: FleetGuest[];
  /** The new build. */
  to: CatalogIndex;
  /** Host names, wave by wave; hosts in no wave stay on their build. */
  waves: string[][];
  rules: Rules;
  /** The host on the new build (e.g. from a profile probed on a host of its kind). Without it the
   *  profile is planned from the current one (plannedHost): what it cannot tell is unknown. */
  upgradedProfile?: (host: TargetHost) => TargetHost;
  /** Host-kind ids the caller keeps per host (hostKindId): see KindOptions. */
  kindOf?: KindOptions['kindOf'];
  progress?: Progress;
}

interface Upgraded {
  host: TargetHost;
  /** CPU models of the new build the profile does not cover: their availability is unknown. */
  unknown: ReadonlySet<string>;
  /** Equal for upgraded hosts that check alike. */
  kind: string;
}

interface Ctx {
  input: UpgradeInput;
  kinds: HostKinds;
  cache: CheckCache;
  upgraded: Map<string, Upgraded>;
  planned: Map<string, ReturnType<typeof plannedHost>>;
  verdicts: Map<string, RowVerdict>;
}

interface RowVerdict extends Pick<UpgradeRow, 'machineStatus' | 'suggestedMachine'> {
  forward: Outcome;
  rollback: Outcome;
  codes: string[];
  fence: Reason[];
  machine: string;
  error?: string;
}

function checkWaves(waves: string[][], kinds: HostKinds): void {
  const seen = new Map<string, number>();
  waves.forEach((wave, i) =>
    wave.forEach((name, j) => {
      if (!kinds.byName.has(name)) throw new UserError(`no host '${name}' among the hosts`, `waves[${i}][${j}]`);
      const before = seen.get(name);
      if (before !== undefined) throw new UserError(`host '${name}' is in wave ${before + 1} already`, `waves[${i}][${j}]`);
      seen.set(name, i);
    }),
  );
}

/** The host `name` on the new build: the caller's, or planned from its profile (once per kind). */
function upgradedOf(ctx: Ctx, name: string): Upgraded {
  const hit = ctx.upgraded.get(name);
  if (hit) return hit;
  const { kind, host } = ctx.kinds.byName.get(name)!;
  const to = ctx.input.to;
  let u: Upgraded;
  if (ctx.input.upgradedProfile) {
    const h = ctx.input.upgradedProfile(host);
    if (h.catalog.id !== to.id) throw new UserError(`gave host '${name}' on ${h.catalog.id}, not on ${to.id}`, 'upgradedProfile');
    const unknown = to.data.cpuModels.filter((m) => !m.hostDependent && !(m.name in h.profile.cpuModels)).map((m) => m.name);
    u = { host: h, unknown: new Set(unknown), kind: hostKindId(h) };
  } else if (host.catalog.id === to.id) {
    u = { host, unknown: new Set(), kind };
  } else {
    let p = ctx.planned.get(kind);
    if (!p) ctx.planned.set(kind, (p = plannedHost(host, to, `hosts of ${kind}`)));
    const profile = { ...p.host.profile, name };
    u = { host: { ...p.host, name, members: [name], profile }, unknown: new Set(p.unknown), kind: `planned:${kind}` };
  }
  ctx.upgraded.set(name, u);
  return u;
}

interface WaveTargets {
  /** Up to two upgraded hosts of the kind: the guests of one go to the other. */
  upgraded: string[];
  /** A host still on the old build, of the kind first, then of the build; null when none is left
   *  (the guest's own host, rolled back, is then where rollback goes). */
  rollback: string | null;
}

/** Where the guests of a kind's hosts go in a wave (`done`: hosts upgraded by the end of it). */
function waveTargets(kinds: HostKinds, kind: string, done: ReadonlySet<string>): WaveTargets {
  const k = kinds.kinds.find((x) => x.id === kind)!;
  const upgraded: string[] = [];
  for (const m of k.members) if (done.has(m) && upgraded.push(m) >= 2) break;
  const old = (ms: string[]) => ms.find((m) => !done.has(m));
  const sameBuild = kinds.kinds.filter((x) => x.catalog === k.catalog);
  return { upgraded, rollback: old(k.members) ?? sameBuild.map((x) => old(x.members)).find((m) => m) ?? null };
}

/** A verdict involving a host whose profile does not know the guest's CPU model is never safe. */
function cpuUnknown(cpu: string | null, u: Upgraded, outcome: Outcome, codes: string[]): Outcome {
  if (!cpu || !u.unknown.has(cpu)) return outcome;
  if (!codes.includes('CPU_AVAILABILITY_UNKNOWN')) codes.push('CPU_AVAILABILITY_UNKNOWN');
  return outcome === 'safe' ? 'unknown' : outcome;
}

/**
 * The rollback to a host of another kind on the same old build: the guest as it runs on the
 * upgraded host (its machine type as that host resolved it) migrating back, as checkMigration's
 * own rollback does it.
 */
function rollbackTo(ctx: Ctx, spec: GuestSpec, from: TargetHost, forward: Verdict, u: Upgraded, r: TargetHost, same: Verdict): Verdict {
  if (!forward.to.machine || forward.outcome === 'impossible') return same;
  const running = concreteHostModel(spec, from).spec;
  const back = { ...running, machine: { ...running.machine, type: forward.to.machine } };
  return checkMigration({ source: back, from: u.host, to: r, rules: ctx.input.rules, cache: ctx.cache }).forward;
}

function rowVerdict(ctx: Ctx, spec: GuestSpec, from: TargetHost, u: Upgraded, r: { host: TargetHost; sameKind: boolean }): RowVerdict {
  const v = rowChecks(ctx, spec, from, u, r);
  const machine = v.machine ?? spec.machine.type;
  return { ...v, machine, ...machineStatus(machine, from.catalog, ctx.input.to) };
}

function rowChecks(ctx: Ctx, spec: GuestSpec, from: TargetHost, u: Upgraded, r: { host: TargetHost; sameKind: boolean }): Omit<RowVerdict, 'machine' | 'machineStatus'> & { machine: string | null } {
  try {
    const a = checkMigration({ source: spec, from, to: u.host, rules: ctx.input.rules, bothWays: true, cache: ctx.cache });
    const rollback = !r.sameKind ? rollbackTo(ctx, spec, from, a.forward, u, r.host, a.rollback!) : a.rollback!;
    const codes = effectCodes([...a.forward.reasons, ...rollback.reasons]);
    const forward = cpuUnknown(a.forward.to.cpu, u, a.forward.outcome, codes);
    const back = cpuUnknown(rollback.from.cpu, u, rollback.outcome, codes);
    return { forward, rollback: back, codes, fence: back === 'safe' ? (a.fence ?? []) : [], machine: a.forward.from.machine };
  } catch (e) {
    const f = failedCheck(e);
    return { forward: 'unknown', rollback: 'unknown', codes: f.codes, fence: [], machine: null, error: f.error };
  }
}

/** Whether the new build still has the guest's machine type, and the newest of its family there. */
function machineStatus(machine: string, old: CatalogIndex, to: CatalogIndex): Pick<UpgradeRow, 'machineStatus' | 'suggestedMachine'> {
  const now = to.machine(machine);
  const family = now?.family ?? old.machine(machine)?.family ?? parseMachineName(machine).family;
  const newest = to
    .family(family)
    .filter((m) => !m.deprecated && m.version !== null)
    .at(-1)?.name;
  const status: UpgradeRow['machineStatus'] = !now ? 'removed' : now.deprecated ? 'deprecated' : 'ok';
  return newest && newest !== machine ? { machineStatus: status, suggestedMachine: newest } : { machineStatus: status };
}

function guestRow(ctx: Ctx, g: FleetGuest, cls: ClassGroup, t: WaveTargets): UpgradeRow {
  const name = g.host!;
  const h = ctx.kinds.byName.get(name)!;
  const forwardTo = t.upgraded.find((m) => m !== name) ?? name;
  const u = upgradedOf(ctx, forwardTo);
  // With no host of the old build left, rolling back means the guest's own host returns to it.
  const rollbackTo = t.rollback ?? name;
  const r = ctx.kinds.byName.get(rollbackTo)!;
  const key = `${cls.key}\u0000${u.kind}\u0000${r.kind}`;
  let v = ctx.verdicts.get(key);
  if (!v) ctx.verdicts.set(key, (v = rowVerdict(ctx, cls.spec, h.host, u, { host: r.host, sameKind: r.kind === h.kind })));
  const state = g.state ?? 'running';
  const memorySnapshots = g.memorySnapshots ?? 0;
  const row: UpgradeRow = { guest: g.name, host: name, forwardTo, rollbackTo, forward: v.forward, rollback: v.rollback, codes: v.codes, fence: v.fence, machine: v.machine, machineStatus: v.machineStatus, state, memorySnapshots };
  if (v.suggestedMachine) row.suggestedMachine = v.suggestedMachine;
  if (v.error !== undefined) row.error = v.error;
  return row;
}

function summary(waves: UpgradePlan['waves']): UpgradePlan['summary'] {
  const rows = waves.flatMap((w) => w.guests);
  const count = (f: (r: UpgradeRow) => boolean) => rows.reduce((n, r) => n + (f(r) ? 1 : 0), 0);
  return {
    guests: rows.length,
    waves: waves.length,
    loseForward: count((r) => r.forward !== 'safe'),
    loseRollback: count((r) => r.rollback !== 'safe'),
    deprecatedMachines: count((r) => r.machineStatus === 'deprecated'),
    removedMachines: count((r) => r.machineStatus === 'removed'),
    loseSavedState: count((r) => (r.state === 'saved' || r.memorySnapshots > 0) && r.forward !== 'safe'),
  };
}

/**
 * Move hosts to a new QEMU build wave by wave. For each guest on a wave's hosts: can it go to an
 * upgraded host of its kind (forward), and come back to a host still on its old build (rollback),
 * with the fence that would end rollback; whether the new build deprecates or removed its machine
 * type, and the newest type of that family there. Checks are made once per guest class and targets.
 */
export function planUpgrade(input: UpgradeInput): UpgradePlan {
  const kinds = hostKinds(input.hosts, { kindOf: input.kindOf });
  checkWaves(input.waves, kinds);
  const classOf = new Map<string, ClassGroup>();
  for (const c of groupGuests(input.guests, kinds)) for (const m of c.doc.members) classOf.set(m, c);
  const onHost = new Map<string, FleetGuest[]>();
  for (const g of input.guests) {
    if (g.host === null) continue;
    const list = onHost.get(g.host);
    if (list) list.push(g);
    else onHost.set(g.host, [g]);
  }
  const ctx: Ctx = { input, kinds, cache: newCheckCache(), upgraded: new Map(), planned: new Map(), verdicts: new Map() };
  const done = new Set<string>();
  const total = input.waves.flat().reduce((n, h) => n + (onHost.get(h)?.length ?? 0), 0);
  let rowsDone = 0;
  const waves = input.waves.map((wave, i) => {
    for (const name of wave) done.add(name);
    const targets = new Map<string, WaveTargets>();
    const rows = wave.flatMap((name) => {
      const kind = kinds.byName.get(name)!.kind;
      let t = targets.get(kind);
      if (!t) targets.set(kind, (t = waveTargets(kinds, kind, done)));
      const hostRows = (onHost.get(name) ?? []).map((g) => guestRow(ctx, g, classOf.get(g.name)!, t!));
      input.progress?.((rowsDone += hostRows.length), total);
      return hostRows;
    });
    return { index: i + 1, hosts: [...wave], guests: rows };
  });
  return { schema: FLEET_UPGRADE_SCHEMA_ID, to: input.to.id, summary: summary(waves), notes: [...ctx.planned.values()].map((p) => p.note), waves };
}
