import { compareVersions } from '../util/versions.js';
import type { CatalogIndex } from '../catalog/catalog.js';
import type { Props } from '../model/common.js';
import type { GuestSpec } from '../model/guest.js';
import { UserError } from '../util/errors.js';
import type { TargetHost } from './target.js';

/**
 * The rules for a guest's CPU features, in one place: the resolver (what can run where), the
 * checker (what QEMU does at start: refuse with enforce, filter without) and validation (what the
 * host CPU offers) ask the same questions here, so they cannot disagree. It lives in resolve, the
 * layer check and policy build on.
 */

/** Hyper-V enlightenments and KVM paravirt leaves come from the accelerator, not the CPU: a host
 *  CPU expansion shows them off by default, so it cannot say whether the host supports them.
 *  QEMU target/i386/kvm/kvm.c sets them (hyperv_fill_cpuids(), kvm_arch_get_supported_cpuid()). */
export const ACCELERATOR_FEATURES = /^(hv-.*|kvm.*)$/;

/**
 * Features host-model leaves out even when the host has them, as libvirt does for a migratable
 * host-model CPU: invariant TSC (ties the guest to the host's TSC), the nested-VMX capability
 * words, the paravirt and Hyper-V leaves (set by the accelerator and the domain's <features>), and
 * QEMU-internal switches.
 */
export const HOST_MODEL_EXCLUDED = /^(invtsc|vmx-.*|kvm.*|hv-.*|x-.*|pmu|tcg-cpuid|hypervisor|lbr-fmt|full-cpuid-auto-level|cpuid-0xb|fill-mtrr-mask|l3-cache|legacy-cache|vmware-cpuid-freq|host-.*|check|enforce|migratable)$/;

/** -cpu host,migratable=off (read as a feature turned off) or libvirt's migratable='off' (a
 *  property): the host-dependent CPU then passes the host's non-migratable features through. */
export function cpuMigratableOff(cpu: GuestSpec['cpu']): boolean {
  const m = cpu.properties?.migratable;
  return m === false || m === 'off' || (cpu.features ?? []).some((f) => f.name === 'migratable' && (f.policy === 'disable' || f.policy === 'forbid'));
}

/** A feature the user named, in QEMU's canonical spelling (libvirt and legacy spellings too). */
/** The CPU features a property map (a model's expansion) turns on. */
export function featuresOn(catalog: CatalogIndex, props: Readonly<Record<string, unknown>>): Set<string> {
  const known = catalog.cpuFeatures();
  return new Set(Object.keys(props).filter((k) => props[k] === true && known.has(k)));
}

export function canonicalFeature(name: string, catalog: CatalogIndex): string {
  return catalog.data.cpuFeatureAliases[name] ?? name;
}

export interface AskedFeatures {
  /** Canonical name -> on/off, as the user set them. */
  set: Map<string, boolean>;
  optional: string[];
}

/**
 * The features a definition sets, by canonical name. With a reference expansion (the model as
 * the catalog gives it), a name that is not a feature there is refused, as QEMU refuses it
 * ("Property '...' not found").
 */
export function askedFeatures(features: GuestSpec['cpu']['features'], catalog: CatalogIndex, reference: Props | undefined, source: string): AskedFeatures {
  const set = new Map<string, boolean>();
  const optional: string[] = [];
  for (const f of features ?? []) {
    const name = canonicalFeature(f.name, catalog);
    if (reference && typeof reference[name] !== 'boolean') {
      throw new UserError(`unknown CPU feature '${f.name}' (not a feature of QEMU ${catalog.version})`, `${source}: cpu feature`);
    }
    if (f.policy === 'optional') optional.push(name);
    else set.set(name, f.policy === 'require' || f.policy === 'force');
  }
  return { set, optional };
}

/** Features the guest turns on that the host CPU lacks. Those the accelerator gives are left to
 *  it; with no host CPU expansion in the profile, nothing is known to be lacking. */
export function hostLacks(host: TargetHost, asked: ReadonlyMap<string, boolean>): string[] {
  const out: string[] = [];
  for (const [f, on] of asked) if (on && !ACCELERATOR_FEATURES.test(f) && lacks(host, f)) out.push(f);
  return out;
}

