import { DOMParser, XMLSerializer, type Document, type Element } from '@xmldom/xmldom';
import type { PropValue } from '../model/common.js';
import type { PinnedAbi, PinnedDevice } from '../model/pinned.js';
import { QEMU_NS } from './libvirt-in.js';
import { formatOpts } from './qemuopts.js';
import { placeDevices, type PlacedDevice } from './topology.js';

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

/** CPU properties libvirt sets from <features> (Hyper-V enlightenments, the KVM signature). */
const DOMAIN_FEATURE = /^(hv-.*|kvm)$/;

/** <hyperv> and <kvm> elements for the Hyper-V and KVM CPU properties of a pinned guest. */
function domainFeatures(p: PinnedAbi): string[] {
  const hv: string[] = [];
  for (const [f, on] of Object.entries(p.cpu.features)) {
    if (f.startsWith('hv-') && on) hv.push(`      <${f.slice(3).replace(/-/g, '_')} state='on'/>`);
  }
  const spin = p.cpu.properties['hv-spinlocks'];
  if (spin !== undefined) hv.push(`      <spinlocks state='on' retries='${spin}'/>`);
  const vendor = p.cpu.properties['hv-vendor-id'];
  if (vendor !== undefined) hv.push(`      <vendor_id state='on' value='${esc(String(vendor))}'/>`);
  const out: string[] = [];
  if (hv.length) out.push(`    <hyperv mode='custom'>`, ...hv, `    </hyperv>`);
  if (p.cpu.features.kvm === false) out.push(`    <kvm>`, `      <hidden state='on'/>`, `    </kvm>`);
  return out;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

function cpuXml(p: PinnedAbi, o: LibvirtOutOptions, indent: string): string {
  const c = p.cpu;
  const topo = (['sockets', 'dies', 'cores', 'threads'] as const).filter((k) => p.vcpus[k] !== undefined);
  const lines: string[] = [];
  if (c.hostDependent) {
    lines.push(`${indent}<cpu mode='${c.mode}' check='none'>`);
  } else {
    lines.push(`${indent}<cpu mode='custom' match='exact' check='${c.enforce ? 'full' : 'partial'}'>`);
    lines.push(`${indent}  <model fallback='forbid'>${esc(c.model!)}</model>`);
  }
  if (topo.length) {
    const t = { sockets: 1, dies: 1, cores: 1, threads: 1, ...p.vcpus };
    lines.push(`${indent}  <topology sockets='${t.sockets}' dies='${t.dies}' cores='${t.cores}' threads='${t.threads}'/>`);
  }
  for (const [f, on] of Object.entries(c.features).sort(([a], [b]) => a.localeCompare(b))) {
    if (DOMAIN_FEATURE.test(f)) continue; // <features><hyperv>/<kvm>, not <cpu>
    lines.push(`${indent}  <feature policy='${on ? 'require' : 'disable'}' name='${esc(libvirtFeatureName(f, o))}'/>`);
  }
  lines.push(`${indent}</cpu>`);
  return lines.join('\n');
}

/**
 * Write the pinned guest back into the libvirt document it came from: the versioned machine
 * type, the CPU model with its features and check='full' (libvirt's enforce); the rest of the
 * document (disks' sources, networks, graphics) stays as the user wrote it.
 */
export function patchLibvirtXml(doc: Document, p: PinnedAbi, o: LibvirtOutOptions = {}): string {
  const root = doc.documentElement!;
  const first = (parent: Element, name: string) => {
    for (let n = parent.firstChild; n; n = n.nextSibling) if (n.nodeType === 1 && (n as Element).localName === name) return n as Element;
    return undefined;
  };
  const osType = first(first(root, 'os')!, 'type')!;
  osType.setAttribute('machine', p.machine.type);
  const old = first(root, 'cpu');
  const keep: Element[] = [];
  if (old) {
    for (let n = old.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === 1 && ['numa', 'cache', 'maxphysaddr'].includes((n as Element).localName!)) keep.push(n as Element);
    }
  }
  const parsed = doc.importNode(new DOMParser().parseFromString(cpuXml(p, o, ''), 'text/xml').documentElement!, true) as Element;
  for (const k of keep) parsed.appendChild(k.cloneNode(true));
  if (old) root.replaceChild(parsed, old);
  else root.insertBefore(parsed, first(root, 'devices') ?? null);
  return new XMLSerializer().serializeToString(doc) + '\n';
}

