import { SMT, type Catalog } from '../model/catalog.js';
import type { Props } from '../model/common.js';
import { diffProps, sortKeysDeep } from '../catalog/props.js';
import { guestVisibility } from '../io/rules-files.js';
import { QemuStartError } from '../qmp/launcher.js';
import { readQomProps } from '../qmp/qom.js';
import { mapPool } from '../util/pool.js';
import { errorMessage } from '../util/errors.js';
import { refuses } from './build-facts.js';
import type { QemuStarter } from './session.js';

type MachineOptions = NonNullable<Catalog['machineOptions']>;

/** A family's guest-ABI options asked one by one: the pseries capabilities (-machine cap-*), and
 *  virt's optional parts (RAS, MTE, EL2, EL3, the ITS, the high memory map, the vIOMMU, the GIC). */
const OPTIONS: Record<string, RegExp> = { pseries: /^cap-/, virt: /^(ras|mte|virtualization|secure|its|highmem|iommu|gic-version)$/ };

/** The values asked of a string option QEMU does not list with "=?" (virt's). */
const ASKED_VALUES: Record<string, string[]> = { iommu: ['none', 'smmuv3'], 'gic-version': ['2', '3', 'max'] };

/** The CPUs each family is asked with: pseries' server CPUs, every version of POWER5+ to POWER11
 *  (power9_v2.0) and the names QEMU gives them (power9, power7+; power7p from 10.0); virt's 64-bit
 *  Arm models and max. The family's own default CPU always. */
const FAMILY_CPU: Record<string, (m: Catalog['cpuModels'][number]) => boolean> = {
  pseries: (m) => /^power\d+(\+|p|e|nvl)?(_v[\d.]+)?$/.test(m.name),
  virt: (m) => m.name === 'max' || m.props?.aarch64 === true,
};

/**
 * The options of a family that are guest-ABI levels (the pseries capabilities), asked on its
 * newest type: the values each takes, in QEMU's order ("-machine cap-cfpc=?" lists them; the level
 * is the index: hw/ppc/spapr_caps.c spapr_cap_set_string()); what each server CPU model does to
 * them (default_caps_with_cpu() forces a capability off or broken where the CPU lacks it); and
 * every value QEMU refuses under TCG with each CPU ("No Transactional Memory support in TCG").
 */
export async function probeMachineOptions(starter: QemuStarter, catalog: Catalog): Promise<MachineOptions | undefined> {
  const out: MachineOptions = {};
  for (const [family, { baseline }] of Object.entries(catalog.families)) {
    const base = catalog.machines.find((m) => m.name === baseline);
    const defaults = base?.devices?.['board/machine'];
    const OPTION = OPTIONS[family];
    const options = OPTION ? Object.keys(defaults ?? {}).filter((k) => OPTION.test(k)).sort() : [];
    if (!defaults || !OPTION || !options.length) continue;
    const values: Record<string, string[]> = {};
    for (const o of options) values[o] = typeof defaults[o] === 'boolean' ? ['off', 'on'] : typeof defaults[o] === 'string' ? (ASKED_VALUES[o] ?? (await listedValues(starter, baseline, o))) : [];
    const own = base?.defaultCpuType ? [catalog.cpuModels.find((m) => m.name === base.defaultCpuType)?.aliasOf ?? base.defaultCpuType] : [];
    const cpus = [...own, ...catalog.cpuModels.filter(FAMILY_CPU[family]!).map((m) => m.aliasOf ?? m.name)];
    const cpuDeltas: Record<string, Props> = {};
    const refused: Record<string, Record<string, string>> = {};
    await mapPool([...new Set(cpus)].sort(), 2, async (cpu) => {
      const here = await machineProps(starter, baseline, cpu);
      if (!here) return;
      const delta = Object.fromEntries(Object.entries(diffProps(defaults, here)).filter(([k]) => OPTION.test(k) && !k.includes('.'))) as Props;
      if (Object.keys(delta).length) cpuDeltas[cpu] = delta;
      // More than one thread per core: pseries under TCG takes it only on some CPUs and builds
      // ("TCG cannot support more than 1 thread/core on a pseries machine").
      const smt = await refusesOrAborts(starter, baseline, ['-cpu', cpu, '-smp', '2,sockets=1,cores=1,threads=2']);
      if (smt) (refused[cpu] ??= {})[SMT] = smt;
      for (const o of options) {
        for (const v of values[o]!.filter((x) => x !== shown(here[o]))) {
          const why = await refusesOrAborts(starter, `${baseline},${o}=${v}`, ['-cpu', cpu]);
          if (why) (refused[cpu] ??= {})[`${o}=${v}`] = why;
        }
      }
    });
    const typeDefaults = await defaultsWithTopCpu(starter, catalog, family, baseline);
    out[family] = { probedOn: baseline, cpus: [...new Set(cpus)].sort(), values, cpuDeltas: sortKeysDeep(cpuDeltas), refused: sortKeysDeep(refused), typeDefaults };
  }
  return Object.keys(out).length ? out : undefined;
}

