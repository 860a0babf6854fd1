import type { GuestPlacement } from '../model/guest.js';

/**
 * What guestabi knows of QEMU device types by name: which are PCI Express ports and PCI bridges
 * (they decide a device's placement class), and what role a device plays. Names are QEMU's.
 * Whether a type is a PCI device at all is QEMU's answer, recorded in each catalog.
 */
export const PCIE_PORT_TYPES = new Set(['pcie-root-port', 'ioh3420', 'xio3130-downstream']);
export const PCI_BRIDGE_TYPES = new Set(['pci-bridge', 'pci-bridge-seat', 'pcie-pci-bridge', 'i82801b11-bridge']);
/** Root buses by the names QEMU gives them. */
export const ROOT_BUSES = new Set(['pcie.0', 'pci.0']);

/**
 * QEMU's short names of device types (system/qdev-monitor.c qdev_alias_table[], the PCI forms on
 * x86, ppc64 and aarch64): -device lsi is lsi53c895a. guestabi keeps the type's own name.
 */
const QEMU_DEVICE_ALIASES: Record<string, string> = {
  ac97: 'AC97',
  'e1000-82540em': 'e1000',
  es1370: 'ES1370',
  ahci: 'ich9-ahci',
  lsi: 'lsi53c895a',
  'virtio-9p': 'virtio-9p-pci',
  'virtio-balloon': 'virtio-balloon-pci',
  'virtio-blk': 'virtio-blk-pci',
  'virtio-gpu': 'virtio-gpu-pci',
  'virtio-gpu-gl': 'virtio-gpu-gl-pci',
  'virtio-input-host': 'virtio-input-host-pci',
  'virtio-iommu': 'virtio-iommu-pci',
  'virtio-keyboard': 'virtio-keyboard-pci',
  'virtio-mouse': 'virtio-mouse-pci',
  'virtio-net': 'virtio-net-pci',
  'virtio-rng': 'virtio-rng-pci',
  'virtio-scsi': 'virtio-scsi-pci',
  'virtio-serial': 'virtio-serial-pci',
  'virtio-sound': 'virtio-sound-pci',
  'virtio-tablet': 'virtio-tablet-pci',
};

/** A device type by its own name: an alias QEMU accepts on -device becomes the type it stands for. */
export function canonicalDeviceType(type: string): string {
  return Object.hasOwn(QEMU_DEVICE_ALIASES, type) ? QEMU_DEVICE_ALIASES[type]! : type;
}

const ROLES: [RegExp, string][] = [
  [/^(virtio-net|e1000|e1000e|rtl8139|vmxnet3|igb|ne2k_pci|pcnet)/, 'net'],
  [/^(virtio-blk|scsi-hd|scsi-cd|ide-hd|ide-cd|usb-storage|nvme)/, 'disk'],
  [/^(virtio-scsi|qemu-xhci|nec-usb-xhci|piix3-usb-uhci|piix4-usb-uhci|ich9-usb|usb-ehci|ich9-ahci|virtio-serial|lsi53c895a|megasas)/, 'controller'],
  [/^virtio-balloon/, 'balloon'],
  [/^virtio-rng/, 'rng'],
  [/^(VGA|qxl|virtio-vga|virtio-gpu|cirrus-vga|bochs-display|ramfb)/, 'video'],
  [/^(pcie-root-port|ioh3420|xio3130|x3130|pci-bridge|pcie-pci-bridge|i82801b11|pxb)/, 'bridge'],
  [/^(intel-iommu|amd-iommu|virtio-iommu)/, 'iommu'],
  [/^(usb-tablet|usb-kbd|usb-mouse|virtio-(keyboard|mouse|tablet|input))/, 'input'],
  [/^(isa-serial|virtconsole|virtserialport|pci-serial)/, 'serial'],
  [/^(vfio-pci)/, 'hostdev'],
  [/^(tpm-)/, 'tpm'],
  [/^(i6300esb|ib700)/, 'watchdog'],
  [/^(intel-hda|ich9-intel-hda|AC97|hda-)/, 'sound'],
];

export function roleOf(type: string): string {
  for (const [re, role] of ROLES) if (re.test(type)) return role;
  return 'other';
}

/** What a catalog knows of PCI: the device types of its build that implement pci-device, as QEMU
 *  listed them (`qom-list-types implements=pci-device`, recorded by the catalog probe). */
export interface PciCatalog {
  readonly pciDeviceTypes: readonly string[];
}

const pciSets = new WeakMap<readonly string[], ReadonlySet<string>>();

/** Whether a device plugs into PCI on that build and so has a placement class; the others sit on
 *  ISA, USB, SCSI, virtio-serial or the system bus. */
export function isPciType(type: string, catalog: PciCatalog): boolean {
  let set = pciSets.get(catalog.pciDeviceTypes);
  if (!set) {
    set = new Set(catalog.pciDeviceTypes);
    pciSets.set(catalog.pciDeviceTypes, set);
  }
  return set.has(type);
}

/** The placement class a device has on a build: where it was placed for a PCI device, the root
 *  for a device on another bus (a parser places every device by the bus it names). */
export function placementOn(d: { type: string; placement?: GuestPlacement }, catalog: PciCatalog): GuestPlacement {
  return isPciType(d.type, catalog) ? (d.placement ?? 'root') : 'root';
}

/** The placement class of a device from the type of the device whose bus it sits on. */
export function placementBehind(parentType: string | undefined): GuestPlacement {
  if (parentType === undefined) return 'root';
  if (PCIE_PORT_TYPES.has(parentType)) return 'pcie-port';
  if (PCI_BRIDGE_TYPES.has(parentType)) return 'pci-bridge';
  return 'unknown';
}
