import type { CatalogIndex } from '../catalog/catalog.js';
import { parseCpuModelName } from '../catalog/names.js';
import type { Props, PropValue } from '../model/common.js';
import type { GuestSpec } from '../model/guest.js';
import type { PinnedAbi, ResolutionPolicy } from '../model/pinned.js';
import { reason, type Reason } from '../model/reason.js';
import { UserError } from '../util/errors.js';
import { ResolveError, type Target, type TargetHost } from './target.js';

export type PinnedCpu = PinnedAbi['cpu'];

export interface ResolvedCpu {
  cpu: PinnedCpu;
  decisions: Reason[];
  warnings: Reason[];
}

/**
 * Features host-model leaves out even when the host has them, as libvirt does for a migratable
 * host-model CPU: invariant TSC (ties the guest to the host's TSC), the nested-VMX capability
 * words, the paravirt and Hyper-V leaves (set by the accelerator and the domain's <features>), and
 * QEMU-internal switches.
 */
export const HOST_MODEL_EXCLUDED = /^(invtsc|vmx-.*|kvm.*|hv-.*|x-.*|pmu|tcg-cpuid|hypervisor|lbr-fmt|full-cpuid-auto-level|cpuid-0xb|fill-mtrr-mask|l3-cache|legacy-cache|vmware-cpuid-freq|host-.*|check|enforce|migratable)$/;

/** Hyper-V enlightenments and KVM paravirt leaves come from the accelerator, not the CPU: a host
 *  CPU expansion shows them off by default, so it cannot say whether the host supports them. */
const UNVERIFIABLE = /^(hv-.*|kvm.*)$/;

/** A feature the user named, in QEMU's canonical spelling (libvirt and legacy spellings too). */
export function canonicalFeature(name: string, catalog: CatalogIndex): string {
  return catalog.data.cpuFeatureAliases[name] ?? name;
}

interface AskedFeatures {
  /** Canonical name -> on/off, as the user set them. */
  set: Map<string, boolean>;
  optional: string[];
}

function askedFeatures(spec: GuestSpec['cpu'], target: Target, reference: Props | undefined, source: string): AskedFeatures {
  const set = new Map<string, boolean>();
  const optional: string[] = [];
  const c = target.hosts[0]!.catalog;
  for (const f of spec.features ?? []) {
    const name = canonicalFeature(f.name, c);
    if (reference && typeof reference[name] !== 'boolean') {
      throw new UserError(`unknown CPU feature '${f.name}' (not a feature of QEMU ${c.version})`, `${source}: cpu feature`);
    }
    if (f.policy === 'optional') optional.push(name);
    else set.set(name, f.policy === 'require' || f.policy === 'force');
  }
  return { set, optional };
}

function identityOf(props: Props | undefined | null): PinnedCpu['identity'] {
  if (!props) return null;
  const num = (v: PropValue | undefined) => (typeof v === 'number' ? v : Number(v ?? 0));
  return {
    vendor: String(props.vendor ?? ''),
    family: num(props.family),
    model: num(props.model),
    stepping: num(props.stepping),
    modelId: String(props['model-id'] ?? ''),
    level: num(props.level),
    xlevel: num(props.xlevel),
  };
}

/** The CPU a pinned definition gives on one build: the model on the machine type, plus what is
 *  set explicitly. Null when the catalogs do not know it. */
export function effectiveCpu(cpu: PinnedCpu, machine: string, catalog: CatalogIndex, host?: TargetHost): Props | null {
  let base: Props | undefined;
  if (cpu.hostDependent) base = host?.profile.hostCpu.props ?? undefined;
  else if (cpu.model) base = catalog.cpuOnMachine(cpu.model, machine);
  if (!base) return null;
  const out: Props = { ...base };
  for (const [k, v] of Object.entries(cpu.features)) out[k] = v;
  for (const [k, v] of Object.entries(cpu.properties)) out[k] = v;
  return out;
}

/** What keeps a version from running on a host, given the features the guest turns on or off. */
function blockers(host: TargetHost, model: string, asked: AskedFeatures): string[] | undefined {
  const missing = host.unavailable.get(model);
  if (!missing) return undefined; // the host's QEMU does not know the model
  const out = [...missing].filter((f) => asked.set.get(host.catalog.data.cpuFeatureAliases[f] ?? f) !== false);
  for (const [f, on] of asked.set) {
    if (on && !UNVERIFIABLE.test(f) && host.hostFeatures && !host.hostFeatures.has(f) && !out.includes(f)) out.push(f);
  }
  return out;
}

