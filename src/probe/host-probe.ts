import { hostname, release, version as kernelVersion } from 'node:os';
import type { Accel, Arch } from '../model/common.js';
import { HOST_PROFILE_SCHEMA_ID, type HostProfile } from '../model/host.js';
import { errorMessage } from '../util/errors.js';
import { cleanCpuProps, probeFeatureAliases, type QmpCpuDefinition } from './catalog-probe.js';
import { xsaveComponentsKept } from './build-facts.js';
import { probeHypervRefusals, probeKvmMachineRefusals, probeKvmMsrFeatureRefusals } from './hyperv.js';
import { kvmDevicePresent, readCpu, readIommu, readVulnerabilities, REAL_ROOTS, type HostRoots } from './host-facts.js';
import type { QemuSession, QemuStarter } from './session.js';

export interface HostProbeOptions {
  starter: QemuStarter;
  accel: Accel;
  /** The QEMU binary, recorded in the profile. */
  binary: string;
  toolVersion: string;
  roots?: HostRoots;
  now?: Date;
  name?: string;
  /** The system emulator's architecture (x86_64 when not given). */
  arch?: Arch;
}

/** The model whose KVM expansion tells what KVM adds to every model. */
const ACCEL_REFERENCE_MODEL = 'qemu64';

/** Arguments of the host probe's QEMU: the build's default machine type, paused. */
export function hostProbeArgs(accel: Accel, arch: Arch = 'x86_64'): string[] {
  const machine = arch === 'ppc64' ? 'pseries' : arch === 'aarch64' ? 'virt' : 'pc';
  return ['-machine', machine, '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', accel];
}

/** Probe this host with one QEMU build: what the kernel says, and what QEMU says can run here
 *  under the chosen accelerator. */
/** The expansion of -cpu host (KVM) or -cpu max (TCG), or why QEMU could not give it. */
async function expandHostCpu(s: QemuSession, model: 'host' | 'max', aliases: Record<string, string>): Promise<HostProfile['hostCpu']> {
  try {
    const e = await s.qmp.execute<{ model: { props: Record<string, boolean | number | string> } }>('query-cpu-model-expansion', { type: 'full', model: { name: model } });
    return { model, props: cleanCpuProps(e.model.props, aliases) };
  } catch (err) {
    return { model, error: errorMessage(err) };
  }
}

export async function probeHost(opts: HostProbeOptions): Promise<HostProfile> {
  const roots = opts.roots ?? REAL_ROOTS;
  const arch = opts.arch ?? 'x86_64';
  const s = await opts.starter.start(hostProbeArgs(opts.accel, arch), arch === 'x86_64' ? `host-${opts.accel}` : `host-${arch}-${opts.accel}`);
  try {
    const v = await s.qmp.execute<{ qemu: { major: number; minor: number; micro: number }; package: string }>('query-version');
    const kvm = await s.qmp.execute<{ enabled: boolean; present: boolean }>('query-kvm');
    const machineType = await s.qmp.execute<string>('qom-get', { path: '/machine', property: 'type' });
    const defs = await s.qmp.execute<QmpCpuDefinition[]>('query-cpu-definitions');
    const aliases = arch === 'x86_64' ? await probeFeatureAliases(s) : {};
    const hostCpu = await expandHostCpu(s, opts.accel === 'kvm' ? 'host' : 'max', aliases);
    // Under KVM every model gets the accelerator's defaults on top of its definition.
    let accelCpu: HostProfile['accelCpu'];
    if (opts.accel === 'kvm' && arch === 'x86_64') {
      const e = await s.qmp.execute<{ model: { props: Record<string, boolean | number | string> } }>('query-cpu-model-expansion', {
        type: 'full',
        model: { name: ACCEL_REFERENCE_MODEL },
      });
      accelCpu = { model: ACCEL_REFERENCE_MODEL, props: cleanCpuProps(e.model.props, aliases) };
    }
    const cpuModels: HostProfile['cpuModels'] = {};
    for (const d of [...defs].sort((a, b) => a.name.localeCompare(b.name))) {
      const missing = d['unavailable-features'] ?? [];
      cpuModels[d.name] = { runnable: missing.length === 0, unavailableFeatures: [...missing] };
    }
    const version = { ...v.qemu, package: v.package.trim() };
    // Which enlightenments this kernel's KVM refuses: a fact of the host, asked by starting guests.
    const hyperv = opts.accel === 'kvm' && kvm.enabled ? { refused: await probeHypervRefusals(opts.starter) } : undefined;
    const kvmMachineOptions = opts.accel === 'kvm' && kvm.enabled ? { refused: await probeKvmMachineRefusals(opts.starter) } : undefined;
    const kvmMsrFeatures = accelCpu && kvm.enabled ? { refused: await probeKvmMsrFeatureRefusals(opts.starter, new Set(Object.keys(accelCpu.props))) } : undefined;
    // Which XSAVE state components this host's KVM keeps (its supported XCR0).
    const kvmXsaveComponents = accelCpu && kvm.enabled ? await xsaveComponentsKept(opts.starter, 'pc', 'kvm', Object.keys(accelCpu.props)) : undefined;
    return {
      schema: HOST_PROFILE_SCHEMA_ID,
      name: opts.name ?? hostname(),
      arch,
      kernel: { release: release(), version: kernelVersion() },
      cpu: readCpu(roots),
      qemu: { version, catalog: `qemu-${version.major}.${version.minor}.${version.micro}-${arch}`, binary: opts.binary },
      accel: opts.accel,
      kvm: { devicePresent: kvmDevicePresent(roots), enabled: kvm.enabled },
      probeMachine: machineType.replace(/-machine$/, ''),
      hostCpu,
      ...(accelCpu ? { accelCpu } : {}),
      ...(hyperv ? { hyperv } : {}),
      ...(kvmMachineOptions ? { kvmMachineOptions } : {}),
      ...(kvmMsrFeatures ? { kvmMsrFeatures } : {}),
      ...(kvmXsaveComponents ? { kvmXsaveComponents } : {}),
      cpuModels,
      vulnerabilities: readVulnerabilities(roots),
      iommu: readIommu(roots),
      probedAt: (opts.now ?? new Date()).toISOString(),
      tool: opts.toolVersion,
    };
  } finally {
    await s.stop();
  }
}
