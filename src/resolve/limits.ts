import type { GuestSpec } from '../model/guest.js';
import { UserError } from '../util/errors.js';
import type { TargetHost } from './target.js';

/**
 * How much guestabi takes from a user before it starts the work: a 50 MB domain with 870,000
 * interfaces once took 68 s and 3.3 GB before it was answered. Each limit is named in the error
 * with the flag and the environment variable that raise it (README: "Limits").
 */
export interface Limits {
  /** Bytes of one file a user names (a guest, a profile, a cluster, an inventory, a policy). */
  inputBytes: number;
  /** Devices in one guest. */
  devices: number;
  /** Hosts in one cluster or inventory. */
  hosts: number;
  /** Guest memory, MiB. */
  memoryMiB: number;
  /** vCPUs of one guest (count and maxcpus). */
  vcpus: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  inputBytes: 16 * 1024 * 1024,
  devices: 4096,
  hosts: 100_000,
  // 4 PiB: the most an x86_64 or aarch64 guest can address (52 physical address bits,
  // TARGET_PHYS_ADDR_SPACE_BITS in target/i386/cpu-param.h and target/arm/cpu-param.h).
  memoryMiB: 2 ** 32,
  // The largest cpu-max of any machine type in the shipped catalogs (pc-q35 on QEMU 10.0).
  vcpus: 4096,
});

/** Each limit's flag and environment variable. */
export const LIMIT_SETTINGS: Record<keyof Limits, { flag: string; env: string; what: string }> = {
  inputBytes: { flag: '--max-input-bytes', env: 'GUESTABI_MAX_INPUT_BYTES', what: 'bytes' },
  devices: { flag: '--max-devices', env: 'GUESTABI_MAX_DEVICES', what: 'devices' },
  hosts: { flag: '--max-hosts', env: 'GUESTABI_MAX_HOSTS', what: 'hosts' },
  memoryMiB: { flag: '--max-memory-mib', env: 'GUESTABI_MAX_MEMORY_MIB', what: 'MiB' },
  vcpus: { flag: '--max-vcpus', env: 'GUESTABI_MAX_VCPUS', what: 'vCPUs' },
};

let current: Limits = { ...DEFAULT_LIMITS };

export function limits(): Readonly<Limits> {
  return current;
}

/** Set some limits (the CLI does, from its flags and environment); the rest keep their value. */
export function setLimits(l: Partial<Limits>): void {
  current = { ...current, ...l };
}

/** Limits from environment variables (GUESTABI_MAX_*): a value that is not a positive integer is an error. */
export function limitsFromEnv(env: Record<string, string | undefined>): Partial<Limits> {
  const out: Partial<Limits> = {};
  for (const [key, s] of Object.entries(LIMIT_SETTINGS) as [keyof Limits, (typeof LIMIT_SETTINGS)[keyof Limits]][]) {
    const v = env[s.env];
    if (v !== undefined && v !== '') out[key] = parseLimit(v, s.env);
  }
  return out;
}

export function parseLimit(text: string, where: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < 1) throw new UserError(`a limit must be a positive integer, not '${text}'`, where);
  return n;
}

/** The error for a value over a limit: names the limit and how to raise it. */
export function overLimit(key: keyof Limits, value: number, subject: string, where: string): UserError {
  const s = LIMIT_SETTINGS[key];
  return new UserError(`${subject}: ${value} ${s.what}, over the limit of ${current[key]} (raise it with ${s.flag} or ${s.env})`, where);
}

export function checkLimit(key: keyof Limits, value: number, subject: string, where: string): void {
  if (value > current[key]) throw overLimit(key, value, subject, where);
}

/** QEMU's own bounds (not guestabi's): the most -m slots ACPI describes (ACPI_MAX_RAM_SLOTS,
 *  include/hw/mem/pc-dimm.h, checked in system/vl.c), and virtio's queue limit (VIRTIO_QUEUE_MAX,
 *  include/hw/virtio/virtio.h) for the queue counts of a device. */
export const QEMU_MAX_RAM_SLOTS = 256;
export const QEMU_VIRTIO_QUEUE_MAX = 1024;
const QUEUE_PROPERTIES = new Set(['queues', 'num-queues', 'num_queues', 'num-request-queues', 'vectors']);

/**
 * What any guest must satisfy whatever the build: guestabi's limits, QEMU's fixed bounds and the
 * -smp rules of hw/core/machine-smp.c that do not depend on the machine type. Run after parsing,
 * on every format (argv, libvirt XML, GuestSpec), before any work.
 */
export function checkGuestLimits(spec: GuestSpec, source: string): void {
  checkLimit('devices', spec.devices.length, 'the guest has too many devices', `${source}: devices`);
  checkLimit('memoryMiB', spec.memory.sizeMiB, 'too much memory', `${source}: memory.sizeMiB`);
  if (spec.memory.maxMiB !== undefined) {
    checkLimit('memoryMiB', spec.memory.maxMiB, 'too much maximum memory', `${source}: memory.maxMiB`);
    if (spec.memory.maxMiB < spec.memory.sizeMiB) {
      throw new UserError(`maximum memory (${spec.memory.maxMiB} MiB) must be at least the memory (${spec.memory.sizeMiB} MiB), as QEMU requires (system/vl.c)`, `${source}: memory.maxMiB`);
    }
  }
  if (spec.memory.slots !== undefined && spec.memory.slots > QEMU_MAX_RAM_SLOTS) {
    throw new UserError(`${spec.memory.slots} memory slots: QEMU takes at most ${QEMU_MAX_RAM_SLOTS} (ACPI_MAX_RAM_SLOTS)`, `${source}: memory.slots`);
  }
  checkLimit('vcpus', spec.vcpus.count, 'too many vCPUs', `${source}: vcpus.count`);
  if (spec.vcpus.max !== undefined) checkLimit('vcpus', spec.vcpus.max, 'too many vCPUs (maxcpus)', `${source}: vcpus.max`);
  const topo = qemuSmp(spec.vcpus, false);
  if (typeof topo === 'string') throw new UserError(topo, `${source}: vcpus`);
  for (const d of spec.devices) checkQueues(d, source);
}

