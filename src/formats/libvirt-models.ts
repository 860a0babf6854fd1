/**
 * libvirt's device models and the QEMU device types its QEMU driver starts for them: the one table
 * that the domain XML reader (libvirt-in-devices.ts) and writer (libvirt-out-devices.ts) both read. The names on
 * the left are libvirt's (docs/formatdomain.rst), those on the right QEMU's, as libvirt's
 * src/qemu/qemu_command.c puts them after -device. Each row says where.
 *
 * `plug` is how libvirt connects the device when the definition gives it no <address>
 * (src/qemu/qemu_domain_address.c, qemuDomainDeviceCalculatePCIConnectFlags and, for PCI
 * controllers, src/conf/domain_addr.c virDomainPCIControllerModelToConnectType): 'pcie' for a PCI
 * Express device (on q35 behind a pcie-root-port of its own), 'pci' for a conventional PCI device
 * (on q35 behind a pcie-to-pci-bridge), 'root' for a controller that plugs into the root complex
 * itself; none for a device that is not on PCI at all (USB, ISA, a drive, the system bus). virtio
 * devices are PCI Express on every QEMU since 2.7 (disable-legacy), their virtio-transitional
 * models conventional PCI.
 */
export type LibvirtPlug = 'pcie' | 'pci' | 'root';

export interface ModelRow {
  /** libvirt's name: the model (or type) attribute that selects the row. */
  libvirt: string;
  /** The QEMU device type libvirt starts for it. */
  qemu: string;
  plug?: LibvirtPlug;
  /** Video only: the row for a secondary (primary='no') head, where QEMU has a type without VGA. */
  secondary?: true;
  /** The one architecture whose QEMU has the type (spapr-vscsi: ppc64); every one otherwise. */
  arch?: 'ppc64';
  /** The libvirt source or documentation that says so. */
  source: string;
}

const CMD = 'libvirt src/qemu/qemu_command.c';
const FORMATDOMAIN = 'libvirt docs/formatdomain.rst';

/**
 * The three virtio forms: `plain` (the model that gives QEMU's base type; '' for no model
 * attribute), virtio-transitional (QEMU's -transitional, conventional PCI) and
 * virtio-non-transitional (-non-transitional, PCI Express only); qemuBuildVirtioDevGetConfig
 * appends the suffixes to `<base>-pci` (formatdomain: "Virtio transitional devices").
 */
function virtioRows(plain: string, base: string, builder: string): ModelRow[] {
  const source = `${CMD} ${builder} via qemuBuildVirtioDevGetConfig`;
  return [
    { libvirt: plain, qemu: base, plug: 'pcie', source },
    { libvirt: 'virtio-transitional', qemu: `${base}-transitional`, plug: 'pci', source },
    { libvirt: 'virtio-non-transitional', qemu: `${base}-non-transitional`, plug: 'pcie', source },
  ];
}

/** <interface><model type=.../>: any model but virtio is the -device driver itself (qemuBuildNicDevProps);
 *  virtio, e1000e and (libvirt >= 9.3) igb are PCI Express to libvirt's address assignment. */
const nic = (name: string, plug: LibvirtPlug = 'pci'): ModelRow => ({ libvirt: name, qemu: name, plug, source: `${CMD} qemuBuildNicDevProps (model is the driver)` });
export const NIC_MODELS: readonly ModelRow[] = [
  ...virtioRows('virtio', 'virtio-net-pci', 'qemuBuildNicDevProps'),
  nic('e1000'),
  nic('e1000e', 'pcie'),
  nic('igb', 'pcie'),
  nic('rtl8139'),
  nic('vmxnet3'),
  nic('ne2k_pci'),
  nic('pcnet'),
];

/** <disk bus='virtio' model=...>: virtio-blk; the plain form has no model attribute. */
export const VIRTIO_DISK_MODELS: readonly ModelRow[] = virtioRows('', 'virtio-blk-pci', 'qemuBuildDiskDeviceProps');

