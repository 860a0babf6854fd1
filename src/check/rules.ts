import type { Props, PropValue } from '../model/common.js';
import type { MigrationRules } from '../model/verdict.js';
import type { GuestVisibility } from '../model/visibility.js';
import type { IdRegisterData, RegisterData, VmmPolicies } from '../model/registers.js';
import type { ViommuRules } from '../model/viommu.js';
import { compareVersions } from '../util/versions.js';

export interface PropertyRule {
  effect: 'fails' | 'silent';
  why: string;
  source?: string;
}

/** The migration rules with their patterns compiled, and what the guest cannot see: the questions
 *  the checker and the lab ask. */
export interface Rules {
  data: MigrationRules;
  /** What the guest cannot see (data/rules/visibility.yaml). */
  visibility: GuestVisibility;
  /** What a difference in this property does to a migration. */
  propertyEffect(property: string, type?: string): PropertyRule;
  /** Whether two values of a property mean the same thing to the guest. */
  sameValue(property: string, a: PropValue | undefined, b: PropValue | undefined): boolean;
  /** The one name a renamed QOM type goes by. */
  canonicalType(type: string): string;
  /** Types some builds do not show in qtree although every build gives them. */
  qtreeOnly: ReadonlySet<string>;
  /** CPU properties the guest sees only with a Hyper-V enlightenment on. */
  hypervOnly: RegExp;
  svmOnly: RegExp | null;
  /** migration.yaml modernOnly.match and conventionalPci.match, compiled once. */
  modernOnly: RegExp | null;
  conventionalPci: RegExp | null;
  /** Device properties the guest cannot see: host-side names and how QEMU implements the device. */
  hostSide: ReadonlySet<string>;
  knownBroken(fromVersion: string, toVersion: string, machine: string, machineProps?: Props): MigrationRules['knownBroken'][number] | undefined;
  /** A device's properties on a build, with what that build does where it lacks a knob the other
   *  build's device has (migration.yaml lackingKnobs); the same map where no row applies. */
  withLackingKnobs(version: string, own: Props, other: Props, placement: string): { props: Props; applied: LackingKnob[] };
  /** The KVM/arm64 firmware registers per kernel release and the VMM policies (data/registers/). */
  registers?: { data: RegisterData; policies: VmmPolicies; ids?: IdRegisterData };
  /** What each build does with an assigned device behind a vIOMMU (data/rules/viommu.yaml). */
  viommu?: ViommuRules;
}

export function compileRules(data: MigrationRules, visibility: GuestVisibility, registers?: Rules['registers'], viommu?: ViommuRules): Rules {
  const props = data.properties.map((r) => ({ re: new RegExp(r.match), types: r.types ? new RegExp(r.types) : undefined, rule: r }));
  const equivalent = new Map(data.equivalences.map((e) => [e.property, e.values.map(String)]));
  const renamed = new Map<string, string>();
  for (const r of data.renamedTypes) for (const n of r.names) renamed.set(n, r.names[r.names.length - 1]!);
  return {
    data,
    visibility,
    ...(registers ? { registers } : {}),
    ...(viommu ? { viommu } : {}),
    propertyEffect(property, type) {
      const bare = property.replace(/^.*\./, (m) => (m.startsWith('pci.') ? m : ''));
      const hit = props.find((p) => (p.re.test(property) || p.re.test(bare)) && (!p.types || (type !== undefined && p.types.test(type))));
      if (hit) return { effect: hit.rule.effect, why: hit.rule.why, source: hit.rule.source ?? hit.rule.evidence };
      return { effect: 'silent', why: 'a different value of a device or CPU property; nothing in QEMU compares it on load' };
    },
    sameValue(property, a, b) {
      if (a === b) return true;
      // A property turned from bool into OnOffAuto between builds: true is "on", false is "off".
      const onoff = (v: PropValue | undefined) => (v === true ? 'on' : v === false ? 'off' : v);
      if (onoff(a) === onoff(b)) return true;
      const eq = equivalent.get(property);
      return !!eq && a !== undefined && b !== undefined && eq.includes(String(a)) && eq.includes(String(b));
    },
    canonicalType: (type) => renamed.get(type) ?? type,
    qtreeOnly: new Set(data.qtreeOnlyIn.flatMap((q) => q.types)),
    hypervOnly: visibility.hypervOnly,
    svmOnly: visibility.svmOnly,
    modernOnly: data.modernOnly ? new RegExp(data.modernOnly.match) : null,
    conventionalPci: data.conventionalPci ? new RegExp(data.conventionalPci.match) : null,
    hostSide: visibility.deviceUnseen,
    knownBroken(fromVersion, toVersion, machine, machineProps) {
      const when = (k: MigrationRules['knownBroken'][number]) => Object.entries(k.when ?? {}).every(([p, values]) => machineProps !== undefined && values.includes(String(machineProps[p])));
      return data.knownBroken.find((k) => versionIs(k.from, fromVersion) && versionIs(k.to, toVersion) && new RegExp(k.machines).test(machine) && when(k));
    },
    withLackingKnobs(version, own, other, placement) {
      let props = own;
      const applied: LackingKnob[] = [];
      for (const k of data.lackingKnobs ?? []) {
        if (!versionIs(k.qemu, version) || k.property in own || !(k.property in other) || (k.placements && !k.placements.includes(placement))) continue;
        if (!Object.entries(k.when ?? {}).every(([p, values]) => values.map(String).includes(String(own[p])))) continue;
        props = { ...props, [k.property]: k.value };
        applied.push(k);
      }
      return { props, applied };
    },
  };
}

