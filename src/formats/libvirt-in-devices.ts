import type { Element } from '@xmldom/xmldom';
import type { GuestDevice, GuestPlacement, GuestSpec } from '../model/guest.js';
import { UserError } from '../util/errors.js';
import { PCI_BRIDGE_TYPES, PCIE_PORT_TYPES, placementBehind, roleOf } from './device-types.js';
import {
  byLibvirt,
  ARCH_DEFAULTS,
  defaultUsbController,
  DRIVE_BUSES,
  FILESYSTEM_MODELS,
  INPUT_MODELS,
  IOMMU_MODELS,
  MEMBALLOON_MODELS,
  MEMORY_MODELS,
  NIC_MODELS,
  PANIC_MODELS,
  PCI_CONTROLLER_MODELS,
  PCI_ROOT_MODELS,
  REDIRDEV_MODELS,
  RNG_MODELS,
  SATA_CONTROLLER,
  SCSI_CONTROLLER_MODELS,
  SERIAL_TARGETS,
  SMARTCARD_CARDS,
  SOUND_MODELS,
  TPM_MODELS,
  USB_CONTROLLER_MODELS,
  VIDEO_MODELS,
  VIRTIO_DISK_MODELS,
  VIRTIO_SERIAL_MODELS,
  VIRTIOFS,
  VSOCK_MODELS,
  WATCHDOG_MODELS,
  type LibvirtPlug,
  type ModelRow,
} from './libvirt-models.js';
import { child, children, line } from './xml.js';

/** What reading the <devices> of one domain keeps. */
interface DeviceReader {
  spec: GuestSpec;
  q35: boolean;
  /** A PCI Express machine (q35, Arm's virt): libvirt puts devices behind root ports it adds. */
  pcie: boolean;
  /** libvirt controller index -> QEMU type of the PCI controller (undefined for the root). */
  buses: Map<number, string | undefined>;
  at: (el: Element) => string;
  /** Devices without a PCI address that libvirt's address assignment puts behind a port it adds
   *  (q35): PCI Express ones behind a pcie-root-port each, conventional ones behind a bridge. */
  unaddressed: { pcie: number; pci: number };
  /** The buses addressed devices sit on (their root ports are taken). */
  usedBuses: Set<number>;
}

/** Every device element libvirt starts a guest-visible device for, as QEMU devices. */
export function parseDevices(devices: Element, spec: GuestSpec, machineType: string, at: (el: Element) => string): void {
  const q35 = /q35/.test(machineType);
  const r: DeviceReader = { spec, q35, pcie: q35 || (spec.arch === 'aarch64' && /^virt/.test(machineType)), buses: pciControllers(devices), at, unaddressed: { pcie: 0, pci: 0 }, usedBuses: new Set() };
  // emulator, graphics, audio...: host side
  for (const el of children(devices)) ELEMENT_READERS.get(el.localName!)?.(r, el);
  addImplicitDevices(r, devices);
  for (const d of spec.devices) if (d.role === undefined) d.role = roleOf(d.type);
}

const LIBVIRT_DEFAULTS = 'libvirt 9.0 src/qemu/qemu_domain.c qemuDomainDefAddDefaultDevices(), src/conf/domain_conf.c virDomainDefAddImplicitDevices()';

/**
 * The devices libvirt adds to a domain it is given without them (when it is defined or started), so
 * that a domain read before `virsh define` has what it will have: a USB controller (none unless
 * `<controller type='usb' model='none'/>`: piix3-uhci on the PIIX, qemu-xhci on q35), a virtio
 * memballoon (unless `<memballoon model='none'/>`), a video device for graphics (cirrus on x86,
 * qemuDomainDeviceVideoDefPostParse()), the virtio-serial controller virtio channels and consoles
 * need, and the serial port a serial console stands for. A domain as libvirt dumps it has them all.
 * Conformance: libvirt's tests/qemuxml2argvdata (test/live/libvirt-corpus-live.test.ts).
 */
