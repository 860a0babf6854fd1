import type { Props, PropValue } from '../model/common.js';
import type { PinnedAbi } from '../model/pinned.js';
import type { GuestVisibility } from '../model/visibility.js';

export interface AbiDevice {
  type: string;
  placement: string;
  catalogKey: string | null;
  /** What the guest sets itself, without ids, buses, backends and slots. */
  settings: Record<string, PropValue>;
  /** Effective properties per catalog id (null where unknown). */
  effective: Record<string, Props | null>;
}

/**
 * What a pinned guest is, as the guest sees it: names, settings and effective properties, without
 * how it was reached (provenance), how things are named (device ids, host names) or where the
 * host-side backends are (data/rules/visibility.yaml). Devices are in a canonical order. Two
 * pinned guests with equal ABIs are the same platform for guestabi.
 */
export function guestAbi(p: PinnedAbi, visibility: GuestVisibility) {
  const devices: AbiDevice[] = p.devices.map((d, i) => ({
    type: d.type,
    placement: d.placement,
    catalogKey: d.catalogKey,
    settings: Object.fromEntries(Object.entries(d.explicit).filter(([k]) => !visibility.deviceAsWritten.has(k)).sort(([a], [b]) => a.localeCompare(b))),
    effective: Object.fromEntries(p.effective.map((e) => [e.catalog, e.devices[i] ?? null])),
  }));
  devices.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
  return {
    arch: p.arch,
    accel: p.accel,
    machine: { type: p.machine.type, options: p.machine.options },
    cpu: { mode: p.cpu.mode, model: p.cpu.model, hostDependent: p.cpu.hostDependent, features: p.cpu.features, properties: p.cpu.properties },
    cpuEffective: Object.fromEntries(p.effective.map((e) => [e.catalog, e.cpu])),
    memory: p.memory,
    // A topology without dies has one die; QEMU and libvirt write it either way.
    vcpus: p.vcpus.sockets !== undefined || p.vcpus.cores !== undefined || p.vcpus.threads !== undefined ? { dies: 1, ...p.vcpus } : p.vcpus,
    devices,
    globals: p.globals,
    iommu: p.iommu,
    launchSecurity: p.launchSecurity,
    firmware: p.firmware ?? 'bios', // x86 guests boot SeaBIOS unless told otherwise
  };
}
