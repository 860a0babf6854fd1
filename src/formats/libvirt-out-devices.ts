import type { Element } from '@xmldom/xmldom';
import type { PropValue } from '../model/common.js';
import type { PinnedAbi, PinnedDevice } from '../model/pinned.js';
import {
  byQemu,
  INPUT_MODELS,
  IOMMU_MODELS,
  MEMBALLOON_MODELS,
  NIC_MODELS,
  PCI_CONTROLLER_MODELS,
  RNG_MODELS,
  SCSI_CONTROLLER_MODELS,
  SERIAL_TARGETS,
  REDIRDEV_MODELS,
  SOUND_MODELS,
  TPM_MODELS,
  USB_CONTROLLER_MODELS,
  VIDEO_MODELS,
  VIRTIO_DISK_MODELS,
  VIRTIO_SERIAL_MODELS,
  WATCHDOG_MODELS,
  type ModelRow,
} from './libvirt-models.js';
import { formatOpts } from './qemuopts.js';
import { placeDevices, type PlacedDevice } from './topology.js';
import type { Attrs, XmlWriter } from './xml.js';

/** A device property that libvirt has no attribute for, as a <qemu:override> of its alias. */
export interface Override {
  alias: string;
  props: [string, PropValue][];
}

/** What writing the <devices> of one domain keeps. */
interface DeviceWriter {
  x: XmlWriter;
  devices: Element;
  p: PinnedAbi;
  placed: PlacedDevice[];
  /** libvirt's controller index of each PCI port or bridge, by its id. */
  index: Map<string, number>;
  /** The next free slot on each bus. */
  slots: Map<number, number>;
  disks: number;
  haveUsb: boolean;
  /** The last HDA <sound>: its codecs (hda-duplex...) are <codec> elements in it. */
  hda?: Element;
  haveBalloon: boolean;
  overrides: Override[];
  commandline: string[];
}

/** Properties that name or connect a device, or its host side: libvirt writes them itself. */
const LIBVIRT_OWN = new Set(['bus', 'addr', 'id', 'drive', 'netdev', 'chardev', 'mac', 'bootindex']);

/**
 * Every device of a pinned guest into <devices>: as the libvirt element the model table has for
 * it, else as a -device of <qemu:commandline>. No USB controller and no balloon are said as such,
 * or libvirt would add its defaults.
 */
export function writeDevices(x: XmlWriter, devices: Element, p: PinnedAbi): { commandline: string[]; overrides: Override[] } {
  const placed = placeDevices(p);
  const w: DeviceWriter = { x, devices, p, placed, index: controllerIndexes(placed), slots: new Map(), disks: 0, haveUsb: false, haveBalloon: false, overrides: [], commandline: [] };
  placed.forEach((pd, i) => writeDevice(w, pd, i));
  if (!w.haveUsb) x.add(devices, 'controller', { type: 'usb', model: 'none' });
  if (!w.haveBalloon) x.add(devices, 'memballoon', { model: 'none' });
  for (const g of p.globals) w.commandline.push('-global', `${g.driver}.${g.property}=${g.value}`);
  return { commandline: w.commandline, overrides: w.overrides };
}

/** libvirt controller indexes: pci.N keeps N; other port/bridge ids get the next free index. */
function controllerIndexes(placed: PlacedDevice[]): Map<string, number> {
  const index = new Map<string, number>();
  let next = 1;
  for (const x of placed) if (x.id && /^pci\.\d+$/.test(x.id)) index.set(x.id, Number(x.id.slice(4)));
  for (const x of placed) {
    if (!x.id || index.has(x.id) || !byQemu(PCI_CONTROLLER_MODELS, x.device.type)) continue;
    while ([...index.values()].includes(next)) next++;
    index.set(x.id, next++);
  }
  return index;
}