function addImplicitDevices(r: DeviceReader, devices: Element): void {
  const has = (tag: string, pred: (el: Element) => boolean = () => true) => children(devices, tag).some(pred);
  const implicit = (type: string, role: string, plug: LibvirtPlug | undefined, why: string) =>
    r.spec.devices.push({ type, role, placement: assignedPlacement(r, plug), properties: {}, source: `implicit: ${why} (${LIBVIRT_DEFAULTS})` });
  const arch = r.spec.arch ?? 'x86_64';
  const defaults = ARCH_DEFAULTS[arch];
  if (!defaults) return;
  if (defaults.usb && !has('controller', (c) => c.getAttribute('type') === 'usb')) {
    const row = byLibvirt(USB_CONTROLLER_MODELS, defaultUsbController(r.q35, arch))!;
    implicit(row.qemu, 'controller', row.plug, 'the default USB controller');
  }
  const scsiUsers = [...children(devices, 'disk').filter((d) => child(d, 'target')?.getAttribute('bus') === 'scsi'), ...children(devices, 'hostdev').filter((h) => h.getAttribute('type') === 'scsi')];
  const scsiIndexes = new Set(scsiUsers.map((d) => Number(child(d, 'address')?.getAttribute('controller') ?? 0)));
  for (const i of scsiIndexes) {
    if (has('controller', (c) => c.getAttribute('type') === 'scsi' && Number(c.getAttribute('index') ?? 0) === i)) continue;
    const row = byLibvirt(SCSI_CONTROLLER_MODELS, defaultScsiModel(arch))!;
    implicit(row.qemu, 'controller', row.plug, `the SCSI controller ${i} its disks name`);
  }
  if (defaults.balloon && !has('memballoon')) implicit(MEMBALLOON_MODELS[0]!.qemu, 'balloon', MEMBALLOON_MODELS[0]!.plug, 'the default memballoon');
  if (has('graphics') && !has('video')) {
    const row = byLibvirt(VIDEO_MODELS, defaults.video, arch === 'aarch64')!;
    implicit(row.qemu, 'video', row.plug, 'the video device graphics need');
  }
  // pseries with graphics gets a USB keyboard and mouse (qemuDomainDefAddDefaultDevices()).
  if (arch === 'ppc64' && has('graphics')) {
    const usbInput = (...types: string[]) => has('input', (i) => types.includes(i.getAttribute('type') ?? '') && i.getAttribute('bus') === 'usb');
    if (!usbInput('keyboard')) implicit('usb-kbd', 'input', undefined, 'the USB keyboard pseries graphics get');
    if (!usbInput('mouse', 'tablet')) implicit('usb-mouse', 'input', undefined, 'the USB mouse pseries graphics get without another pointer');
  }
  const virtioTarget = (el: Element) => child(el, 'target')?.getAttribute('type') === 'virtio';
  if ((has('channel', virtioTarget) || has('console', virtioTarget)) && !has('controller', (c) => c.getAttribute('type') === 'virtio-serial')) {
    const row = virtioForm(VIRTIO_SERIAL_MODELS, null);
    implicit(row.qemu, 'controller', row.plug, 'the virtio-serial controller of virtio channels and consoles');
  }
  const serialConsole = (el: Element) => (child(el, 'target')?.getAttribute('type') ?? 'serial') === 'serial';
  const serialType = defaults.serialTarget && byLibvirt(SERIAL_TARGETS, defaults.serialTarget)?.qemu;
  if (serialType && has('console', serialConsole) && !has('serial')) implicit(serialType, 'serial', undefined, 'the serial port a serial console is');
  // <genid> sits beside <devices>: QEMU's vmgenid device (qemuBuildVMGenIDCommandLine).
  const genid = devices.parentNode ? children(devices.parentNode as Element, 'genid')[0] : undefined;
  if (genid) add(r, genid, 'vmgenid', 'other', {}, undefined);
  if (r.pcie) addImplicitPorts(r);
}