/**
 * Features KVM gives a named model but leaves out of the migratable host expansion (x86
 * feature_word_info unmigratable_flags: invtsc), by the /proc/cpuinfo flag that says the host
 * has them. Under TCG the host expansion (max) is the whole truth.
 */
const UNMIGRATABLE_HOST_FLAGS: Readonly<Record<string, string>> = { invtsc: 'nonstop_tsc' };

/**
 * Features "-cpu host" never turns on although the accelerator may give them (target/i386/cpu.c
 * feature_word_info[].no_autoenable_flags: ht, topoext, the KVM hints word), so the host expansion
 * cannot say KVM lacks them; and QEMU lets KVM give topoext always (target/i386/kvm/kvm.c
 * kvm_arch_get_supported_cpuid(): "It's safe to enable TOPOEXT even if it's not returned by
 * GET_SUPPORTED_CPUID"; read in QEMU 10.2.0). Under KVM they are never predicted filtered. Lab: fuzz
 * seed 20261204 (KVM, Intel host), -cpu athlon,topoext=on on one side: the guest saw topoext.
 */
const NOT_AUTOENABLED = /^(ht|topoext|kvm-hint-dedicated)$/;

/** Whether QEMU under KVM never reports this feature unavailable (NOT_AUTOENABLED above). */
export const neverUnavailableUnderKvm = (feature: string): boolean => NOT_AUTOENABLED.test(feature);

/** KVM never reports HTT; QEMU adds it to what KVM gives from 10.0 on (target/i386/kvm/kvm.c,
 *  10.2.0:454-455, "KVM never reports CPUID_HT but QEMU can support when vcpus > 1"), so before
 *  10.0 an ht=on is filtered away. Lab: KVM fuzz seed 20261206, athlon,ht=on 7.2 (off) -> 10.0 (on).
 *  TCG gives ht from 10.0 too (TCG_FEATURES has CPUID_HT, target/i386/cpu.c 10.2.0:899-904), which
 *  its max expansion never shows (no_autoenable_flags); 7.2 and 5.2 filter it. Lab: TCG fuzz seed
 *  20261213, Nehalem-v2,ht=on 5.2 (off) -> 10.0 (on). */
function givenUnseen(host: TargetHost, feature: string): boolean {
  if (!NOT_AUTOENABLED.test(feature)) return false;
  const since10 = compareVersions(host.catalog.version, '10.0') >= 0;
  if (host.profile.accel !== 'kvm') return feature === 'ht' && since10;
  return feature !== 'ht' || since10;
}

function lacks(host: TargetHost, feature: string): boolean {
  if (givenUnseen(host, feature)) return false;
  const flag = UNMIGRATABLE_HOST_FLAGS[feature];
  if (flag && host.profile.accel === 'kvm') return host.profile.cpu.flags.length > 0 && !host.profile.cpu.flags.includes(flag);
  return host.hostFeatures !== null && !host.hostFeatures.has(feature);
}

/**
 * What keeps `model` from running on `host` with the features the guest sets: the features the
 * host's QEMU reports unavailable for it (less those the guest turns off), then those the guest
 * turns on that the host CPU lacks. undefined when the host's QEMU does not list the model.
 */
export function missingFeatures(host: TargetHost, model: string, asked: ReadonlyMap<string, boolean>): string[] | undefined {
  const unavailable = host.unavailable.get(model);
  if (!unavailable) return undefined;
  const out = [...unavailable].filter((f) => asked.get(canonicalFeature(f, host.catalog)) !== false);
  for (const f of hostLacks(host, asked)) if (!out.includes(f)) out.push(f);
  return out;
}

/** Whether the host CPU offers a feature: its CPU expansion when the profile has one, else the
 *  flags of /proc/cpuinfo (which spell QEMU's '-' as '_'). */
export function hostCpuHas(host: TargetHost, feature: string): boolean {
  return host.hostFeatures?.has(feature) ?? host.profile.cpu.flags.includes(feature.replace(/-/g, '_'));
}

const modelFeatures = new WeakMap<Props, string[]>();
/** The features a catalog expansion has on that host-model can carry, worked out once per expansion. */
export function hostModelFeatures(e: Props): string[] {
  let on = modelFeatures.get(e);
  if (!on) modelFeatures.set(e, (on = Object.keys(e).filter((k) => e[k] === true && !HOST_MODEL_EXCLUDED.test(k))));
  return on;
}
