import { constants, accessSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HostProfile, IommuUnit } from '../model/host.js';
import { isSystemError } from '../util/errors.js';

/** Where the host's kernel interfaces are; tests point it at a recorded tree. */
export interface HostRoots {
  proc: string;
  sys: string;
  dev: string;
}

export const REAL_ROOTS: HostRoots = { proc: '/proc', sys: '/sys', dev: '/dev' };

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    // procfs and sysfs refuse reads in many ways (ENOENT, EACCES, EIO or EINVAL on some
    // attributes): a fact the kernel does not give is absent from the profile.
    if (isSystemError(e)) return undefined;
    throw e;
  }
}

/** The first processor of /proc/cpuinfo (all are alike on the hosts we model). */
export function parseCpuinfo(text: string): HostProfile['cpu'] {
  const first = text.split(/\n\s*\n/)[0] ?? '';
  const fields = new Map<string, string>();
  for (const line of first.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) fields.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  const num = (k: string) => {
    const n = Number(fields.get(k));
    return Number.isFinite(n) ? n : 0;
  };
  return {
    vendor: fields.get('vendor_id') ?? 'unknown',
    modelName: fields.get('model name') ?? 'unknown',
    family: num('cpu family'),
    model: num('model'),
    stepping: num('stepping'),
    flags: (fields.get('flags') ?? '').split(/\s+/).filter(Boolean),
  };
}

export function readCpu(roots: HostRoots): HostProfile['cpu'] {
  return parseCpuinfo(readText(join(roots.proc, 'cpuinfo')) ?? '');
}

/** /sys/devices/system/cpu/vulnerabilities: one file per issue, its text the kernel's verdict. */
export function readVulnerabilities(roots: HostRoots): Record<string, string> {
  const dir = join(roots.sys, 'devices/system/cpu/vulnerabilities');
  if (!existsSync(dir)) return {};
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) out[name] = (readText(join(dir, name)) ?? '').trim();
  return out;
}

export function kvmDevicePresent(roots: HostRoots): boolean {
  try {
    accessSync(join(roots.dev, 'kvm'), constants.R_OK | constants.W_OK);
    return true;
  } catch (e) {
    // No /dev/kvm (ENOENT) or not ours to use (EACCES, EPERM): no KVM here.
    if (isSystemError(e)) return false;
    throw e;
  }
}

const bit = (v: bigint, n: number) => ((v >> BigInt(n)) & 1n) === 1n;
const field = (v: bigint, lo: number, width: number) => Number((v >> BigInt(lo)) & ((1n << BigInt(width)) - 1n));

/** Decode the VT-d capability registers (Intel VT-d spec, chapter 11; Linux intel-iommu.h). */
export function decodeIntelIommu(capHex: string, ecapHex: string): NonNullable<IommuUnit['decoded']> {
  const cap = BigInt(`0x${capHex.trim()}`);
  const ecap = BigInt(`0x${ecapHex.trim()}`);
  const sagaw = field(cap, 8, 5);
  const addressWidths = [
    [1, 39],
    [2, 48],
    [3, 57],
  ]
    .filter(([b]) => sagaw & (1 << b!))
    .map(([, w]) => w!);
  const sllps = field(cap, 34, 4);
  const pageSizes = ['4K', ...(sllps & 1 ? ['2M'] : []), ...(sllps & 2 ? ['1G'] : [])];
  const features: string[] = [];
  const flags: [bigint, number, string][] = [
    [ecap, 0, 'coherent'],
    [ecap, 1, 'queued-invalidation'],
    [ecap, 2, 'device-tlb'],
    [ecap, 3, 'interrupt-remapping'],
    [ecap, 4, 'extended-interrupt-mode'],
    [ecap, 6, 'pass-through'],
    [ecap, 7, 'snoop-control'],
    [ecap, 26, 'nested'],
    [ecap, 40, 'pasid'],
    [ecap, 43, 'scalable-mode'],
    [ecap, 46, 'second-level'],
    [ecap, 47, 'first-level'],
    [cap, 56, 'first-level-1g-pages'],
    [cap, 59, 'posted-interrupts'],
    [cap, 60, 'first-level-5-level'],
  ];
  for (const [reg, n, name] of flags) if (bit(reg, n)) features.push(name);
  features.push(`max-guest-address-width-${field(cap, 16, 6) + 1}`);
  return { addressWidths, pageSizes, features };
}