/** The device's PCI address on its bus: its own addr= if it has one, else the next free slot. */
function pciAddress(w: DeviceWriter, pd: PlacedDevice): Attrs | undefined {
  const bus = pd.bus ? w.index.get(pd.bus) : 0;
  if (bus === undefined) return undefined;
  const addr = pd.device.explicit.addr;
  let slot: number;
  let fn = 0;
  if (typeof addr === 'string' && /^(0x)?[0-9a-f]+(\.\d)?$/i.test(addr)) {
    const [s, f] = addr.split('.');
    slot = parseInt(s!, 16);
    fn = Number(f ?? 0);
  } else {
    const parent = w.placed.find((y) => y.id === pd.bus)?.device.type;
    const start = bus === 0 ? 2 : byQemu(PCI_CONTROLLER_MODELS, parent ?? '')?.libvirt === 'pcie-root-port' ? 0 : 1;
    slot = Math.max(w.slots.get(bus) ?? start, start);
    // q35's root complex keeps 0x1f for ICH9; ports hold one device at slot 0.
    if (bus === 0 && w.p.machine.family.includes('q35') && slot === 0x1f) slot++;
  }
  w.slots.set(bus, Math.max(w.slots.get(bus) ?? 0, slot + 1));
  return { type: 'pci', domain: '0x0000', bus: `0x${bus.toString(16).padStart(2, '0')}`, slot: `0x${slot.toString(16).padStart(2, '0')}`, function: `0x${fn}` };
}

/** The <address> of a device libvirt connects by PCI. */
function address(w: DeviceWriter, el: Element, pd: PlacedDevice, row: ModelRow): void {
  if (!row.plug) return;
  const a = pciAddress(w, pd);
  if (a) w.x.add(el, 'address', a);
}

/** Properties a libvirt element carries itself (on its <driver>); the others go to <qemu:override>. */
function driverAttrs(d: PinnedDevice, kind: 'net' | 'disk' | 'other'): { attrs: Attrs; used: Set<string> } {
  const used = new Set<string>();
  const attrs: Attrs = {};
  const e = d.explicit;
  const onoff = (v: PropValue | undefined) => (v === true || v === 'on' ? 'on' : 'off');
  for (const [prop, attr] of [['iommu_platform', 'iommu'], ['ats', 'ats'], ['packed', 'packed']] as const) {
    if (e[prop] === undefined) continue;
    attrs[attr] = onoff(e[prop]);
    used.add(prop);
  }
  if (kind === 'net' && (e.mq === true || e.mq === 'on') && typeof e.vectors === 'number' && e.vectors > 2) {
    attrs.queues = (e.vectors - 2) / 2;
    used.add('mq');
    used.add('vectors');
  }
  if (kind === 'disk' && e['num-queues'] !== undefined) {
    attrs.queues = String(e['num-queues']);
    used.add('num-queues');
  }
  return { attrs, used };
}

function addDriver(w: DeviceWriter, el: Element, attrs: Attrs): void {
  if (Object.keys(attrs).length) w.x.add(el, 'driver', attrs);
}

/** The device's alias, given when it has properties for <qemu:override> (which names it) or a
 *  user alias (ua-) of its own. */
function aliasAndOverride(w: DeviceWriter, el: Element, pd: PlacedDevice, i: number, used: Set<string>): void {
  const props = Object.entries(pd.device.explicit).filter(([k]) => !used.has(k) && !LIBVIRT_OWN.has(k));
  const own = pd.id !== undefined && /^ua-/.test(pd.id);
  const alias = own ? pd.id! : `ua-gabi${i}`;
  if (props.length) w.overrides.push({ alias, props });
  if (props.length || own) w.x.add(el, 'alias', { name: alias });
}

type ElementWriter = (w: DeviceWriter, pd: PlacedDevice, i: number, row: ModelRow) => void;

function writeInterface(w: DeviceWriter, pd: PlacedDevice, i: number, row: ModelRow): void {
  const { attrs, used } = driverAttrs(pd.device, 'net');
  const el = w.x.add(w.devices, 'interface', { type: 'user' });
  w.x.add(el, 'model', { type: row.libvirt });
  addDriver(w, el, attrs);
  aliasAndOverride(w, el, pd, i, used);
  address(w, el, pd, row);
}

