import { compareMachineNames, parseCpuModelName } from '../catalog/names.js';
import type { GuestSpec } from '../model/guest.js';
import { reason, type Reason } from '../model/reason.js';
import { VERDICT_SCHEMA_ID, type CheckResult, type Verdict } from '../model/verdict.js';
import { resolveCpu } from '../resolve/cpu.js';
import type { TargetHost } from '../resolve/target.js';
import { comparePlatforms, outcomeOf } from './compare.js';
import type { Rules } from './rules.js';
import { runtimePlatform, type RuntimePlatform } from './runtime.js';

export interface CheckInput {
  /** The guest as it runs on the source. */
  source: GuestSpec;
  /** The definition the destination QEMU is started from (the same one unless given). */
  destination?: GuestSpec;
  from: TargetHost;
  to: TargetHost;
  rules: Rules;
  bothWays?: boolean;
  /** Work shared by a series of checks (newCheckCache): only for callers that do not modify the
   *  definitions and hosts they pass while they keep the cache. */
  cache?: CheckCache;
}

/**
 * What a series of checks can share: the platform a definition gets on a host (runtimePlatform)
 * and what host-model becomes there, per definition and host object. A fleet checks each guest
 * class against every host kind: without it, the source side is worked out again in every cell.
 */
export interface CheckCache {
  platforms: WeakMap<GuestSpec, WeakMap<TargetHost, RuntimePlatform>>;
  hostModels: WeakMap<GuestSpec, WeakMap<TargetHost, ReturnType<typeof concreteHostModel>>>;
  /** The definition sent back on rollback: the destination's, with the machine type it resolved. */
  rollbackSpecs: WeakMap<GuestSpec, Map<string, GuestSpec>>;
}

export function newCheckCache(): CheckCache {
  return { platforms: new WeakMap(), hostModels: new WeakMap(), rollbackSpecs: new WeakMap() };
}

function rollbackSpec(dstSpec: GuestSpec, machine: string, cache: CheckCache | undefined): GuestSpec {
  const make = () => ({ ...dstSpec, machine: { ...dstSpec.machine, type: machine } });
  if (!cache) return make();
  let byMachine = cache.rollbackSpecs.get(dstSpec);
  if (!byMachine) cache.rollbackSpecs.set(dstSpec, (byMachine = new Map()));
  let back = byMachine.get(machine);
  if (!back) byMachine.set(machine, (back = make()));
  return back;
}

function memo<V>(map: WeakMap<GuestSpec, WeakMap<TargetHost, V>> | undefined, spec: GuestSpec, host: TargetHost, make: () => V): V {
  if (!map) return make();
  let byHost = map.get(spec);
  if (!byHost) map.set(spec, (byHost = new WeakMap()));
  let v = byHost.get(host);
  if (v === undefined) byHost.set(host, (v = make()));
  return v;
}

/** Migration blockers QEMU installs whatever the two sides are (the rules' blockers). */
function blockers(spec: GuestSpec, rules: Rules): Reason[] {
  const out: Reason[] = [];
  const b = rules.data.blockers;
  if (spec.launchSecurity) {
    const type = spec.launchSecurity.type;
    out.push(reason('MIGRATION_BLOCKED', 'error', `launchSecurity ${type}`, b.launchSecurity.why.replaceAll('{type}', type), { effect: 'impossible', source: b.launchSecurity.source }));
  }
  for (const rule of b.devices) {
    for (const d of spec.devices.filter((x) => x.type === rule.type)) {
      out.push(
        reason('MIGRATION_BLOCKED', 'error', d.type, rule.why.replaceAll('{device}', d.id ?? `a ${d.type} device`), {
          effect: 'impossible',
          remedy: rule.remedy,
          source: rule.source,
        }),
      );
    }
  }
  return out;
}

/**
 * libvirt resolves host-model when the guest starts and migrates the resulting CPU definition, so
 * the destination gets the source's concrete model and features, not its own host-model.
 */
export function concreteHostModel(spec: GuestSpec, host: TargetHost): { spec: GuestSpec; note?: Reason } {
  if (spec.cpu.mode !== 'host-model') return { spec };
  const r = resolveCpu(spec.cpu, spec.machine.type, { kind: 'host', name: host.name, hosts: [host] }, 'highest-runnable');
  const features = Object.entries(r.cpu.features).map(([name, on]) => ({ name, policy: on ? ('require' as const) : ('disable' as const) }));
  return {
    spec: { ...spec, cpu: { mode: 'custom', model: r.cpu.model!, features, enforce: true, ...(spec.cpu.properties ? { properties: spec.cpu.properties } : {}) } },
    note: reason('HOST_MODEL_EXPANDED', 'info', 'host-model', `host-model on ${host.name} is ${r.cpu.model} with ${features.length} features; libvirt migrates that definition`),
  };
}

function side(p: RuntimePlatform) {
  return { host: p.host.name, catalog: p.host.catalog.id, machine: p.machine, cpu: p.cpuName };
}

function verdict(direction: Verdict['direction'], src: RuntimePlatform, dst: RuntimePlatform, reasons: Reason[]): Verdict {
  return { outcome: outcomeOf(reasons), direction, from: side(src), to: side(dst), reasons };
}

