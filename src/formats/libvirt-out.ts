import { XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import type { PinnedAbi } from '../model/pinned.js';
import { LIBOSINFO_NS, QEMU_NS } from './libvirt-in.js';
import { prefersSockets, qemuSmp } from '../resolve/limits.js';
import { writeDevices } from './libvirt-out-devices.js';
import { child, children, XmlWriter, type Attrs } from './xml.js';

export interface LibvirtOutOptions {
  /** CPU feature names libvirt knows (its cpu_map), to spell features as libvirt does. */
  libvirtFeatures?: ReadonlySet<string>;
  /** The catalog's alternative spellings (alias -> canonical). */
  featureAliases?: Record<string, string>;
  /** How the guest spelled its features, canonical -> as written. */
  userSpelling?: Map<string, string>;
}

/** A canonical QEMU feature name as libvirt spells it (pclmulqdq -> pclmuldq, lahf-lm -> lahf_lm). */
export function libvirtFeatureName(canonical: string, o: LibvirtOutOptions): string {
  const asWritten = o.userSpelling?.get(canonical);
  if (asWritten) return asWritten;
  if (!o.libvirtFeatures || o.libvirtFeatures.has(canonical)) return canonical;
  const alias = Object.entries(o.featureAliases ?? {}).find(([a, c]) => c === canonical && o.libvirtFeatures!.has(a));
  return alias ? alias[0] : canonical;
}

/**
 * A pinned CPU model as libvirt can start it: libvirt 9.0 knows its cpu_map's names, which are
 * unversioned, and refuses the others at start ("Unknown CPU model Westmere-v1"). Version 1 is
 * what QEMU makes of an unversioned name on every versioned pc and q35 machine type
 * (default_cpu_version, target/i386/cpu.c; every catalog's machines agree), so X-v1 is written X.
 * Later versions stay as they are: no unversioned name means them.
 */
export function libvirtModelName(model: string): string {
  return model.replace(/-v1$/, '');
}

/** CPU properties libvirt sets from <features> (Hyper-V enlightenments, the KVM signature). */
const DOMAIN_FEATURE = /^(hv-.*|kvm)$/;

/** The topology QEMU gives the pinned guest: its own, or QEMU's for its -smp on the machine type. */
function guestTopology(p: PinnedAbi): { sockets: number; dies: number; cores: number; threads: number } | undefined {
  if ((['sockets', 'dies', 'cores', 'threads'] as const).some((k) => p.vcpus[k] !== undefined)) return { sockets: 1, dies: 1, cores: 1, threads: 1, ...p.vcpus };
  const version = /-(\d+\.\d+)$/.exec(p.machine.type)?.[1] ?? null;
  const t = qemuSmp(p.vcpus, prefersSockets(version, [99, 0]));
  return typeof t === 'string' ? undefined : t;
}

/** <cpu>: its attributes and its children (name, attributes, text), in order. */
function cpuParts(p: PinnedAbi, o: LibvirtOutOptions): { attrs: Attrs; children: [string, Attrs, string?][] } {
  const c = p.cpu;
  const kids: [string, Attrs, string?][] = [];
  if (!c.hostDependent) kids.push(['model', { fallback: 'forbid' }, libvirtModelName(c.model!)]);
  // Always a <topology>: without one libvirt gives one socket per vCPU (qemuBuildSmpCommandLine()),
  // where QEMU computes its own for the machine type (cores first since 6.2).
  const t = guestTopology(p);
  if (t) kids.push(['topology', { sockets: t.sockets, dies: t.dies, cores: t.cores, threads: t.threads }]);
  for (const [f, on] of Object.entries(c.features).sort(([a], [b]) => a.localeCompare(b))) {
    if (DOMAIN_FEATURE.test(f)) continue; // <features><hyperv>/<kvm>, not <cpu>
    kids.push(['feature', { policy: on ? 'require' : 'disable', name: libvirtFeatureName(f, o) }]);
  }
  const attrs: Attrs = c.hostDependent ? { mode: c.mode, check: 'none' } : { mode: 'custom', match: 'exact', check: c.enforce ? 'full' : 'partial' };
  return { attrs, children: kids };
}

/**
 * Write the pinned guest back into the libvirt document it came from: the versioned machine
 * type, the CPU model with its features and check='full' (libvirt's enforce); the rest of the
 * document (disks' sources, networks, graphics) stays as the user wrote it.
 */
export function patchLibvirtXml(doc: Document, p: PinnedAbi, o: LibvirtOutOptions = {}): string {
  const root = doc.documentElement!;
  child(child(root, 'os')!, 'type')!.setAttribute('machine', p.machine.type);
  const cpu = cpuIn(doc, p, o);
  const old = child(root, 'cpu');
  if (old) {
    // What the pinned ABI does not cover stays as written.
    for (const k of children(old)) if (['numa', 'cache', 'maxphysaddr'].includes(k.localName!)) cpu.appendChild(k.cloneNode(true));
    root.replaceChild(cpu, old);
  } else root.insertBefore(cpu, child(root, 'devices') ?? null);
  return new XMLSerializer().serializeToString(doc) + '\n';
}

/** The <cpu> element for the user's document, each child on a line of its own. */
function cpuIn(doc: Document, p: PinnedAbi, o: LibvirtOutOptions): Element {
  const parts = cpuParts(p, o);
  const make = (name: string, attrs: Attrs) => {
    const el = doc.createElement(name);
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, String(v));
    return el;
  };
  const cpu = make('cpu', parts.attrs);
  for (const [name, attrs, content] of parts.children) {
    cpu.appendChild(doc.createTextNode('\n  '));
    const el = cpu.appendChild(make(name, attrs)) as Element;
    if (content !== undefined) el.appendChild(doc.createTextNode(content));
  }
  cpu.appendChild(doc.createTextNode('\n'));
  return cpu;
}

