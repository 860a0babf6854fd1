import type { CatalogIndex } from '../catalog/catalog.js';
import { PROBE_DEVICES, PROBE_DEVICES_PPC64, type ProbeDeviceSpec } from '../probe/devices.js';

/**
 * Guest pairs for the differential lab (`guestabi lab fuzz`), drawn from the catalogs themselves:
 * machine types (versioned or by alias) and CPU models (bare, versioned, with features of the
 * model's own expansion turned on or off) that the source build has, devices from the catalog's
 * probe set in the placements the machine type was probed with, memory and a vCPU topology.
 * Pure: no I/O, no clock; the same seed gives the same pairs.
 */

/** One device of a generated guest: a probe device key as the catalog has it (`<key>` on the root
 *  bus or `<key>@<placement>`). Children (usb-tablet, scsi-hd...) bring their parent. */
export interface GenDevice {
  key: string;
  /** Properties set on the -device option (name, value as QEMU takes it). */
  props?: [string, string][];
}

/** A guest, kept as parts so that the shrinker can take it apart; `renderGuest` writes it out. */
export interface GenGuest {
  machine: string;
  cpu: string;
  /** CPU properties set on the command line, in order (feature=on|off). */
  cpuProps: [string, boolean][];
  memMiB: number;
  /** Memory hotplug area: `-m N,slots=S,maxmem=M`. */
  hotplug?: { slots: number; maxmemMiB: number };
  smp?: { cpus: number; sockets: number; cores: number; threads: number; maxcpus?: number };
  devices: GenDevice[];
  /** -machine options (hpet=off, smm=on, ...). */
  machineOpts?: [string, string][];
  /** -global driver.property=value. */
  globals?: [string, string, string][];
  /** Without -nodefaults: QEMU adds its default devices. */
  defaults?: boolean;
}

export interface GenPair {
  name: string;
  /** The system emulator (x86_64 when not given). */
  arch?: 'x86_64' | 'ppc64' | 'aarch64';
  from: string;
  to: string;
  source: GenGuest;
  /** The destination's own definition when it differs from the source's. */
  destination?: GenGuest;
  /** What the destination changes, when it does. */
  change?: string;
}

export interface GenBuild {
  /** The build's label as the lab runs it (5.2, 7.2, 10.0). */
  version: string;
  catalog: CatalogIndex;
}

/** mulberry32: small, fast, and the same sequence for the same seed on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
const chance = (rng: Rng, p: number): boolean => rng() < p;

/** Machine types the generator uses: versioned types that were probed (their devices and CPU
 *  deltas are known), so that a verdict can be definite; isapc, microvm and x-remote have no
 *  version and are left to a later slice. */
function machinesOf(c: CatalogIndex): string[] {
  return c.machineNames().filter((n) => {
    const m = c.machine(n)!;
    return m.version !== null && m.probe === 'ok';
  });
}

/** A machine type name for the guest: versioned, or its alias when it has one (q35, pc). */
function machineName(rng: Rng, c: CatalogIndex, name: string): string {
  const alias = c.machine(name)!.alias;
  return alias && chance(rng, 0.3) ? alias : name;
}

/** VGA-class devices: a guest has at most one (QEMU registers "vga.vram" once). */
const isVgaClass = (type: string): boolean => type === 'VGA' || type.endsWith('-vga');

/** How each probe key is instantiated (backends, parent), from the probe's own device sets (the
 *  aarch64 set is part of the x86 one; ppc64 adds the PAPR VIO devices). */
const ALL_PROBE_DEVICES = [...PROBE_DEVICES, ...PROBE_DEVICES_PPC64.filter((d) => !PROBE_DEVICES.some((x) => x.key === d.key))];
function specOf(key: string): ProbeDeviceSpec | undefined {
  return ALL_PROBE_DEVICES.find((d) => d.key === key.split('@')[0]);
}

/** Devices the machine type was probed with, that a guest can be given on their own: not the
 *  board's, not ports and bridges (the placement brings those), not refused there. */