/** Decode the AMD-Vi extended feature register (AMD IOMMU spec, MMIO offset 0x30). */
export function decodeAmdIommu(featuresHex: string): NonNullable<IommuUnit['decoded']> {
  const efr = BigInt(`0x${featuresHex.trim()}`);
  const features: string[] = [];
  const flags: [number, string][] = [
    [0, 'prefetch'],
    [1, 'ppr'],
    [2, 'x2apic'],
    [3, 'no-execute'],
    [4, 'guest-translation'],
    [6, 'invalidate-all'],
    [7, 'guest-apic'],
    [8, 'hardware-error'],
    [9, 'performance-counters'],
  ];
  for (const [n, name] of flags) if (bit(efr, n)) features.push(name);
  const hats = field(efr, 10, 2);
  // HATS: host page table levels 4, 5 or 6; AMD-Vi page tables skip levels for any power-of-2 size.
  const addressWidths = [[48], [57], [64]][hats] ?? [48];
  return { addressWidths, pageSizes: ['4K', '2M', '1G'], features };
}

/** Decode what the arm-smmu-v3 driver prints ("ias 48-bit, oas 48-bit (features 0x00001fff)"):
 *  the feature bits of drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3.h (ARM_SMMU_FEAT_*). */
export function decodeSmmuv3(featuresHex: string, ias: string): NonNullable<IommuUnit['decoded']> {
  const f = BigInt(`0x${featuresHex.trim()}`);
  const names: [number, string][] = [
    [0, '2-level-stream-table'],
    [1, '2-level-context-tables'],
    [2, 'little-endian-tables'],
    [3, 'big-endian-tables'],
    [4, 'pri'],
    [5, 'ats'],
    [6, 'sev'],
    [7, 'msi'],
    [8, 'coherent'],
    [9, 'stage-1'],
    [10, 'stage-2'],
    [11, 'stalls'],
    [12, 'hyp'],
  ];
  // The granules it maps (IDR5) are not in what the driver prints: none claimed.
  return { addressWidths: [Number(ias)], pageSizes: [], features: names.filter(([n]) => bit(f, n)).map(([, name]) => name) };
}

/** A unit from its registers as the kernel prints them (probed, or copied into data/iommu/hosts.yaml). */
export function decodeUnit(u: { name: string; kind: IommuUnit['kind']; registers: Record<string, string> }): IommuUnit {
  const r = u.registers;
  if (u.kind === 'intel-vtd' && r.cap && r.ecap) return { ...u, decoded: decodeIntelIommu(r.cap, r.ecap) };
  if (u.kind === 'amd-vi' && r.features) return { ...u, decoded: decodeAmdIommu(r.features) };
  if (u.kind === 'arm-smmu-v3' && r.features && r.ias) return { ...u, decoded: decodeSmmuv3(r.features, r.ias) };
  return { ...u };
}

/** IOMMU units from /sys/class/iommu and the number of IOMMU groups. */
export function readIommu(roots: HostRoots): HostProfile['iommu'] {
  const classDir = join(roots.sys, 'class/iommu');
  const units: IommuUnit[] = [];
  if (existsSync(classDir)) {
    for (const name of readdirSync(classDir).sort()) {
      const base = join(classDir, name);
      const intelCap = readText(join(base, 'intel-iommu/cap'));
      const amdFeatures = readText(join(base, 'amd-iommu/features'));
      if (intelCap !== undefined) {
        const ecap = readText(join(base, 'intel-iommu/ecap')) ?? '0';
        const registers: Record<string, string> = { cap: intelCap.trim(), ecap: ecap.trim() };
        const version = readText(join(base, 'intel-iommu/version'));
        if (version) registers.version = version.trim();
        units.push({ name, kind: 'intel-vtd', registers, decoded: decodeIntelIommu(intelCap, ecap) });
      } else if (amdFeatures !== undefined) {
        const cap = readText(join(base, 'amd-iommu/cap'));
        const registers: Record<string, string> = { features: amdFeatures.trim() };
        if (cap) registers.cap = cap.trim();
        units.push({ name, kind: 'amd-vi', registers, decoded: decodeAmdIommu(amdFeatures) });
      } else {
        units.push({ name, kind: 'other', registers: {} });
      }
    }
  }
  const groupsDir = join(roots.sys, 'kernel/iommu_groups');
  const groups = existsSync(groupsDir) ? readdirSync(groupsDir).length : 0;
  return { present: units.length > 0, iommufd: existsSync(join(roots.dev, 'iommu')), vfio: existsSync(join(roots.dev, 'vfio/vfio')), groups, units };
}