/**
 * The PCI controllers libvirt's address assignment adds on q35 for devices without an address
 * (libvirt 9.0 src/qemu/qemu_domain_address.c qemuDomainAssignPCIAddresses()): a pcie-root-port for
 * each PCI Express device, after the empty root ports the domain has; a pcie-to-pci-bridge (on a
 * root port of its own) for conventional PCI devices; and, when it adds any root port, one more for
 * a device hotplugged later.
 */
function addImplicitPorts(r: DeviceReader): void {
  const free = [...r.buses].filter(([i, t]) => t !== undefined && PCIE_PORT_TYPES.has(t) && !r.usedBuses.has(i)).length;
  const bridge = r.unaddressed.pci > 0 && ![...r.buses.values()].some((t) => t !== undefined && PCI_BRIDGE_TYPES.has(t) && t !== 'i82801b11-bridge');
  const needed = Math.max(0, r.unaddressed.pcie + (bridge ? 1 : 0) - free);
  const port = (why: string) => r.spec.devices.push({ type: 'pcie-root-port', role: 'bridge', placement: 'root', properties: {}, source: `implicit: ${why} (libvirt 9.0 qemuDomainAssignPCIAddresses())` });
  for (let i = 0; i < needed; i++) port('a root port for a device without an address');
  if (needed > 0) port('the root port libvirt keeps free for hotplug');
  if (bridge) r.spec.devices.push({ type: 'pcie-pci-bridge', role: 'bridge', placement: 'pcie-port', properties: {}, source: 'implicit: the bridge conventional PCI devices go behind (libvirt 9.0 qemuDomainAssignPCIAddresses())' });
}

/** libvirt's PCI controllers by index; one written without an index gets the lowest unused one
 *  (virDomainControllerDefPostParse()), the root 0. */
function pciControllers(devices: Element): Map<number, string | undefined> {
  const buses = new Map<number, string | undefined>();
  const pci = children(devices, 'controller').filter((c) => c.getAttribute('type') === 'pci');
  const taken = new Set(pci.filter((c) => c.getAttribute('index') !== null).map((c) => Number(c.getAttribute('index'))));
  let next = 0;
  for (const c of pci) {
    const model = c.getAttribute('model') ?? '';
    let index = c.getAttribute('index') === null ? undefined : Number(c.getAttribute('index'));
    if (index === undefined) {
      while (taken.has(next)) next++;
      taken.add((index = next));
    }
    if (!buses.has(index)) buses.set(index, PCI_ROOT_MODELS.has(model) ? undefined : pciControllerType(c));
  }
  return buses;
}

/** A PCI controller's QEMU type: its <model name=...> (ioh3420 for a pcie-root-port), else the
 *  model's default (virDomainControllerPCIModelName; qemuBuildControllerPCIDevProps). */
function pciControllerType(c: Element): string | undefined {
  return child(c, 'model')?.getAttribute('name') ?? byLibvirt(PCI_CONTROLLER_MODELS, c.getAttribute('model') ?? '')?.qemu;
}

/**
 * Where libvirt puts a device: on the bus its PCI address names; on no PCI bus at all when its
 * address is of another kind (USB, drive, virtio-serial, ISA) or libvirt never connects it by PCI;
 * with no address yet, where libvirt's address assignment will put it: on q35 a PCI Express device
 * behind a pcie-root-port, a conventional one behind a pcie-to-pci-bridge, a root port on the root
 * complex; on i440fx the root bus.
 */
function placementOf(r: DeviceReader, el: Element, plug: LibvirtPlug | undefined): GuestPlacement {
  const addr = child(el, 'address');
  if (addr?.getAttribute('type') === 'pci') {
    const bus = Number(addr.getAttribute('bus') ?? 0);
    r.usedBuses.add(bus);
    if (bus === 0) return 'root';
    const type = r.buses.get(bus);
    return type === undefined ? 'unknown' : placementBehind(type);
  }
  return addr ? 'root' : assignedPlacement(r, plug);
}

