import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import type { GuestDevice, GuestPlacement, GuestSpec } from '../model/guest.js';
import type { PropValue } from '../model/common.js';
import { UserError } from '../util/errors.js';
import { isPciType, placementBehind, roleOf } from './device-types.js';
import { parseArgv } from './argv-in.js';

export const LIBOSINFO_NS = 'http://libosinfo.org/xmlns/libvirt/domain/1.0';
export const QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0';

export interface LibvirtDomain {
  spec: GuestSpec;
  /** The parsed document, kept so that a pinned result can be written back into it. */
  document: Document;
}

function children(el: Element, name?: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) {
    if (n.nodeType === 1 && (name === undefined || (n as Element).localName === name)) out.push(n as Element);
  }
  return out;
}

function child(el: Element, name: string): Element | undefined {
  return children(el, name)[0];
}

function text(el: Element | undefined): string | undefined {
  const t = el?.textContent?.trim();
  return t === '' ? undefined : t;
}

function line(el: Element): string {
  return `line ${(el as unknown as { lineNumber?: number }).lineNumber ?? '?'}`;
}

/** libvirt's memory units (KiB when none is given). */
function toMiB(value: string, unit: string | null, where: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`not a memory size: '${value}'`, where);
  const factors: Record<string, number> = { b: 1 / 1048576, bytes: 1 / 1048576, kb: 1000 / 1048576, k: 1 / 1024, kib: 1 / 1024, mb: 1e6 / 1048576, m: 1, mib: 1, gb: 1e9 / 1048576, g: 1024, gib: 1024, tb: 1e12 / 1048576, t: 1048576, tib: 1048576 };
  const f = factors[(unit ?? 'KiB').toLowerCase()];
  if (f === undefined) throw new UserError(`unknown memory unit '${unit}'`, where);
  return Math.round(n * f);
}

/**
 * libvirt device models to QEMU device types, as libvirt's QEMU driver builds its command line
 * (src/qemu/qemu_command.c). The transitional variants are libvirt's virtio-transitional and
 * virtio-non-transitional models.
 */
function virtioType(base: string, model: string | null): string {
  if (model === 'virtio-transitional') return `${base}-transitional`;
  if (model === 'virtio-non-transitional') return `${base}-non-transitional`;
  return base;
}

const NIC_MODELS: Record<string, string> = {
  virtio: 'virtio-net-pci',
  'virtio-transitional': 'virtio-net-pci-transitional',
  'virtio-non-transitional': 'virtio-net-pci-non-transitional',
  e1000: 'e1000',
  e1000e: 'e1000e',
  igb: 'igb',
  rtl8139: 'rtl8139',
  vmxnet3: 'vmxnet3',
  'ne2k_pci': 'ne2k_pci',
  pcnet: 'pcnet',
};

const USB_MODELS: Record<string, string> = {
  'qemu-xhci': 'qemu-xhci',
  'nec-xhci': 'nec-usb-xhci',
  'piix3-uhci': 'piix3-usb-uhci',
  'piix4-uhci': 'piix4-usb-uhci',
  ehci: 'usb-ehci',
  'ich9-ehci1': 'ich9-usb-ehci1',
  'ich9-uhci1': 'ich9-usb-uhci1',
  'ich9-uhci2': 'ich9-usb-uhci2',
  'ich9-uhci3': 'ich9-usb-uhci3',
};

const PCI_CONTROLLER_MODELS: Record<string, string> = {
  'pcie-root-port': 'pcie-root-port',
  'pcie-to-pci-bridge': 'pcie-pci-bridge',
  'pci-bridge': 'pci-bridge',
  'dmi-to-pci-bridge': 'i82801b11-bridge',
  'pcie-switch-upstream-port': 'x3130-upstream',
  'pcie-switch-downstream-port': 'xio3130-downstream',
  'pcie-expander-bus': 'pxb-pcie',
  'pci-expander-bus': 'pxb',
};

const VIDEO_MODELS: Record<string, string> = { vga: 'VGA', cirrus: 'cirrus-vga', qxl: 'qxl-vga', virtio: 'virtio-vga', bochs: 'bochs-display', ramfb: 'ramfb', vmvga: 'vmware-svga' };

/** Which libvirt controller index each PCI controller has, and what its QEMU type is. */
interface PciController {
  index: number;
  type: string | undefined; // undefined for the root (pcie-root / pci-root)
}

