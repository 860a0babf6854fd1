import { QemuStartError } from '../qmp/launcher.js';
import { errorMessage } from '../util/errors.js';
import type { QemuStarter } from './session.js';

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