/** <disk bus=... device=...> on the other buses: drives on a controller's bus, never on PCI
 *  (qemuBuildDiskDeviceProps). Read only: writing one needs the controller and drive address the
 *  pinned guest does not carry. */
export const DRIVE_BUSES: readonly { bus: string; disk: string; cdrom: string; source: string }[] = [
  { bus: 'scsi', disk: 'scsi-hd', cdrom: 'scsi-cd', source: `${CMD} qemuBuildDiskDeviceProps` },
  { bus: 'sata', disk: 'ide-hd', cdrom: 'ide-cd', source: `${CMD} qemuBuildDiskDeviceProps` },
  { bus: 'ide', disk: 'ide-hd', cdrom: 'ide-cd', source: `${CMD} qemuBuildDiskDeviceProps` },
  { bus: 'usb', disk: 'usb-storage', cdrom: 'usb-storage', source: `${CMD} qemuBuildDiskDeviceProps` },
];

const usb = (name: string, qemu: string, plug: LibvirtPlug = 'pci'): ModelRow => ({ libvirt: name, qemu, plug, source: `${CMD} qemuControllerModelUSB` });
/** <controller type='usb' model=...>; only the xHCI ones are PCI Express. */
export const USB_CONTROLLER_MODELS: readonly ModelRow[] = [
  usb('qemu-xhci', 'qemu-xhci', 'pcie'),
  usb('nec-xhci', 'nec-usb-xhci', 'pcie'),
  usb('piix3-uhci', 'piix3-usb-uhci'),
  usb('piix4-uhci', 'piix4-usb-uhci'),
  usb('ehci', 'usb-ehci'),
  usb('ich9-ehci1', 'ich9-usb-ehci1'),
  usb('ich9-uhci1', 'ich9-usb-uhci1'),
  usb('ich9-uhci2', 'ich9-usb-uhci2'),
  usb('ich9-uhci3', 'ich9-usb-uhci3'),
  usb('pci-ohci', 'pci-ohci'),
];
/** The USB controller model libvirt gives a controller that names none (libvirt src/qemu/qemu_domain.c,
 *  qemuDomainControllerDefPostParse): pci-ohci on pseries, qemu-xhci on q35 and Arm's virt. */
export function defaultUsbController(q35: boolean, arch: string = 'x86_64'): string {
  return arch === 'ppc64' ? 'pci-ohci' : arch === 'aarch64' || q35 ? 'qemu-xhci' : 'piix3-uhci';
}

/**
 * What libvirt 9.0 adds to a domain per architecture (src/qemu/qemu_domain.c
 * qemuDomainDefAddDefaultDevices(): a USB controller and a memballoon on x86 and pseries, neither on
 * Arm's virt; qemuDomainDeviceVideoDefPostParse(): the video model graphics get; the serial port a
 * serial console stands for, and the serial target type a <serial> without one gets).
 */
export const ARCH_DEFAULTS: Record<string, { usb: boolean; balloon: boolean; video: string; serialTarget: string | undefined }> = {
  x86_64: { usb: true, balloon: true, video: 'cirrus', serialTarget: 'isa-serial' },
  ppc64: { usb: true, balloon: true, video: 'vga', serialTarget: 'spapr-vio-serial' },
  // The virt board's own PL011 is the serial port: no -device.
  aarch64: { usb: false, balloon: false, video: 'virtio', serialTarget: undefined },
};

/** <controller type='pci' model=...>: the QEMU type is libvirt's <model name=...>
 *  (src/conf/domain_conf.c virDomainControllerPCIModelName; qemuBuildControllerPCIDevProps). */
