import type { CatalogIndex } from '../catalog/catalog.js';
import type { Props, PropValue } from '../model/common.js';
import type { GuestPlacement, GuestSpec } from '../model/guest.js';
import type { PinnedDevice } from '../model/pinned.js';
import { reason, type Reason } from '../model/reason.js';
import type { GuestVisibility } from '../model/visibility.js';
import { isPciType, placementOn } from '../formats/device-types.js';
import { parseOnOff } from '../formats/qemuopts.js';
import { ResolveError, type Target } from './target.js';

/** Setting these changes what the catalog measured as PCI identity and BARs (legacy vs modern). */
const STRUCTURAL = new Set(['disable-legacy', 'disable-modern']);

/**
 * -global drivers that are abstract QOM parents of probe device types (QEMU's type hierarchy:
 * virtio-net-pci -> virtio-pci -> pci-device -> device). A global on a parent applies to each child.
 */
export function globalApplies(driver: string, type: string, catalog: CatalogIndex): boolean {
  if (driver === type) return true;
  if (driver === 'virtio-pci') return /^virtio-.*-pci/.test(type);
  if (driver === 'pci-device') return isPciType(type, catalog.data);
  const backend = /^virtio-(\w+)-device$/.exec(driver);
  if (backend) return type.startsWith(`virtio-${backend[1]}-pci`);
  return false;
}

/** A value as written (on the command line, in XML) typed like the catalog's value. */
export function typedValue(raw: string, like: PropValue | undefined): PropValue {
  if (typeof like === 'boolean') {
    const b = parseOnOff(raw);
    if (b !== undefined) return b;
  }
  if (typeof like === 'number') {
    // A size with QEMU's binary suffixes (qemu_strtosz(): 64k, 16M, 16G) is read in bytes.
    const sized = /^(\d+)([kKmMgGtT])$/.exec(raw);
    const n = sized ? Number(sized[1]) * 1024 ** ('kmgt'.indexOf(sized[2]!.toLowerCase()) + 1) : /^0x[0-9a-f]+$/i.test(raw) ? parseInt(raw, 16) : Number(raw);
    if (Number.isFinite(n)) return n;
  }
  return raw;
}

/** How a value written on a command line most likely reads, when the catalog has no value to type
 *  it like: on/off as a boolean, digits as a number. */
export function guessType(v: string): PropValue {
  if (parseOnOff(v) !== undefined && !/^\d+$/.test(v)) return true;
  return /^(0x[0-9a-f]+|-?\d+)$/i.test(v) ? 0 : '';
}

/** A device's placement class on a build: where a PCI device sits (the build's catalog says which
 *  types are PCI devices); every other device is on the root. */
export function placementOf(d: { type: string; placement?: GuestPlacement }, catalog: CatalogIndex): GuestPlacement {
  return placementOn(d, catalog.data);
}

export function catalogKey(d: { type: string; placement?: GuestPlacement }, catalog: CatalogIndex): string {
  return placedKey(d.type, placementOf(d, catalog));
}

/** The catalog's key of a device type in a placement (the type alone on the root bus). */
export function placedKey(type: string, placement: string): string {
  return placement === 'root' ? type : `${type}@${placement}`;
}

export interface ResolvedDevices {
  devices: PinnedDevice[];
  decisions: Reason[];
  warnings: Reason[];
}