/** Parse `virsh dumpxml` output (or a domain definition) into a GuestSpec. */
export function parseLibvirtXml(xml: string, source: string): LibvirtDomain {
  let doc: Document;
  try {
    doc = new DOMParser({
      onError: (level, message, context) => {
        if (level === 'warning') return;
        const loc = (context as { locator?: { lineNumber?: number; columnNumber?: number } } | undefined)?.locator;
        throw new UserError(`malformed XML${loc?.lineNumber ? ` at line ${loc.lineNumber}, column ${loc.columnNumber}` : ''}: ${message}`, source);
      },
    }).parseFromString(xml, 'text/xml');
  } catch (e) {
    if (e instanceof UserError) throw e;
    throw new UserError(`malformed XML: ${(e as Error).message}`, source);
  }
  const root = doc.documentElement;
  if (!root || root.localName !== 'domain') throw new UserError(`not a libvirt domain: the root element is <${root?.localName ?? 'nothing'}>`, source);
  const at = (el: Element) => `${source}: ${line(el)}`;

  const os = child(root, 'os');
  const osType = os ? child(os, 'type') : undefined;
  const machineType = osType?.getAttribute('machine');
  if (!osType || !machineType) throw new UserError('the domain has no <os><type machine=...>', source);
  const arch = osType.getAttribute('arch') ?? 'x86_64';
  if (arch !== 'x86_64' && arch !== 'aarch64' && arch !== 'ppc64' && arch !== 's390x') throw new UserError(`architecture '${arch}' is not modelled`, at(osType));

  const spec: GuestSpec = {
    arch,
    machine: { type: machineType },
    cpu: { mode: 'custom' },
    memory: { sizeMiB: 0 },
    vcpus: { count: 1 },
    devices: [],
  };
  const name = text(child(root, 'name'));
  if (name) spec.name = name;
  const domType = root.getAttribute('type');
  if (domType === 'kvm') spec.accel = 'kvm';
  else if (domType === 'qemu') spec.accel = 'tcg';

  const memory = child(root, 'memory');
  if (!memory || !text(memory)) throw new UserError('the domain has no <memory>', source);
  spec.memory = { sizeMiB: toMiB(text(memory)!, memory.getAttribute('unit'), at(memory)) };
  const maxMemory = child(root, 'maxMemory');
  if (maxMemory && text(maxMemory)) {
    spec.memory.maxMiB = toMiB(text(maxMemory)!, maxMemory.getAttribute('unit'), at(maxMemory));
    if (maxMemory.getAttribute('slots') !== null) spec.memory.slots = Number(maxMemory.getAttribute('slots'));
  }

  const vcpu = child(root, 'vcpu');
  if (vcpu) {
    const max = Number(text(vcpu));
    const current = vcpu.getAttribute('current');
    if (!Number.isInteger(max) || max < 1) throw new UserError(`<vcpu> must be a positive integer, not '${text(vcpu)}'`, at(vcpu));
    spec.vcpus = current ? { count: Number(current), max } : { count: max };
  }

  if (os?.getAttribute('firmware') === 'efi' || child(os!, 'loader')?.getAttribute('type') === 'pflash') spec.firmware = 'efi';
  else spec.firmware = 'bios';

  parseCpu(root, spec, at);
  parseFeatures(root, spec);

  const devices = child(root, 'devices');
  if (devices) parseDevices(devices, spec, machineType, at);

  parseQemuNamespace(root, spec, source);

  const launch = child(root, 'launchSecurity');
  if (launch) {
    const options: Record<string, string> = {};
    for (const c of children(launch)) if (text(c)) options[c.localName!] = text(c)!;
    spec.launchSecurity = { type: launch.getAttribute('type') ?? 'unknown', options };
  }

  const metadata = child(root, 'metadata');
  if (metadata) {
    const osinfo = metadata.getElementsByTagNameNS(LIBOSINFO_NS, 'os')[0];
    const id = osinfo?.getAttribute('id');
    if (id) spec.os = { id };
  }
  return { spec, document: doc };
}

