import type { PropValue } from '../model/common.js';
import { PINNED_ABI_SCHEMA_ID, type PinnedAbi } from '../model/pinned.js';
import type { GuestSpec } from '../model/guest.js';
import { parseMachineName } from '../catalog/names.js';
import { PCI_BRIDGE_TYPES, PCIE_PORT_TYPES, placementOn, type PciCatalog } from './device-types.js';
import { formatOpts, shellQuote } from './qemuopts.js';
import { placeDevices, type PlacedDevice } from './topology.js';

function optValue(v: PropValue): string {
  return typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v);
}

/** Synthetic device types that stand for "a device libvirt/QEMU adds by default", not a -device. */
const NOT_A_DEVICE = /^unknown-/;

/**
 * The pinned guest as a QEMU command line: every name versioned, the CPU with its explicit
 * features and `enforce`, devices in their placement class. Host-side backends (-drive, -netdev)
 * are the caller's: devices keep the drive=/netdev= they were given.
 */
export function pinnedToArgv(p: PinnedAbi, binary = 'qemu-system-x86_64'): string[] {
  const args: string[] = [binary];
  if (p.name) args.push('-name', p.name);
  const machineOpts = Object.entries(p.machine.options).map(([k, v]): [string, string] => [k, v]);
  args.push('-machine', formatOpts(p.machine.type, machineOpts));
  if (p.accel) args.push('-accel', p.accel);
  args.push('-cpu', cpuOption(p));
  args.push(...sizeArgs(p));
  args.push('-nodefaults'); // QEMU's own defaults are explicit devices of the pinned guest
  if (p.launchSecurity) args.push(...launchSecurityArgs(p, args));
  args.push(...deviceArgs(p));
  for (const g of p.globals) args.push('-global', `${g.driver}.${g.property}=${g.value}`);
  // Options guestabi does not model go back as written (board disks from -drive need their backends: the caller's).
  for (const u of p.unmodelled ?? []) if (!u.startsWith('-drive ')) args.push(...u.split(/ (.*)/s).filter(Boolean));
  return args;
}

function cpuOption(p: PinnedAbi): string {
  const cpu = p.cpu;
  const cpuName = cpu.hostDependent ? (cpu.mode === 'maximum' ? 'max' : 'host') : cpu.model!;
  const cpuOpts: [string, string | undefined][] = [
    ...Object.entries(cpu.features)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([f, on]): [string, string] => [f, on ? 'on' : 'off']),
    ...Object.entries(cpu.properties).map(([k, v]): [string, string] => [k, optValue(v)]),
  ];
  if (cpu.enforce) cpuOpts.push(['enforce', undefined]);
  return formatOpts(cpuName, cpuOpts);
}

/** -m and -smp. */
function sizeArgs(p: PinnedAbi): string[] {
  const mem: [string, string][] = [];
  if (p.memory.slots !== undefined) mem.push(['slots', String(p.memory.slots)]);
  if (p.memory.maxMiB !== undefined) mem.push(['maxmem', `${p.memory.maxMiB}M`]);
  const smp: [string, string][] = [];
  for (const k of ['sockets', 'dies', 'cores', 'threads'] as const) if (p.vcpus[k] !== undefined) smp.push([k, String(p.vcpus[k])]);
  if (p.vcpus.max !== undefined) smp.push(['maxcpus', String(p.vcpus.max)]);
  return ['-m', formatOpts(`${p.memory.sizeMiB}M`, mem), '-smp', formatOpts(String(p.vcpus.count), smp)];
}

/** The confidential-guest object, named on -machine (already in `args`) unless the guest names one. */
function launchSecurityArgs(p: PinnedAbi, args: string[]): string[] {
  const ls = p.launchSecurity!;
  const type = { sev: 'sev-guest', 'sev-snp': 'sev-snp-guest', tdx: 'tdx-guest', 's390-pv': 's390-pv-guest' }[ls.type] ?? ls.type;
  if (!p.machine.options['confidential-guest-support']) args[args.indexOf('-machine') + 1] += ',confidential-guest-support=lsec0';
  return ['-object', formatOpts(type, [['id', 'lsec0'], ...Object.entries(ls.options ?? {})])];
}

