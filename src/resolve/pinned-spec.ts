import type { GuestSpec } from '../model/guest.js';
import type { PinnedAbi } from '../model/pinned.js';

/**
 * The definition a management layer records once it has pinned a guest: the versioned machine
 * type and, for a named CPU, the versioned model with its explicit features and enforce. Devices,
 * memory and topology are the guest's own. Host-dependent CPUs stay as written: there is no name
 * to pin them to.
 */
export function pinnedSpec(spec: GuestSpec, p: PinnedAbi): GuestSpec {
  const machine = { ...spec.machine, type: p.machine.type };
  if (p.cpu.hostDependent || !p.cpu.model) return { ...spec, machine };
  const features = Object.entries(p.cpu.features).map(([name, on]) => ({ name, policy: on ? ('require' as const) : ('disable' as const) }));
  const cpu: GuestSpec['cpu'] = { ...spec.cpu, mode: 'custom', model: p.cpu.model, features, enforce: p.cpu.enforce };
  if (Object.keys(p.cpu.properties).length) cpu.properties = p.cpu.properties;
  return { ...spec, machine, cpu };
}