/** Type each device's properties from the catalogs and check QEMU accepts it on this machine type. */
export function resolveDevices(spec: GuestSpec, machine: string, target: Target, visibility: GuestVisibility): ResolvedDevices {
  const warnings: Reason[] = [];
  const refused: Reason[] = [];
  const reference = target.hosts[0]!.catalog;
  const devices = spec.devices.map((d): PinnedDevice => {
    const key = catalogKey(d, reference);
    const known = reference.deviceOn(machine, key);
    const { explicit, unlisted } = explicitProperties(d, spec.globals ?? [], known, reference, visibility);
    refused.push(...refusals(d, key, machine, target));
    const pinned: PinnedDevice = { type: d.type, placement: placementOf(d, reference), catalogKey: known ? key : null, explicit };
    if (d.id) pinned.id = d.id;
    if (d.role) pinned.role = d.role;
    if (unlisted.length) {
      warnings.push(
        reason('DEVICE_PROPERTY_NOT_IN_CATALOG', 'warn', `${d.type}.${unlisted.join(',')}`, `${d.type} sets ${unlisted.join(', ')}, which the catalog of QEMU ${reference.version} does not list: kept as written, unchecked`, {
          remedy: 'check the spelling; QEMU refuses a property that does not exist',
        }),
      );
    }
    if (!known) {
      warnings.push(
        reason('DEVICE_NOT_IN_CATALOG', 'warn', d.type, `${d.type}${pinned.placement !== 'root' ? ` (${pinned.placement})` : ''} is not among the probed devices: its properties on ${machine} are unknown`, {
          remedy: 'checks that need them answer unknown',
        }),
      );
    }
    return pinned;
  });
  if (refused.length) throw new ResolveError(`QEMU will refuse a device of this guest on ${machine}`, refused);
  return { devices, decisions: [], warnings: dedupeByCodeSubject(warnings) };
}

/** What a device sets, typed like the catalog's values, with the -global options that apply to it;
 *  names and places (visibility.yaml) stay as written, and so does what the catalog does not list. */
function explicitProperties(d: GuestSpec['devices'][number], globals: NonNullable<GuestSpec['globals']>, known: Props | undefined, catalog: CatalogIndex, visibility: GuestVisibility) {
  const explicit: Record<string, PropValue> = {};
  const unlisted: string[] = [];
  for (const [k, raw] of Object.entries(d.properties ?? {})) {
    if (visibility.deviceAsWritten.has(k) || !known) {
      explicit[k] = raw;
      continue;
    }
    if (!(k in known)) {
      // qtree does not show properties aliased onto child objects (qemu-xhci's p2): kept as written.
      unlisted.push(k);
      explicit[k] = raw;
      continue;
    }
    explicit[k] = typedValue(raw, known[k]);
  }
  for (const g of globals) {
    if (!globalApplies(g.driver, d.type, catalog) || g.property in explicit) continue;
    if (known && !(g.property in known)) continue;
    explicit[g.property] = known ? typedValue(g.value, known[g.property]) : g.value;
  }
  return { explicit, unlisted };
}

/** Each host's QEMU that refuses the device on this machine type, with its reason. */
function refusals(d: GuestSpec['devices'][number], key: string, machine: string, target: Target): Reason[] {
  const out: Reason[] = [];
  for (const h of target.hosts) {
    const why = h.catalog.machine(machine)?.refusedDevices?.[key];
    if (why && !why.startsWith('placement not probed')) {
      out.push(
        reason('DEVICE_REFUSED', 'error', d.type, `QEMU ${h.catalog.version} refuses ${d.type}${key.includes('@') ? ` ${key.split('@')[1]}` : ''} on ${machine}: ${why}`, {
          host: h.name,
          remedy: /scsi=off/.test(why) ? 'set scsi=off on the device, or use a newer machine type' : undefined,
        }),
      );
    }
  }
  return out;
}

function dedupeByCodeSubject(rs: Reason[]): Reason[] {
  const seen = new Set<string>();
  return rs.filter((r) => {
    const k = `${r.code}\u0000${r.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The properties a pinned device has on one build: the catalog's, then what it sets itself (but
 *  names and places). Setting disable-legacy/disable-modern makes the measured PCI identity
 *  stale: it is dropped. */
export function effectiveDevice(d: PinnedDevice, machine: string, catalog: CatalogIndex, visibility: GuestVisibility): Props | null {
  if (!d.catalogKey) return null;
  const base = catalog.deviceOn(machine, d.catalogKey);
  if (!base) return null;
  const out: Props = { ...base };
  let structural = false;
  for (const [k, v] of Object.entries(d.explicit)) {
    if (visibility.deviceAsWritten.has(k)) continue;
    out[k] = v;
    if (STRUCTURAL.has(k)) structural = true;
  }
  if (structural) for (const k of Object.keys(out)) if (k.startsWith('pci.')) delete out[k];
  return out;
}