/** Where libvirt's address assignment puts a device without an address, counted for the ports and
 *  bridge it will add (addImplicitPorts). */
function assignedPlacement(r: DeviceReader, plug: LibvirtPlug | undefined): GuestPlacement {
  if (!plug || plug === 'root' || !r.pcie) return 'root';
  r.unaddressed[plug === 'pci' ? 'pci' : 'pcie']++;
  return plug === 'pci' ? 'pci-bridge' : 'pcie-port';
}

/** A device's PCI address as QEMU properties: bus "pci.N" (libvirt's name for controller N) and
 *  addr "0xSLOT[.FN]". The root bus is left implicit. */
function pciAddress(el: Element): Record<string, string> {
  const addr = child(el, 'address');
  if (!addr || addr.getAttribute('type') !== 'pci') return {};
  const out: Record<string, string> = {};
  const bus = Number(addr.getAttribute('bus') ?? 0);
  if (bus !== 0) out.bus = `pci.${bus}`;
  const slot = Number(addr.getAttribute('slot') ?? 0);
  const fn = Number(addr.getAttribute('function') ?? 0);
  out.addr = `0x${slot.toString(16)}${fn ? `.${fn}` : ''}`;
  return out;
}

function add(r: DeviceReader, el: Element, type: string, role: string, properties: Record<string, string>, plug: LibvirtPlug | undefined, extra: Partial<GuestDevice> = {}): void {
  const d: GuestDevice = { type, role, placement: placementOf(r, el, plug), properties: { ...properties, ...pciAddress(el) }, source: `${el.localName} at ${line(el)}`, ...extra };
  const alias = child(el, 'alias')?.getAttribute('name');
  if (alias) d.id = alias;
  r.spec.devices.push(d);
}

/** <driver> attributes as the QEMU properties libvirt sets from them (qemuBuildVirtioDevProps,
 *  qemuBuildNicDevProps: queues N is mq=on,vectors=2N+2 on a NIC, num-queues on a disk). */
function driverProperties(el: Element, kind: 'net' | 'disk' | 'other'): Record<string, string> {
  const props: Record<string, string> = {};
  const drv = child(el, 'driver');
  if (!drv) return props;
  const on = (a: string) => drv.getAttribute(a);
  if (on('iommu')) props.iommu_platform = on('iommu')!;
  if (on('ats')) props.ats = on('ats')!;
  if (on('packed')) props.packed = on('packed')!;
  if (on('page_per_vq')) props['page-per-vq'] = on('page_per_vq')!;
  const queues = on('queues');
  if (queues && Number(queues) > 1) {
    if (kind === 'net') {
      props.mq = 'on';
      props.vectors = String(2 * Number(queues) + 2);
    } else if (kind === 'disk') props['num-queues'] = queues;
  }
  if (kind === 'net' && on('rx_queue_size')) props.rx_queue_size = on('rx_queue_size')!;
  if (kind === 'net' && on('tx_queue_size')) props.tx_queue_size = on('tx_queue_size')!;
  return props;
}

/** A virtio device's form from its model attribute; a model that is not one of the virtio forms
 *  reads as plain virtio. */
function virtioForm(rows: readonly ModelRow[], model: string | null): ModelRow {
  return byLibvirt(rows, model ?? '') ?? rows[0]!;
}

function readInterface(r: DeviceReader, el: Element): void {
  // <interface type='hostdev'> is a host PCI function given to the guest (qemuBuildHostdevPCIDevProps).
  if (el.getAttribute('type') === 'hostdev') {
    add(r, el, 'vfio-pci', 'hostdev', {}, 'pcie');
    return;
  }
  const model = child(el, 'model')?.getAttribute('type');
  const row = model ? byLibvirt(NIC_MODELS, model) : undefined;
  if (model && !row) throw new UserError(`unknown interface model '${model}'`, r.at(el));
  // No model: libvirt's default, rtl8139 on x86 (qemuDomainDefaultNetModel()); a vDPA or vhost-user
  // interface is virtio (qemuDomainDeviceNetDefPostParse()).
  const virtioOnly = /^(vdpa|vhostuser)$/.test(el.getAttribute('type') ?? '');
  const used = row ?? (virtioOnly ? NIC_MODELS[0] : r.spec.arch === undefined || r.spec.arch === 'x86_64' ? byLibvirt(NIC_MODELS, 'rtl8139') : undefined);
  add(r, el, used?.qemu ?? 'unknown-default-nic', 'net', driverProperties(el, 'net'), used?.plug);
}

