import type { Arch } from '../model/common.js';

/**
 * The fixed set of devices that the probe instantiates on every machine type, so that the
 * catalog can say which property values each machine type gives them (compat properties only
 * show on an instance). Chosen to cover what guests are given in practice: the virtio family in
 * its default, transitional and non-transitional forms, the emulated NICs, USB and VGA.
 * A device whose key changes changes the catalog format: keep keys stable.
 */
export interface ProbeDeviceSpec {
  /** Stable key in the catalog; also the QOM id "probe-<key>". */
  key: string;
  type: string;
  /** The device needs a block backend (a null-co blockdev made for it). */
  blockBackend?: boolean;
  /** The device needs a character backend (a null chardev made for it). */
  charBackend?: boolean;
  /** The device needs an audio backend (a `none` audiodev made for it: QEMU 10.0 has no default). */
  audioBackend?: boolean;
  /** Not a PCI device: it plugs into the bus of another probe device (usb, scsi) or ISA. */
  notPci?: boolean;
  /** Key of the probe device whose bus it plugs into. */
  parent?: string;
  /** Extra -device options it needs. */
  options?: string;
  /** Probed on the root bus only (ports and bridges, which sit where they are put). */
  rootOnly?: boolean;
  /** Probed apart, in an instance of the machine for its group, on the root bus only: it cannot
   *  sit beside the others (a second VGA with global vmstate aborts QEMU: RAMBlock "vga.vram"
   *  already registered), or the root bus of i440fx has no slot left for it (32 slots). */
  apart?: string;
}

export const PROBE_DEVICES: ProbeDeviceSpec[] = [
  // libvirt's default video with SPICE. Apart: on machine types up to 2.x its VGA memory is
  // registered under a global name, as VGA's is (the global-vmstate compat property).
  { key: 'qxl-vga', type: 'qxl-vga', apart: 'qxl-vga' },
  { key: 'virtio-net-pci', type: 'virtio-net-pci' },
  { key: 'virtio-net-pci-transitional', type: 'virtio-net-pci-transitional' },
  { key: 'virtio-net-pci-non-transitional', type: 'virtio-net-pci-non-transitional' },
  { key: 'virtio-blk-pci', type: 'virtio-blk-pci', blockBackend: true },
  { key: 'virtio-blk-pci-transitional', type: 'virtio-blk-pci-transitional', blockBackend: true },
  { key: 'virtio-blk-pci-non-transitional', type: 'virtio-blk-pci-non-transitional', blockBackend: true },
  { key: 'virtio-scsi-pci', type: 'virtio-scsi-pci' },
  { key: 'virtio-balloon-pci', type: 'virtio-balloon-pci' },
  { key: 'virtio-serial-pci', type: 'virtio-serial-pci' },
  { key: 'virtio-rng-pci', type: 'virtio-rng-pci' },
  { key: 'virtio-gpu-pci', type: 'virtio-gpu-pci' },
  { key: 'e1000e', type: 'e1000e' },
  { key: 'e1000', type: 'e1000' },
  { key: 'rtl8139', type: 'rtl8139' },
  { key: 'qemu-xhci', type: 'qemu-xhci' },
  { key: 'piix3-usb-uhci', type: 'piix3-usb-uhci' },
  { key: 'ich9-ahci', type: 'ich9-ahci' },
  { key: 'VGA', type: 'VGA' },
  { key: 'qxl', type: 'qxl' },
  { key: 'i6300esb', type: 'i6300esb' },
  { key: 'pcie-root-port', type: 'pcie-root-port', options: 'chassis=200', rootOnly: true },
  { key: 'pcie-pci-bridge', type: 'pcie-pci-bridge', rootOnly: true },
  { key: 'pci-bridge', type: 'pci-bridge', options: 'chassis_nr=201', rootOnly: true },
  { key: 'usb-tablet', type: 'usb-tablet', notPci: true, parent: 'qemu-xhci' },
  { key: 'scsi-hd', type: 'scsi-hd', notPci: true, parent: 'virtio-scsi-pci', blockBackend: true },
  { key: 'isa-serial', type: 'isa-serial', notPci: true },
  // What libvirt 9.0 and virt-install add or choose by default on q35 and i440fx (the fixtures in
  // test/fixtures/libvirt/ made by virt-install): the guest agent's and SPICE's channels and a
  // virtio console on virtio-serial, virtio-vga and the other default video models, ICH9 USB
  // (EHCI with its UHCI companions, libvirt's default with SPICE), HDA sound with libvirt's
  // default codec, USB keyboard and mouse (libvirt's defaults on machines without PS/2).
  { key: 'virtserialport', type: 'virtserialport', notPci: true, parent: 'virtio-serial-pci', charBackend: true },
  { key: 'virtconsole', type: 'virtconsole', notPci: true, parent: 'virtio-serial-pci', charBackend: true },
  { key: 'virtio-vga', type: 'virtio-vga' },
  { key: 'bochs-display', type: 'bochs-display' },
  { key: 'ich9-usb-ehci1', type: 'ich9-usb-ehci1' },
  { key: 'ich9-usb-uhci1', type: 'ich9-usb-uhci1' },
  { key: 'ich9-usb-uhci2', type: 'ich9-usb-uhci2' },
  { key: 'ich9-usb-uhci3', type: 'ich9-usb-uhci3' },
  { key: 'ich9-intel-hda', type: 'ich9-intel-hda', apart: 'sound' },
  { key: 'intel-hda', type: 'intel-hda', apart: 'sound' },
  { key: 'hda-duplex', type: 'hda-duplex', notPci: true, parent: 'intel-hda', audioBackend: true, apart: 'sound' },
  { key: 'usb-kbd', type: 'usb-kbd', notPci: true, parent: 'qemu-xhci' },
  { key: 'usb-mouse', type: 'usb-mouse', notPci: true, parent: 'qemu-xhci' },
  // QEMU's default devices without -nodefaults: a parallel port and an IDE CD-ROM (on the
  // board's own IDE or AHCI controller), plus the IDE disk most legacy guests boot from. The
  // board's buses are named: left to itself, QEMU would put a unit on the probe's ich9-ahci,
  // whose buses hold one unit each, and refuse the second.
  { key: 'isa-parallel', type: 'isa-parallel', notPci: true, charBackend: true },
  { key: 'ide-cd', type: 'ide-cd', notPci: true, options: 'bus=ide.0' },
  { key: 'ide-hd', type: 'ide-hd', notPci: true, blockBackend: true, options: 'bus=ide.1' },
];

