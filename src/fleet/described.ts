import type { CatalogIndex } from '../catalog/catalog.js';
import type { CpuModelAvailability, HostProfile } from '../model/host.js';
import type { DescribedHost } from '../model/inventory.js';
import { UserError } from '../util/errors.js';
import { featuresOn } from '../resolve/cpu-features.js';

/** The features a model turns on, as its catalog expansion gives them. */
const modelFeatures = (catalog: CatalogIndex, model: string) => featuresOn(catalog, catalog.cpuExpansion(model) ?? {});

/**
 * What a described host can run: a model whose features are all among those of the newest model
 * it is said to run. QEMU decides runnability by features the same way (unavailable-features of
 * query-cpu-definitions); a described host has nothing else to go by.
 */
function availability(catalog: CatalogIndex, top: string): Record<string, CpuModelAvailability> {
  const have = modelFeatures(catalog, top);
  const out: Record<string, CpuModelAvailability> = {};
  for (const name of catalog.cpuModelNames()) {
    if (catalog.cpuModel(name)?.hostDependent) continue;
    const missing = [...modelFeatures(catalog, name)].filter((f) => !have.has(f)).sort();
    out[name] = { runnable: missing.length === 0, unavailableFeatures: missing };
  }
  return out;
}

/**
 * A HostProfile for a host that is described, not probed (planning hosts that are not there yet).
 * It has no host CPU expansion and no accelerator sample, so host-passthrough and cross-build CPU
 * defaults under KVM stay unknown for it; `described` says so in the profile itself.
 */
export function describedProfile(name: string, d: DescribedHost, catalog: CatalogIndex, where: string): HostProfile {
  const top = catalog.cpuModel(d.cpu);
  if (!top || top.hostDependent) throw new UserError(`QEMU ${catalog.version} has no CPU model '${d.cpu}' (give a named model, e.g. EPYC-v4)`, `${where}: cpu`);
  const arch = d.arch ?? catalog.data.arch;
  if (arch !== catalog.data.arch) throw new UserError(`the catalog ${catalog.id} is for ${catalog.data.arch}, not ${arch}`, `${where}: arch`);
  const accel = d.accel ?? 'kvm';
  const e = catalog.cpuExpansion(d.cpu) ?? {};
  const num = (v: unknown) => (typeof v === 'number' ? v : 0);
  return {
    schema: 'guestabi/host-profile@1',
    name,
    arch,
    kernel: { release: d.kernel ?? 'unknown', version: 'described, not probed' },
    cpu: { vendor: String(e.vendor ?? 'unknown'), modelName: `${d.cpu} (described)`, family: num(e.family), model: num(e.model), stepping: num(e.stepping), flags: [] },
    qemu: { version: catalog.data.qemu, catalog: catalog.id, binary: '(described)' },
    accel,
    kvm: { devicePresent: accel === 'kvm', enabled: accel === 'kvm' },
    probeMachine: catalog.defaultMachine()?.name ?? '',
    hostCpu: { model: accel === 'kvm' ? 'host' : 'max', error: 'a described host has no host CPU expansion' },
    cpuModels: availability(catalog, d.cpu),
    vulnerabilities: {},
    iommu: { present: false, groups: 0, units: [] },
    ...(d.firmwareLevels ? { firmwareRegisters: { levels: d.firmwareLevels, from: 'described' as const } } : {}),
    ...(d.idRegisters ? { idRegisters: { values: d.idRegisters, from: 'described' as const } } : {}),
    probedAt: '1970-01-01T00:00:00.000Z',
    tool: 'described',
    described: { ...d, arch, accel },
  };
}
