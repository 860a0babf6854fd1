/**
 * The CPU features QEMU keeps in a model-specific register it writes into KVM when the vCPU starts
 * (target/i386/kvm/kvm.c kvm_put_msrs(); kvm_buf_set_msrs() aborts QEMU when the kernel refuses a
 * value: "failed to set MSR 0x10a to 0x69"), each with the CPUID feature without which QEMU clears
 * it (target/i386/cpu.c feature_dependencies[]) and the register, read in QEMU 10.2.0. A kernel can
 * report a bit supported (so QEMU does not filter it) and still refuse the write: measured on a
 * nested KVM on AMD EPYC (Linux 6.18), every non-zero IA32_ARCH_CAPABILITIES. Lab: KVM fuzz seed
 * 20261215 (SierraForest-v1, Cooperlake, Cascadelake-Server-v2... aborted at start).
 */
export const MSR_FEATURES: readonly { feature: string; gate: string; msr: string }[] = [
  ...[
    'rdctl-no', 'ibrs-all', 'rsba', 'skip-l1dfl-vmentry', 'ssb-no', 'mds-no', 'pschange-mc-no', 'tsx-ctrl', 'taa-no',
    'sbdr-ssdp-no', 'fbsdp-no', 'psdp-no', 'fb-clear', 'bhi-no', 'pbrsb-no', 'gds-no', 'rfds-no', 'rfds-clear', 'its-no',
  ].map((feature) => ({ feature, gate: 'arch-capabilities', msr: 'IA32_ARCH_CAPABILITIES (MSR 0x10a)' })),
  { feature: 'split-lock-detect', gate: 'core-capability', msr: 'IA32_CORE_CAPABILITY (MSR 0xcf)' },
  { feature: 'full-width-write', gate: 'pdcm', msr: 'IA32_PERF_CAPABILITIES (MSR 0x345)' },
];