export type LackingKnob = NonNullable<MigrationRules['lackingKnobs']>[number];

/** Whether a build's version is the one a rule names: 5.2 is 5.2, 5.2.0 and 5.2.x. */
export const versionIs = (want: string, have: string) => have === want || have.startsWith(`${want}.`) || compareVersions(have, want) === 0;

export interface PropDiff {
  property: string;
  a: PropValue | undefined;
  b: PropValue | undefined;
}

/**
 * The differences between two property maps that the guest can see, normalised the same way for
 * the checker and the lab:
 * - device properties the guest cannot see (data/rules/visibility.yaml: ids, backends, ioeventfd)
 *   are left out;
 * - values a rule declares equivalent are equal (rombar 1 and -1);
 * - a property only one build has is a knob the other build lacks: its guest-visible effect shows
 *   in the properties both have; a CPUID feature flag absent on one side counts as off;
 * - Hyper-V knobs only matter when a hv-* enlightenment is on.
 */
const diffCache = new WeakMap<Props, WeakMap<Props, PropDiff[]>>();
/** CPU differences also depend on the feature list and the rules: kept with them, and used only
 *  when both are the ones asked about. */
const cpuDiffCache = new WeakMap<Props, WeakMap<Props, { rules: Rules; features: ReadonlySet<string> | undefined; diff: PropDiff[] }>>();

const cpuMaps = new WeakMap<Props, Map<string, PropValue>>();
/** A CPU property map (hundreds of properties) as a Map, built once per map: a keyed read of an
 *  object that large costs several times a Map lookup, and CPU maps are shared and never change. */
function asMap(p: Props): Map<string, PropValue> {
  let m = cpuMaps.get(p);
  if (!m) cpuMaps.set(p, (m = new Map(Object.entries(p))));
  return m;
}

export function guestVisibleDiff(a: Props, b: Props, rules: Rules, opts: { cpu?: boolean; cpuFeatures?: ReadonlySet<string> } = {}): PropDiff[] {
  if (a === b) return [];
  // Catalog maps are shared and never change: a device's difference between two builds, or a CPU
  // model's on two machine types or builds, is worked out once.
  if (!opts.cpu) {
    const hit = diffCache.get(a)?.get(b);
    if (hit) return hit;
  } else {
    const hit = cpuDiffCache.get(a)?.get(b);
    if (hit && hit.rules === rules && hit.features === opts.cpuFeatures) return hit.diff;
  }
  const out: PropDiff[] = [];
  let hyperv: boolean | undefined;
  const hvOn = (p: Props) => {
    for (const k in p) if (p[k] === true && k.startsWith('hv-') && !rules.hypervOnly.test(k)) return true;
    return false;
  };
  const consider = (k: string, va: PropValue | undefined, vb: PropValue | undefined) => {
    if (va === vb || rules.hostSide.has(k) || rules.sameValue(k, va, vb)) return;
    if (va === undefined || vb === undefined) {
      // Only a CPUID feature that is on shows where the other build lacks the property.
      const other = va ?? vb;
      if (!(opts.cpu && other === true && (!opts.cpuFeatures || opts.cpuFeatures.has(k)))) return;
    }
    if (opts.cpu && rules.hypervOnly.test(k)) {
      hyperv ??= hvOn(a) || hvOn(b);
      if (!hyperv) return;
    }
    if (opts.cpu && rules.svmOnly?.test(k) && a.svm !== true && b.svm !== true) return;
    out.push({ property: k, a: va, b: vb });
  };
  if (opts.cpu) {
    const ma = asMap(a);
    const mb = asMap(b);
    for (const [k, va] of ma) consider(k, va, mb.get(k));
    for (const [k, vb] of mb) if (!ma.has(k)) consider(k, undefined, vb);
  } else {
    for (const k in a) consider(k, a[k], b[k]);
    for (const k in b) if (!(k in a)) consider(k, undefined, b[k]);
  }
  out.sort((x, y) => (x.property < y.property ? -1 : x.property > y.property ? 1 : 0));
  if (!opts.cpu) {
    let m = diffCache.get(a);
    if (!m) diffCache.set(a, (m = new WeakMap()));
    m.set(b, out);
  } else {
    let m = cpuDiffCache.get(a);
    if (!m) cpuDiffCache.set(a, (m = new WeakMap()));
    m.set(b, { rules, features: opts.cpuFeatures, diff: out });
  }
  return out;
}