function parseCpu(root: Element, spec: GuestSpec, at: (el: Element) => string): void {
  const cpu = child(root, 'cpu');
  if (!cpu) return; // QEMU's default model for the machine type
  const mode = cpu.getAttribute('mode') ?? 'custom';
  if (mode !== 'custom' && mode !== 'host-model' && mode !== 'host-passthrough' && mode !== 'maximum') {
    throw new UserError(`unknown CPU mode '${mode}'`, at(cpu));
  }
  spec.cpu = { mode };
  const model = child(cpu, 'model');
  if (model && text(model)) {
    spec.cpu.model = text(model)!;
    const fb = model.getAttribute('fallback');
    if (fb === 'allow' || fb === 'forbid') spec.cpu.fallback = fb;
  }
  if (cpu.getAttribute('check') === 'full') spec.cpu.enforce = true;
  // libvirt's migratable='off' (host-passthrough, maximum) is QEMU's -cpu host,migratable=off.
  if (cpu.getAttribute('migratable') === 'off') spec.cpu.properties = { ...spec.cpu.properties, migratable: false };
  const features: NonNullable<GuestSpec['cpu']['features']> = [];
  for (const f of children(cpu, 'feature')) {
    const fname = f.getAttribute('name');
    const policy = f.getAttribute('policy') ?? 'require';
    if (!fname) throw new UserError('<feature> without a name', at(f));
    if (!['require', 'force', 'disable', 'forbid', 'optional'].includes(policy)) throw new UserError(`unknown feature policy '${policy}'`, at(f));
    features.push({ name: fname, policy: policy as 'require' });
  }
  if (features.length) spec.cpu.features = features;
  const topo = child(cpu, 'topology');
  if (topo) {
    for (const k of ['sockets', 'dies', 'cores', 'threads'] as const) {
      const v = topo.getAttribute(k);
      if (v !== null) {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new UserError(`topology ${k} must be a positive integer`, at(topo));
        spec.vcpus[k] = n;
      }
    }
  }
}

/** <features>: machine options and the Hyper-V and KVM CPUID leaves libvirt turns into -cpu properties. */
function parseFeatures(root: Element, spec: GuestSpec): void {
  const features = child(root, 'features');
  if (!features) return;
  const options: Record<string, string> = {};
  const props: Record<string, PropValue> = { ...(spec.cpu.properties ?? {}) };
  const flags: { name: string; policy: 'require' | 'disable' }[] = [];
  for (const f of children(features)) {
    const state = f.getAttribute('state');
    switch (f.localName) {
      case 'smm':
        options.smm = state === 'off' ? 'off' : 'on';
        break;
      case 'vmport':
        options.vmport = state === 'off' ? 'off' : 'on';
        break;
      case 'acpi':
      case 'apic':
      case 'pae':
        break;
      case 'hyperv':
        for (const h of children(f)) {
          if (h.getAttribute('state') === 'off') continue;
          const hv = `hv-${h.localName === 'spinlocks' ? 'spinlocks' : h.localName!.replace(/_/g, '-')}`;
          if (h.localName === 'spinlocks') props['hv-spinlocks'] = Number(h.getAttribute('retries') ?? 8191);
          else if (h.localName === 'vendor_id') props['hv-vendor-id'] = h.getAttribute('value') ?? '';
          else flags.push({ name: hv, policy: 'require' });
        }
        break;
      case 'kvm':
        for (const k of children(f)) {
          if (k.localName === 'hidden' && k.getAttribute('state') === 'on') flags.push({ name: 'kvm', policy: 'disable' });
        }
        break;
      default:
        break;
    }
  }
  if (Object.keys(options).length) spec.machine.options = { ...(spec.machine.options ?? {}), ...options };
  if (Object.keys(props).length) spec.cpu.properties = props;
  if (flags.length) spec.cpu.features = [...(spec.cpu.features ?? []), ...flags];
}

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