function writeVirtioDisk(w: DeviceWriter, pd: PlacedDevice, i: number, row: ModelRow): void {
  const { attrs, used } = driverAttrs(pd.device, 'disk');
  const el = w.x.add(w.devices, 'disk', { type: 'file', device: 'disk', model: row.libvirt || undefined });
  w.x.add(el, 'driver', { name: 'qemu', type: 'raw', ...attrs });
  w.x.add(el, 'target', { dev: `vd${String.fromCharCode(97 + w.disks++)}`, bus: 'virtio' });
  aliasAndOverride(w, el, pd, i, used);
  address(w, el, pd, row);
}

/** <controller type=...> with its model; virtio ones carry a <driver>. */
function writeController(type: string, kind: 'disk' | 'other') {
  return (w: DeviceWriter, pd: PlacedDevice, i: number, row: ModelRow): void => {
    const { attrs, used } = driverAttrs(pd.device, kind);
    const el = w.x.add(w.devices, 'controller', { type, model: row.libvirt || undefined }, '');
    addDriver(w, el, attrs);
    aliasAndOverride(w, el, pd, i, used);
    address(w, el, pd, row);
  };
}

function writeUsbController(w: DeviceWriter, pd: PlacedDevice, i: number, row: ModelRow): void {
  w.haveUsb = true;
  const el = w.x.add(w.devices, 'controller', { type: 'usb', model: row.libvirt }, '');
  aliasAndOverride(w, el, pd, i, new Set());
  address(w, el, pd, row);
}

function writePciController(w: DeviceWriter, pd: PlacedDevice, _i: number, row: ModelRow): void {
  const el = w.x.add(w.devices, 'controller', { type: 'pci', index: w.index.get(pd.id!), model: row.libvirt }, '');
  address(w, el, pd, row);
}

function writeBalloon(w: DeviceWriter, pd: PlacedDevice, i: number, row: ModelRow): void {
  w.haveBalloon = true;
  const { attrs, used } = driverAttrs(pd.device, 'other');
  const el = w.x.add(w.devices, 'memballoon', { model: row.libvirt }, '');
  aliasAndOverride(w, el, pd, i, used);
  address(w, el, pd, row);
  addDriver(w, el, attrs);
}

function writeRng(w: DeviceWriter, pd: PlacedDevice, i: number, row: ModelRow): void {
  const { attrs, used } = driverAttrs(pd.device, 'other');
  const el = w.x.add(w.devices, 'rng', { model: row.libvirt });
  w.x.add(el, 'backend', { model: 'random' }, '/dev/urandom');
  addDriver(w, el, attrs);
  aliasAndOverride(w, el, pd, i, used);
  address(w, el, pd, row);
}

function writeVideo(w: DeviceWriter, pd: PlacedDevice, i: number, row: ModelRow): void {
  const el = w.x.add(w.devices, 'video');
  w.x.add(el, 'model', { type: row.libvirt, primary: row.secondary ? 'no' : 'yes' });
  aliasAndOverride(w, el, pd, i, new Set());
  address(w, el, pd, row);
}

/** Inputs, serial ports and watchdogs: the element and its address, nothing libvirt would not set. */
function writeInput(w: DeviceWriter, pd: PlacedDevice, _i: number, row: ModelRow): void {
  const [bus, type] = row.libvirt.split(':');
  address(w, w.x.add(w.devices, 'input', { type, bus }), pd, row);
}

function writeSerial(w: DeviceWriter, pd: PlacedDevice, _i: number, row: ModelRow): void {
  const el = w.x.add(w.devices, 'serial', { type: 'pty' });
  w.x.add(el, 'target', { type: row.libvirt });
  address(w, el, pd, row);
}

function writeWatchdog(w: DeviceWriter, pd: PlacedDevice, _i: number, row: ModelRow): void {
  address(w, w.x.add(w.devices, 'watchdog', { model: row.libvirt }, ''), pd, row);
}

