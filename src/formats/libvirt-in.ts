import { DOMParser, type Document, type Element } from '@xmldom/xmldom';
import type { GuestSpec } from '../model/guest.js';
import type { PropValue } from '../model/common.js';
import { UserError } from '../util/errors.js';
import { placementBehind } from './device-types.js';
import { parseArgv } from './argv-in.js';
import { parseDevices } from './libvirt-in-devices.js';
import { child, children, line, text } from './xml.js';
import { checkLimit } from '../resolve/limits.js';

export const LIBOSINFO_NS = 'http://libosinfo.org/xmlns/libvirt/domain/1.0';
export const QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0';

export interface LibvirtDomain {
  spec: GuestSpec;
  /** The parsed document, kept so that a pinned result can be written back into it. */
  document: Document;
}

type At = (el: Element) => string;

/** libvirt's memory units (KiB when none is given). */
function toMiB(value: string, unit: string | null, where: string, exact = false): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UserError(`not a memory size: '${value}'`, where);
  const factors: Record<string, number> = { b: 1 / 1048576, bytes: 1 / 1048576, kb: 1000 / 1048576, k: 1 / 1024, kib: 1 / 1024, mb: 1e6 / 1048576, m: 1, mib: 1, gb: 1e9 / 1048576, g: 1024, gib: 1024, tb: 1e12 / 1048576, t: 1048576, tib: 1048576 };
  const f = factors[(unit ?? 'KiB').toLowerCase()];
  if (f === undefined) throw new UserError(`unknown memory unit '${unit}'`, where);
  return exact ? n * f : Math.round(n * f);
}

/** Parse `virsh dumpxml` output (or a domain definition) into a GuestSpec. */
export function parseLibvirtXml(xml: string, source: string): LibvirtDomain {
  const doc = parseDocument(xml, source);
  const root = doc.documentElement;
  if (!root || root.localName !== 'domain') throw new UserError(`not a libvirt domain: the root element is <${root?.localName ?? 'nothing'}>`, source);
  const at: At = (el) => `${source}: ${line(el)}`;
  const spec = parseDomain(root, source, at);
  parseMemory(root, spec, source, at);
  parseVcpus(root, spec, at);
  parseFirmware(root, spec);
  parseCpu(root, spec, at);
  libvirtTopology(spec);
  parseFeatures(root, spec, at);
  const devices = child(root, 'devices');
  // Counted before they are read: a domain of 870,000 interfaces is refused at once.
  if (devices) checkLimit('devices', children(devices).length, '<devices> has too many elements', at(devices));
  if (devices) parseDevices(devices, spec, spec.machine.type, at);
  parseQemuNamespace(root, spec, source);
  parseLaunchSecurity(root, spec);
  parseMetadata(root, spec);
  return { spec, document: doc };
}

function parseDocument(xml: string, source: string): Document {
  // xmldom wraps what onError throws in its own error ("Reporting fatalError ... caused ..."):
  // keep the first error as guestabi words it, and throw that alone.
  let first: UserError | undefined;
  try {
    const doc = new DOMParser({
      onError: (level, message, context) => {
        if (level === 'warning') return;
        const loc = (context as { locator?: { lineNumber?: number; columnNumber?: number } } | undefined)?.locator;
        first ??= new UserError(`malformed XML${loc?.lineNumber ? ` at line ${loc.lineNumber}, column ${loc.columnNumber}` : ''}: ${message}`, source);
        throw first;
      },
    }).parseFromString(xml, 'text/xml');
    if (first) throw first;
    return doc;
  } catch (e) {
    if (first) throw first;
    if (e instanceof UserError) throw e;
    throw new UserError(`malformed XML: ${(e as Error).message}`, source);
  }
}

/** The machine type and architecture (<os><type>), the name and the accelerator (<domain type>). */
function parseDomain(root: Element, source: string, at: At): GuestSpec {
  const os = child(root, 'os');
  const osType = os ? child(os, 'type') : undefined;
  const machineType = osType?.getAttribute('machine');
  if (!osType || !machineType) throw new UserError('the domain has no <os><type machine=...>', source);
  // libvirt names the guest's byte order (ppc64le); both run on qemu-system-ppc64.
  const written = osType.getAttribute('arch') ?? 'x86_64';
  const arch = written === 'ppc64le' ? 'ppc64' : written;
  if (arch !== 'x86_64' && arch !== 'aarch64' && arch !== 'ppc64' && arch !== 's390x') throw new UserError(`architecture '${written}' is not modelled`, at(osType));
  const spec: GuestSpec = { arch, machine: { type: machineType }, cpu: { mode: 'custom' }, memory: { sizeMiB: 0 }, vcpus: { count: 1 }, devices: [] };
  const name = text(child(root, 'name'));
  if (name) spec.name = name;
  const domType = root.getAttribute('type');
  if (domType === 'kvm') spec.accel = 'kvm';
  else if (domType === 'qemu') spec.accel = 'tcg';
  return spec;
}