function checkQueues(d: GuestSpec['devices'][number], source: string): void {
  for (const [k, v] of Object.entries(d.properties ?? {})) {
    if (!QUEUE_PROPERTIES.has(k) || !/^\d+$/.test(v)) continue;
    if (Number(v) > QEMU_VIRTIO_QUEUE_MAX) {
      throw new UserError(`${k}=${v}: QEMU takes at most ${QEMU_VIRTIO_QUEUE_MAX} (VIRTIO_QUEUE_MAX)`, `${source}: device ${d.id ?? d.type}${d.source ? ` (${d.source})` : ''}`);
    }
  }
}

/** A topology as QEMU computes it: every member filled in. */
export interface SmpTopology {
  cpus: number;
  maxcpus: number;
  sockets: number;
  dies: number;
  cores: number;
  threads: number;
}

/**
 * QEMU's -smp rules (hw/core/machine-smp.c machine_parse_smp_config): missing members computed
 * from maxcpus (or cpus), preferring sockets over cores on machine types before 6.2 and cores
 * over sockets since (`smp_props.prefer_sockets`, set by hw_compat_6_1 for the older types), threads
 * last; then the product must equal maxcpus and maxcpus be at least cpus. Returns the topology,
 * or QEMU's complaint. (QEMU 5.2's pc_smp_parse computes the same as prefer_sockets.)
 */
export function qemuSmp(v: GuestSpec['vcpus'], preferSockets: boolean): SmpTopology | string {
  // A spec always carries count; a count that came from the topology product is its own cpus.
  const cpus = v.count;
  let maxcpus = v.max ?? 0;
  let sockets = v.sockets ?? 0;
  const dies = v.dies ?? 1;
  let cores = v.cores ?? 0;
  let threads = v.threads ?? 0;
  maxcpus = maxcpus > 0 ? maxcpus : cpus;
  if (preferSockets) {
    if (sockets === 0) {
      cores ||= 1;
      threads ||= 1;
      sockets = Math.floor(maxcpus / (dies * cores * threads));
    } else if (cores === 0) {
      threads ||= 1;
      cores = Math.floor(maxcpus / (sockets * dies * threads));
    }
  } else if (cores === 0) {
    sockets ||= 1;
    threads ||= 1;
    cores = Math.floor(maxcpus / (sockets * dies * threads));
  } else if (sockets === 0) {
    threads ||= 1;
    sockets = Math.floor(maxcpus / (dies * cores * threads));
  }
  if (threads === 0) threads = Math.floor(maxcpus / (sockets * dies * cores));
  const total = sockets * dies * cores * threads;
  const hierarchy = `sockets (${sockets}) * dies (${dies}) * cores (${cores}) * threads (${threads})`;
  if (total !== maxcpus) return `invalid CPU topology: the product of the hierarchy must match maxcpus: ${hierarchy} != maxcpus (${maxcpus}), as QEMU says (hw/core/machine-smp.c)`;
  if (maxcpus < cpus) return `invalid CPU topology: maxcpus (${maxcpus}) must be equal to or greater than the vCPU count (${cpus}), as QEMU says (hw/core/machine-smp.c)`;
  return { cpus, maxcpus, sockets, dies, cores, threads };
}

/** Whether a machine type computes a missing -smp member preferring sockets (before 6.2). */
export function prefersSockets(machineVersion: string | null, buildMajorMinor: [number, number]): boolean {
  const before62 = (mm: [number, number]) => mm[0] < 6 || (mm[0] === 6 && mm[1] < 2);
  if (before62(buildMajorMinor)) return true;
  const m = machineVersion === null ? undefined : /^(\d+)\.(\d+)/.exec(machineVersion);
  return m ? before62([Number(m[1]), Number(m[2])]) : false;
}

/**
 * The machine type's own maximum (`max_cpus`, query-machines `cpu-max`, in the catalog as
 * cpuMax): QEMU refuses more ("Invalid SMP CPUs N. The max CPUs supported by machine '...' is M",
 * hw/core/machine-smp.c). maxcpus is the vCPU count when not given.
 */
export function checkMachineVcpus(spec: GuestSpec, machine: string, cpuMax: number, build: string, where: string): void {
  const asked = spec.vcpus.max ?? spec.vcpus.count;
  if (asked > cpuMax) {
    throw new UserError(`the guest asks ${asked} vCPUs; machine type ${machine} takes at most ${cpuMax} on QEMU ${build} (cpu-max of query-machines)`, where);
  }
}

/**
 * What each build of a target refuses before it starts the guest, as a clear error: more vCPUs
 * than the machine type's cpu-max, or a command-line option the build does not have (QEMU:
 * "invalid option"; the catalog lists every option each build has).
 */
export function checkOnTarget(spec: GuestSpec, machine: string, hosts: readonly TargetHost[], source: string): void {
  for (const h of hosts) {
    const c = h.catalog;
    const m = c.machine(machine);
    if (m) checkMachineVcpus(spec, machine, m.cpuMax, c.version, `${source}: vcpus`);
    const known = c.data.commandLineOptions;
    const lacking = (spec.commandLineOptions ?? []).filter((o) => known.length && !known.includes(o));
    if (lacking.length) throw new UserError(`QEMU ${c.version} (host ${h.name}) has no option ${lacking.join(', ')}: it refuses to start the guest`, source);
  }
}