function deviceChoices(c: CatalogIndex, machine: string): string[] {
  const probed = new Set(c.data.probe.devices.map((d) => d.key));
  const on = c.devicesOn(machine);
  if (!on) return [];
  return [...on.keys()].filter((k) => {
    const spec = specOf(k);
    return probed.has(k.split('@')[0]!) && spec && !spec.rootOnly && !k.startsWith('board/');
  });
}

const on = (c: CatalogIndex, machine: string, key: string): boolean => c.devicesOn(machine)?.has(key) ?? false;

function pickDevices(rng: Rng, c: CatalogIndex, machine: string): GenDevice[] {
  const choices = deviceChoices(c, machine);
  const n = Math.floor(rng() * 5);
  const out: GenDevice[] = [];
  for (let i = 0; i < n * 3 && out.length < n && choices.length; i++) {
    const key = pick(rng, choices);
    const base = key.split('@')[0]!;
    if (out.some((d) => d.key.split('@')[0] === base)) continue;
    const type = specOf(key)!.type;
    if (isVgaClass(type) && out.some((d) => isVgaClass(specOf(d.key)!.type))) continue;
    // A child brings its parent (on the root bus), whose bus it plugs into.
    const parent = specOf(key)!.parent;
    if (parent && !out.some((d) => d.key === parent) && on(c, machine, parent)) out.push({ key: parent });
    else if (parent && !out.some((d) => d.key === parent)) continue;
    out.push({ key });
  }
  return out;
}

/** The CPU models a guest of the build may get: every x86 model; the server CPUs pseries was
 *  probed with (and the names that stand for them); the 64-bit Arm models and max. */
function cpuChoices(c: CatalogIndex): string[] {
  if (c.arch === 'ppc64') {
    const probed = new Set(Object.values(c.data.machineOptions ?? {}).flatMap((o) => o.cpus));
    return c.cpuModelNames().filter((n) => probed.has(n) || probed.has(c.cpuModel(n)?.aliasOf ?? ''));
  }
  if (c.arch === 'aarch64') return c.cpuModelNames().filter((n) => n === 'max' || c.cpuExpansion(n)?.aarch64 === true);
  return c.cpuModelNames();
}

/** The CPU properties a guest may turn over: x86's CPUID features, Arm's boolean properties (pmu, sve). */
function flippable(c: CatalogIndex, cpu: string): string[] {
  const expansion = c.cpuExpansion(cpu) ?? {};
  if (c.arch === 'aarch64') return Object.keys(expansion).filter((k) => typeof expansion[k] === 'boolean' && k !== 'aarch64' && !/^sve\d/.test(k));
  return Object.keys(expansion).filter((k) => c.cpuFeatures().has(k) && typeof expansion[k] === 'boolean');
}

/** A CPU model of the build and a few of its own features flipped. */
function pickCpu(rng: Rng, c: CatalogIndex): { cpu: string; cpuProps: [string, boolean][] } {
  const cpu = pick(rng, cpuChoices(c));
  const expansion = c.cpuExpansion(cpu) ?? {};
  const features = flippable(c, cpu);
  const cpuProps: [string, boolean][] = [];
  const flips = features.length ? Math.floor(rng() * 3) : 0;
  for (let i = 0; i < flips; i++) {
    const f = pick(rng, features);
    if (!cpuProps.some(([n]) => n === f)) cpuProps.push([f, !expansion[f]]);
  }
  return { cpu, cpuProps };
}

/** A vCPU topology that adds up (QEMU refuses one that does not), within the type's cpu-max. */
function pickSmp(rng: Rng, cpuMax: number): GenGuest['smp'] {
  if (chance(rng, 0.4)) return undefined;
  const threads = pick(rng, [1, 1, 2]);
  const cores = pick(rng, [1, 2]);
  const sockets = pick(rng, [1, 2]);
  const cpus = sockets * cores * threads;
  if (cpus > cpuMax) return undefined;
  const maxcpus = chance(rng, 0.2) && cpus * 2 <= cpuMax ? cpus * 2 : undefined;
  return { cpus, sockets: maxcpus ? sockets * 2 : sockets, cores, threads, maxcpus };
}

