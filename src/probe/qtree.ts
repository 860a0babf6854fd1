import type { Props, PropValue } from '../model/common.js';

/** One device of `info qtree`, with the buses it provides. */
export interface QtreeDevice {
  type: string;
  id: string;
  props: Props;
  /** From the "class ..., pci id ..." and "bar N" lines of PCI devices. */
  pci?: { class: string; id: string; subsystem: string; bars: Record<string, string> };
  buses: QtreeBus[];
}

export interface QtreeBus {
  name: string;
  type: string;
  devices: QtreeDevice[];
}

/**
 * Parse the text of HMP `info qtree` (QEMU 5.2 to 10.0 print the same shape): buses hold
 * devices, devices hold "name = value" properties and child buses. Values become booleans,
 * numbers (the decimal part of "16 (0x10)" or "2147483648 (2 GiB)"; exact strings beyond 2^53)
 * or strings (quotes removed). gpio and mmio lines are not properties and are skipped.
 */
export function parseQtree(text: string): QtreeBus {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  let i = 0;
  const indentOf = (l: string) => l.length - l.trimStart().length;

  function parseBus(indent: number): QtreeBus {
    const head = lines[i]!.trim();
    const bus: QtreeBus = { name: head.replace(/^bus:\s*/, ''), type: '', devices: [] };
    i++;
    while (i < lines.length && indentOf(lines[i]!) > indent) {
      const l = lines[i]!;
      const t = l.trim();
      if (t.startsWith('type ')) {
        bus.type = t.slice(5).trim();
        i++;
      } else if (t.startsWith('dev: ')) {
        bus.devices.push(parseDevice(indentOf(l)));
      } else {
        i++;
      }
    }
    return bus;
  }

  function parseDevice(indent: number): QtreeDevice {
    const head = lines[i]!.trim();
    const m = /^dev:\s*([^,]+),\s*id\s*"(.*)"$/.exec(head);
    const dev: QtreeDevice = { type: m ? m[1]!.trim() : head.slice(5), id: m ? m[2]! : '', props: {}, buses: [] };
    i++;
    while (i < lines.length && indentOf(lines[i]!) > indent) {
      const l = lines[i]!;
      const t = l.trim();
      if (t.startsWith('bus: ')) {
        dev.buses.push(parseBus(indentOf(l)));
        continue;
      }
      i++;
      const prop = /^([^\s=]+) = (.*)$/.exec(t);
      if (prop) {
        dev.props[prop[1]!] = parseValue(prop[2]!);
        continue;
      }
      const cls = /^class (.*), addr [0-9a-f:.]+, pci id ([0-9a-f]{4}:[0-9a-f]{4}) \(sub ([0-9a-f]{4}:[0-9a-f]{4})\)$/.exec(t);
      if (cls) {
        dev.pci = { class: cls[1]!, id: cls[2]!, subsystem: cls[3]!, bars: dev.pci?.bars ?? {} };
        continue;
      }
      const bar = /^bar (\d+): (\S+) at (0x[0-9a-f]+) \[(0x[0-9a-f]+)\]$/.exec(t);
      if (bar) {
        dev.pci ??= { class: '', id: '', subsystem: '', bars: {} };
        // qtree prints [start + size - 1]; unmapped BARs start at all-ones, so size = end - start + 1 (mod 2^64).
        const size = (BigInt(bar[4]!) - BigInt(bar[3]!) + 1n) & 0xffff_ffff_ffff_ffffn;
        dev.pci.bars[`bar${bar[1]}`] = `${bar[2]} 0x${size.toString(16)}`;
      }
    }
    return dev;
  }

  if (lines.length === 0 || !lines[0]!.trim().startsWith('bus:')) {
    throw new Error(`not the output of info qtree: ${(lines[0] ?? '').slice(0, 80)}`);
  }
  return parseBus(indentOf(lines[0]!));
}

export function parseValue(raw: string): PropValue {
  const v = raw.trim();
  if (v === 'true') return true;
  if (v === 'false') return false;
  if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1);
  const num = /^(-?\d+)(?: \(.*\))?$/.exec(v);
  if (num) {
    const n = Number(num[1]);
    return Number.isSafeInteger(n) ? n : num[1]!;
  }
  return v;
}

/** Every device in the tree, depth first, with the type of the bus it sits on. */
export function* walkQtree(bus: QtreeBus): Generator<{ device: QtreeDevice; busType: string; parent: QtreeDevice | undefined }> {
  function* walk(b: QtreeBus, parent: QtreeDevice | undefined): Generator<{ device: QtreeDevice; busType: string; parent: QtreeDevice | undefined }> {
    for (const d of b.devices) {
      yield { device: d, busType: b.type, parent };
      for (const child of d.buses) yield* walk(child, d);
    }
  }
  yield* walk(bus, undefined);
}

/**
 * The flat property map of one device as the catalog stores it: its own properties, those of
 * its virtio backend (the device on its virtio-bus, whose properties the proxy aliases), the
 * type of the bus it sits on, and its PCI identity and BAR sizes, which are what a guest sees.
 * `omit` names per-instance properties (address, id, backends) that say nothing of the platform.
 */
export function flattenDevice(device: QtreeDevice, busType: string, omit: ReadonlySet<string>): Props {
  const props: Props = {};
  const put = (k: string, v: PropValue) => {
    if (!omit.has(k)) props[k] = v;
  };
  for (const [k, v] of Object.entries(device.props)) put(k, v);
  for (const child of device.buses) {
    if (!child.type.startsWith('virtio-')) continue;
    for (const backend of child.devices) {
      for (const [k, v] of Object.entries(backend.props)) put(k in props ? `${backend.type}.${k}` : k, v);
    }
  }
  props['bus-type'] = busType;
  if (device.pci) {
    props['pci.id'] = device.pci.id;
    props['pci.subsystem'] = device.pci.subsystem;
    props['pci.class'] = device.pci.class;
    for (const [bar, desc] of Object.entries(device.pci.bars)) props[`pci.${bar}`] = desc;
  }
  return props;
}