export function resolveCpu(spec: GuestSpec['cpu'], machine: string, target: Target, policy: ResolutionPolicy, source = 'cpu'): ResolvedCpu {
  const decisions: Reason[] = [];
  const warnings: Reason[] = [];
  const hosts = target.hosts;
  const first = hosts[0]!;
  const properties = { ...(spec.properties ?? {}) };

  if (spec.mode === 'host-passthrough' || spec.mode === 'maximum') {
    const name = spec.mode === 'host-passthrough' ? 'host' : 'max';
    warnings.push(
      reason('HOST_DEPENDENT_CPU', 'warn', name, `-cpu ${name} gives the guest whatever this host's CPU and accelerator have: no other host can promise it`, {
        remedy: 'use a named model (custom mode) or host-model to pin a CPU other hosts can give',
      }),
    );
    const asked = askedFeatures(spec, target, undefined, source);
    const props = hosts.length === 1 ? first.profile.hostCpu.props : undefined;
    return {
      cpu: {
        mode: spec.mode,
        model: null,
        hostDependent: true,
        enforce: spec.enforce ?? false,
        features: Object.fromEntries(asked.set),
        properties,
        identity: identityOf(props),
      },
      decisions,
      warnings,
    };
  }

  if (spec.mode === 'host-model') return resolveHostModel(spec, machine, target, source);

  // custom: a named model, or QEMU's default for the machine type
  let asked = spec.model;
  if (!asked) {
    asked = first.catalog.machine(machine)?.defaultCpuType ?? 'qemu64';
    decisions.push(reason('CPU_MACHINE_DEFAULT', 'info', asked, `no CPU model given: ${machine} defaults to ${asked}`));
  }
  const known = hosts.filter((h) => h.catalog.cpuModel(asked!));
  if (!known.length) {
    const c = first.catalog;
    const close = c.cpuModelNames().filter((n) => n.toLowerCase().startsWith(asked!.slice(0, 4).toLowerCase())).slice(0, 6);
    throw new UserError(`unknown CPU model '${asked}' in QEMU ${c.version}${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}`, source);
  }
  if (known.length < hosts.length) {
    throw new ResolveError(`CPU model ${asked} is not known to every host's QEMU`, hosts.filter((h) => !known.includes(h)).map((h) =>
      reason('CPU_MODEL_UNKNOWN', 'error', asked!, `QEMU ${h.catalog.version} on ${h.name} has no CPU model ${asked}`, { host: h.name }),
    ));
  }
  const model = first.catalog.cpuModel(asked)!;
  if (model.hostDependent) throw new UserError(`'${asked}' is host-dependent: use mode host-passthrough or maximum for it`, source);
  const feats = askedFeatures(spec, target, first.catalog.cpuExpansion(asked), source);
  const unverified = [...feats.set].filter(([f, on]) => on && UNVERIFIABLE.test(f)).map(([f]) => f);
  if (unverified.length) {
    warnings.push(
      reason('CPU_FEATURE_UNVERIFIED', 'warn', unverified.join(' '), `host profiles cannot tell whether the hosts' KVM supports ${unverified.join(', ')}`, {
        remedy: 'check the hosts with virsh domcapabilities (hyperv) before relying on them',
      }),
    );
  }
  for (const f of feats.optional) {
    warnings.push(reason('CPU_FEATURE_OPTIONAL', 'warn', f, `feature ${f} is optional: whether the guest gets it depends on the host`, { remedy: `require or disable ${f}` }));
  }

  for (const h of hosts) {
    const m = h.catalog.cpuModel(asked);
    if (m?.deprecated) {
      warnings.push(
        reason('CPU_MODEL_DEPRECATED', 'warn', asked, `CPU model ${asked} is deprecated in QEMU ${h.catalog.version}`, {
          host: h.name,
          remedy: `use another model of the same vendor, e.g. ${h.catalog.cpuVersions(parseCpuModelName(m.aliasOf ?? asked).base).at(-1)?.name ?? 'a newer one'}`,
        }),
      );
    }
  }

  // Which versions are candidates: a bare name stands for every version of its base; a variant
  // alias (EPYC-IBPB, Skylake-Client-noTSX-IBRS) names one version; a versioned name is itself.
  const catalogAlias = model.aliasOf;
  const base = catalogAlias ? parseCpuModelName(catalogAlias).base : model.base;
  const isBare = catalogAlias !== undefined && base === asked;
  let chosen: string;
  let explicitFeatures = new Map(feats.set);

  if (model.version !== null) {
    chosen = asked;
    decisions.push(reason('CPU_ALREADY_VERSIONED', 'info', asked, `${asked} is already a versioned model`));
  } else if (!catalogAlias) {
    chosen = asked;
    decisions.push(reason('CPU_NOT_VERSIONED', 'info', asked, `${asked} has no versions in QEMU ${first.catalog.version}`));
  } else if (!isBare) {
    chosen = catalogAlias;
    decisions.push(reason('CPU_VARIANT_ALIAS', 'info', asked, `${asked} names one version: ${catalogAlias}`, { a: asked, b: catalogAlias }));
  } else if (policy === 'highest-runnable') {
    chosen = highestRunnable(asked, base, hosts, feats, decisions);
  } else if (policy === 'machine-default') {
    const per = hosts.map((h) => h.catalog.cpuAliasOf(asked!, machine));
    const distinct = [...new Set(per.map((p) => p ?? null))];
    if (distinct.length > 1) {
      throw new ResolveError(`-cpu ${asked} means different models on the hosts' QEMU builds`, hosts.map((h, i) =>
        reason('CPU_ALIAS_DIFFERS', 'error', asked!, `on ${h.name} (QEMU ${h.catalog.version}) ${machine} resolves ${asked} to ${per[i] ?? 'the legacy definition'}`, { host: h.name }),
      ));
    }
    const target0 = distinct[0];
    if (target0 === null || target0 === undefined) {
      chosen = asked;
      decisions.push(reason('CPU_LEGACY_DEFINITION', 'info', asked, `on ${machine} the bare name ${asked} is the legacy, unversioned definition; the pinned machine type keeps it`));
    } else {
      chosen = target0;
      decisions.push(reason('CPU_MACHINE_DEFAULT_ALIAS', 'info', asked, `QEMU resolves ${asked} on ${machine} to ${target0}`, { a: asked, b: target0 }));
    }
  } else {
    // keep: the platform the guest has now on its machine type, named so that it stays.
    const kept = keepExpansion(asked, catalogAlias, machine, first, feats, decisions);
    chosen = kept.model;
    explicitFeatures = kept.features;
  }

  // The chosen model must run everywhere with what the guest asks.
  const blocked: Reason[] = [];
  for (const h of hosts) {
    const b = blockers(h, chosen, feats);
    if (b === undefined) blocked.push(reason('CPU_MODEL_UNKNOWN', 'error', chosen, `QEMU ${h.catalog.version} on ${h.name} has no CPU model ${chosen}`, { host: h.name }));
    else if (b.length) {
      blocked.push(
        reason('CPU_FEATURE_MISSING', 'error', chosen, `${chosen} cannot run on ${h.name}: ${b.join(' ')} unavailable`, {
          host: h.name,
          details: b,
          remedy: `disable ${b.join(', ')} (a guest-visible change) or choose another model`,
        }),
      );
    }
  }
  if (blocked.length) throw new ResolveError(`${chosen} cannot run on every host`, blocked);
  if (chosen !== asked && (policy !== 'keep' || catalogAlias !== chosen)) {
    decisions.push(reason('CPU_VERSION_CHOSEN', 'info', asked, `${asked} pinned as ${chosen}`, { a: asked, b: chosen }));
  }

  const cpu: PinnedCpu = {
    mode: 'custom',
    model: chosen,
    hostDependent: false,
    enforce: true,
    features: Object.fromEntries(explicitFeatures),
    properties,
    identity: null,
  };
  cpu.identity = identityOf(effectiveCpu(cpu, machine, first.catalog));
  if (!spec.enforce) {
    decisions.push(
      reason('CPU_ENFORCE_ADDED', 'info', 'enforce', 'enforce is set, so that QEMU refuses to start rather than silently drop a feature the host lacks', { a: false, b: true }),
    );
  }
  return { cpu, decisions, warnings };
}

