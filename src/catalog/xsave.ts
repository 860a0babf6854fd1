/**
 * The XSAVE state components of CPUID leaf 0xD (sub-leaf 0, EAX: the XCR0 bits QEMU offers the
 * guest), each with its bit and the CPUID feature that asks for it (target/i386/cpu.c
 * x86_ext_save_areas[], XSTATE_*_BIT in target/i386/cpu.h).
 */
export const XSAVE_COMPONENTS: readonly { component: string; bit: number; feature: string }[] = [
  { component: 'x87', bit: 0, feature: 'fpu' },
  { component: 'sse', bit: 1, feature: 'sse' },
  { component: 'avx', bit: 2, feature: 'avx' },
  { component: 'bndregs', bit: 3, feature: 'mpx' },
  { component: 'bndcsr', bit: 4, feature: 'mpx' },
  { component: 'opmask', bit: 5, feature: 'avx512f' },
  { component: 'zmm_hi256', bit: 6, feature: 'avx512f' },
  { component: 'hi16_zmm', bit: 7, feature: 'avx512f' },
  { component: 'pkru', bit: 9, feature: 'pku' },
  { component: 'xtilecfg', bit: 17, feature: 'amx-tile' },
  { component: 'xtiledata', bit: 18, feature: 'amx-tile' },
];

/** The components an XCR0 bit mask (leaf 0xD EAX) names, in bit order. */
export function xsaveComponentsOf(mask: number): string[] {
  return XSAVE_COMPONENTS.filter((c) => (mask & (1 << c.bit)) !== 0).map((c) => c.component);
}