function writeSound(w: DeviceWriter, pd: PlacedDevice, i: number, row: ModelRow): void {
  const el = w.x.add(w.devices, 'sound', { model: row.libvirt }, '');
  aliasAndOverride(w, el, pd, i, new Set());
  address(w, el, pd, row);
  w.hda = /^(ich6|ich7|ich9)$/.test(row.libvirt) ? el : undefined;
}

/** A TPM needs a host side: libvirt's swtpm emulator. */
function writeTpm(w: DeviceWriter, _pd: PlacedDevice, _i: number, row: ModelRow): void {
  w.x.add(w.x.add(w.devices, 'tpm', { model: row.libvirt }), 'backend', { type: 'emulator', version: '2.0' });
}

/** The vIOMMU with the options the guest was given (libvirt's <driver> attributes). */
function writeIommu(w: DeviceWriter, _pd: PlacedDevice, _i: number, row: ModelRow): void {
  const el = w.x.add(w.devices, 'iommu', { model: row.libvirt }, '');
  addDriver(w, el, { ...w.p.iommu!.options });
}

/** Each device class the model table has rows for, with its element writer; `when` narrows it. */
const CLASSES: { rows: readonly ModelRow[]; write: ElementWriter; when?: (w: DeviceWriter, pd: PlacedDevice) => boolean }[] = [
  { rows: NIC_MODELS, write: writeInterface },
  { rows: VIRTIO_DISK_MODELS, write: writeVirtioDisk },
  { rows: SCSI_CONTROLLER_MODELS, write: writeController('scsi', 'disk') },
  { rows: VIRTIO_SERIAL_MODELS, write: writeController('virtio-serial', 'other') },
  { rows: MEMBALLOON_MODELS, write: writeBalloon },
  { rows: RNG_MODELS, write: writeRng },
  { rows: USB_CONTROLLER_MODELS, write: writeUsbController },
  { rows: PCI_CONTROLLER_MODELS, write: writePciController, when: (w, pd) => pd.id !== undefined && w.index.has(pd.id) },
  { rows: VIDEO_MODELS, write: writeVideo },
  { rows: INPUT_MODELS, write: writeInput },
  { rows: SERIAL_TARGETS, write: writeSerial },
  { rows: IOMMU_MODELS, write: writeIommu, when: (w) => w.p.iommu !== undefined },
  { rows: WATCHDOG_MODELS, write: writeWatchdog },
  { rows: SOUND_MODELS, write: writeSound },
  { rows: TPM_MODELS, write: writeTpm },
  { rows: REDIRDEV_MODELS, write: (w, _pd, _i, row) => void w.x.add(w.devices, 'redirdev', { bus: row.libvirt, type: 'null' }) },
];

function writeDevice(w: DeviceWriter, pd: PlacedDevice, i: number): void {
  const t = pd.device.type;
  // An HDA codec is part of its controller's <sound> (qemuBuildSoundCodecCmd).
  const codec = /^hda-(duplex|micro|output)$/.exec(t)?.[1];
  if (codec && w.hda) {
    w.x.add(w.hda, 'codec', { type: codec });
    return;
  }
  for (const c of CLASSES) {
    const row = byQemu(c.rows, t);
    if (row && (c.when?.(w, pd) ?? true)) return c.write(w, pd, i, row);
  }
  // Synthetic types ("a NIC QEMU adds by default") are no -device.
  if (!/^unknown-/.test(t)) w.commandline.push('-device', deviceOption(pd));
}

function deviceOption(pd: PlacedDevice): string {
  const opts: [string, string][] = [];
  if (pd.id) opts.push(['id', pd.id]);
  if (pd.bus) opts.push(['bus', pd.bus]);
  for (const [k, v] of Object.entries(pd.device.explicit)) if (k !== 'bus' && k !== 'id') opts.push([k, typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)]);
  return formatOpts(pd.device.type, opts);
}