/** The highest version of `base` that every host can run with the guest's feature settings;
 *  every version passed over is said, with the host and the features that block it. */
function highestRunnable(asked: string, base: string, hosts: TargetHost[], feats: AskedFeatures, decisions: Reason[]): string {
  const names = hosts.map((h) => new Set(h.catalog.cpuVersions(base).map((m) => m.name)));
  const versions = hosts[0]!.catalog
    .cpuVersions(base)
    .filter((m) => names.every((s) => s.has(m.name)))
    .map((m) => m.name)
    .reverse();
  const blockedAll: Reason[] = [];
  for (const v of versions) {
    const blocking = hosts.map((h) => ({ h, b: blockers(h, v, feats) ?? ['(model unknown)'] })).filter((x) => x.b.length);
    if (!blocking.length) {
      decisions.push(reason('CPU_VERSION_RUNNABLE', 'info', v, `${v} is the highest version of ${base} that ${hosts.length > 1 ? 'every host' : hosts[0]!.name} can run`, { a: asked, b: v }));
      return v;
    }
    for (const { h, b } of blocking) {
      const r = reason('CPU_VERSION_PASSED_OVER', 'info', v, `${v} passed over: ${h.name} lacks ${b.join(' ')}`, { host: h.name, details: b });
      decisions.push(r);
      blockedAll.push({ ...r, level: 'error', code: 'CPU_NO_RUNNABLE_VERSION' });
    }
  }
  const newest = hosts.map((h) => h.catalog.cpuVersions(base).at(-1)?.name);
  throw new ResolveError(`no version of ${base} can run on ${hosts.length > 1 ? 'every host' : hosts[0]!.name}`, [
    ...blockedAll,
    ...(newest.some((n) => n !== newest[0]) ? [reason('CPU_VERSIONS_DIFFER', 'info', base, `hosts' QEMU builds offer different versions: ${hosts.map((h, i) => `${h.name} up to ${newest[i]}`).join(', ')}`)] : []),
  ]);
}