function migrate(direction: Verdict['direction'], srcSpec: GuestSpec, dstSpec: GuestSpec, from: TargetHost, to: TargetHost, rules: Rules, extra: Reason[], cache?: CheckCache): { v: Verdict; src: RuntimePlatform; dst: RuntimePlatform } {
  const src = memo(cache?.platforms, srcSpec, from, () => runtimePlatform(srcSpec, from, rules.visibility, 'source guest'));
  const dst = memo(cache?.platforms, dstSpec, to, () => runtimePlatform(dstSpec, to, rules.visibility, 'destination guest'));
  const reasons = [...extra, ...blockers(srcSpec, rules), ...comparePlatforms(src, dst, rules)];
  if (!reasons.some((r) => r.effect)) {
    reasons.push(reason('MIGRATION_SAFE', 'info', src.machine ?? 'guest', `the guest keeps its platform: same machine type, CPU and devices on QEMU ${from.catalog.version} and ${to.catalog.version}`));
  }
  return { v: verdict(direction, src, dst, reasons), src, dst };
}

/**
 * Will the guest get there (and, with bothWays, can it come back)? A guest whose rollback is safe
 * also learns its fence: the changes that would end rollback.
 */
export function checkMigration(input: CheckInput): CheckResult {
  const cache = input.cache;
  const hm = memo(cache?.hostModels, input.source, input.from, () => concreteHostModel(input.source, input.from));
  const dstWritten = input.destination ?? input.source;
  // Without a destination definition, the destination gets the same one; for host-model that is
  // the CPU libvirt migrates, not the destination's own host-model.
  const dstSpec = input.destination ? memo(cache?.hostModels, dstWritten, input.to, () => concreteHostModel(dstWritten, input.to)).spec : hm.spec;
  const extra = hm.note ? [hm.note] : [];
  const forward = migrate('forward', hm.spec, dstSpec, input.from, input.to, input.rules, extra, cache);
  const result: CheckResult = { schema: VERDICT_SCHEMA_ID, outcome: forward.v.outcome, forward: forward.v };
  if (!input.bothWays) return result;

  // Rolling back: the guest now runs as the destination started it; the management layer sends
  // back that definition with its machine type as the destination resolved it.
  if (!forward.dst.machine || forward.v.outcome === 'impossible') {
    result.rollback = {
      outcome: 'impossible',
      direction: 'rollback',
      from: forward.v.to,
      to: forward.v.from,
      reasons: [reason('ROLLBACK_NEEDS_FORWARD', 'error', 'migration', 'the guest never gets to the destination, so there is nothing to roll back', { effect: 'impossible' })],
    };
  } else {
    const back = rollbackSpec(dstSpec, forward.dst.machine, cache);
    result.rollback = migrate('rollback', back, back, input.to, input.from, input.rules, [], cache).v;
  }
  if (result.rollback.outcome === 'safe') result.fence = fence(forward.src, forward.dst);
  result.outcome = worse(result.forward.outcome, result.rollback.outcome);
  return result;
}

const ORDER = ['safe', 'unknown', 'unsafe', 'impossible'] as const;
function worse(a: Verdict['outcome'], b: Verdict['outcome']): Verdict['outcome'] {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}

/**
 * What would end a safe rollback: re-pinning the guest to a machine type or CPU model version the
 * older build does not have (the fence of seed 002: N+1 to N works until the guest takes something
 * only N+1 has).
 */
function fence(src: RuntimePlatform, dst: RuntimePlatform): Reason[] {
  const out: Reason[] = [];
  const older = src.host.catalog;
  const newer = dst.host.catalog;
  if (older.id === newer.id) {
    out.push(reason('ROLLBACK_FENCE', 'info', 'none', `both hosts run QEMU ${older.version}: nothing the destination offers is missing on the source`));
    return out;
  }
  const machine = src.machine!;
  const family = newer.machine(machine)?.family;
  if (family) {
    const have = new Set(older.family(family).map((m) => m.name));
    const only = newer.family(family).filter((m) => !have.has(m.name)).map((m) => m.name).sort(compareMachineNames);
    if (only.length) {
      out.push(
        reason('ROLLBACK_FENCE', 'info', family, `re-pinning the guest to ${only[0]}${only.length > 1 ? ` (or any of ${only.length} newer ${family} types up to ${only.at(-1)})` : ''} ends rollback: QEMU ${older.version} does not have it`, {
          details: only,
        }),
      );
    }
  }
  const cpu = src.cpuName && !src.cpuHostDependent ? parseCpuModelName(older.cpuModel(src.cpuName)?.aliasOf ?? src.cpuName).base : undefined;
  if (cpu) {
    const have = new Set(older.cpuVersions(cpu).map((m) => m.name));
    const only = newer.cpuVersions(cpu).filter((m) => !have.has(m.name)).map((m) => m.name);
    if (only.length) {
      out.push(reason('ROLLBACK_FENCE', 'info', cpu, `re-pinning the CPU to ${only.join(', ')} ends rollback: QEMU ${older.version} does not have ${only.length > 1 ? 'them' : 'it'}`, { details: only }));
    }
  }
  if (!out.length) out.push(reason('ROLLBACK_FENCE', 'info', machine, `no machine type or CPU version of this guest is only on QEMU ${newer.version}: no fence in sight`));
  return out;
}