function pickGuest(rng: Rng, c: CatalogIndex, machine: string): GenGuest {
  const m = c.machine(machine)!;
  const hotplug = chance(rng, 0.15) ? { slots: pick(rng, [1, 2, 4]), maxmemMiB: pick(rng, [1024, 2048]) } : undefined;
  const devices = pickDevices(rng, c, machine);
  const g: GenGuest = {
    machine: machineName(rng, c, machine),
    ...pickCpu(rng, c),
    // SLOF, pseries' firmware, needs more than the 128 MiB a PC guest runs in.
    memMiB: pick(rng, c.arch === 'ppc64' ? [512, 512, 1024] : [128, 128, 256, 512]),
    hotplug,
    smp: pickSmp(rng, m.cpuMax),
    devices: devices.map((d) => (chance(rng, 0.2) ? withProps(rng, c, machine, d) : d)),
  };
  if (chance(rng, 0.15)) g.machineOpts = pickMachineOpts(rng, c, machine);
  if (chance(rng, 0.1) && devices.length) g.globals = pickGlobal(rng, c, machine, pick(rng, devices));
  // Only the PC's default devices are modelled: other boards' guests are written out whole.
  if (c.arch === 'x86_64' && chance(rng, 0.08)) g.defaults = true;
  return g;
}

/** Device properties the generator may set: booleans of the device as the catalog has it, other
 *  than QEMU-internal switches (x-*) and those that need a partner (multifunction: an address). */
function settable(c: CatalogIndex, machine: string, key: string): [string, boolean][] {
  const props = c.deviceOn(machine, key) ?? {};
  return Object.entries(props).filter((e): e is [string, boolean] => typeof e[1] === 'boolean' && !e[0].startsWith('x-') && !e[0].includes('.') && e[0] !== 'multifunction');
}

/** A device with one or two of its properties turned the other way. */
function withProps(rng: Rng, c: CatalogIndex, machine: string, d: GenDevice): GenDevice {
  const choices = settable(c, machine, d.key);
  if (!choices.length) return d;
  const props: [string, string][] = [];
  for (let i = 0, n = 1 + Math.floor(rng() * 2); i < n; i++) {
    const [k, v] = pick(rng, choices);
    if (!props.some(([x]) => x === k)) props.push([k, v ? 'off' : 'on']);
  }
  return { ...d, props };
}

/** -machine options that turn a board part on or off, among those the machine type has; on virt
 *  the interrupt controller, memory map and optional parts; on pseries a capability at another of
 *  its levels (the values the catalog probed) or another interrupt controller mode. */
const MACHINE_OPTIONS = ['hpet', 'vmport', 'smm', 'acpi', 'usb', 'sata', 'pit', 'i8042', 'graphics', 'suppress-vmdesc', 'mem-merge', 'dump-guest-core', 'its', 'highmem', 'ras', 'virtualization', 'secure'];
const VALUED_OPTIONS: Record<string, string[]> = { 'gic-version': ['2', '3'], iommu: ['none', 'smmuv3'], 'ic-mode': ['xics', 'xive', 'dual'] };
function pickMachineOpts(rng: Rng, c: CatalogIndex, machine: string): [string, string][] | undefined {
  const board = c.devicesOn(machine)?.get('board/machine') ?? {};
  const levels = c.data.machineOptions?.[c.machine(machine)?.family ?? '']?.values ?? {};
  const have = [...MACHINE_OPTIONS, ...Object.keys(VALUED_OPTIONS), ...Object.keys(levels)].filter((o) => o in board);
  if (!have.length) return undefined;
  const o = pick(rng, have);
  const v = board[o];
  const others = (VALUED_OPTIONS[o] ?? levels[o] ?? []).filter((x) => x !== String(v) && !(typeof v === 'boolean' && x === (v ? 'on' : 'off')));
  if (o in VALUED_OPTIONS || o in levels) return others.length ? [[o, pick(rng, others)]] : undefined;
  return [[o, v === true || v === 'on' ? 'off' : 'on']];
}