function parseDevices(devices: Element, spec: GuestSpec, machineType: string, at: (el: Element) => string): void {
  const q35 = /q35/.test(machineType);
  const pci: PciController[] = [];
  for (const c of children(devices, 'controller')) {
    if (c.getAttribute('type') !== 'pci') continue;
    const model = c.getAttribute('model') ?? '';
    pci.push({ index: Number(c.getAttribute('index') ?? 0), type: model === 'pcie-root' || model === 'pci-root' ? undefined : PCI_CONTROLLER_MODELS[model] });
  }
  const placementOf = (el: Element, type: string): GuestPlacement => {
    if (!isPciType(type)) return 'root'; // sits on ISA, USB, SCSI or virtio-serial: no PCI placement
    const addr = child(el, 'address');
    if (addr && addr.getAttribute('type') === 'pci') {
      const bus = Number(addr.getAttribute('bus') ?? 0);
      if (bus === 0) return 'root';
      const ctrl = pci.find((p) => p.index === bus);
      if (!ctrl?.type) return 'unknown';
      if (ctrl.type === 'pcie-root-port' || ctrl.type === 'xio3130-downstream') return 'pcie-port';
      if (ctrl.type === 'pcie-pci-bridge' || ctrl.type === 'pci-bridge' || ctrl.type === 'i82801b11-bridge') return 'pci-bridge';
      return 'unknown';
    }
    // No address yet: where libvirt's address assignment puts it. On q35, PCIe-capable devices go
    // behind pcie-root-ports and conventional ones (virtio-transitional, e1000, ...) behind a
    // pcie-to-pci-bridge; on i440fx everything is on the root bus.
    if (!q35) return 'root';
    return /-transitional$|^(e1000|rtl8139|VGA|cirrus-vga|qxl-vga|piix)/.test(type) && !/non-transitional$/.test(type) ? 'pci-bridge' : 'pcie-port';
  };
  const add = (el: Element, type: string, role: string, properties: Record<string, string>, extra: Partial<GuestDevice> = {}) => {
    const d: GuestDevice = { type, role, placement: placementOf(el, type), properties: { ...properties, ...pciAddress(el) }, source: `${el.localName} at ${line(el)}`, ...extra };
    const alias = child(el, 'alias')?.getAttribute('name');
    if (alias) d.id = alias;
    spec.devices.push(d);
  };

  for (const el of children(devices)) {
    switch (el.localName) {
      case 'interface': {
        const model = child(el, 'model')?.getAttribute('type') ?? undefined;
        const type = model ? NIC_MODELS[model] : undefined;
        if (model && !type) throw new UserError(`unknown interface model '${model}'`, at(el));
        add(el, type ?? 'unknown-default-nic', 'net', driverProperties(el, 'net'));
        break;
      }
      case 'disk': {
        const target = child(el, 'target');
        const bus = target?.getAttribute('bus');
        const deviceKind = el.getAttribute('device') ?? 'disk';
        if (bus === 'virtio') add(el, virtioType('virtio-blk-pci', el.getAttribute('model')), 'disk', driverProperties(el, 'disk'));
        else if (bus === 'scsi') add(el, deviceKind === 'cdrom' ? 'scsi-cd' : 'scsi-hd', 'disk', {});
        else if (bus === 'sata' || bus === 'ide') add(el, deviceKind === 'cdrom' ? 'ide-cd' : 'ide-hd', 'disk', {});
        else if (bus === 'usb') add(el, 'usb-storage', 'disk', {});
        else if (bus === 'fdc') break;
        else throw new UserError(`unknown disk bus '${bus}'`, at(el));
        break;
      }
      case 'controller': {
        const type = el.getAttribute('type');
        const model = el.getAttribute('model');
        const index = Number(el.getAttribute('index') ?? 0);
        if (type === 'pci') {
          const t = model ? PCI_CONTROLLER_MODELS[model] : undefined;
          // libvirt names the bus of controller N "pci.N" on the QEMU command line.
          if (t) add(el, t, 'bridge', {}, { id: child(el, 'alias')?.getAttribute('name') ?? `pci.${index}` });
        } else if (type === 'scsi') {
          if (!model || model.startsWith('virtio')) add(el, virtioType('virtio-scsi-pci', model === 'virtio-scsi' ? null : model), 'controller', driverProperties(el, 'disk'));
          else add(el, model === 'lsilogic' ? 'lsi53c895a' : model, 'controller', {});
        } else if (type === 'usb') {
          if (model === 'none') break;
          const t = model ? USB_MODELS[model] : q35 ? 'qemu-xhci' : 'piix3-usb-uhci';
          if (!t) throw new UserError(`unknown USB controller model '${model}'`, at(el));
          add(el, t, 'controller', {});
        } else if (type === 'virtio-serial') add(el, virtioType('virtio-serial-pci', model), 'controller', driverProperties(el, 'other'));
        else if (type === 'sata' && !(q35 && index === 0)) add(el, 'ich9-ahci', 'controller', {});
        break;
      }
      case 'memballoon': {
        const model = el.getAttribute('model');
        if (model && model !== 'none') add(el, virtioType('virtio-balloon-pci', model === 'virtio' ? null : model), 'balloon', driverProperties(el, 'other'));
        break;
      }
      case 'rng': {
        const model = el.getAttribute('model');
        add(el, virtioType('virtio-rng-pci', model === 'virtio' ? null : model), 'rng', driverProperties(el, 'other'));
        break;
      }
      case 'video': {
        const m = child(el, 'model');
        const t = m?.getAttribute('type') ?? 'vga';
        if (t === 'none') break;
        const primary = m?.getAttribute('primary') === 'yes' || spec.devices.every((d) => d.role !== 'video');
        const type = t === 'virtio' && !primary ? 'virtio-gpu-pci' : t === 'qxl' && !primary ? 'qxl' : VIDEO_MODELS[t];
        if (!type) throw new UserError(`unknown video model '${t}'`, at(el));
        add(el, type, 'video', {});
        break;
      }
      case 'input': {
        const bus = el.getAttribute('bus');
        const t = el.getAttribute('type');
        if (bus === 'usb') add(el, `usb-${t === 'keyboard' ? 'kbd' : t}`, 'input', {});
        else if (bus === 'virtio') add(el, `virtio-${t}-pci`, 'input', {});
        break;
      }
      case 'serial': {
        const target = child(el, 'target');
        const t = target?.getAttribute('type') ?? 'isa-serial';
        add(el, t === 'isa-serial' ? 'isa-serial' : t === 'pci-serial' ? 'pci-serial' : t, 'serial', {});
        break;
      }
      case 'channel': {
        if (child(el, 'target')?.getAttribute('type') === 'virtio') add(el, 'virtserialport', 'serial', { name: child(el, 'target')?.getAttribute('name') ?? '' });
        break;
      }
      case 'console': {
        if (child(el, 'target')?.getAttribute('type') === 'virtio') add(el, 'virtconsole', 'serial', {});
        break;
      }
      case 'watchdog': {
        const model = el.getAttribute('model');
        if (model === 'i6300esb' || model === 'ib700') add(el, model, 'watchdog', {});
        break;
      }
      case 'sound': {
        const model = el.getAttribute('model');
        const t = model === 'ich6' ? 'intel-hda' : model === 'ich9' ? 'ich9-intel-hda' : model === 'ac97' ? 'AC97' : model ?? 'unknown-sound';
        add(el, t, 'sound', {});
        break;
      }
      case 'tpm': {
        add(el, el.getAttribute('model') ?? 'tpm-tis', 'tpm', {});
        break;
      }
      case 'hostdev': {
        if (el.getAttribute('type') === 'pci') add(el, 'vfio-pci', 'hostdev', {});
        break;
      }
      case 'iommu': {
        const model = el.getAttribute('model') ?? 'intel';
        const drv = child(el, 'driver');
        const options: Record<string, string> = {};
        if (drv) for (const a of ['intremap', 'caching_mode', 'eim', 'iotlb', 'aw_bits']) if (drv.getAttribute(a)) options[a] = drv.getAttribute(a)!;
        spec.iommu = { model, options };
        const qemu: Record<string, string> = {};
        const rename: Record<string, string> = { intremap: 'intremap', caching_mode: 'caching-mode', eim: 'eim', iotlb: 'device-iotlb', aw_bits: 'aw-bits' };
        for (const [k, v] of Object.entries(options)) qemu[rename[k]!] = v;
        add(el, model === 'virtio' ? 'virtio-iommu-pci' : `${model}-iommu`, 'iommu', qemu, { placement: 'root' });
        break;
      }
      default:
        break; // emulator, graphics, audio: host side
    }
  }
  for (const d of spec.devices) if (d.role === undefined) d.role = roleOf(d.type);
}