function readDisk(r: DeviceReader, el: Element): void {
  const bus = child(el, 'target')?.getAttribute('bus');
  if (bus === 'fdc') {
    // A floppy drive on the board's FDC; q35 has none, libvirt adds an isa-fdc (qemuBuildFloppyCommandLine).
    if (r.q35 && !r.spec.devices.some((d) => d.type === 'isa-fdc')) add(r, el, 'isa-fdc', 'controller', {}, undefined);
    add(r, el, 'floppy', 'disk', {}, undefined);
    return;
  }
  if (el.getAttribute('type') === 'vhostuser') {
    add(r, el, 'vhost-user-blk-pci', 'disk', driverProperties(el, 'disk'), 'pcie');
    return;
  }
  if (bus === 'scsi' && el.getAttribute('device') === 'lun') {
    add(r, el, 'scsi-block', 'disk', {}, undefined);
    return;
  }
  if (bus === 'virtio') {
    const row = virtioForm(VIRTIO_DISK_MODELS, el.getAttribute('model'));
    add(r, el, row.qemu, 'disk', driverProperties(el, 'disk'), row.plug);
    return;
  }
  const drive = DRIVE_BUSES.find((b) => b.bus === bus);
  if (!drive) throw new UserError(`unknown disk bus '${bus}'`, r.at(el));
  add(r, el, el.getAttribute('device') === 'cdrom' ? drive.cdrom : drive.disk, 'disk', {}, undefined);
}

function readController(r: DeviceReader, el: Element): void {
  const model = el.getAttribute('model');
  const index = Number(el.getAttribute('index') ?? 0);
  switch (el.getAttribute('type')) {
    case 'pci': {
      // Each pseries PHB but the first is a device of its own (qemuBuildControllerPCIDevProps).
      if (model === 'pci-root' && index > 0 && r.spec.arch === 'ppc64') {
        add(r, el, 'spapr-pci-host-bridge', 'bridge', {}, undefined, { id: `pci.${index}` });
        break;
      }
      const row = model ? byLibvirt(PCI_CONTROLLER_MODELS, model) : undefined;
      // libvirt names the bus of controller N "pci.N" on the QEMU command line.
      if (row) add(r, el, pciControllerType(el) ?? row.qemu, 'bridge', {}, row.plug, { id: child(el, 'alias')?.getAttribute('name') ?? `pci.${index}` });
      break;
    }
    case 'scsi':
      readScsiController(r, el, model);
      break;
    case 'usb': {
      if (model === 'none') break;
      const row = byLibvirt(USB_CONTROLLER_MODELS, model || defaultUsbController(r.q35, r.spec.arch));
      if (!row) throw new UserError(`unknown USB controller model '${model}'`, r.at(el));
      add(r, el, row.qemu, 'controller', {}, row.plug);
      break;
    }
    case 'virtio-serial': {
      const row = virtioForm(VIRTIO_SERIAL_MODELS, model);
      add(r, el, row.qemu, 'controller', driverProperties(el, 'other'), row.plug);
      break;
    }
    case 'ccid':
      add(r, el, 'usb-ccid', 'controller', {}, undefined);
      break;
    case 'sata':
      if (!(r.q35 && index === 0)) add(r, el, SATA_CONTROLLER.qemu, 'controller', {}, SATA_CONTROLLER.plug);
      break;
    default:
      break;
  }
}

/** A SCSI controller without a model is libvirt's default (qemuDomainDefaultSCSIControllerModel()):
 *  lsilogic on x86, ibmvscsi on pseries, virtio-scsi elsewhere. */