/** QEMU's words when it refuses to start; an abort is a refusal too (cap-vsx=on on power5+:
 *  "assertion failed: (env->insns_flags & PPC_ALTIVEC)" in cap_vsx_apply()). */
async function refusesOrAborts(starter: QemuStarter, machine: string, args: string[]): Promise<string | undefined> {
  try {
    const words = await refuses(starter, machine, args);
    // Only QEMU's reason, without the warnings TCG prints for the other capabilities.
    return words?.split(' | ').map((w) => w.replace(/^qemu-system-[\w-]+: /, '')).filter((w) => !w.startsWith('warning:')).join(' | ') || words;
  } catch (e) {
    if (!(e instanceof QemuStartError) || !e.crashed) throw e;
    const assertion = /assertion failed: [^|]*/.exec(errorMessage(e));
    return `QEMU aborts${assertion ? `: ${assertion[0].trim()}` : ''}`;
  }
}

/**
 * The options of each type whose own default CPU is not the newest type's, read with that CPU
 * instead: the type's defaults before an older CPU forces some off (pseries-3.1 runs power8 by
 * default, which turns large-decr off whatever the type says).
 */
async function defaultsWithTopCpu(starter: QemuStarter, catalog: Catalog, family: string, baseline: string): Promise<Record<string, Props>> {
  const versioned = (n: string | undefined) => (n ? (catalog.cpuModels.find((m) => m.name === n)?.aliasOf ?? n) : undefined);
  const top = versioned(catalog.machines.find((m) => m.name === baseline)?.defaultCpuType);
  const others = catalog.machines.filter((m) => m.family === family && m.probe === 'ok' && m.name !== baseline && top && versioned(m.defaultCpuType) !== top);
  const out: Record<string, Props> = {};
  await mapPool(others, 2, async (m) => {
    const needs = Object.keys(m.tcgRequires ?? {});
    const props = await machineProps(starter, [m.name, ...needs].join(','), top!);
    if (props) out[m.name] = Object.fromEntries(Object.entries(props).filter(([k]) => OPTIONS[family]!.test(k))) as Props;
  });
  return sortKeysDeep(out);
}

/** A value as the command line spells it (booleans as on/off). */
function shown(v: unknown): string {
  return typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v);
}


/** The values QEMU lists for "-machine TYPE,OPTION=?", in its order ("broken - no protection, ..."). */
async function listedValues(starter: QemuStarter, machine: string, option: string): Promise<string[]> {
  const words = await refuses(starter, `${machine},${option}=?`, []);
  return (words ?? '').split(/,\s*/).map((part) => /^([\w+-]+) - /.exec(part.trim())?.[1]).filter((v): v is string => v !== undefined);
}

/** The machine object's properties with this CPU, or undefined when QEMU does not start it. */
async function machineProps(starter: QemuStarter, machine: string, cpu: string): Promise<Props | undefined> {
  let s;
  try {
    s = await starter.start(['-machine', machine, '-cpu', cpu, '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', 'tcg'], `options-${machine}-${cpu}`);
  } catch (e) {
    if (!(e instanceof QemuStartError) || e.crashed) throw e;
    return undefined;
  }
  try {
    return await readQomProps(s.qmp, '/machine', guestVisibility().machineUnseen);
  } finally {
    await s.stop();
  }
}