/**
 * keep: pin the expansion the guest has now. The versioned name is used when it gives exactly
 * that expansion on this machine type; when it differs only in features, those are set
 * explicitly; otherwise (qemu64 before 6.1: family 6 for the bare name, 15 for -v1) the bare name
 * is kept, which the pinned machine type holds still.
 */
function keepExpansion(asked: string, aliasTarget: string, machine: string, host: TargetHost, feats: AskedFeatures, decisions: Reason[]): { model: string; features: Map<string, boolean> } {
  const c = host.catalog;
  const now = c.cpuOnMachine(asked, machine);
  const here = c.cpuAliasOf(asked, machine) ?? aliasTarget;
  const versioned = c.cpuOnMachine(here, machine);
  if (!now || !versioned) {
    decisions.push(reason('CPU_BARE_NAME_KEPT', 'info', asked, `${machine} was not probed in QEMU ${c.version}: the bare name ${asked} is kept`));
    return { model: asked, features: feats.set };
  }
  const diffs = Object.keys({ ...now, ...versioned }).filter((k) => now[k] !== versioned[k] && !feats.set.has(k));
  if (!diffs.length) {
    decisions.push(reason('CPU_VERSION_KEEPS_ABI', 'info', asked, `${here} gives ${machine} the same CPU as ${asked} has now`, { a: asked, b: here }));
    return { model: here, features: feats.set };
  }
  if (diffs.every((k) => typeof now[k] === 'boolean' && typeof versioned[k] === 'boolean')) {
    const features = new Map(feats.set);
    for (const k of diffs) features.set(k, now[k] as boolean);
    decisions.push(
      reason('CPU_EXPLICIT_FEATURES_ADDED', 'info', asked, `${here} differs from ${asked} on ${machine} in ${diffs.join(' ')}: set explicitly to keep them`, {
        a: asked,
        b: here,
        details: diffs.map((k) => `${k}=${now[k] ? 'on' : 'off'}`),
      }),
    );
    return { model: here, features };
  }
  decisions.push(
    reason('CPU_BARE_NAME_KEPT', 'info', asked, `${here} would change the guest on ${machine}: ${diffs.map((k) => `${k} ${String(now[k])} -> ${String(versioned[k])}`).join(', ')}; the bare name ${asked} is kept and the pinned machine type holds it`, {
      a: asked,
      b: here,
      details: diffs,
    }),
  );
  return { model: asked, features: feats.set };
}