/** A -global for one of the guest's devices: its type and one of its properties turned over. */
function pickGlobal(rng: Rng, c: CatalogIndex, machine: string, d: GenDevice): [string, string, string][] | undefined {
  const choices = settable(c, machine, d.key);
  const spec = specOf(d.key);
  if (!choices.length || !spec) return undefined;
  const [k, v] = pick(rng, choices);
  return [[spec.type, k, v ? 'off' : 'on']];
}

/** The destination differs from the source in one element, drawn from the destination's catalog. */
function varyOne(rng: Rng, g: GenGuest, dest: CatalogIndex, destMachines: string[]): { guest: GenGuest; change: string } {
  const kind = pick(rng, ['machine', 'cpu', 'feature', 'device', 'memory', 'smp', 'property', 'option'] as const);
  if (kind === 'property' && g.devices.length) {
    const i = Math.floor(rng() * g.devices.length);
    const machine = dest.resolveMachineAlias(g.machine) ?? g.machine;
    const changed = withProps(rng, dest, machine, { key: g.devices[i]!.key });
    if (changed.props) return { guest: { ...g, devices: g.devices.map((d, j) => (j === i ? changed : d)) }, change: `${changed.key} ${changed.props.map(([k, v]) => `${k}=${v}`).join(',')}` };
  }
  if (kind === 'option') {
    const machine = dest.resolveMachineAlias(g.machine) ?? g.machine;
    const machineOpts = pickMachineOpts(rng, dest, machine);
    if (machineOpts) return { guest: { ...g, machineOpts }, change: `-machine ${machineOpts.map(([k, v]) => `${k}=${v}`).join(',')}` };
  }
  if (kind === 'machine' && destMachines.length) {
    const machine = machineName(rng, dest, pick(rng, destMachines));
    return { guest: { ...g, machine }, change: `machine ${machine}` };
  }
  if (kind === 'cpu') {
    const cpu = pick(rng, cpuChoices(dest));
    return { guest: { ...g, cpu, cpuProps: [] }, change: `cpu ${cpu}` };
  }
  if (kind === 'feature') {
    const expansion = dest.cpuExpansion(g.cpu) ?? {};
    const features = flippable(dest, g.cpu);
    const f = features.length ? pick(rng, features) : undefined;
    if (f) return { guest: { ...g, cpuProps: [...g.cpuProps.filter(([n]) => n !== f), [f, !expansion[f]]] }, change: `feature ${f}` };
  }
  if (kind === 'device' && g.devices.length) {
    const drop = g.devices[g.devices.length - 1]!;
    return { guest: { ...g, devices: withoutDevice(g.devices, drop.key) }, change: `without ${drop.key}` };
  }
  if (kind === 'smp') {
    const smp = g.smp ? undefined : { cpus: 2, sockets: 1, cores: 2, threads: 1 };
    return { guest: { ...g, smp }, change: `smp ${smp ? 2 : 1}` };
  }
  return { guest: { ...g, memMiB: g.memMiB === 256 ? 128 : 256 }, change: 'memory' };
}

/** The devices without `key`, and without the children that plugged into it. */
export function withoutDevice(devices: GenDevice[], key: string): GenDevice[] {
  return devices.filter((d) => d.key !== key && specOf(d.key)?.parent !== key);
}