/** Disks that QEMU will not start without a block backend (a CD-ROM may be empty). */
const NEEDS_DRIVE = /^(virtio-blk|scsi-hd$|ide-hd$|usb-storage$|nvme$)/;
/** Sound devices and codecs: QEMU 10.0 has no default audio backend ("no default audio driver available"). */
const NEEDS_AUDIODEV = /^(hda-|AC97$|ES1370$|sb16$|usb-audio$)/;

/**
 * A -device for every device, behind the ports and bridges its placement class needs. Host ends
 * the guest does not name are made so that the command line starts: a null chardev for a serial
 * or parallel port, a `none` audiodev for sound, and for a disk without drive= a null-co block
 * node called gabi-placeholder-diskN, to be replaced by the caller's own backend.
 */
function deviceArgs(p: PinnedAbi): string[] {
  const args: string[] = [];
  const n = { chr: 0, disk: 0, snd: 0 };
  const placedAll = placeDevices(p);
  const slots = slotFacts(placedAll);
  for (const placed of placedAll) {
    const d = placed.device;
    if (NOT_A_DEVICE.test(d.type)) continue;
    const opts: [string, string][] = [];
    if (placed.id) opts.push(['id', placed.id]);
    if (placed.bus) opts.push(['bus', placed.bus]);
    opts.push(...slots.extra(placed));
    if (placed.added && d.type !== 'pcie-root-port' && placed.bus) opts.push(['addr', '0x0']);
    for (const [k, v] of Object.entries(d.explicit)) if (k !== 'bus' && k !== 'id') opts.push([k, optValue(v)]);
    // Serial and parallel ports and USB redirection need a host end to start; a null one keeps the guest's device.
    if ((d.type === 'isa-parallel' || d.type === 'isa-serial' || d.type === 'usb-redir') && d.explicit.chardev === undefined) {
      const id = `gabi-chr${n.chr++}`;
      args.push('-chardev', `null,id=${id}`);
      opts.push(['chardev', id]);
    }
    if (NEEDS_DRIVE.test(d.type) && d.explicit.drive === undefined) {
      const id = `gabi-placeholder-disk${n.disk++}`;
      args.push('-blockdev', `null-co,node-name=${id},read-zeroes=on`);
      opts.push(['drive', id]);
    }
    if (NEEDS_AUDIODEV.test(d.type) && d.explicit.audiodev === undefined) {
      const id = `gabi-snd${n.snd++}`;
      args.push('-audiodev', `none,id=${id}`);
      opts.push(['audiodev', id]);
    }
    args.push('-device', formatOpts(d.type, opts));
  }
  return args;
}

/**
 * What QEMU needs of slots and ports that a pinned guest does not say (libvirt's XML says them
 * in attributes its reader keeps apart): `multifunction=on` on function 0 of a slot whose other
 * functions are used (else "PCI: single function device can't be populated in function x.y",
 * hw/pci/pci.c), and a chassis number of its own for each PCIe port and PCI bridge (else "Can't
 * add chassis slot, error -16", hw/pci/shpc.c / pcie.c): libvirt's, the controller index N of
 * pci.N, or a free one; ports and bridges added here take 100+N, clear of the guest's own.
 */