/**
 * libvirt's QEMU namespace: <qemu:commandline> arguments (devices and globals libvirt has no
 * element for) and <qemu:override> device properties (libvirt >= 8.2), which guestabi also writes.
 */
function parseQemuNamespace(root: Element, spec: GuestSpec, source: string): void {
  const args: string[] = [];
  for (const cl of Array.from(root.getElementsByTagNameNS(QEMU_NS, 'commandline'))) {
    for (const a of children(cl as Element, 'arg')) args.push(a.getAttribute('value') ?? '');
  }
  if (args.length) {
    const extra = parseArgv(['-nodefaults', ...args], `${source}: <qemu:commandline>`);
    spec.devices.push(...extra.devices);
    if (extra.globals?.length) spec.globals = [...(spec.globals ?? []), ...extra.globals];
  }
  for (const ov of Array.from(root.getElementsByTagNameNS(QEMU_NS, 'device'))) {
    const el = ov as Element;
    const alias = el.getAttribute('alias');
    const d = spec.devices.find((x) => x.id === alias);
    if (!d) throw new UserError(`<qemu:device alias='${alias}'> names no device (give the device <alias name='${alias}'/>)`, `${source}: ${line(el)}`);
    for (const fe of children(el, 'frontend')) {
      for (const p of children(fe, 'property')) {
        const name = p.getAttribute('name');
        if (!name) continue;
        if (p.getAttribute('type') === 'remove') delete d.properties?.[name];
        else d.properties = { ...(d.properties ?? {}), [name]: p.getAttribute('value') ?? '' };
      }
    }
  }
  // Devices given on the command line may sit behind libvirt's controllers (bus=pci.N).
  const typeById = new Map(spec.devices.filter((d) => d.id).map((d) => [d.id!, d.type]));
  for (const d of spec.devices) {
    const bus = d.properties?.bus;
    if (bus && isPciType(d.type) && d.placement === 'unknown') d.placement = placementBehind(typeById.get(bus));
  }
}