const modelFeatures = new WeakMap<Props, string[]>();
/** The features a catalog expansion has on that host-model can carry, worked out once per expansion. */
function hostModelFeatures(e: Props): string[] {
  let on = modelFeatures.get(e);
  if (!on) modelFeatures.set(e, (on = Object.keys(e).filter((k) => e[k] === true && !HOST_MODEL_EXCLUDED.test(k))));
  return on;
}

/**
 * host-model, as libvirt does it: the named model (versioned, runnable everywhere) that covers the
 * most of the features every host has, plus those features explicitly.
 */
function resolveHostModel(spec: GuestSpec['cpu'], machine: string, target: Target, source: string): ResolvedCpu {
  const hosts = target.hosts;
  const decisions: Reason[] = [];
  const unknown = hosts.filter((h) => !h.hostFeatures);
  if (unknown.length) {
    throw new ResolveError('host-model needs the host CPU expansion of every host', unknown.map((h) =>
      reason('CPU_HOST_MODEL_UNKNOWN', 'error', 'host-model', `the profile of ${h.name} has no host CPU expansion (${h.profile.hostCpu.error ?? 'not probed'})`, { host: h.name }),
    ));
  }
  const vendors = new Set(hosts.map((h) => h.profile.hostCpu.props?.vendor));
  if (vendors.size > 1) {
    throw new ResolveError('host-model across CPU vendors', [reason('CPU_VENDOR_DIFFERS', 'error', 'host-model', `the hosts have CPUs of different vendors: ${[...vendors].join(', ')}`)]);
  }
  const common = [...hosts[0]!.hostFeatures!].filter((f) => !HOST_MODEL_EXCLUDED.test(f) && hosts.every((h) => h.hostFeatures!.has(f)));
  const commonSet = new Set(common);
  const vendor = [...vendors][0];
  const c = hosts[0]!.catalog;
  let best: { name: string; covered: number; version: number } | undefined;
  for (const m of c.data.cpuModels) {
    if (m.version === null || m.hostDependent) continue;
    if (!hosts.every((h) => h.catalog.cpuModel(m.name) && h.unavailable.get(m.name)?.size === 0)) continue;
    const e = c.cpuExpansion(m.name)!;
    if (e.vendor !== vendor) continue;
    const on = hostModelFeatures(e);
    if (!on.every((f) => commonSet.has(f))) continue;
    const covered = on.length;
    if (!best || covered > best.covered || (covered === best.covered && m.version > best.version)) best = { name: m.name, covered, version: m.version };
  }
  if (!best) {
    throw new ResolveError('no named model fits under the hosts CPUs', [
      reason('CPU_HOST_MODEL_NO_BASE', 'error', 'host-model', `no versioned ${vendor} model runs on every host with only the features they share`),
    ]);
  }
  const e = c.cpuExpansion(best.name)!;
  const features = new Map<string, boolean>();
  for (const f of common) if (e[f] === false) features.set(f, true);
  const asked = askedFeatures(spec, target, e, source);
  for (const [f, on] of asked.set) features.set(f, on);
  const missing = hosts.flatMap((h) =>
    [...asked.set].filter(([f, on]) => on && !UNVERIFIABLE.test(f) && !h.hostFeatures!.has(f)).map(([f]) => reason('CPU_FEATURE_MISSING', 'error', f, `${h.name} cannot give ${f}`, { host: h.name })),
  );
  if (missing.length) throw new ResolveError('host-model with features a host lacks', missing);
  decisions.push(
    reason('CPU_HOST_MODEL_RESOLVED', 'info', 'host-model', `host-model is ${best.name} plus ${features.size} features ${hosts.length > 1 ? 'every host has' : `${hosts[0]!.name} has`}`, {
      b: best.name,
      details: [...features.keys()].sort(),
    }),
  );
  const cpu: PinnedCpu = {
    mode: 'custom',
    model: best.name,
    hostDependent: false,
    enforce: true,
    features: Object.fromEntries([...features].sort(([a], [b]) => a.localeCompare(b))),
    properties: { ...(spec.properties ?? {}) },
    identity: null,
  };
  cpu.identity = identityOf(effectiveCpu(cpu, machine, c));
  return { cpu, decisions, warnings: [] };
}
