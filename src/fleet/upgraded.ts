import type { CatalogIndex } from '../catalog/catalog.js';
import type { CpuModelAvailability, HostProfile } from '../model/host.js';
import { reason, type Reason } from '../model/reason.js';
import { ACCELERATOR_FEATURES } from '../resolve/cpu-features.js';
import { indexHost, type TargetHost } from '../resolve/target.js';

function featuresOn(e: Record<string, unknown> | undefined, features: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  if (e) for (const k in e) if (e[k] === true && features.has(k)) out.add(k);
  return out;
}

/** Whether a CPU model asks the same features in both builds (then what the host could give it
 *  on the old build holds on the new one). */
function sameDefinition(name: string, from: CatalogIndex, to: CatalogIndex): boolean {
  const a = featuresOn(from.cpuExpansion(name), from.cpuFeatures());
  const b = featuresOn(to.cpuExpansion(name), to.cpuFeatures());
  return a.size === b.size && [...a].every((f) => b.has(f));
}

/** Under KVM a model can run when the host CPU expansion (every feature KVM gives that QEMU knows)
 *  has each feature the model asks; a feature the old build did not know leaves it unknown. */
function fromHostCpu(host: TargetHost, to: CatalogIndex, name: string): CpuModelAvailability | undefined {
  const props = host.profile.hostCpu.props;
  if (host.profile.accel !== 'kvm' || !props) return undefined;
  const unavailableFeatures: string[] = [];
  for (const f of featuresOn(to.cpuExpansion(name), to.cpuFeatures())) {
    if (ACCELERATOR_FEATURES.test(f)) continue; // a host CPU expansion cannot vouch for them
    if (!(f in props)) return undefined;
    if (props[f] !== true) unavailableFeatures.push(f);
  }
  return { runnable: unavailableFeatures.length === 0, unavailableFeatures };
}

export interface PlannedHost {
  host: TargetHost;
  /** CPU models of the new build whose availability on this host is unknown. */
  unknown: string[];
  note: Reason;
}

/**
 * A host as it would be on another QEMU build, from its profile on the current one: the same host
 * CPU, kernel and vulnerabilities; each CPU model of the new build runnable as before when it asks
 * the same features in both builds, or (KVM) as the host CPU expansion says; otherwise left out of
 * the profile, unknown. The host CPU expansion and what the accelerator adds to every model are
 * per build: left out too, so that checks that need them say unknown.
 */
export function plannedHost(host: TargetHost, to: CatalogIndex, label = host.name): PlannedHost {
  const p = host.profile;
  const cpuModels: HostProfile['cpuModels'] = {};
  const unknown: string[] = [];
  let derived = 0;
  for (const m of to.data.cpuModels) {
    const known = p.cpuModels[m.name];
    const availability = known && sameDefinition(m.name, host.catalog, to) ? known : fromHostCpu(host, to, m.name);
    if (!availability) unknown.push(m.name);
    else {
      cpuModels[m.name] = availability;
      if (availability !== known) derived++;
    }
  }
  const { accelCpu: _accelCpu, ...rest } = p;
  const profile: HostProfile = {
    ...rest,
    qemu: { version: { ...to.data.qemu }, catalog: to.id, binary: p.qemu.binary },
    hostCpu: { model: p.hostCpu.model, error: `not probed with QEMU ${to.version}: planned from the profile of QEMU ${host.catalog.version}` },
    cpuModels,
  };
  const reused = Object.keys(cpuModels).length - derived;
  const note = reason(
    'UPGRADE_PROFILE_PLANNED',
    'info',
    label,
    `${label} on QEMU ${to.version}: planned from the QEMU ${host.catalog.version} profile; ${reused} CPU models can run as before (same definition), ${derived} as the host CPU says, ${unknown.length} unknown until probed; the host CPU expansion and the accelerator's CPU defaults are unknown until probed`,
    { details: unknown, remedy: `probe a host of this kind with QEMU ${to.version} (guestabi probe --host-only) and plan with that profile` },
  );
  return { host: indexHost(profile, to, host.name), unknown, note };
}