/**
 * The probe set of qemu-system-ppc64 (pseries): the virtio family in its three forms on the PHB
 * (the seeds' question is what each pseries type gives legacy-only guests), the PAPR VIO devices
 * guests boot from (spapr-vscsi, spapr-vlan), USB and the display pseries guests get.
 */
export const PROBE_DEVICES_PPC64: ProbeDeviceSpec[] = [
  ...PROBE_DEVICES.filter((d) => /^virtio-(net|blk|scsi|balloon|serial|rng|gpu)-pci/.test(d.key) || ['qemu-xhci', 'VGA', 'pci-bridge', 'usb-tablet', 'usb-kbd', 'scsi-hd', 'virtserialport', 'virtconsole', 'e1000'].includes(d.key)),
  { key: 'spapr-vscsi', type: 'spapr-vscsi', notPci: true },
  { key: 'spapr-vlan', type: 'spapr-vlan', notPci: true },
];

/** The probe set of qemu-system-aarch64 (virt): virtio on the PCIe root complex and behind ports
 *  and bridges, USB, the ports themselves, and a NIC and display other than virtio. */
export const PROBE_DEVICES_AARCH64: ProbeDeviceSpec[] = PROBE_DEVICES.filter(
  (d) => /^virtio-(net|blk|scsi|balloon|serial|rng|gpu)-pci/.test(d.key) || ['qemu-xhci', 'e1000e', 'pcie-root-port', 'pcie-pci-bridge', 'pci-bridge', 'usb-tablet', 'usb-kbd', 'scsi-hd', 'virtserialport', 'virtconsole', 'bochs-display'].includes(d.key),
);

/** The probe set of an architecture's system emulator. */
export function probeDevicesFor(arch: Arch): ProbeDeviceSpec[] {
  return arch === 'ppc64' ? PROBE_DEVICES_PPC64 : arch === 'aarch64' ? PROBE_DEVICES_AARCH64 : PROBE_DEVICES;
}

/**
 * Where a PCI device sits changes what the guest sees (a virtio device with disable-legacy=auto
 * is modern-only behind a PCIe port, transitional elsewhere), so on machine types whose root bus
 * is PCI Express the devices are probed a second time in each placement class. Catalog keys are
 * `<key>` on the root bus and `<key>@<placement>` otherwise.
 *
 * - `pcie-port`: a PCI Express bus that is not the root complex (measured behind pcie-root-port;
 *   ioh3420 and switch downstream ports are the same class).
 * - `pci-bridge`: conventional PCI behind a bridge (measured behind pcie-pci-bridge).
 */
