import type { CatalogIndex } from '../catalog/catalog.js';
import { parseCpuModelName } from '../catalog/names.js';
import type { CpuModel } from '../model/catalog.js';
import type { Props, PropValue } from '../model/common.js';
import type { GuestSpec } from '../model/guest.js';
import type { PinnedAbi, ResolutionPolicy } from '../model/pinned.js';
import { reason, type Reason } from '../model/reason.js';
import { UserError } from '../util/errors.js';
import { ACCELERATOR_FEATURES, askedFeatures, HOST_MODEL_EXCLUDED, hostLacks, hostModelFeatures, missingFeatures, type AskedFeatures } from './cpu-features.js';
import { ResolveError, type Target, type TargetHost } from './target.js';

export type PinnedCpu = PinnedAbi['cpu'];

export interface ResolvedCpu {
  cpu: PinnedCpu;
  decisions: Reason[];
  warnings: Reason[];
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

export function resolveCpu(spec: GuestSpec['cpu'], machine: string, target: Target, policy: ResolutionPolicy, source = 'cpu'): ResolvedCpu {
  if (spec.mode === 'host-passthrough' || spec.mode === 'maximum') return resolveHostDependent(spec, target, source);
  if (spec.mode === 'host-model') return resolveHostModel(spec, machine, target, source);
  return resolveNamedCpu(spec, machine, target, policy, source);
}

/** host-passthrough and maximum: whatever each host has, which no other host can promise. */
function resolveHostDependent(spec: GuestSpec['cpu'], target: Target, source: string): ResolvedCpu {
  const hosts = target.hosts;
  const name = spec.mode === 'host-passthrough' ? 'host' : 'max';
  const warnings = [
    reason('HOST_DEPENDENT_CPU', 'warn', name, `-cpu ${name} gives the guest whatever this host's CPU and accelerator have: no other host can promise it`, {
      remedy: 'use a named model (custom mode) or host-model to pin a CPU other hosts can give',
    }),
  ];
  const asked = askedFeatures(spec.features, hosts[0]!.catalog, undefined, source);
  const props = hosts.length === 1 ? hosts[0]!.profile.hostCpu.props : undefined;
  return {
    cpu: {
      mode: spec.mode,
      model: null,
      hostDependent: true,
      enforce: spec.enforce ?? false,
      features: Object.fromEntries(asked.set),
      properties: { ...(spec.properties ?? {}) },
      identity: identityOf(props),
    },
    decisions: [],
    warnings,
  };
}

/** What a named CPU is resolved with: the request, the model it names and what is decided. */
interface NamedCpu {
  machine: string;
  policy: ResolutionPolicy;
  hosts: TargetHost[];
  first: TargetHost;
  /** The name asked for (or the machine type's default). */
  asked: string;
  model: CpuModel;
  feats: AskedFeatures;
  decisions: Reason[];
  warnings: Reason[];
}

/** custom: a named model, or QEMU's default for the machine type, pinned to a version. */
function resolveNamedCpu(spec: GuestSpec['cpu'], machine: string, target: Target, policy: ResolutionPolicy, source: string): ResolvedCpu {
  const hosts = target.hosts;
  const first = hosts[0]!;
  const decisions: Reason[] = [];
  const asked = askedModelName(spec, machine, first, decisions);
  const model = modelOnEveryHost(asked, hosts, source);
  const feats = askedFeatures(spec.features, first.catalog, first.catalog.cpuExpansion(asked), source);
  const ctx: NamedCpu = { machine, policy, hosts, first, asked, model, feats, decisions, warnings: featureWarnings(asked, hosts, feats) };
  const { chosen, features } = chooseVersion(ctx);
  mustRunEverywhere(chosen, hosts, feats);
  if (chosen !== asked && (policy !== 'keep' || model.aliasOf !== chosen)) {
    decisions.push(reason('CPU_VERSION_CHOSEN', 'info', asked, `${asked} pinned as ${chosen}`, { a: asked, b: chosen }));
  }
  const cpu: PinnedCpu = {
    mode: 'custom',
    model: chosen,
    hostDependent: false,
    enforce: true,
    features: Object.fromEntries(features),
    properties: { ...(spec.properties ?? {}) },
    identity: null,
  };
  cpu.identity = identityOf(effectiveCpu(cpu, machine, first.catalog));
  if (!spec.enforce) {
    decisions.push(
      reason('CPU_ENFORCE_ADDED', 'info', 'enforce', 'enforce is set, so that QEMU refuses to start rather than silently drop a feature the host lacks', { a: false, b: true }),
    );
  }
  return { cpu, decisions, warnings: ctx.warnings };
}

function askedModelName(spec: GuestSpec['cpu'], machine: string, first: TargetHost, decisions: Reason[]): string {
  if (spec.model) return spec.model;
  const asked = first.catalog.machine(machine)?.defaultCpuType ?? 'qemu64';
  decisions.push(reason('CPU_MACHINE_DEFAULT', 'info', asked, `no CPU model given: ${machine} defaults to ${asked}`));
  return asked;
}

/** The catalog entry of a named model every host's QEMU knows; a name none knows is bad input. */
function modelOnEveryHost(asked: string, hosts: TargetHost[], source: string): CpuModel {
  const known = hosts.filter((h) => h.catalog.cpuModel(asked));
  if (!known.length) {
    const c = hosts[0]!.catalog;
    const close = c.cpuModelNames().filter((n) => n.toLowerCase().startsWith(asked.slice(0, 4).toLowerCase())).slice(0, 6);
    throw new UserError(`unknown CPU model '${asked}' in QEMU ${c.version}${close.length ? ` (did you mean ${close.join(', ')}?)` : ''}`, source);
  }
  if (known.length < hosts.length) {
    throw new ResolveError(`CPU model ${asked} is not known to every host's QEMU`, hosts.filter((h) => !known.includes(h)).map((h) =>
      reason('CPU_MODEL_UNKNOWN', 'error', asked, `QEMU ${h.catalog.version} on ${h.name} has no CPU model ${asked}`, { host: h.name }),
    ));
  }
  const model = hosts[0]!.catalog.cpuModel(asked)!;
  if (model.hostDependent) throw new UserError(`'${asked}' is host-dependent: use mode host-passthrough or maximum for it`, source);
  return model;
}

/** What the guest asks that no host profile can vouch for: accelerator features, optional
 *  features, deprecated models. */
function featureWarnings(asked: string, hosts: TargetHost[], feats: AskedFeatures): Reason[] {
  const warnings: Reason[] = [];
  const unverified = [...feats.set].filter(([f, on]) => on && ACCELERATOR_FEATURES.test(f)).map(([f]) => f);
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
  return warnings;
}

/**
 * Which version to pin. A versioned name is itself; a name with no versions stays; a variant
 * alias (EPYC-IBPB, Skylake-Client-noTSX-IBRS) names one version; a bare name stands for every
 * version of its base, chosen by the policy.
 */
function chooseVersion(ctx: NamedCpu): { chosen: string; features: Map<string, boolean> } {
  const { asked, model, decisions } = ctx;
  const catalogAlias = model.aliasOf;
  const base = catalogAlias ? parseCpuModelName(catalogAlias).base : model.base;
  const keepAsked = (chosen: string) => ({ chosen, features: new Map(ctx.feats.set) });
  if (model.version !== null) {
    decisions.push(reason('CPU_ALREADY_VERSIONED', 'info', asked, `${asked} is already a versioned model`));
    return keepAsked(asked);
  }
  if (!catalogAlias) {
    decisions.push(reason('CPU_NOT_VERSIONED', 'info', asked, `${asked} has no versions in QEMU ${ctx.first.catalog.version}`));
    return keepAsked(asked);
  }
  if (base !== asked) {
    decisions.push(reason('CPU_VARIANT_ALIAS', 'info', asked, `${asked} names one version: ${catalogAlias}`, { a: asked, b: catalogAlias }));
    return keepAsked(catalogAlias);
  }
  if (ctx.policy === 'highest-runnable') return keepAsked(highestRunnable(asked, base, ctx.hosts, ctx.feats, decisions));
  if (ctx.policy === 'machine-default') return keepAsked(machineDefaultVersion(ctx));
  // keep: the platform the guest has now on its machine type, named so that it stays.
  const kept = keepExpansion(asked, catalogAlias, ctx.machine, ctx.first, ctx.feats, decisions);
  return { chosen: kept.model, features: kept.features };
}

/** machine-default: what QEMU itself makes of the bare name on this machine type. */
function machineDefaultVersion(ctx: NamedCpu): string {
  const { asked, machine, hosts } = ctx;
  const per = hosts.map((h) => h.catalog.cpuAliasOf(asked, machine));
  const distinct = [...new Set(per.map((p) => p ?? null))];
  if (distinct.length > 1) {
    throw new ResolveError(`-cpu ${asked} means different models on the hosts' QEMU builds`, hosts.map((h, i) =>
      reason('CPU_ALIAS_DIFFERS', 'error', asked, `on ${h.name} (QEMU ${h.catalog.version}) ${machine} resolves ${asked} to ${per[i] ?? 'the legacy definition'}`, { host: h.name }),
    ));
  }
  const target0 = distinct[0];
  if (target0 === null || target0 === undefined) {
    ctx.decisions.push(reason('CPU_LEGACY_DEFINITION', 'info', asked, `on ${machine} the bare name ${asked} is the legacy, unversioned definition; the pinned machine type keeps it`));
    return asked;
  }
  ctx.decisions.push(reason('CPU_MACHINE_DEFAULT_ALIAS', 'info', asked, `QEMU resolves ${asked} on ${machine} to ${target0}`, { a: asked, b: target0 }));
  return target0;
}

/** The chosen model must run on every host with what the guest asks. */
function mustRunEverywhere(chosen: string, hosts: TargetHost[], feats: AskedFeatures): void {
  const blocked: Reason[] = [];
  for (const h of hosts) {
    const b = missingFeatures(h, chosen, feats.set);
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
    const blocking = hosts.map((h) => ({ h, b: missingFeatures(h, v, feats.set) ?? ['(model unknown)'] })).filter((x) => x.b.length);
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

/**
 * host-model, as libvirt does it: the named model (versioned, runnable everywhere) that covers the
 * most of the features every host has, plus those features explicitly.
 */
function resolveHostModel(spec: GuestSpec['cpu'], machine: string, target: Target, source: string): ResolvedCpu {
  const hosts = target.hosts;
  const { common, vendor } = sharedHostFeatures(hosts);
  const c = hosts[0]!.catalog;
  const best = bestNamedModel(hosts, new Set(common), vendor);
  const e = c.cpuExpansion(best.name)!;
  const features = new Map<string, boolean>();
  for (const f of common) if (e[f] === false) features.set(f, true);
  const asked = askedFeatures(spec.features, c, e, source);
  for (const [f, on] of asked.set) features.set(f, on);
  const missing = hosts.flatMap((h) => hostLacks(h, asked.set).map((f) => reason('CPU_FEATURE_MISSING', 'error', f, `${h.name} cannot give ${f}`, { host: h.name })));
  if (missing.length) throw new ResolveError('host-model with features a host lacks', missing);
  const decisions = [
    reason('CPU_HOST_MODEL_RESOLVED', 'info', 'host-model', `host-model is ${best.name} plus ${features.size} features ${hosts.length > 1 ? 'every host has' : `${hosts[0]!.name} has`}`, {
      b: best.name,
      details: [...features.keys()].sort(),
    }),
  ];
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

/** The features every host's CPU has that host-model carries, and the hosts' one vendor. */
function sharedHostFeatures(hosts: TargetHost[]): { common: string[]; vendor: Props[string] | undefined } {
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
  return { common, vendor: [...vendors][0] };
}

/** The versioned model of the hosts' vendor that every host runs, with only shared features on,
 *  covering the most of them (the newer version on a tie). */
function bestNamedModel(hosts: TargetHost[], common: ReadonlySet<string>, vendor: Props[string] | undefined): { name: string; covered: number; version: number } {
  const c = hosts[0]!.catalog;
  let best: { name: string; covered: number; version: number } | undefined;
  for (const m of c.data.cpuModels) {
    if (m.version === null || m.hostDependent) continue;
    if (!hosts.every((h) => h.catalog.cpuModel(m.name) && h.unavailable.get(m.name)?.size === 0)) continue;
    const e = c.cpuExpansion(m.name)!;
    if (e.vendor !== vendor) continue;
    const on = hostModelFeatures(e);
    if (!on.every((f) => common.has(f))) continue;
    const covered = on.length;
    if (!best || covered > best.covered || (covered === best.covered && m.version > best.version)) best = { name: m.name, covered, version: m.version };
  }
  if (!best) {
    throw new ResolveError('no named model fits under the hosts CPUs', [
      reason('CPU_HOST_MODEL_NO_BASE', 'error', 'host-model', `no versioned ${vendor} model runs on every host with only the features they share`),
    ]);
  }
  return best;
}