const pciCtl = (name: string, qemu: string, plug: LibvirtPlug): ModelRow => ({ libvirt: name, qemu, plug, source: `${CMD} qemuBuildControllerPCIDevProps; ${FORMATDOMAIN} "Controllers" (PCI)` });
export const PCI_CONTROLLER_MODELS: readonly ModelRow[] = [
  pciCtl('pcie-root-port', 'pcie-root-port', 'root'),
  pciCtl('pcie-to-pci-bridge', 'pcie-pci-bridge', 'pcie'),
  pciCtl('pci-bridge', 'pci-bridge', 'pci'),
  pciCtl('dmi-to-pci-bridge', 'i82801b11-bridge', 'root'),
  pciCtl('pcie-switch-upstream-port', 'x3130-upstream', 'pcie'),
  pciCtl('pcie-switch-downstream-port', 'xio3130-downstream', 'pcie'),
  pciCtl('pcie-expander-bus', 'pxb-pcie', 'root'),
  pciCtl('pci-expander-bus', 'pxb', 'pci'),
];
/** The root buses: no device of their own on the command line (qemuBuildSkipController). */
export const PCI_ROOT_MODELS: ReadonlySet<string> = new Set(['pcie-root', 'pci-root']);

/** <controller type='scsi' model=...> (qemuBuildControllerSCSIDevProps: lsilogic is QEMU's lsi,
 *  an alias of lsi53c895a). Other models are read as the QEMU type of the same name. */
export const SCSI_CONTROLLER_MODELS: readonly ModelRow[] = [
  ...virtioRows('virtio-scsi', 'virtio-scsi-pci', 'qemuBuildControllerSCSIDevProps'),
  { libvirt: 'lsilogic', qemu: 'lsi53c895a', plug: 'pci', source: `${CMD} qemuBuildControllerSCSIDevProps` },
  { libvirt: 'lsisas1068', qemu: 'mptsas1068', plug: 'pci', source: `${CMD} qemuBuildControllerSCSIDevProps` },
  { libvirt: 'lsisas1078', qemu: 'megasas', plug: 'pci', source: `${CMD} qemuBuildControllerSCSIDevProps` },
  { libvirt: 'vmpvscsi', qemu: 'pvscsi', plug: 'pci', source: `${CMD} qemuBuildControllerSCSIDevProps` },
  { libvirt: 'ibmvscsi', qemu: 'spapr-vscsi', arch: 'ppc64', source: `${CMD} qemuBuildControllerSCSIDevProps (sPAPR VIO, not PCI)` },
];

/** <controller type='virtio-serial' model=...>; the plain form has no model attribute. */
export const VIRTIO_SERIAL_MODELS: readonly ModelRow[] = virtioRows('', 'virtio-serial-pci', 'qemuBuildControllerDevProps');

/** <controller type='sata'>: QEMU's ahci (alias of ich9-ahci); index 0 on q35 is the board's own
 *  and not on the command line (qemuBuildSkipController). */
export const SATA_CONTROLLER: ModelRow = { libvirt: 'sata', qemu: 'ich9-ahci', plug: 'pci', source: `${CMD} qemuBuildControllerDevProps, qemuBuildSkipController` };

/** <memballoon model=...> and <rng model=...>. */
export const MEMBALLOON_MODELS: readonly ModelRow[] = virtioRows('virtio', 'virtio-balloon-pci', 'qemuBuildMemballoonCommandLine');
export const RNG_MODELS: readonly ModelRow[] = virtioRows('virtio', 'virtio-rng-pci', 'qemuBuildRNGDevProps');

/** <video><model type=... primary=...>: the primary head gets the type with VGA compatibility,
 *  a secondary qxl or virtio the one without (qemuDeviceVideoGetModel). */
const video = (name: string, qemu: string, plug?: LibvirtPlug, secondary?: true): ModelRow => ({
  libvirt: name,
  qemu,
  ...(plug ? { plug } : {}),
  ...(secondary ? { secondary } : {}),
  source: `${CMD} qemuDeviceVideoGetModel`,
});
export const VIDEO_MODELS: readonly ModelRow[] = [
  video('vga', 'VGA', 'pci'),
  video('cirrus', 'cirrus-vga', 'pci'),
  video('qxl', 'qxl-vga', 'pci'),
  video('qxl', 'qxl', 'pci', true),
  video('virtio', 'virtio-vga', 'pcie'),
  video('virtio', 'virtio-gpu-pci', 'pcie', true),
  video('bochs', 'bochs-display', 'pcie'),
  video('ramfb', 'ramfb'),
  video('vmvga', 'vmware-svga', 'pci'),
];