export const PLACEMENTS = ['pcie-port', 'pci-bridge'] as const;
export type Placement = 'root' | (typeof PLACEMENTS)[number];

/** Block node names are limited to 31 characters: number them instead of naming them. */
function deviceArgs(d: ProbeDeviceSpec, id: string, extra: string, disks: { n: number }): string[] {
  const parentBus = d.parent ? `,bus=probe-${d.parent}.0` : '';
  const opts = `${d.options ? `,${d.options}` : ''}${parentBus}${extra}`;
  if (d.charBackend) return ['-chardev', `null,id=${id}-chr`, '-device', `${d.type},id=${id},chardev=${id}-chr${opts}`];
  if (d.audioBackend) return ['-audiodev', `none,id=${id}-snd`, '-device', `${d.type},id=${id},audiodev=${id}-snd${opts}`];
  if (!d.blockBackend) return ['-device', `${d.type},id=${id}${opts}`];
  const node = `probe-disk${disks.n++}`;
  return ['-blockdev', `null-co,node-name=${node}`, '-device', `${d.type},id=${id},drive=${node}${opts}`];
}

/** The devices on the machine's root bus (and those that plug into them). A child whose parent
 *  is left out is left out too. */
export function probeDeviceArgs(devices: ProbeDeviceSpec[] = sharing()): string[] {
  const disks = { n: 0 };
  const keys = new Set(devices.map((d) => d.key));
  return devices.filter((d) => !d.parent || keys.has(d.parent)).flatMap((d) => deviceArgs(d, `probe-${d.key}`, '', disks));
}

/** The probe devices that share the machine's first instance. */
export function sharing(devices: ProbeDeviceSpec[] = PROBE_DEVICES): ProbeDeviceSpec[] {
  return devices.filter((d) => !d.apart);
}

/** The groups of devices probed apart, each in an instance of its own. */
export function apartGroups(devices: ProbeDeviceSpec[] = PROBE_DEVICES): [string, ProbeDeviceSpec[]][] {
  const groups = new Map<string, ProbeDeviceSpec[]>();
  for (const d of devices) if (d.apart) groups.set(d.apart, [...(groups.get(d.apart) ?? []), d]);
  return [...groups];
}

/** Devices that are probed again in each placement class. */
export function placeable(devices: ProbeDeviceSpec[]): ProbeDeviceSpec[] {
  return devices.filter((d) => !d.notPci && !d.rootOnly && !d.apart);
}

/** QOM ids cannot hold '@': placement instances use probe-<key>.<placement>. */
export function placementId(key: string, placement: Placement): string {
  return placement === 'root' ? `probe-${key}` : `probe-${key}.${placement}`;
}

/** The catalog key of a probe device QOM id, or undefined for other devices. */
export function keyOfProbeId(id: string): string | undefined {
  if (!id.startsWith('probe-')) return undefined;
  const rest = id.slice('probe-'.length);
  for (const p of PLACEMENTS) if (rest.endsWith(`.${p}`)) return `${rest.slice(0, -p.length - 1)}@${p}`;
  return rest;
}

/** The devices in one placement class: behind their own PCIe root port each, or all behind one
 *  PCIe-to-PCI bridge. One instance per class, as some devices may exist once only (VGA, balloon). */
export function placementDeviceArgs(devices: ProbeDeviceSpec[], placement: Exclude<Placement, 'root'>): string[] {
  const args: string[] = [];
  const disks = { n: 0 };
  if (placement === 'pcie-port') {
    devices.forEach((d, i) => {
      args.push('-device', `pcie-root-port,id=infra-port${i},chassis=${i + 1}`);
      args.push(...deviceArgs(d, placementId(d.key, placement), `,bus=infra-port${i}`, disks));
    });
  } else {
    // The bridge itself is measured too: it is a device of the guest's in a pcie-port placement.
    const bridge = placementId('pcie-pci-bridge', 'pcie-port');
    args.push('-device', 'pcie-root-port,id=infra-bridge-port,chassis=1');
    args.push('-device', `pcie-pci-bridge,id=${bridge},bus=infra-bridge-port`);
    devices.forEach((d, i) => args.push(...deviceArgs(d, placementId(d.key, placement), `,bus=${bridge},addr=0x${(i + 1).toString(16)}`, disks)));
  }
  return args;
}