const NIC_MODEL: Record<string, string> = {
  'virtio-net-pci': 'virtio',
  'virtio-net-pci-transitional': 'virtio-transitional',
  'virtio-net-pci-non-transitional': 'virtio-non-transitional',
  e1000: 'e1000',
  e1000e: 'e1000e',
  igb: 'igb',
  rtl8139: 'rtl8139',
  vmxnet3: 'vmxnet3',
};
const VIRTIO_MODEL = (type: string, base: string, plain: string | undefined) =>
  type === `${base}-transitional` ? 'virtio-transitional' : type === `${base}-non-transitional` ? 'virtio-non-transitional' : plain;
const USB_MODEL: Record<string, string> = { 'qemu-xhci': 'qemu-xhci', 'nec-usb-xhci': 'nec-xhci', 'piix3-usb-uhci': 'piix3-uhci', 'piix4-usb-uhci': 'piix4-uhci', 'usb-ehci': 'ehci', 'ich9-usb-ehci1': 'ich9-ehci1' };
const PCI_MODEL: Record<string, string> = {
  'pcie-root-port': 'pcie-root-port',
  'pcie-pci-bridge': 'pcie-to-pci-bridge',
  'pci-bridge': 'pci-bridge',
  'i82801b11-bridge': 'dmi-to-pci-bridge',
  'x3130-upstream': 'pcie-switch-upstream-port',
  'xio3130-downstream': 'pcie-switch-downstream-port',
};
const VIDEO_MODEL: Record<string, string> = { VGA: 'vga', 'cirrus-vga': 'cirrus', 'qxl-vga': 'qxl', qxl: 'qxl', 'virtio-vga': 'virtio', 'virtio-gpu-pci': 'virtio', 'bochs-display': 'bochs', ramfb: 'ramfb' };

/** Properties a libvirt element carries itself; the others go to <qemu:override>. */
function driverAttrs(d: PinnedDevice, kind: 'net' | 'disk' | 'other'): { attrs: string; used: Set<string> } {
  const used = new Set<string>();
  const parts: string[] = [];
  const e = d.explicit;
  const onoff = (v: PropValue | undefined) => (v === true || v === 'on' ? 'on' : 'off');
  if (e.iommu_platform !== undefined) {
    parts.push(`iommu='${onoff(e.iommu_platform)}'`);
    used.add('iommu_platform');
  }
  if (e.ats !== undefined) {
    parts.push(`ats='${onoff(e.ats)}'`);
    used.add('ats');
  }
  if (e.packed !== undefined) {
    parts.push(`packed='${onoff(e.packed)}'`);
    used.add('packed');
  }
  if (kind === 'net' && (e.mq === true || e.mq === 'on') && typeof e.vectors === 'number' && e.vectors > 2) {
    parts.push(`queues='${(e.vectors - 2) / 2}'`);
    used.add('mq');
    used.add('vectors');
  }
  if (kind === 'disk' && e['num-queues'] !== undefined) {
    parts.push(`queues='${e['num-queues']}'`);
    used.add('num-queues');
  }
  return { attrs: parts.join(' '), used };
}

/**
 * A libvirt domain for a pinned guest that did not come from libvirt XML. Devices libvirt has
 * elements for get them, with explicit PCI addresses for their placement class; properties libvirt
 * has no attribute for go to <qemu:override>, devices it has no element for to <qemu:commandline>.
 */