/**
 * A libvirt domain for a pinned guest that did not come from libvirt XML. Devices libvirt has
 * elements for get them, with explicit PCI addresses for their placement class; properties libvirt
 * has no attribute for go to <qemu:override>, devices it has no element for to <qemu:commandline>.
 */
export function pinnedToLibvirtXml(p: PinnedAbi, o: LibvirtOutOptions = {}): string {
  const x = new XmlWriter('domain', { qemu: QEMU_NS, libosinfo: LIBOSINFO_NS });
  const root = x.root;
  root.setAttribute('type', p.accel === 'tcg' ? 'qemu' : 'kvm');
  x.add(root, 'name', {}, p.name ?? 'guest');
  if (p.os?.id) writeMetadata(x, p.os.id);
  writeSizes(x, p);
  const os = x.addBlock(root, 'os', { firmware: p.firmware === 'efi' ? 'efi' : undefined });
  x.add(os, 'type', { arch: p.arch, machine: p.machine.type }, 'hvm');
  writeFeatures(x, p);
  const cpu = cpuParts(p, o);
  const cpuEl = x.addBlock(root, 'cpu', cpu.attrs);
  for (const [name, attrs, content] of cpu.children) x.add(cpuEl, name, attrs, content);
  const { commandline, overrides } = writeDevices(x, x.addBlock(root, 'devices'), p);
  if (p.launchSecurity) {
    const ls = x.addBlock(root, 'launchSecurity', { type: p.launchSecurity.type });
    for (const [k, v] of Object.entries(p.launchSecurity.options ?? {})) x.add(ls, k, {}, v);
  }
  if (commandline.length) {
    const cl = x.addBlock(root, 'qemu:commandline');
    for (const a of commandline) x.add(cl, 'qemu:arg', { value: a });
  }
  if (overrides.length) {
    const ov = x.addBlock(root, 'qemu:override');
    for (const { alias, props } of overrides) {
      const frontend = x.addBlock(x.addBlock(ov, 'qemu:device', { alias }), 'qemu:frontend');
      for (const [k, v] of props) x.add(frontend, 'qemu:property', { name: k, type: typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? (v < 0 ? 'signed' : 'unsigned') : 'string', value: String(v) });
    }
  }
  if (commandline.length || overrides.length) x.declare(root, 'qemu');
  return x.serialize();
}

/** The libosinfo id, where virt-install and virt-manager record it. */
function writeMetadata(x: XmlWriter, id: string): void {
  const osinfo = x.addBlock(x.addBlock(x.root, 'metadata'), 'libosinfo:libosinfo');
  x.declare(osinfo, 'libosinfo');
  x.add(osinfo, 'libosinfo:os', { id });
}

function writeSizes(x: XmlWriter, p: PinnedAbi): void {
  if (p.memory.maxMiB !== undefined) x.add(x.root, 'maxMemory', { slots: p.memory.slots, unit: 'MiB' }, String(p.memory.maxMiB));
  x.add(x.root, 'memory', { unit: 'MiB' }, String(p.memory.sizeMiB));
  if (p.vcpus.max !== undefined) x.add(x.root, 'vcpu', { placement: 'static', current: p.vcpus.count }, String(p.vcpus.max));
  else x.add(x.root, 'vcpu', { placement: 'static' }, String(p.vcpus.count));
}

/** <features>: ACPI and APIC as libvirt always has them, SMM, and the Hyper-V and KVM CPUID
 *  leaves libvirt sets from <hyperv> and <kvm>. */
function writeFeatures(x: XmlWriter, p: PinnedAbi): void {
  const features = x.addBlock(x.root, 'features');
  x.add(features, 'acpi');
  x.add(features, 'apic');
  const smm = p.machine.options.smm;
  if (smm !== undefined) x.add(features, 'smm', { state: smm === 'off' ? 'off' : 'on' });
  const hv: [string, Attrs][] = [];
  for (const [f, on] of Object.entries(p.cpu.features)) if (f.startsWith('hv-') && on) hv.push([f.slice(3).replace(/-/g, '_'), { state: 'on' }]);
  const spin = p.cpu.properties['hv-spinlocks'];
  if (spin !== undefined) hv.push(['spinlocks', { state: 'on', retries: String(spin) }]);
  const vendor = p.cpu.properties['hv-vendor-id'];
  if (vendor !== undefined) hv.push(['vendor_id', { state: 'on', value: String(vendor) }]);
  if (hv.length) {
    const hyperv = x.addBlock(features, 'hyperv', { mode: 'custom' });
    for (const [name, attrs] of hv) x.add(hyperv, name, attrs);
  }
  if (p.cpu.features.kvm === false) x.add(x.addBlock(features, 'kvm'), 'hidden', { state: 'on' });
}
