import { compareMachineNames, parseMachineName } from '../catalog/names.js';
import { reason, type Reason } from '../model/reason.js';
import { UserError } from '../util/errors.js';
import { ResolveError, type Target, type TargetHost } from './target.js';

export interface ResolvedMachine {
  type: string;
  family: string;
  decisions: Reason[];
  warnings: Reason[];
}

/**
 * An alias (pc, q35) becomes the newest versioned type of its family that every host's QEMU
 * offers, naming the hosts that hold it back; a versioned type must exist on every host.
 */
export function resolveMachine(asked: string, target: Target, source = 'machine'): ResolvedMachine {
  const hosts = target.hosts;
  if (!hosts.some((h) => h.catalog.machine(asked))) {
    const c = hosts[0]!.catalog;
    const aliases = c.data.machines.filter((m) => m.alias).map((m) => `${m.alias} (${m.name})`);
    throw new UserError(`unknown machine type '${asked}' on QEMU ${c.version} (aliases: ${aliases.join(', ')})`, source);
  }
  const decisions: Reason[] = [];
  const isAlias = hosts.some((h) => h.catalog.machine(asked) && h.catalog.resolveMachineAlias(asked) !== asked);
  const type = isAlias ? resolveAlias(asked, hosts, decisions) : versionedEverywhere(asked, hosts, decisions);
  return { type, family: parseMachineName(type).family, decisions, warnings: dedupe(machineWarnings(type, hosts)) };
}

/** The newest version of the alias's family every host offers, and the host that holds back a newer one. */
function resolveAlias(asked: string, hosts: TargetHost[], decisions: Reason[]): string {
  const family = parseMachineName(hosts.find((h) => h.catalog.machine(asked))!.catalog.resolveMachineAlias(asked)!).family;
  const offered = hosts.map((h) => new Set(h.catalog.family(family).map((m) => m.name)));
  const common = [...offered[0]!].filter((n) => offered.every((s) => s.has(n))).sort(compareMachineNames);
  if (!common.length) {
    throw new ResolveError(`no version of ${family} is offered by every host`, [
      reason('MACHINE_NO_COMMON_VERSION', 'error', asked, `no version of ${family} is offered by every host`, {
        details: hosts.map((h) => `${h.name}: ${h.catalog.family(family).map((m) => m.name).join(' ') || 'none'}`),
      }),
    ]);
  }
  const type = common[common.length - 1]!;
  decisions.push(reason('MACHINE_ALIAS_RESOLVED', 'info', asked, `${asked} resolves to ${type}${hosts.length > 1 ? ', the newest version every host offers' : ''}`, { a: asked, b: type }));
  for (const h of hosts) {
    const newest = h.catalog.resolveMachineAlias(asked);
    if (newest && newest !== type) {
      const holders = hosts.filter((x) => !x.catalog.machine(newest));
      decisions.push(
        reason('MACHINE_HELD_BACK', 'info', newest, `${newest} on ${h.name} is not offered by ${holders.map((x) => `${x.name} (QEMU ${x.catalog.version})`).join(', ')}`, {
          a: newest,
          b: type,
          host: holders.map((x) => x.name).join(', '),
          remedy: `upgrade ${holders.map((x) => x.name).join(', ')} to pin ${newest}`,
        }),
      );
      break;
    }
  }
  return type;
}

/** A versioned type is pinned as it is, when every host offers it. */
function versionedEverywhere(asked: string, hosts: TargetHost[], decisions: Reason[]): string {
  const missing = hosts.filter((h) => !h.catalog.machine(asked));
  if (missing.length) {
    throw new ResolveError(`machine type ${asked} is not offered by every host`, missing.map((h) =>
      reason('MACHINE_TYPE_UNKNOWN', 'error', asked, `QEMU ${h.catalog.version} on ${h.name} does not offer ${asked}`, {
        host: h.name,
        remedy: `use a machine type every host offers, or move the guest off ${h.name}`,
      }),
    ));
  }
  decisions.push(reason('MACHINE_ALREADY_VERSIONED', 'info', asked, `${asked} is already a versioned machine type`));
  return asked;
}

/** What each host's build says of the pinned type: deprecated, or not probed. */
function machineWarnings(type: string, hosts: TargetHost[]): Reason[] {
  const warnings: Reason[] = [];
  const family = parseMachineName(type).family;
  for (const h of hosts) {
    const m = h.catalog.machine(type)!;
    if (m.deprecated) {
      const newest = h.catalog.family(family).filter((x) => !x.deprecated).at(-1)?.name;
      warnings.push(
        reason('MACHINE_TYPE_DEPRECATED', 'warn', type, `${type} is deprecated in QEMU ${h.catalog.version} and will be removed`, {
          host: h.name,
          remedy: newest ? `move the guest to ${newest} (a guest-visible change: plan it with guestabi catalog diff)` : undefined,
        }),
      );
    }
    if (m.probe !== 'ok') {
      warnings.push(reason('MACHINE_NOT_PROBED', 'warn', type, `the catalog of QEMU ${h.catalog.version} has no probe of ${type}: its properties are unknown`, { host: h.name }));
    }
  }
  return warnings;
}

/** The same warning for several hosts of one build is said once, naming them all. */
export function dedupe(reasons: Reason[]): Reason[] {
  const out = new Map<string, { r: Reason; hosts: string[] }>();
  for (const r of reasons) {
    const key = `${r.code}\u0000${r.subject}\u0000${r.host ? r.message.replace(r.host, '') : r.message}`;
    const seen = out.get(key);
    if (!seen) out.set(key, { r: { ...r }, hosts: r.host ? [r.host] : [] });
    else if (r.host) seen.hosts.push(r.host);
  }
  return [...out.values()].map(({ r, hosts }) => (hosts.length > 1 ? { ...r, host: [...new Set(hosts)].join(', ') } : r));
}