export function pinnedToLibvirtXml(p: PinnedAbi, o: LibvirtOutOptions = {}): string {
  const placed = placeDevices(p);
  const q35 = p.machine.family.includes('q35');
  // libvirt controller indexes: pci.N keeps N; other port/bridge ids get the next free index.
  const index = new Map<string, number>();
  let nextIndex = 1;
  for (const x of placed) if (x.id && /^pci\.\d+$/.test(x.id)) index.set(x.id, Number(x.id.slice(4)));
  for (const x of placed) {
    if (!x.id || index.has(x.id) || !PCI_MODEL[x.device.type]) continue;
    while ([...index.values()].includes(nextIndex)) nextIndex++;
    index.set(x.id, nextIndex++);
  }
  const slots = new Map<number, number>();
  const address = (x: PlacedDevice): string => {
    const bus = x.bus ? index.get(x.bus) : 0;
    if (bus === undefined) return '';
    const addr = x.device.explicit.addr;
    let slot: number;
    let fn = 0;
    if (typeof addr === 'string' && /^(0x)?[0-9a-f]+(\.\d)?$/i.test(addr)) {
      const [s, f] = addr.split('.');
      slot = parseInt(s!, 16);
      fn = Number(f ?? 0);
    } else {
      const start = bus === 0 ? 2 : PCI_MODEL[placed.find((y) => y.id === x.bus)?.device.type ?? ''] === 'pcie-root-port' ? 0 : 1;
      slot = Math.max(slots.get(bus) ?? start, start);
      // q35's root complex keeps 0x1f for ICH9; ports hold one device at slot 0.
      if (bus === 0 && q35 && slot === 0x1f) slot++;
    }
    slots.set(bus, Math.max(slots.get(bus) ?? 0, slot + 1));
    return `<address type='pci' domain='0x0000' bus='0x${bus.toString(16).padStart(2, '0')}' slot='0x${slot.toString(16).padStart(2, '0')}' function='0x${fn}'/>`;
  };

  const dev: string[] = [];
  const overrides: string[] = [];
  const commandline: string[] = [];
  let disk = 0;
  let haveUsb = false;
  let haveBalloon = false;
  const aliasOf = (x: PlacedDevice, i: number) => x.id && /^ua-/.test(x.id) ? x.id : `ua-gabi${i}`;
  placed.forEach((x, i) => {
    const d = x.device;
    const t = d.type;
    const addr = () => address(x);
    const rest = (used: Set<string>) =>
      Object.entries(d.explicit).filter(([k]) => !used.has(k) && !['bus', 'addr', 'id', 'drive', 'netdev', 'chardev', 'mac', 'bootindex'].includes(k));
    const withOverride = (element: string, used: Set<string>) => {
      const props = rest(used);
      const alias = aliasOf(x, i);
      if (props.length) {
        overrides.push(
          `    <qemu:device alias='${alias}'>\n      <qemu:frontend>\n` +
            props.map(([k, v]) => `        <qemu:property name='${esc(k)}' type='${typeof v === 'boolean' ? 'bool' : typeof v === 'number' ? (v < 0 ? 'signed' : 'unsigned') : 'string'}' value='${esc(String(v))}'/>`).join('\n') +
            `\n      </qemu:frontend>\n    </qemu:device>`,
        );
      }
      return element.replace('__ALIAS__', props.length || (x.id && /^ua-/.test(x.id)) ? `<alias name='${alias}'/>` : '');
    };
    if (NIC_MODEL[t]) {
      const { attrs, used } = driverAttrs(d, 'net');
      dev.push(withOverride(`    <interface type='user'><model type='${NIC_MODEL[t]}'/>${attrs ? `<driver ${attrs}/>` : ''}__ALIAS__${addr()}</interface>`, used));
    } else if (t.startsWith('virtio-blk-pci')) {
      const { attrs, used } = driverAttrs(d, 'disk');
      const model = VIRTIO_MODEL(t, 'virtio-blk-pci', undefined);
      const target = `vd${String.fromCharCode(97 + disk++)}`;
      dev.push(withOverride(`    <disk type='file' device='disk'${model ? ` model='${model}'` : ''}><driver name='qemu' type='raw'${attrs ? ` ${attrs}` : ''}/><target dev='${target}' bus='virtio'/>__ALIAS__${addr()}</disk>`, used));
    } else if (t.startsWith('virtio-scsi-pci')) {
      const { attrs, used } = driverAttrs(d, 'disk');
      dev.push(withOverride(`    <controller type='scsi' model='${VIRTIO_MODEL(t, 'virtio-scsi-pci', 'virtio-scsi')}'>${attrs ? `<driver ${attrs}/>` : ''}__ALIAS__${addr()}</controller>`, used));
    } else if (t.startsWith('virtio-serial-pci')) {
      const { attrs, used } = driverAttrs(d, 'other');
      const model = VIRTIO_MODEL(t, 'virtio-serial-pci', undefined);
      dev.push(withOverride(`    <controller type='virtio-serial'${model ? ` model='${model}'` : ''}>${attrs ? `<driver ${attrs}/>` : ''}__ALIAS__${addr()}</controller>`, used));
    } else if (t.startsWith('virtio-balloon-pci')) {
      haveBalloon = true;
      const { attrs, used } = driverAttrs(d, 'other');
      dev.push(withOverride(`    <memballoon model='${VIRTIO_MODEL(t, 'virtio-balloon-pci', 'virtio')}'>__ALIAS__${addr()}${attrs ? `<driver ${attrs}/>` : ''}</memballoon>`, used));
    } else if (t.startsWith('virtio-rng-pci')) {
      const { attrs, used } = driverAttrs(d, 'other');
      dev.push(withOverride(`    <rng model='${VIRTIO_MODEL(t, 'virtio-rng-pci', 'virtio')}'><backend model='random'>/dev/urandom</backend>${attrs ? `<driver ${attrs}/>` : ''}__ALIAS__${addr()}</rng>`, used));
    } else if (USB_MODEL[t]) {
      haveUsb = true;
      dev.push(withOverride(`    <controller type='usb' model='${USB_MODEL[t]}'>__ALIAS__${addr()}</controller>`, new Set()));
    } else if (PCI_MODEL[t] && x.id && index.has(x.id)) {
      const portAddr = address(x);
      dev.push(`    <controller type='pci' index='${index.get(x.id)}' model='${PCI_MODEL[t]}'>${portAddr}</controller>`);
    } else if (VIDEO_MODEL[t]) {
      dev.push(withOverride(`    <video><model type='${VIDEO_MODEL[t]}'${t === 'virtio-gpu-pci' || t === 'qxl' ? " primary='no'" : " primary='yes'"}/>__ALIAS__${addr()}</video>`, new Set()));
    } else if (/^usb-(tablet|kbd|mouse)$/.test(t)) {
      dev.push(`    <input type='${t === 'usb-kbd' ? 'keyboard' : t.slice(4)}' bus='usb'/>`);
    } else if (t === 'isa-serial') {
      dev.push(`    <serial type='pty'><target type='isa-serial'/></serial>`);
    } else if (t === 'intel-iommu' && p.iommu) {
      const opt = p.iommu.options ?? {};
      const attrs = Object.entries(opt).map(([k, v]) => `${k}='${esc(v)}'`).join(' ');
      dev.push(`    <iommu model='intel'>${attrs ? `<driver ${attrs}/>` : ''}</iommu>`);
    } else if (t === 'i6300esb') {
      dev.push(`    <watchdog model='i6300esb'>${addr()}</watchdog>`);
    } else if (!/^unknown-/.test(t)) {
      const opts: [string, string][] = [];
      if (x.id) opts.push(['id', x.id]);
      if (x.bus) opts.push(['bus', x.bus]);
      for (const [k, v] of Object.entries(d.explicit)) if (k !== 'bus' && k !== 'id') opts.push([k, typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v)]);
      commandline.push('-device', formatOpts(t, opts));
    }
  });
  if (!haveUsb) dev.push(`    <controller type='usb' model='none'/>`);
  if (!haveBalloon) dev.push(`    <memballoon model='none'/>`);
  for (const g of p.globals) commandline.push('-global', `${g.driver}.${g.property}=${g.value}`);

  const machineOpts = Object.entries(p.machine.options);
  const features = [`    <acpi/>`, `    <apic/>`];
  const smm = machineOpts.find(([k]) => k === 'smm');
  if (smm) features.push(`    <smm state='${smm[1] === 'off' ? 'off' : 'on'}'/>`);
  features.push(...domainFeatures(p));
  const vcpu = p.vcpus.max !== undefined ? `  <vcpu placement='static' current='${p.vcpus.count}'>${p.vcpus.max}</vcpu>` : `  <vcpu placement='static'>${p.vcpus.count}</vcpu>`;
  const nsAttr = overrides.length || commandline.length ? ` xmlns:qemu='${QEMU_NS}'` : '';
  const lines = [
    `<domain type='${p.accel === 'tcg' ? 'qemu' : 'kvm'}'${nsAttr}>`,
    `  <name>${esc(p.name ?? 'guest')}</name>`,
    ...(p.os?.id ? [`  <metadata>`, `    <libosinfo:libosinfo xmlns:libosinfo='http://libosinfo.org/xmlns/libvirt/domain/1.0'>`, `      <libosinfo:os id='${esc(p.os.id)}'/>`, `    </libosinfo:libosinfo>`, `  </metadata>`] : []),
    ...(p.memory.maxMiB !== undefined ? [`  <maxMemory${p.memory.slots !== undefined ? ` slots='${p.memory.slots}'` : ''} unit='MiB'>${p.memory.maxMiB}</maxMemory>`] : []),
    `  <memory unit='MiB'>${p.memory.sizeMiB}</memory>`,
    vcpu,
    `  <os${p.firmware === 'efi' ? " firmware='efi'" : ''}>`,
    `    <type arch='${p.arch}' machine='${esc(p.machine.type)}'>hvm</type>`,
    `  </os>`,
    `  <features>`,
    ...features,
    `  </features>`,
    cpuXml(p, o, '  '),
    `  <devices>`,
    ...dev,
    `  </devices>`,
    ...(p.launchSecurity ? [`  <launchSecurity type='${esc(p.launchSecurity.type)}'>`, ...Object.entries(p.launchSecurity.options ?? {}).map(([k, v]) => `    <${k}>${esc(v)}</${k}>`), `  </launchSecurity>`] : []),
    ...(commandline.length ? [`  <qemu:commandline>`, ...commandline.map((a) => `    <qemu:arg value='${esc(a)}'/>`), `  </qemu:commandline>`] : []),
    ...(overrides.length ? [`  <qemu:override>`, ...overrides, `  </qemu:override>`] : []),
    `</domain>`,
  ];
  return lines.join('\n') + '\n';
}