function slotFacts(placed: PlacedDevice[]): { extra: (pd: PlacedDevice) => [string, string][] } {
  const slotOf = (pd: PlacedDevice) => {
    const a = pd.device.explicit.addr;
    if (typeof a !== 'string' && typeof a !== 'number') return undefined;
    const [slot, fn] = String(a).split('.');
    return { key: `${pd.bus ?? 'root'}/${Number(slot)}`, fn: fn === undefined ? 0 : Number(fn) };
  };
  const shared = new Set(placed.map(slotOf).filter((x) => x && x.fn > 0).map((x) => x!.key));
  const indexOf = (pd: PlacedDevice) => (/^pci\.\d+$/.test(pd.id ?? '') ? Number(pd.id!.slice(4)) : undefined);
  const taken = new Set(placed.filter((pd) => !pd.added).map(indexOf).filter((x): x is number => x !== undefined));
  let free = 1;
  return {
    extra: (pd) => {
      const out: [string, string][] = [];
      const chassisProp = PCIE_PORT_TYPES.has(pd.device.type) ? 'chassis' : PCI_BRIDGE_TYPES.has(pd.device.type) && (pd.device.type === 'pci-bridge' || pd.device.type === 'pci-bridge-seat') ? 'chassis_nr' : undefined;
      if (chassisProp && pd.device.explicit[chassisProp] === undefined) {
        let chassis = indexOf(pd);
        if (pd.added) chassis = 100 + chassis!;
        else if (chassis === undefined) {
          while (taken.has(free)) free++;
          taken.add(free);
          chassis = free;
        }
        out.push([chassisProp, String(chassis)]);
      }
      const slot = slotOf(pd);
      if (slot && slot.fn === 0 && shared.has(slot.key) && pd.device.explicit.multifunction === undefined) out.push(['multifunction', 'on']);
      return out;
    },
  };
}

export function argvToText(args: string[]): string {
  const lines: string[] = [shellQuote(args[0]!)];
  for (let i = 1; i < args.length; i++) {
    const takesValue = args[i + 1] !== undefined && !args[i + 1]!.startsWith('-');
    lines.push(takesValue ? `${args[i]} ${shellQuote(args[++i]!)}` : args[i]!);
  }
  return lines.join(' \\\n  ');
}

/**
 * A guest definition in the shape of a PinnedAbi but with nothing resolved (names as written),
 * so that it can be written out as a command line that QEMU resolves itself. Given the catalog of
 * the build it will run on, devices that are not on PCI lose any placement class they were given.
 */
export function specAsPinned(spec: GuestSpec, pci?: PciCatalog): PinnedAbi {
  const hostDependent = spec.cpu.mode === 'host-passthrough' || spec.cpu.mode === 'maximum';
  return {
    schema: PINNED_ABI_SCHEMA_ID,
    arch: spec.arch ?? 'x86_64',
    ...(spec.accel ? { accel: spec.accel } : {}),
    ...(spec.name ? { name: spec.name } : {}),
    machine: { type: spec.machine.type, family: parseMachineName(spec.machine.type).family, options: spec.machine.options ?? {} },
    cpu: {
      mode: spec.cpu.mode,
      model: hostDependent ? null : (spec.cpu.model ?? 'qemu64'),
      hostDependent,
      enforce: spec.cpu.enforce ?? false,
      features: Object.fromEntries((spec.cpu.features ?? []).filter((f) => f.policy !== 'optional').map((f) => [f.name, f.policy === 'require' || f.policy === 'force'])),
      properties: spec.cpu.properties ?? {},
      identity: null,
    },
    memory: spec.memory,
    vcpus: spec.vcpus,
    devices: spec.devices.map((d) => ({ type: d.type, ...(d.id ? { id: d.id } : {}), placement: pci ? placementOn(d, pci) : (d.placement ?? 'root'), catalogKey: null, explicit: { ...(d.properties ?? {}) } })),
    globals: spec.globals ?? [],
    ...(spec.unmodelled ? { unmodelled: spec.unmodelled } : {}),
    ...(spec.launchSecurity ? { launchSecurity: spec.launchSecurity } : {}),
    effective: [],
    provenance: {
      asked: { machine: spec.machine.type, cpuMode: spec.cpu.mode, features: [] },
      against: { kind: 'host', name: 'none', hosts: [] },
      policy: 'keep',
      resolvedAt: new Date(0).toISOString(),
      tool: 'unresolved',
      decisions: [],
    },
    warnings: [],
  };
}