function defaultScsiModel(arch: string): string {
  return arch === 'x86_64' ? 'lsilogic' : arch === 'ppc64' ? 'ibmvscsi' : 'virtio-scsi';
}

function readScsiController(r: DeviceReader, el: Element, written: string | null): void {
  const model = written ?? defaultScsiModel(r.spec.arch ?? 'x86_64');
  if (!model || model.startsWith('virtio')) {
    const row = virtioForm(SCSI_CONTROLLER_MODELS, model);
    add(r, el, row.qemu, 'controller', driverProperties(el, 'disk'), row.plug);
    return;
  }
  // Every SCSI host adapter libvirt knows is a conventional PCI device (qemuDomainDeviceCalculatePCIConnectFlags).
  const row = byLibvirt(SCSI_CONTROLLER_MODELS, model);
  add(r, el, row?.qemu ?? model, 'controller', {}, row?.plug ?? 'pci');
}

/** <memballoon> (none unless a model is given) and <rng>. */
function readVirtio(rows: readonly ModelRow[], role: string, absent: (model: string | null) => boolean) {
  return (r: DeviceReader, el: Element): void => {
    const model = el.getAttribute('model');
    if (absent(model)) return;
    const row = virtioForm(rows, model);
    add(r, el, row.qemu, role, driverProperties(el, 'other'), row.plug);
  };
}

function readVideo(r: DeviceReader, el: Element): void {
  const m = child(el, 'model');
  const t = m?.getAttribute('type') ?? 'vga';
  if (t === 'none') return;
  const primary = m?.getAttribute('primary') === 'yes' || r.spec.devices.every((d) => d.role !== 'video');
  // Arm's QEMU has no VGA: virtio video is virtio-gpu-pci there (qemuDeviceVideoGetModel()).
  const row = byLibvirt(VIDEO_MODELS, t, !primary || (r.spec.arch === 'aarch64' && t === 'virtio'));
  if (!row) throw new UserError(`unknown video model '${t}'`, r.at(el));
  if (t === 'virtio') {
    // qemuDeviceVideoGetModel(): vhost-user and 3D acceleration are other QEMU types of the same device.
    const vhost = child(el, 'driver')?.getAttribute('name') === 'vhostuser';
    const gl = child(m!, 'acceleration')?.getAttribute('accel3d') === 'yes';
    const type = vhost ? (primary ? 'vhost-user-vga' : 'vhost-user-gpu-pci') : gl ? (primary ? 'virtio-vga-gl' : 'virtio-gpu-gl-pci') : row.qemu;
    add(r, el, type, 'video', driverProperties(el, 'other'), primary ? 'root' : row.plug);
    return;
  }
  // The primary head without an address gets slot 1 of the root bus, on q35 too
  // (qemu_domain_address.c qemuDomainValidateDevicePCISlotsQ35(), ...PIIX3()).
  add(r, el, row.qemu, 'video', {}, primary ? 'root' : row.plug);
}

/** A device element whose model (or target type) names a row; unknown names are read as the
 *  QEMU type of the same name when `passThrough` says so, else left out. */
function readModel(rows: readonly ModelRow[], role: string, nameOf: (el: Element) => string | null, passThrough: (el: Element) => string | undefined) {
  return (r: DeviceReader, el: Element): void => {
    const row = byLibvirt(rows, nameOf(el) ?? '');
    const type = row?.qemu ?? passThrough(el);
    if (type !== undefined) add(r, el, type, role, {}, row?.plug);
  };
}

function readVirtioSerialPort(type: string) {
  return (r: DeviceReader, el: Element): void => {
    const target = child(el, 'target');
    if (target?.getAttribute('type') !== 'virtio') return;
    add(r, el, type, 'serial', type === 'virtserialport' ? { name: target.getAttribute('name') ?? '' } : {}, undefined);
  };
}

