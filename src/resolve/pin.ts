import { PINNED_ABI_SCHEMA_ID, type EffectivePlatform, type PinnedAbi, type ResolutionPolicy } from '../model/pinned.js';
import type { GuestSpec } from '../model/guest.js';
import { reason, type Reason } from '../model/reason.js';
import type { GuestVisibility } from '../model/visibility.js';
import { effectiveCpu, resolveCpu, type ResolvedCpu } from './cpu.js';
import { effectiveDevice, resolveDevices, type ResolvedDevices } from './devices.js';
import { dedupe, resolveMachine, type ResolvedMachine } from './machine.js';
import { checkOnTarget } from './limits.js';
import type { Target, TargetHost } from './target.js';

export interface PinOptions {
  policy: ResolutionPolicy;
  /** When the resolution happened: an input, so that resolving stays a pure function. */
  now: Date;
  tool: string;
  /** What the guest cannot see (data/rules/visibility.yaml): names and places a device keeps as written. */
  visibility: GuestVisibility;
  source?: string;
}

/**
 * Resolve a guest against one host or a cluster into a PinnedAbi: a versioned machine type, a CPU
 * model with its exact features, every device with its effective properties on each QEMU build
 * of the target, and why each choice was made.
 */
export function pinGuest(spec: GuestSpec, target: Target, opts: PinOptions): PinnedAbi {
  const source = opts.source ?? 'guest';
  const machine = resolveMachine(spec.machine.type, target, `${source}: machine`);
  checkOnTarget(spec, machine.type, target.hosts, source);
  const cpu = resolveCpu(spec.cpu, machine.type, target, opts.policy, `${source}: cpu`);
  const devices = resolveDevices(spec, machine.type, target, opts.visibility);
  const warnings: Reason[] = [...machine.warnings, ...cpu.warnings, ...devices.warnings, ...accelWarnings(spec, target)];
  const pinned: PinnedAbi = {
    schema: PINNED_ABI_SCHEMA_ID,
    arch: spec.arch ?? 'x86_64',
    machine: { type: machine.type, family: machine.family, options: { ...(spec.machine.options ?? {}) } },
    cpu: cpu.cpu,
    memory: { ...spec.memory },
    vcpus: { ...spec.vcpus },
    devices: devices.devices,
    globals: [...(spec.globals ?? [])],
    effective: effectivePlatforms(target, machine, cpu, devices, opts.visibility),
    provenance: provenance(spec, target, opts, [...machine.decisions, ...cpu.decisions, ...devices.decisions]),
    warnings: dedupe(warnings),
  };
  for (const k of ['name', 'accel', 'iommu', 'launchSecurity', 'os', 'firmware', 'featureRegisters', 'unmodelled'] as const) {
    if (spec[k] !== undefined) (pinned as Record<string, unknown>)[k] = spec[k];
  }
  return pinned;
}

/** Hosts probed with another accelerator than the guest runs with. */
function accelWarnings(spec: GuestSpec, target: Target): Reason[] {
  const out: Reason[] = [];
  for (const h of target.hosts) {
    if (spec.accel && spec.accel !== h.profile.accel) {
      out.push(
        reason('HOST_PROFILE_ACCEL_DIFFERS', 'warn', h.name, `the guest runs with ${spec.accel.toUpperCase()} but ${h.name}'s profile was probed with ${h.profile.accel.toUpperCase()}: what can run may differ`, {
          host: h.name,
          remedy: `probe the host with --accel ${spec.accel}`,
        }),
      );
    }
  }
  return out;
}

type AgainstHosts = PinnedAbi['provenance']['against']['hosts'];

/**
 * A target's host lists, made once per target and shared (frozen) by every guest pinned against
 * it: a cluster of 10,000 hosts would otherwise cost 10,000 objects a pin.
 */
const targetLists = new WeakMap<TargetHost[], { byCatalog: [string, readonly string[]][]; against: AgainstHosts }>();

function listsOf(target: Target): { byCatalog: [string, readonly string[]][]; against: AgainstHosts } {
  let l = targetLists.get(target.hosts);
  if (!l) {
    const byCatalog = new Map<string, string[]>();
    for (const h of target.hosts) byCatalog.set(h.catalog.id, [...(byCatalog.get(h.catalog.id) ?? []), ...h.members]);
    const against = target.hosts.flatMap((h) => h.members.map((name) => Object.freeze({ name, catalog: h.catalog.id, accel: h.profile.accel })));
    l = { byCatalog: [...byCatalog].map(([id, hosts]) => [id, Object.freeze(hosts)]), against: Object.freeze(against) as AgainstHosts };
    targetLists.set(target.hosts, l);
  }
  return l;
}

/** The effective platform per QEMU build: hosts that share a build share it. */
function effectivePlatforms(target: Target, machine: ResolvedMachine, cpu: ResolvedCpu, devices: ResolvedDevices, visibility: GuestVisibility): EffectivePlatform[] {
  return listsOf(target).byCatalog.map(([id, hosts]) => {
    const h = target.hosts.find((x) => x.catalog.id === id)!;
    return {
      catalog: id,
      hosts: hosts as string[],
      cpu: cpu.cpu.hostDependent && (target.hosts.length > 1 || target.hosts[0]!.members.length > 1) ? null : effectiveCpu(cpu.cpu, machine.type, h.catalog, h),
      devices: devices.devices.map((d) => effectiveDevice(d, machine.type, h.catalog, visibility)),
    };
  });
}

/** What was asked, against what, under which policy and when, and every decision made. */
function provenance(spec: GuestSpec, target: Target, opts: PinOptions, decisions: Reason[]): PinnedAbi['provenance'] {
  return {
    asked: {
      machine: spec.machine.type,
      cpuMode: spec.cpu.mode,
      ...(spec.cpu.model ? { cpuModel: spec.cpu.model } : {}),
      features: (spec.cpu.features ?? []).map((f) => `${f.policy}:${f.name}`),
    },
    against: {
      kind: target.kind,
      name: target.name,
      hosts: listsOf(target).against,
    },
    policy: opts.policy,
    resolvedAt: opts.now.toISOString(),
    tool: opts.tool,
    decisions,
  };
}
