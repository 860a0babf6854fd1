import type { Props } from '../model/common.js';
import type { GuestSpec } from '../model/guest.js';
import { reason, type Reason } from '../model/reason.js';
import { canonicalFeature } from '../resolve/cpu.js';
import { catalogKey, globalApplies, typedValue } from '../resolve/devices.js';
import type { TargetHost } from '../resolve/target.js';
import { isPciType } from '../formats/device-types.js';
import { UserError } from '../util/errors.js';
import { parseOnOff } from '../formats/qemuopts.js';
import type { PropValue } from '../model/common.js';

/** Features the accelerator gives (Hyper-V, KVM paravirt): a host CPU expansion cannot vouch for them. */
const ACCEL_FEATURES = /^(hv-.*|kvm.*)$/;

export interface RuntimeDevice {
  type: string;
  id: string | undefined;
  placement: string;
  /** null: the catalogs do not know this device in this placement. */
  props: Props | null;
  /** What the guest definition sets, as written, without host-side names (ids, backends, buses). */
  settings: Record<string, string>;
}

/** Device settings that name host-side things or the QEMU object tree, never seen by the guest.
 *  Everything else a definition sets (mac, addr, serial, bootindex...) is compared. */
export const HOST_ONLY_SETTINGS = new Set(['id', 'drive', 'netdev', 'chardev', 'bus', 'audiodev', 'iothread', 'failover_pair_id', 'fsdev', 'host', 'sysfsdev']);

/**
 * What QEMU gives a guest on one host, as QEMU itself resolves it at start: the machine alias to
 * this build's type, the CPU name as this machine type defines it (a bare name is its alias or
 * the legacy definition), features the host lacks filtered away (or a refusal with enforce), every
 * device with the machine type's properties in its placement class.
 */
export interface RuntimePlatform {
  host: TargetHost;
  spec: GuestSpec;
  machine: string | null;
  cpuName: string | null;
  cpuHostDependent: boolean;
  cpu: Props | null;
  /** Features QEMU drops without a word because the host lacks them (no enforce). */
  filtered: string[];
  devices: RuntimeDevice[];
  board: Map<string, Props> | null;
  memoryMiB: number;
  vcpus: GuestSpec['vcpus'];
  machineOptions: Record<string, string>;
  /** Why this guest cannot start here at all. */
  problems: Reason[];
}

