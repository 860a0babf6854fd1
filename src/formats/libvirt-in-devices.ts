import type { Element } from '@xmldom/xmldom';
import type { GuestDevice, GuestPlacement, GuestSpec } from '../model/guest.js';
import { UserError } from '../util/errors.js';
import { placementBehind, roleOf } from './device-types.js';
import {
  byLibvirt,
  defaultUsbController,
  DRIVE_BUSES,
  INPUT_MODELS,
  IOMMU_MODELS,
  MEMBALLOON_MODELS,
  NIC_MODELS,
  PCI_CONTROLLER_MODELS,
  PCI_ROOT_MODELS,
  RNG_MODELS,
  SATA_CONTROLLER,
  SCSI_CONTROLLER_MODELS,
  SERIAL_TARGETS,
  SOUND_MODELS,
  TPM_MODELS,
  USB_CONTROLLER_MODELS,
  VIDEO_MODELS,
  VIRTIO_DISK_MODELS,
  VIRTIO_SERIAL_MODELS,
  WATCHDOG_MODELS,
  type LibvirtPlug,
  type ModelRow,
} from './libvirt-models.js';
import { child, children, line } from './xml.js';

/** What reading the <devices> of one domain keeps. */
interface DeviceReader {
  spec: GuestSpec;
  q35: boolean;
  /** libvirt controller index -> QEMU type of the PCI controller (undefined for the root). */
  buses: Map<number, string | undefined>;
  at: (el: Element) => string;
}

/** Every device element libvirt starts a guest-visible device for, as QEMU devices. */
export function parseDevices(devices: Element, spec: GuestSpec, machineType: string, at: (el: Element) => string): void {
  const r: DeviceReader = { spec, q35: /q35/.test(machineType), buses: pciControllers(devices), at };
  // emulator, graphics, audio...: host side
  for (const el of children(devices)) ELEMENT_READERS.get(el.localName!)?.(r, el);
  for (const d of spec.devices) if (d.role === undefined) d.role = roleOf(d.type);
}

function pciControllers(devices: Element): Map<number, string | undefined> {
  const buses = new Map<number, string | undefined>();
  for (const c of children(devices, 'controller')) {
    if (c.getAttribute('type') !== 'pci') continue;
    const model = c.getAttribute('model') ?? '';
    const index = Number(c.getAttribute('index') ?? 0);
    if (!buses.has(index)) buses.set(index, PCI_ROOT_MODELS.has(model) ? undefined : byLibvirt(PCI_CONTROLLER_MODELS, model)?.qemu);
  }
  return buses;
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
    if (bus === 0) return 'root';
    const type = r.buses.get(bus);
    return type === undefined ? 'unknown' : placementBehind(type);
  }
  if (addr || !plug || plug === 'root' || !r.q35) return 'root';
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
  const model = child(el, 'model')?.getAttribute('type');
  const row = model ? byLibvirt(NIC_MODELS, model) : undefined;
  if (model && !row) throw new UserError(`unknown interface model '${model}'`, r.at(el));
  add(r, el, row?.qemu ?? 'unknown-default-nic', 'net', driverProperties(el, 'net'), row?.plug);
}

function readDisk(r: DeviceReader, el: Element): void {
  const bus = child(el, 'target')?.getAttribute('bus');
  if (bus === 'fdc') return;
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
      const row = model ? byLibvirt(PCI_CONTROLLER_MODELS, model) : undefined;
      // libvirt names the bus of controller N "pci.N" on the QEMU command line.
      if (row) add(r, el, row.qemu, 'bridge', {}, row.plug, { id: child(el, 'alias')?.getAttribute('name') ?? `pci.${index}` });
      break;
    }
    case 'scsi':
      readScsiController(r, el, model);
      break;
    case 'usb': {
      if (model === 'none') break;
      const row = byLibvirt(USB_CONTROLLER_MODELS, model || defaultUsbController(r.q35));
      if (!row) throw new UserError(`unknown USB controller model '${model}'`, r.at(el));
      add(r, el, row.qemu, 'controller', {}, row.plug);
      break;
    }
    case 'virtio-serial': {
      const row = virtioForm(VIRTIO_SERIAL_MODELS, model);
      add(r, el, row.qemu, 'controller', driverProperties(el, 'other'), row.plug);
      break;
    }
    case 'sata':
      if (!(r.q35 && index === 0)) add(r, el, SATA_CONTROLLER.qemu, 'controller', {}, SATA_CONTROLLER.plug);
      break;
    default:
      break;
  }
}

function readScsiController(r: DeviceReader, el: Element, model: string | null): void {
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
  const row = byLibvirt(VIDEO_MODELS, t, !primary);
  if (!row) throw new UserError(`unknown video model '${t}'`, r.at(el));
  add(r, el, row.qemu, 'video', {}, row.plug);
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
  add(r, el, byLibvirt(IOMMU_MODELS, model)?.qemu ?? `${model}-iommu`, 'iommu', qemu, undefined, { placement: 'root' });
}

/** A host PCI device: most are PCI Express, and libvirt assumes so when it cannot tell. */
function readHostdev(r: DeviceReader, el: Element): void {
  if (el.getAttribute('type') === 'pci') add(r, el, 'vfio-pci', 'hostdev', {}, 'pcie');
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
  ['serial', readModel(SERIAL_TARGETS, 'serial', (el) => child(el, 'target')?.getAttribute('type') ?? 'isa-serial', (el) => child(el, 'target')?.getAttribute('type') ?? 'isa-serial')],
  ['channel', readVirtioSerialPort('virtserialport')],
  ['console', readVirtioSerialPort('virtconsole')],
  ['watchdog', readModel(WATCHDOG_MODELS, 'watchdog', attr('model'), () => undefined)],
  ['sound', readModel(SOUND_MODELS, 'sound', attr('model'), (el) => el.getAttribute('model') ?? 'unknown-sound')],
  ['tpm', readModel(TPM_MODELS, 'tpm', (el) => el.getAttribute('model') ?? 'tpm-tis', (el) => el.getAttribute('model') ?? 'tpm-tis')],
  ['hostdev', readHostdev],
  ['iommu', readIommu],
]);