/** <sound model=...> (qemuBuildSoundDevCmd). Other models are read as the QEMU type of the same name. */
const sound = (name: string, qemu: string, plug: LibvirtPlug = 'pci'): ModelRow => ({ libvirt: name, qemu, plug, source: `${CMD} qemuBuildSoundDevCmd` });
/** ich9 sound without an address gets slot 0x1b of q35's root bus, where the real ICH9 has it
 *  (qemu_domain_address.c qemuDomainValidateDevicePCISlotsQ35()). */
export const SOUND_MODELS: readonly ModelRow[] = [sound('ich6', 'intel-hda'), sound('ich9', 'ich9-intel-hda', 'root'), sound('ac97', 'AC97'), sound('es1370', 'ES1370'), { libvirt: 'sb16', qemu: 'sb16', source: `${CMD} qemuBuildSoundDevCmd (ISA)` }];

/** <watchdog model=...>: the model is the driver (qemuBuildWatchdogDevProps); only i6300esb is PCI. */
export const WATCHDOG_MODELS: readonly ModelRow[] = [
  { libvirt: 'i6300esb', qemu: 'i6300esb', plug: 'pci', source: `${CMD} qemuBuildWatchdogDevProps` },
  { libvirt: 'ib700', qemu: 'ib700', source: `${CMD} qemuBuildWatchdogDevProps` },
];

/** <input type=... bus=...>, keyed `bus:type` (qemuBuildInputUSBDevProps, qemuBuildInputVirtioDevProps);
 *  PS/2 devices are the board's own. */
const input = (bus: string, type: string, qemu: string): ModelRow => ({
  libvirt: `${bus}:${type}`,
  qemu,
  ...(bus === 'virtio' ? { plug: 'pcie' as const } : {}),
  source: `${CMD} ${bus === 'usb' ? 'qemuBuildInputUSBDevProps' : 'qemuBuildInputVirtioDevProps'}`,
});
export const INPUT_MODELS: readonly ModelRow[] = [
  input('usb', 'tablet', 'usb-tablet'),
  input('usb', 'mouse', 'usb-mouse'),
  input('usb', 'keyboard', 'usb-kbd'),
  input('virtio', 'tablet', 'virtio-tablet-pci'),
  input('virtio', 'mouse', 'virtio-mouse-pci'),
  input('virtio', 'keyboard', 'virtio-keyboard-pci'),
  input('virtio', 'passthrough', 'virtio-input-host-pci'),
];

/** <serial><target type=...>: the target type is the driver; other target types are read as the
 *  QEMU type of the same name. */
export const SERIAL_TARGETS: readonly ModelRow[] = [
  { libvirt: 'isa-serial', qemu: 'isa-serial', source: `${FORMATDOMAIN} "Guest interface" (serial target type)` },
  { libvirt: 'pci-serial', qemu: 'pci-serial', plug: 'pci', source: `${FORMATDOMAIN} "Guest interface" (serial target type)` },
  { libvirt: 'isa-debug', qemu: 'isa-debugcon', source: `${CMD} qemuBuildSerialChrDeviceProps (isa-debug is isa-debugcon)` },
  { libvirt: 'spapr-vio-serial', qemu: 'spapr-vty', arch: 'ppc64', source: `${CMD} qemuBuildSerialChrDeviceProps (sPAPR VIO)` },
];

/** <tpm model=...>: the model is the driver (formatdomain "TPM device"); tpm-tis by default. */
export const TPM_MODELS: readonly ModelRow[] = [
  { libvirt: 'tpm-tis', qemu: 'tpm-tis', source: `${FORMATDOMAIN} "TPM device"` },
  { libvirt: 'tpm-crb', qemu: 'tpm-crb', source: `${FORMATDOMAIN} "TPM device"` },
];

/** <iommu model=...> (qemuBuildIOMMUCommandLine; virtio-iommu is the alias of virtio-iommu-pci).
 *  Other models are read as QEMU's <model>-iommu. */