export function runtimePlatform(spec: GuestSpec, host: TargetHost, source = 'guest'): RuntimePlatform {
  const c = host.catalog;
  const problems: Reason[] = [];
  const machine = c.resolveMachineAlias(spec.machine.type) ?? null;
  const base = {
    host,
    spec,
    machine,
    cpuName: null,
    cpuHostDependent: false,
    cpu: null,
    filtered: [] as string[],
    devices: [] as RuntimeDevice[],
    board: null,
    memoryMiB: spec.memory.sizeMiB,
    vcpus: spec.vcpus,
    machineOptions: spec.machine.options ?? {},
  };
  if (!machine) {
    problems.push(
      reason('MACHINE_TYPE_UNKNOWN', 'error', spec.machine.type, `QEMU ${c.version} on ${host.name} has no machine type ${spec.machine.type}`, {
        host: host.name,
        effect: 'impossible',
        remedy: 'pin a machine type both builds offer (guestabi resolve --cluster)',
      }),
    );
    return { ...base, problems };
  }
  const m = c.machine(machine)!;
  const probed = m.probe === 'ok';
  const lacking = (spec.commandLineOptions ?? []).filter((o) => c.data.commandLineOptions.length && !c.data.commandLineOptions.includes(o));
  if (lacking.length) {
    problems.push(
      reason('OPTION_UNKNOWN', 'error', lacking.join(' '), `QEMU ${c.version} on ${host.name} has no option ${lacking.join(', ')}: it refuses to start`, {
        host: host.name,
        effect: 'impossible',
        remedy: lacking.includes('-no-hpet') ? 'use -machine hpet=off' : 'use the option this build has instead',
      }),
    );
  }

  // CPU, as QEMU resolves it here.
  let cpuName: string | null;
  let cpu: Props | null = null;
  const filtered: string[] = [];
  const hostDependent = spec.cpu.mode === 'host-passthrough' || spec.cpu.mode === 'maximum';
  const features = new Map<string, boolean>();
  for (const f of spec.cpu.features ?? []) {
    if (f.policy === 'optional') continue;
    features.set(canonicalFeature(f.name, c), f.policy === 'require' || f.policy === 'force');
  }
  if (hostDependent) {
    cpuName = spec.cpu.mode === 'maximum' ? 'max' : 'host';
    cpu = host.profile.hostCpu.props ?? null; // the profile's own map: copied below only if something changes it
  } else {
    cpuName = spec.cpu.model ?? m.defaultCpuType ?? 'qemu64';
    if (!c.cpuModel(cpuName)) {
      problems.push(reason('CPU_MODEL_UNKNOWN', 'error', cpuName, `QEMU ${c.version} on ${host.name} has no CPU model ${cpuName}`, { host: host.name, effect: 'impossible' }));
    } else {
      const e = probed ? c.cpuOnMachine(cpuName, machine) : undefined;
      if (e) cpu = e; // the catalog's own map: copied below only if something changes it
      const known = host.unavailable.get(cpuName);
      if (!known) {
        problems.push(
          reason('CPU_AVAILABILITY_UNKNOWN', 'warn', cpuName, `${host.name}'s profile does not say whether ${cpuName} can run there: it was probed with another QEMU build, or the build lists no such model`, {
            host: host.name,
            effect: 'unknown',
            remedy: `probe ${host.name} with the QEMU build it runs (guestabi probe --host-only)`,
          }),
        );
      }
      const missing = new Set(known ?? []);
      for (const [f, on] of features) {
        if (cpu && !(f in cpu)) throw new UserError(`unknown CPU feature '${f}' (not a feature of QEMU ${c.version})`, `${source}: cpu feature`);
        if (!on) missing.delete(f);
        else if (!ACCEL_FEATURES.test(f) && host.hostFeatures && !host.hostFeatures.has(f)) missing.add(f);
      }
      if (missing.size) {
        if (spec.cpu.enforce) {
          problems.push(
            reason('CPU_FEATURE_MISSING', 'error', cpuName, `QEMU refuses to start ${cpuName} with enforce on ${host.name}: ${[...missing].join(' ')} unavailable`, {
              host: host.name,
              details: [...missing],
              effect: 'impossible',
              remedy: `choose a CPU model ${host.name} can run (guestabi resolve), or disable ${[...missing].join(', ')}`,
            }),
          );
        } else filtered.push(...missing);
      }
    }
  }
  const accel = host.accelCpuDelta;
  if (cpu && (features.size || filtered.length || Object.keys(spec.cpu.properties ?? {}).length || (accel && !hostDependent))) {
    cpu = derivedCpu(cpu, features, spec.cpu.properties ?? {}, filtered, accel && !hostDependent ? accel : null);
  }

  // Devices, in their placement class, with what the definition sets.
  const devices: RuntimeDevice[] = spec.devices.map((d) => {
    const key = catalogKey(d);
    const known = probed ? c.deviceOn(machine, key) : undefined;
    const settings: Record<string, string> = {};
    for (const [k, v] of Object.entries(d.properties ?? {})) if (!HOST_ONLY_SETTINGS.has(k)) settings[k] = v;
    let props: Props | null = null;
    const globals = (spec.globals ?? []).filter((g) => globalApplies(g.driver, d.type));
    if (known && !Object.keys(settings).length && !globals.length) props = known;
    else if (known) {
      props = { ...known };
      for (const g of globals) if (g.property in props) props[g.property] = typedValue(g.value, props[g.property]);
      // A setting qtree does not show (an alias onto a child object, such as qemu-xhci's p2) is
      // compared as written.
      for (const [k, v] of Object.entries(settings)) props[k] = typedValue(v, props[k] ?? guessType(v));
      if ('disable-legacy' in settings || 'disable-modern' in settings) for (const k of Object.keys(props)) if (k.startsWith('pci.')) delete props[k];
    }
    const why = m.refusedDevices?.[key];
    if (why && !why.startsWith('placement not probed')) {
      problems.push(reason('DEVICE_REFUSED', 'error', d.type, `QEMU ${c.version} refuses ${d.type} on ${machine}: ${why}`, { host: host.name, effect: 'impossible' }));
    }
    return { type: d.type, id: d.id, placement: isPciType(d.type) ? (d.placement ?? 'root') : 'root', props, settings };
  });

  let board: Map<string, Props> | null = null;
  const all = probed ? c.devicesOn(machine) : undefined;
  if (all) {
    board = boardOf(all);
    // -machine options are the machine object's properties.
    const mp = board.get('board/machine');
    if (mp && Object.keys(spec.machine.options ?? {}).length) {
      const withOptions = { ...mp };
      for (const [k, v] of Object.entries(spec.machine.options ?? {})) if (k in mp) withOptions[k] = typedValue(v, mp[k]);
      board = new Map(board).set('board/machine', withOptions);
    }
  }
  if (spec.vcpus.max !== undefined && spec.vcpus.max > m.cpuMax) {
    problems.push(reason('VCPUS_OVER_MACHINE_LIMIT', 'error', machine, `${machine} takes at most ${m.cpuMax} vCPUs, the guest asks ${spec.vcpus.max}`, { host: host.name, effect: 'impossible' }));
  }
  return { ...base, cpuName, cpuHostDependent: hostDependent, cpu, filtered, devices, board, problems };
}

