import { QemuStartError } from '../qmp/launcher.js';
import { errorMessage } from '../util/errors.js';
import type { QemuStarter } from './session.js';
import { MSR_FEATURES } from '../catalog/msr-features.js';

/**
 * The Hyper-V enlightenments, each with those QEMU requires with it (target/i386/kvm/kvm.c
 * kvm_hyperv_properties[].dependencies; hv-evmcs and hv-tlbflush-direct also need the vAPIC).
 * Whether KVM gives one is a fact of the host's kernel, not of the CPU: a kernel that does not
 * refuses to start the guest ("kernel doesn't allow setting HyperV VP_INDEX").
 */
const HYPERV: Readonly<Record<string, readonly string[]>> = {
  'hv-relaxed': [],
  'hv-vapic': [],
  'hv-time': [],
  'hv-crash': [],
  'hv-reset': [],
  'hv-vpindex': [],
  'hv-runtime': [],
  'hv-frequencies': [],
  'hv-reenlightenment': [],
  'hv-synic': ['hv-vpindex'],
  'hv-stimer': ['hv-vpindex', 'hv-synic', 'hv-time'],
  'hv-stimer-direct': ['hv-vpindex', 'hv-synic', 'hv-time', 'hv-stimer'],
  'hv-tlbflush': ['hv-vpindex'],
  'hv-tlbflush-ext': ['hv-vpindex', 'hv-tlbflush'],
  'hv-tlbflush-direct': ['hv-vapic', 'hv-evmcs'],
  'hv-ipi': ['hv-vpindex'],
  'hv-evmcs': ['hv-vapic'],
  'hv-avic': [],
  'hv-emsr-bitmap': [],
  'hv-xmm-input': [],
  'hv-syndbg': ['hv-vpindex', 'hv-synic', 'hv-relaxed'],
};

/** Per enlightenment, QEMU's words when it refuses to start a guest with it (and what it needs)
 *  under KVM on this host; those it starts with are left out. */
export async function probeHypervRefusals(starter: QemuStarter): Promise<Record<string, string>> {
  const refused: Record<string, string> = {};
  for (const [feature, deps] of Object.entries(HYPERV)) {
    const cpu = ['qemu64', ...deps.map((d) => `${d}=on`), `${feature}=on`].join(',');
    try {
      const s = await starter.start(['-machine', 'pc', '-cpu', cpu, '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', 'kvm'], `hyperv-${feature}`);
      await s.stop();
    } catch (e) {
      // A refusal or an abort (a kernel that fails the enlightenment's MSR): either way the guest does not start.
      if (!(e instanceof QemuStartError)) throw e;
      refused[feature] = qemuWords(errorMessage(e));
    }
  }
  return refused;
}

/** Per CPU feature kept in a register QEMU writes at start (MSR_FEATURES) that this build has
 *  (`available`), QEMU's words when this host's KVM does not start a guest with it (its CPUID gate
 *  on): a kernel that reports a bit but refuses the register makes QEMU abort. Those it starts
 *  with (given or filtered away) are left out. */
export async function probeKvmMsrFeatureRefusals(starter: QemuStarter, available: ReadonlySet<string>): Promise<Record<string, string>> {
  const refused: Record<string, string> = {};
  for (const { feature, gate } of MSR_FEATURES.filter((f) => available.has(f.feature) && available.has(f.gate))) {
    try {
      const s = await starter.start(['-machine', 'pc', '-cpu', `qemu64,${gate}=on,${feature}=on`, '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', 'kvm'], `kvm-msr-${feature}`);
      await s.stop();
    } catch (e) {
      if (!(e instanceof QemuStartError)) throw e;
      const message = errorMessage(e);
      refused[feature] = /failed to set MSR 0x[0-9a-f]+ to 0x[0-9a-f]+/.exec(message)?.[0] ?? qemuWords(message);
    }
  }
  return refused;
}

/** The last thing QEMU said, without the path of the binary. */
function qemuWords(message: string): string {
  const lines = message.split(/\n| \| /).map((l) => l.replace(/^.*qemu-system-[\w-]+: /, '').trim()).filter((l) => l && !l.startsWith('warning:'));
  return lines.pop() ?? message;
}

/** -machine options that need the kernel's KVM to do something (SMM, a split irqchip). */
const KVM_MACHINE_OPTIONS = ['smm=on', 'kernel-irqchip=split'];

/** Per -machine option that needs the kernel, QEMU's words when this host's KVM refuses it. */
export async function probeKvmMachineRefusals(starter: QemuStarter): Promise<Record<string, string>> {
  const refused: Record<string, string> = {};
  for (const option of KVM_MACHINE_OPTIONS) {
    try {
      const s = await starter.start(['-machine', `pc,${option}`, '-cpu', 'qemu64', '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', 'kvm'], `kvm-${option}`);
      await s.stop();
    } catch (e) {
      if (!(e instanceof QemuStartError)) throw e;
      refused[option] = qemuWords(errorMessage(e));
    }
  }
  return refused;
}
