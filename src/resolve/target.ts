import type { CatalogIndex } from '../catalog/catalog.js';
import type { HostProfile } from '../model/host.js';
import type { Props } from '../model/common.js';
import type { Reason } from '../model/reason.js';
import { GuestabiError, type ErrorJson } from '../util/errors.js';

/**
 * One host indexed for resolving (its profile, the catalog of its QEMU, sets built once), or a
 * group of hosts that are the same for resolving: same QEMU build, accelerator, runnable CPU
 * models and host CPU. A cluster of a thousand hosts is then resolved once per kind of host.
 */
export interface TargetHost {
  /** The host's name, or a short description of the group ("a, b, c and 497 more"). */
  name: string;
  /** The hosts it stands for. */
  members: string[];
  profile: HostProfile;
  catalog: CatalogIndex;
  /** Per CPU model name, the features this host cannot give it. */
  unavailable: Map<string, ReadonlySet<string>>;
  /** Features the host CPU expansion (host under KVM, max under TCG) has on; null when unknown. */
  hostFeatures: ReadonlySet<string> | null;
  /** What the accelerator sets on every CPU model beyond its catalog (TCG) expansion. */
  accelCpuDelta: Props | null;
}

/** What a guest is resolved against: one host, or every host of a cluster. */
export interface Target {
  kind: 'host' | 'cluster';
  name: string;
  hosts: TargetHost[];
}

export function indexHost(profile: HostProfile, catalog: CatalogIndex, name = profile.name): TargetHost {
  const unavailable = new Map<string, ReadonlySet<string>>();
  for (const [model, a] of Object.entries(profile.cpuModels)) unavailable.set(model, new Set(a.unavailableFeatures));
  const props = profile.hostCpu.props;
  const hostFeatures = props ? new Set(Object.keys(props).filter((k) => props[k] === true)) : null;
  return { name, members: [name], profile, catalog, unavailable, hostFeatures, accelCpuDelta: accelDelta(profile, catalog) };
}

function accelDelta(profile: HostProfile, catalog: CatalogIndex): Props | null {
  const a = profile.accelCpu;
  if (!a) return null;
  const tcg = catalog.cpuOnMachine(a.model, profile.probeMachine);
  if (!tcg) return null;
  const delta: Props = {};
  for (const [k, v] of Object.entries(a.props)) if (tcg[k] !== v) delta[k] = v;
  return delta;
}

/** What decides how a guest resolves on a host, as one text: hosts with equal texts resolve alike.
 *  Kept whole rather than hashed (a Map key compares it exactly, and no hash needs node:crypto). */
/**
 * What resolving reads of a host, as text: hosts with equal signatures resolve alike and are
 * resolved once. The build, accelerator and architecture; which features each CPU model lacks; the
 * host CPU's vendor and the features it has (host-model; the other properties of the expansion,
 * such as model-id or ucode-rev, are read only for a single host's host-passthrough, and a group of
 * two or more hosts has no single host CPU); and what the accelerator adds to every model.
 */
function signature(h: TargetHost): string {
  const cpu = h.profile.hostCpu;
  const hostCpu = [cpu.model, cpu.error ?? '', String(cpu.props?.vendor ?? ''), h.hostFeatures ? [...h.hostFeatures].sort().join(' ') : '(unknown)'];
  return [h.catalog.id, h.profile.accel, h.profile.arch, JSON.stringify(h.profile.cpuModels), JSON.stringify(hostCpu), JSON.stringify(h.accelCpuDelta)].join('\u0000');
}

export function describeMembers(members: string[]): string {
  return members.length <= 3 ? members.join(', ') : `${members.slice(0, 3).join(', ')} and ${members.length - 3} more`;
}

/** Merge hosts that resolve alike into groups, keeping the order in which each kind first appears. */
export function groupHosts(hosts: TargetHost[]): TargetHost[] {
  const groups = new Map<string, TargetHost>();
  for (const h of hosts) {
    const key = signature(h);
    const g = groups.get(key);
    if (g) g.members.push(...h.members);
    else groups.set(key, { ...h, members: [...h.members] });
  }
  for (const g of groups.values()) g.name = describeMembers(g.members);
  return [...groups.values()];
}

/** The answer could not be given as asked: no runnable CPU version, a machine type a host lacks...
 *  A negative result (exit 1), not bad input; carries the reasons. */
export class ResolveError extends GuestabiError {
  readonly exitCode = 1;
  constructor(
    message: string,
    readonly reasons: Reason[],
  ) {
    super(message);
    this.name = 'ResolveError';
  }

  /** As resolve --json prints it: the message and the reasons. */
  override toJSON(): ErrorJson & { reasons: Reason[] } {
    return { ...super.toJSON(), reasons: this.reasons };
  }
}