const derived = new WeakMap<Props, Map<string, Props>>();
/** Distinct changes kept per base map: definitions a server is sent could otherwise grow it without end. */
const DERIVED_KEPT = 256;
/**
 * A CPU map with what the definition sets, the features the host filters away and what the
 * accelerator adds, built once per base map and distinct change: platforms that get the same CPU
 * share one map (never modified), so the differences worked out between two maps are reused
 * (guestVisibleDiff caches by map).
 */
function derivedCpu(base: Props, features: Map<string, boolean>, properties: Props, filtered: string[], accel: Props | null): Props {
  const key = JSON.stringify([[...features], properties, filtered, accel]);
  let byChange = derived.get(base);
  if (!byChange) derived.set(base, (byChange = new Map()));
  let cpu = byChange.get(key);
  if (!cpu) {
    cpu = { ...base };
    for (const [f, on] of features) cpu[f] = on;
    for (const [k, v] of Object.entries(properties)) cpu[k] = v;
    for (const f of filtered) cpu[f] = false;
    if (accel) for (const [k, v] of Object.entries(accel)) if (!features.has(k) && !filtered.includes(k)) cpu[k] = v;
    if (byChange.size < DERIVED_KEPT) byChange.set(key, cpu);
  }
  return cpu;
}

const boards = new WeakMap<Map<string, Props>, Map<string, Props>>();
/** The board devices of a machine type (its `board/` entries), worked out once per catalog map:
 *  shared by every platform on that machine type, so that what is derived from it is cached too. */
function boardOf(all: Map<string, Props>): Map<string, Props> {
  let board = boards.get(all);
  if (!board) {
    board = new Map();
    for (const [k, v] of all) if (k.startsWith('board/')) board.set(k, v);
    boards.set(all, board);
  }
  return board;
}

/** How a value written on a command line most likely reads: on/off as a boolean, digits as a number. */
function guessType(v: string): PropValue {
  if (parseOnOff(v) !== undefined && !/^\d+$/.test(v)) return true;
  return /^(0x[0-9a-f]+|-?\d+)$/i.test(v) ? 0 : '';
}