function readIommu(r: DeviceReader, el: Element): void {
  const model = el.getAttribute('model') ?? 'intel';
  const drv = child(el, 'driver');
  const options: Record<string, string> = {};
  if (drv) for (const a of ['intremap', 'caching_mode', 'eim', 'iotlb', 'aw_bits']) if (drv.getAttribute(a)) options[a] = drv.getAttribute(a)!;
  r.spec.iommu = { model, options };
  const qemu: Record<string, string> = {};
  const rename: Record<string, string> = { intremap: 'intremap', caching_mode: 'caching-mode', eim: 'eim', iotlb: 'device-iotlb', aw_bits: 'aw-bits' };
  for (const [k, v] of Object.entries(options)) qemu[rename[k]!] = v;
  // Arm's SMMUv3 is the virt board's own (-machine iommu=smmuv3, qemuBuildMachineCommandLine()): no device.
  if (model === 'smmuv3') return;
  add(r, el, byLibvirt(IOMMU_MODELS, model)?.qemu ?? `${model}-iommu`, 'iommu', qemu, undefined, { placement: 'root' });
}

/** A host PCI device: most are PCI Express, and libvirt assumes so when it cannot tell. */
function readHostdev(r: DeviceReader, el: Element): void {
  const type = el.getAttribute('type');
  const scsiHost = type === 'scsi_host' ? virtioForm(SCSI_HOST_MODELS, el.getAttribute('model')) : undefined;
  // An mdev with ramfb cannot be hot-unplugged: vfio-pci-nohotplug (qemuBuildHostdevMediatedDevProps).
  if (type === 'mdev' && el.getAttribute('model') === 'vfio-pci' && el.getAttribute('ramfb') === 'on') add(r, el, 'vfio-pci-nohotplug', 'hostdev', {}, 'pcie');
  else if (type === 'pci' || (type === 'mdev' && el.getAttribute('model') === 'vfio-pci')) add(r, el, 'vfio-pci', 'hostdev', {}, 'pcie');
  else if (type === 'usb') add(r, el, 'usb-host', 'hostdev', {}, undefined);
  else if (type === 'scsi') add(r, el, 'scsi-generic', 'hostdev', {}, undefined);
  else if (scsiHost) add(r, el, scsiHost.qemu, 'hostdev', {}, scsiHost.plug);
}

/** <hostdev type='scsi_host'> (vhost-scsi, qemuBuildHostdevSCSIVHostDevProps). */
const SCSI_HOST_MODELS: readonly ModelRow[] = [
  { libvirt: 'virtio', qemu: 'vhost-scsi-pci', plug: 'pcie', source: 'qemuBuildHostdevSCSIVHostDevProps' },
  { libvirt: 'virtio-transitional', qemu: 'vhost-scsi-pci-transitional', plug: 'pci', source: 'qemuBuildHostdevSCSIVHostDevProps' },
  { libvirt: 'virtio-non-transitional', qemu: 'vhost-scsi-pci-non-transitional', plug: 'pcie', source: 'qemuBuildHostdevSCSIVHostDevProps' },
];

function readFilesystem(r: DeviceReader, el: Element): void {
  if (child(el, 'driver')?.getAttribute('type') === 'virtiofs') add(r, el, VIRTIOFS.qemu, 'other', {}, VIRTIOFS.plug);
  else {
    const row = virtioForm(FILESYSTEM_MODELS, el.getAttribute('model'));
    add(r, el, row.qemu, 'other', driverProperties(el, 'other'), row.plug);
  }
}

function readSmartcard(r: DeviceReader, el: Element): void {
  if (!r.spec.devices.some((d) => d.type === 'usb-ccid')) add(r, el, 'usb-ccid', 'controller', {}, undefined);
  const card = SMARTCARD_CARDS[el.getAttribute('mode') ?? ''];
  if (card) add(r, el, card, 'other', {}, undefined);
}

/** <sound>: the controller, and for the HDA ones each <codec> (hda-duplex when none is given:
 *  qemuBuildSoundCodecCmd). */
