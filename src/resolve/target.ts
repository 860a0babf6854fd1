import type { CatalogIndex } from '../catalog/catalog.js';
import type { HostProfile } from '../model/host.js';
import type { Reason } from '../model/reason.js';

/** One host indexed for resolving: its profile, the catalog of its QEMU, and sets built once. */
export interface TargetHost {
  name: string;
  profile: HostProfile;
  catalog: CatalogIndex;
  /** Per CPU model name, the features this host cannot give it. */
  unavailable: Map<string, ReadonlySet<string>>;
  /** Features the host CPU expansion (host under KVM, max under TCG) has on; null when unknown. */
  hostFeatures: ReadonlySet<string> | null;
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
  return { name, profile, catalog, unavailable, hostFeatures };
}

/** The answer could not be given as asked: no runnable CPU version, a machine type a host lacks...
 *  A negative result (exit 1), not bad input; carries the reasons. */
export class ResolveError extends Error {
  constructor(
    message: string,
    readonly reasons: Reason[],
  ) {
    super(message);
    this.name = 'ResolveError';
  }
}