function parseMemory(root: Element, spec: GuestSpec, source: string, at: At): void {
  const memory = child(root, 'memory');
  if (!memory || !text(memory)) throw new UserError('the domain has no <memory>', source);
  // libvirt starts the guest with its NUMA cells' memory when it has cells, each aligned up to 1 MiB
  // (qemuDomainAlignMemorySizes(), virDomainDefGetMemoryInitial()).
  const cpu = child(root, 'cpu');
  const numa = cpu && child(cpu, 'numa');
  const cells = numa ? children(numa, 'cell').filter((c) => c.getAttribute('memory')) : [];
  const sizeMiB = cells.length ? cells.reduce((sum, c) => sum + Math.ceil(toMiB(c.getAttribute('memory')!, c.getAttribute('unit'), at(c), true)), 0) : Math.ceil(toMiB(text(memory)!, memory.getAttribute('unit'), at(memory), true));
  // pseries memory comes in 256 MiB blocks: libvirt rounds it up (qemuDomainAlignMemorySizes(), ppc64).
  spec.memory = { sizeMiB: spec.arch === 'ppc64' ? Math.ceil(sizeMiB / 256) * 256 : sizeMiB };
  const maxMemory = child(root, 'maxMemory');
  if (maxMemory && text(maxMemory)) {
    spec.memory.maxMiB = toMiB(text(maxMemory)!, maxMemory.getAttribute('unit'), at(maxMemory));
    const slots = maxMemory.getAttribute('slots');
    if (slots !== null) {
      if (!/^\d+$/.test(slots)) throw new UserError(`slots must be a number, not '${slots}'`, at(maxMemory));
      spec.memory.slots = Number(slots);
    }
  }
}

function parseVcpus(root: Element, spec: GuestSpec, at: At): void {
  const vcpu = child(root, 'vcpu');
  if (!vcpu) return;
  const max = Number(text(vcpu));
  const current = vcpu.getAttribute('current');
  if (!Number.isInteger(max) || max < 1) throw new UserError(`<vcpu> must be a positive integer, not '${text(vcpu)}'`, at(vcpu));
  if (current && !(/^\d+$/.test(current) && Number(current) >= 1)) throw new UserError(`<vcpu current> must be a positive integer, not '${current}'`, at(vcpu));
  spec.vcpus = current ? { count: Number(current), max } : { count: max };
}

/** Without a <topology>, libvirt gives QEMU one socket per vCPU (qemuBuildSmpCommandLine():
 *  sockets=<max vCPUs>,cores=1,threads=1), not QEMU's own default for the machine type. */
function libvirtTopology(spec: GuestSpec): void {
  if (spec.vcpus.sockets !== undefined || spec.vcpus.cores !== undefined || spec.vcpus.threads !== undefined) return;
  spec.vcpus = { ...spec.vcpus, sockets: spec.vcpus.max ?? spec.vcpus.count, cores: 1, threads: 1 };
}

function parseFirmware(root: Element, spec: GuestSpec): void {
  const os = child(root, 'os')!;
  spec.firmware = os.getAttribute('firmware') === 'efi' || child(os, 'loader')?.getAttribute('type') === 'pflash' ? 'efi' : 'bios';
}

function parseLaunchSecurity(root: Element, spec: GuestSpec): void {
  const launch = child(root, 'launchSecurity');
  if (!launch) return;
  const options: Record<string, string> = {};
  for (const c of children(launch)) if (text(c)) options[c.localName!] = text(c)!;
  spec.launchSecurity = { type: launch.getAttribute('type') ?? 'unknown', options };
}

/** The libosinfo id virt-install and virt-manager record. */
function parseMetadata(root: Element, spec: GuestSpec): void {
  const metadata = child(root, 'metadata');
  const id = metadata?.getElementsByTagNameNS(LIBOSINFO_NS, 'os')[0]?.getAttribute('id');
  if (id) spec.os = { id };
}

function parseCpu(root: Element, spec: GuestSpec, at: At): void {
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
function parseFeatures(root: Element, spec: GuestSpec, at: At): void {
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
          if (h.localName === 'spinlocks') {
            const retries = h.getAttribute('retries') ?? '8191';
            if (!/^\d+$/.test(retries)) throw new UserError(`spinlocks retries must be a number, not '${retries}'`, at(h));
            props['hv-spinlocks'] = Number(retries);
          }
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
    if (bus && d.placement === 'unknown') d.placement = placementBehind(typeById.get(bus));
  }
}