function readSound(r: DeviceReader, el: Element): void {
  readModel(SOUND_MODELS, 'sound', attr('model'), (e) => e.getAttribute('model') ?? 'unknown-sound')(r, el);
  if (!/^(ich6|ich7|ich9)$/.test(el.getAttribute('model') ?? '')) return;
  const codecs = children(el, 'codec').map((c) => `hda-${c.getAttribute('type') ?? 'duplex'}`);
  // A codec sits on the controller's HDA bus: it has no PCI address of its own.
  for (const c of codecs.length ? codecs : ['hda-duplex']) r.spec.devices.push({ type: c, role: 'sound', placement: 'root', properties: {}, source: `sound codec at ${line(el)}` });
}

const attr = (name: string) => (el: Element) => el.getAttribute(name);

const ELEMENT_READERS = new Map<string, (r: DeviceReader, el: Element) => void>([
  ['interface', readInterface],
  ['disk', readDisk],
  ['controller', readController],
  ['memballoon', readVirtio(MEMBALLOON_MODELS, 'balloon', (model) => !model || model === 'none')],
  ['rng', readVirtio(RNG_MODELS, 'rng', () => false)],
  ['video', readVideo],
  ['input', readModel(INPUT_MODELS, 'input', (el) => `${el.getAttribute('bus')}:${el.getAttribute('type')}`, () => undefined)],
  ['serial', (r, el) => {
    // A <serial> without a target type gets the architecture's (ARCH_DEFAULTS); none on Arm's virt.
    const written = child(el, 'target')?.getAttribute('type');
    // pseries takes an isa-serial target as its own VIO serial (qemuDomainChrDefPostParse()).
    const target = (written === 'isa-serial' && r.spec.arch === 'ppc64' ? 'spapr-vio-serial' : written) ?? ARCH_DEFAULTS[r.spec.arch ?? 'x86_64']?.serialTarget;
    if (target === undefined || target === 'system-serial') return;
    add(r, el, byLibvirt(SERIAL_TARGETS, target)?.qemu ?? target, 'serial', {}, byLibvirt(SERIAL_TARGETS, target)?.plug);
  }],
  ['channel', readVirtioSerialPort('virtserialport')],
  ['console', readVirtioSerialPort('virtconsole')],
  ['watchdog', readModel(WATCHDOG_MODELS, 'watchdog', attr('model'), () => undefined)],
  ['sound', readSound],
  // On Arm, tpm-tis is QEMU's sysbus tpm-tis-device (qemuBuildTPMDevCmd()).
  ['tpm', (r, el) => {
    const model = el.getAttribute('model') ?? 'tpm-tis';
    add(r, el, model === 'tpm-tis' && r.spec.arch === 'aarch64' ? 'tpm-tis-device' : (byLibvirt(TPM_MODELS, model)?.qemu ?? model), 'tpm', {}, undefined);
  }],
  ['hostdev', readHostdev],
  ['iommu', readIommu],
  ['filesystem', readFilesystem],
  ['memory', readModel(MEMORY_MODELS, 'memory', attr('model'), () => undefined)],
  ['vsock', (r, el) => {
    const row = virtioForm(VSOCK_MODELS, el.getAttribute('model'));
    add(r, el, row.qemu, 'other', driverProperties(el, 'other'), row.plug);
  }],
  // The default panic model is isa on x86 and pseries' own hypervisor call, no device, on ppc64.
  ['panic', (r, el) => readModel(PANIC_MODELS, 'other', (e) => e.getAttribute('model') ?? (r.spec.arch === 'ppc64' ? 'pseries' : 'isa'), () => undefined)(r, el)],
  ['parallel', (r, el) => add(r, el, 'isa-parallel', 'other', {}, undefined)],
  ['smartcard', readSmartcard],
  ['redirdev', readModel(REDIRDEV_MODELS, 'other', attr('bus'), () => undefined)],
  ['hub', (r, el) => add(r, el, 'usb-hub', 'other', {}, undefined)],
]);