/** `count` pairs over the build pairs given, cycling through them. */
export function generatePairs(o: { seed: number; count: number; builds: [GenBuild, GenBuild][] }): GenPair[] {
  const rng = prng(o.seed);
  const out: GenPair[] = [];
  for (let i = 0; i < o.count && o.builds.length; i++) {
    const [from, to] = o.builds[i % o.builds.length]!;
    const srcMachines = machinesOf(from.catalog);
    const destMachines = machinesOf(to.catalog);
    const shared = srcMachines.filter((m) => destMachines.includes(m));
    // Mostly a type both builds have; sometimes one only the source has (the destination refuses).
    const machine = pick(rng, shared.length && chance(rng, 0.85) ? shared : srcMachines);
    const source = pickGuest(rng, from.catalog, machine);
    const varied = chance(rng, 0.3) ? varyOne(rng, source, to.catalog, destMachines) : undefined;
    const arch = from.catalog.arch;
    out.push({ name: `fuzz-${o.seed}-${i}`, ...(arch !== 'x86_64' && arch !== 's390x' ? { arch } : {}), from: from.version, to: to.version, source, destination: varied?.guest, change: varied?.change });
  }
  return out;
}

/** A generated guest as a QEMU command line (no binary, no accelerator: the lab adds it). */
export function renderGuest(g: GenGuest): string {
  const cpu = [g.cpu, ...g.cpuProps.map(([f, v]) => `${f}=${v ? 'on' : 'off'}`)].join(',');
  const mem = g.hotplug ? `${g.memMiB},slots=${g.hotplug.slots},maxmem=${g.hotplug.maxmemMiB}M` : `${g.memMiB}`;
  const machine = [g.machine, ...(g.machineOpts ?? []).map(([k, v]) => `${k}=${v}`)].join(',');
  const words = ['-machine', machine, '-cpu', cpu, '-m', mem, ...(g.defaults ? [] : ['-nodefaults'])];
  for (const [driver, prop, value] of g.globals ?? []) words.push('-global', `${driver}.${prop}=${value}`);
  if (g.smp) words.push('-smp', `${g.smp.cpus},sockets=${g.smp.sockets},cores=${g.smp.cores},threads=${g.smp.threads}${g.smp.maxcpus ? `,maxcpus=${g.smp.maxcpus}` : ''}`);
  return [...words, ...deviceWords(g.devices)].join(' ');
}

/** Devices as -device options, each placement as the probe measured it: behind a root port of
 *  its own (pcie-port), or behind one PCIe-to-PCI bridge (pci-bridge). */
function deviceWords(devices: GenDevice[]): string[] {
  const out: string[] = [];
  let bridge = false;
  devices.forEach((d, i) => {
    const [base, placement] = d.key.split('@') as [string, string | undefined];
    const spec = specOf(base)!;
    const id = `d${i}`;
    let bus = '';
    if (placement === 'pcie-port') {
      out.push('-device', `pcie-root-port,id=rp${i},chassis=${i + 1}`);
      bus = `,bus=rp${i}`;
    } else if (placement === 'pci-bridge') {
      if (!bridge) out.push('-device', 'pcie-root-port,id=rpb,chassis=99', '-device', 'pcie-pci-bridge,id=br,bus=rpb');
      bridge = true;
      bus = `,bus=br,addr=0x${(i + 1).toString(16)}`;
    } else if (spec.parent) {
      const p = devices.findIndex((x) => x.key === spec.parent);
      bus = `,bus=d${p}.0`;
    }
    const opts = `${spec.options ? `,${spec.options}` : ''}${bus}${(d.props ?? []).map(([k, v]) => `,${k}=${v}`).join('')}`;
    if (spec.charBackend) out.push('-chardev', `null,id=${id}c`, '-device', `${spec.type},id=${id},chardev=${id}c${opts}`);
    else if (spec.audioBackend) out.push('-audiodev', `none,id=${id}a`, '-device', `${spec.type},id=${id},audiodev=${id}a${opts}`);
    else if (spec.blockBackend) out.push('-blockdev', `null-co,node-name=${id}b`, '-device', `${spec.type},id=${id},drive=${id}b${opts}`);
    else out.push('-device', `${spec.type},id=${id}${opts}`);
  });
  return out;
}