export const IOMMU_MODELS: readonly ModelRow[] = [
  { libvirt: 'intel', qemu: 'intel-iommu', source: `${CMD} qemuBuildIOMMUCommandLine` },
  { libvirt: 'amd', qemu: 'amd-iommu', source: `${CMD} qemuBuildIOMMUCommandLine; ${FORMATDOMAIN} "IOMMU devices"` },
  { libvirt: 'virtio', qemu: 'virtio-iommu-pci', source: `${CMD} qemuBuildIOMMUCommandLine` },
];

/** <filesystem> with the 9p driver (qemuBuildFSDevCmd; model virtio-transitional...), and
 *  <driver type='virtiofs'> (qemuBuildVHostUserFsDevProps). */
export const FILESYSTEM_MODELS: readonly ModelRow[] = virtioRows('', 'virtio-9p-pci', 'qemuBuildFSDevCmd');
export const VIRTIOFS: ModelRow = { libvirt: 'virtiofs', qemu: 'vhost-user-fs-pci', plug: 'pcie', source: `${CMD} qemuBuildVHostUserFsDevProps` };

/** <memory model=...> (qemuBuildMemoryDeviceProps): memory devices, none of them on PCI but the virtio ones. */
export const MEMORY_MODELS: readonly ModelRow[] = [
  { libvirt: 'dimm', qemu: 'pc-dimm', source: `${CMD} qemuBuildMemoryDeviceProps` },
  { libvirt: 'nvdimm', qemu: 'nvdimm', source: `${CMD} qemuBuildMemoryDeviceProps` },
  { libvirt: 'virtio-pmem', qemu: 'virtio-pmem-pci', plug: 'pcie', source: `${CMD} qemuBuildMemoryDeviceProps` },
  { libvirt: 'virtio-mem', qemu: 'virtio-mem-pci', plug: 'pcie', source: `${CMD} qemuBuildMemoryDeviceProps` },
  { libvirt: 'sgx-epc', qemu: 'sgx-epc', source: `${CMD} qemuBuildMemoryDeviceProps` },
];

/** <vsock model=...> (qemuBuildVsockDevProps). */
export const VSOCK_MODELS: readonly ModelRow[] = virtioRows('virtio', 'vhost-vsock-pci', 'qemuBuildVsockDevProps');

/** <panic model=...> on x86: isa (pvpanic, the default), pvpanic on PCI, hyperv (no device). */
export const PANIC_MODELS: readonly ModelRow[] = [
  { libvirt: 'isa', qemu: 'pvpanic', source: `${CMD} qemuBuildPanicCommandLine` },
  { libvirt: 'pvpanic', qemu: 'pvpanic-pci', plug: 'pci', source: `${CMD} qemuBuildPanicCommandLine` },
];

/** <redirdev bus='usb' type=...>: a usb-redir on the guest's USB bus, whatever the host end
 *  (qemuBuildRedirdevDevProps); the writer gives it a null one. */
export const REDIRDEV_MODELS: readonly ModelRow[] = [{ libvirt: 'usb', qemu: 'usb-redir', source: `${CMD} qemuBuildRedirdevDevProps` }];

/** <smartcard mode=...>: a usb-ccid controller with one card (qemuBuildSmartcardCommandLine). */
export const SMARTCARD_CARDS: Record<string, string> = { host: 'ccid-card-emulated', 'host-certificates': 'ccid-card-emulated', passthrough: 'ccid-card-passthru' };

/** The row for a libvirt name (and, for video, a secondary head), or undefined. */
export function byLibvirt(rows: readonly ModelRow[], name: string, secondary = false): ModelRow | undefined {
  return rows.find((r) => r.libvirt === name && !!r.secondary === secondary) ?? rows.find((r) => r.libvirt === name);
}

/** The row for a QEMU device type, or undefined. */
export function byQemu(rows: readonly ModelRow[], type: string): ModelRow | undefined {
  return rows.find((r) => r.qemu === type);
}
