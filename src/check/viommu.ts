import type { CatalogIndex } from '../catalog/catalog.js';
import type { Props } from '../model/common.js';
import type { GuestDevice, GuestSpec } from '../model/guest.js';
import type { HostProfile, IommuUnit } from '../model/host.js';
import { reason, type Reason } from '../model/reason.js';
import { VIOMMU_SCHEMA_ID, type Rung, type ViommuDeviceAnswer, type ViommuReport, type ViommuRules } from '../model/viommu.js';

/**
 * The vIOMMU ladder of the /dev/ioasid thread (seeds/003) for each assigned device (vfio-pci):
 * exact (the host IOMMU walks the guest's page tables: nesting), shadowed (QEMU mirrors every guest
 * mapping into a host address space, which must hold every IOVA the vIOMMU presents, at a page size
 * the host maps), or refused. What each build checks, with its words, is data/rules/viommu.yaml;
 * the guest side (defaults, refused settings) is the catalog's, probed.
 */
export interface ViommuInput {
  guest: GuestSpec;
  catalog: CatalogIndex;
  /** The guest's machine type, versioned. */
  machine: string;
  host: { name: string; iommu: HostProfile['iommu'] };
  rules: ViommuRules;
  /** A device added after the guest started (-device vfio-pci,host=...). */
  hotplug?: GuestDevice;
}

const VIOMMU_TYPES = ['intel-iommu', 'virtio-iommu-pci'];
const SIZES: Record<string, number> = { '4K': 12, '8K': 13, '16K': 14, '64K': 16, '2M': 21, '512M': 29, '1G': 30 };

export function viommuAnswer(input: ViommuInput): ViommuReport {
  const { guest, catalog, machine } = input;
  const dev = guest.devices?.find((d) => VIOMMU_TYPES.includes(d.type));
  const smmu = guest.machine.options?.iommu === 'smmuv3';
  const facts = dev ? catalog.data.viommu?.[dev.type] : undefined;
  const props = dev && facts ? effectiveProps(catalog, machine, dev, facts.defaults) : undefined;
  const start = dev ? startRefusal(dev, facts) : [];
  const units = input.host.iommu.units.map(unitSummary);
  const ctx = { input, dev, smmu, props, units, version: catalog.version, known: !!facts };
  const devices = (guest.devices ?? []).filter((d) => d.type === 'vfio-pci').map((d) => answer(ctx, d, false));
  const report: ViommuReport = {
    schema: VIOMMU_SCHEMA_ID,
    qemu: catalog.version,
    machine,
    host: { name: input.host.name, units, iommufd: input.host.iommu.iommufd ?? null },
    viommu: dev ? { type: dev.type, props: props ?? {} } : smmu ? { type: 'smmuv3', props: {} } : null,
    start,
    devices,
  };
  if (input.hotplug) report.hotplug = answer(ctx, input.hotplug, true);
  return report;
}

/** The device's defaults on this machine type: the build's, then the type's compat properties, then the guest's own. */
function effectiveProps(catalog: CatalogIndex, machine: string, dev: GuestDevice, defaults: Props): Props {
  const out: Props = { ...defaults };
  for (const c of catalog.machine(machine)?.compatProps ?? []) if (c.qomType === dev.type) out[c.property] = parseValue(c.value);
  for (const [k, v] of Object.entries(dev.properties ?? {})) out[k] = parseValue(v);
  return out;
}

function parseValue(v: string): Props[string] {
  if (v === 'on' || v === 'true') return true;
  if (v === 'off' || v === 'false') return false;
  return /^\d+$/.test(v) ? Number(v) : v;
}

/** A probed combination the guest's settings contain, which QEMU refuses, unless a probed
 *  combination between the two starts (x-flts=on alone is refused, with x-scalable-mode=on not). */
function startRefusal(dev: GuestDevice, facts: NonNullable<CatalogIndex['data']['viommu']>[string] | undefined): Reason[] {
  if (!facts) return [reason('VIOMMU_UNKNOWN', 'warn', dev.type, `the catalog holds no ${dev.type} facts for this build`, { effect: 'unknown', remedy: 'catalog regen' })];
  const set = Object.fromEntries(Object.entries(dev.properties ?? {}).map(([k, v]) => [k, String(parseValue(v))]));
  const within = (combo: string, of: Record<string, string>) => combo.split(',').every((kv) => { const [k, v] = kv.split('='); return of[k!] === String(parseValue(v!)); });
  const asMap = (combo: string) => Object.fromEntries(combo.split(',').map((kv) => kv.split('=')).map(([k, v]) => [k!, String(parseValue(v!))]));
  for (const [combo, words] of Object.entries(facts.refused)) {
    if (!within(combo, set)) continue;
    if (facts.starts.some((s) => within(combo, asMap(s)) && within(s, set))) continue;
    return [reason('VIOMMU_SETTING_REFUSED', 'error', dev.type, `QEMU refuses to start ${dev.type} with ${combo}: ${words}`, { a: combo, effect: 'impossible', source: `probed on ${facts.probedOn}` })];
  }
  return [];
}

type UnitSummary = ViommuReport['host']['units'][number];

function unitSummary(u: IommuUnit): UnitSummary {
  const features = u.decoded?.features ?? [];
  const mgaw = features.map((f) => /^max-guest-address-width-(\d+)$/.exec(f)?.[1]).find(Boolean);
  const widths = u.decoded?.addressWidths ?? [];
  const addressWidth = mgaw ? Number(mgaw) : widths.length ? Math.max(...widths) : null;
  return { name: u.name, kind: u.kind, addressWidth, pageSizes: u.decoded?.pageSizes ?? [], features: features.filter((f) => !f.startsWith('max-guest-address-width-')) };
}

interface Ctx {
  input: ViommuInput;
  dev: GuestDevice | undefined;
  smmu: boolean;
  props: Props | undefined;
  units: UnitSummary[];
  version: string;
  known: boolean;
}

function answer(ctx: Ctx, d: GuestDevice, hotplug: boolean): ViommuDeviceAnswer {
  const host = d.properties?.host ?? null;
  const name = d.id ?? `vfio-pci${host ? ` ${host}` : ''}`;
  const done = (rung: Rung, reasons: Reason[]): ViommuDeviceAnswer => ({ device: name, hostAddress: host, rung, reasons });
  // vfio-pci opens the VFIO container (/dev/vfio/vfio) or, with iommufd=, /dev/iommu (hw/vfio/container.c,
  // hw/vfio/iommufd.c): a host with neither cannot give the device at all.
  const h = ctx.input.host.iommu;
  if (h.notProbed) return done('unknown', [reason('VIOMMU_UNKNOWN', 'warn', name, `${ctx.input.host.name}'s IOMMU was not probed (a profile from libvirt): which rung it gives is not known`, { effect: 'unknown', remedy: 'guestabi probe on the host' })]);
  if (h.vfio === false && h.iommufd !== true) return done('refused', [reason('VIOMMU_REFUSED', 'error', name, `${ctx.input.host.name} has no /dev/vfio/vfio (the vfio modules are not loaded) and no /dev/iommu: QEMU cannot open the assigned device`, { effect: 'impossible', remedy: 'modprobe vfio-pci and bind the device to it' })]);
  if (!ctx.dev && !ctx.smmu) return done('none', [reason('VIOMMU_NONE', 'info', name, 'no vIOMMU: the device reaches guest memory through the host IOMMU alone; the guest has nothing to be given')]);
  if (ctx.units.length === 0) return done('refused', [reason('VIOMMU_REFUSED', 'error', name, `${ctx.input.host.name} has no IOMMU (/sys/class/iommu is empty): vfio-pci needs the device in an IOMMU group`, { effect: 'impossible', remedy: 'turn the IOMMU on (firmware, intel_iommu=on / amd_iommu=on)' })]);
  if (ctx.smmu || !ctx.dev) return done('unknown', [reason('VIOMMU_UNKNOWN', 'warn', name, 'an assigned device behind the virt machine\u2019s SMMUv3 is not modelled for these builds', { effect: 'unknown' })]);
  if (!ctx.known || !ctx.props) return done('unknown', [reason('VIOMMU_UNKNOWN', 'warn', name, `the catalog holds no ${ctx.dev.type} facts for QEMU ${ctx.version}`, { effect: 'unknown' })]);
  // Which unit serves the device is not recorded: every unit is asked, and the answer holds when all agree.
  const ladders = ctx.units.map((unit) => (ctx.dev!.type === 'intel-iommu' ? intelRung(ctx, unit, name) : virtioRung(ctx, unit, name, hotplug)));
  if (ladders.every((l) => l.rung === ladders[0]!.rung)) return done(ladders[0]!.rung, ladders[0]!.reasons);
  const each = ctx.units.map((u, i) => `${u.name}: ${ladders[i]!.rung}`).join(', ');
  return done('unknown', [reason('VIOMMU_UNKNOWN', 'warn', name, `${ctx.input.host.name}'s IOMMU units give different rungs (${each}; ${ctx.units.map(describeUnit).join('; ')}) and which one serves ${host ?? 'the device'} is not recorded`, { effect: 'unknown', remedy: 'readlink /sys/bus/pci/devices/<address>/iommu' })]);
}

function describeUnit(u: UnitSummary): string {
  return `${u.name}: ${u.kind}, ${u.addressWidth ?? '?'}-bit, ${u.pageSizes.join('/')}${u.features.includes('nested') ? ', nested' : ''}`;
}

function rule(ctx: Ctx, id: string) {
  return ctx.input.rules.rules.find((r) => r.id === id)!;
}

/** Whether the build checks a rule at start: yes, no, or not known for this build. */
function checks(ctx: Ctx, id: string): boolean | undefined {
  const r = rule(ctx, id);
  if (r.checkedIn?.includes(ctx.version)) return true;
  if (r.notCheckedIn?.includes(ctx.version)) return false;
  return undefined;
}

function intelRung(ctx: Ctx, unit: UnitSummary, name: string): { rung: Rung; reasons: Reason[] } {
  const p = ctx.props!;
  const refused = (id: string, message: string, extra: Partial<Reason> = {}) => ({ rung: 'refused' as const, reasons: [reason('VIOMMU_REFUSED', 'error', name, message, { effect: 'impossible', source: rule(ctx, id).source, ...extra })] });
  const unknown = (id: string) => ({ rung: 'unknown' as const, reasons: [reason('VIOMMU_UNKNOWN', 'warn', name, `whether QEMU ${ctx.version} checks ${id} is not recorded (data/rules/viommu.yaml)`, { effect: 'unknown' })] });
  if (p['caching-mode'] !== true) {
    if (checks(ctx, 'caching-mode') !== true) return unknown('caching-mode');
    return refused('caching-mode', `intel-iommu without caching-mode=on: "${rule(ctx, 'caching-mode').text}"`, { a: 'caching-mode=off', remedy: 'caching-mode=on (libvirt <driver caching_mode="on"/>)' });
  }
  if (p['x-flts'] === true) {
    if (checks(ctx, 'first-stage') !== true) return unknown('first-stage');
    return refused('first-stage', `x-flts=on asks the host to walk the guest's first-stage tables (exact): QEMU ${ctx.version} refuses an assigned device with it: "${rule(ctx, 'first-stage').text}"`, { a: 'x-flts=on', remedy: 'x-flts=off (shadowed), or a QEMU with nested first-stage translation over iommufd' });
  }
  const aw = Number(p['aw-bits']);
  if (unit.addressWidth === null) return { rung: 'unknown', reasons: [reason('VIOMMU_UNKNOWN', 'warn', name, `the address width of ${unit.name} is not known`, { effect: 'unknown' })] };
  if (aw > unit.addressWidth) {
    const r = rule(ctx, 'host-aw-bits');
    const said = checks(ctx, 'host-aw-bits') ? `QEMU ${ctx.version} refuses the device: "${r.text.replace('%d', String(aw)).replace('%d', String(unit.addressWidth))}"` : `QEMU ${ctx.version} does not check it at start: ${r.unchecked}`;
    return refused('host-aw-bits', `the vIOMMU presents ${aw}-bit IOVAs and ${unit.name} maps ${unit.addressWidth} bits: ${said}`, { a: aw, b: unit.addressWidth, remedy: `aw-bits=${unit.addressWidth <= 39 ? 39 : 48} (libvirt <driver aw_bits='...'/>)` });
  }
  return shadowed(name, unit, aw, ['4K']);
}

function virtioRung(ctx: Ctx, unit: UnitSummary, name: string, hotplug: boolean): { rung: Rung; reasons: Reason[] } {
  const p = ctx.props!;
  const granule = String(p.granule ?? 'host');
  // granule=host is the host's page size: 4K on the x86 hosts here; on an aarch64 host it may be 64K.
  const shift = granule === 'host' ? (ctx.input.catalog.arch === 'x86_64' ? 12 : undefined) : SIZES[granule.toUpperCase()];
  if (shift === undefined) return { rung: 'unknown', reasons: [reason('VIOMMU_UNKNOWN', 'warn', name, `granule=${granule}: the host's page size is not recorded`, { effect: 'unknown' })] };
  if (unit.pageSizes.length === 0) return { rung: 'unknown', reasons: [reason('VIOMMU_UNKNOWN', 'warn', name, `the page sizes ${unit.name} maps are not recorded`, { effect: 'unknown' })] };
  const hostShifts = unit.pageSizes.map((s) => SIZES[s]).filter((x): x is number => x !== undefined);
  const id = hotplug ? 'virtio-frozen-granule' : 'virtio-page-size';
  // Devices present at start narrow the granule to the smallest page size both sides map; it is
  // frozen when the machine is done, and a device added later must map that one.
  const cold = (ctx.input.guest.devices ?? []).some((d) => d.type === 'vfio-pci');
  const frozen = cold ? Math.min(...hostShifts.filter((h) => h >= shift)) : shift;
  const usable = hotplug ? hostShifts.includes(frozen) : hostShifts.some((h) => h >= shift);
  if (!usable) {
    const r = rule(ctx, id);
    const words = checks(ctx, id) ? r.text : r.older?.checkedIn.includes(ctx.version) ? r.older.text : undefined;
    if (!words) return { rung: 'unknown', reasons: [reason('VIOMMU_UNKNOWN', 'warn', name, `whether QEMU ${ctx.version} checks ${id} is not recorded`, { effect: 'unknown' })] };
    return { rung: 'refused', reasons: [reason('VIOMMU_REFUSED', 'error', name, `the guest's granule (${granule}) is not a page size ${unit.name} maps (${unit.pageSizes.join(', ')}): "${words}"`, { a: granule, b: unit.pageSizes.join(','), effect: 'impossible', source: r.source })] };
  }
  const aw = Number(p['aw-bits']);
  if (unit.addressWidth !== null && aw > unit.addressWidth) {
    const r = rule(ctx, 'virtio-aw-bits');
    return { rung: 'refused', reasons: [reason('VIOMMU_REFUSED', 'error', name, `${r.text} (${aw} > ${unit.addressWidth} on ${unit.name}): ${r.unchecked}`, { a: aw, b: unit.addressWidth, effect: 'impossible', remedy: `aw-bits=${unit.addressWidth}`, source: r.source })] };
  }
  return shadowed(name, unit, aw, [granule]);
}

function shadowed(name: string, unit: UnitSummary, aw: number, sizes: string[]): { rung: Rung; reasons: Reason[] } {
  return {
    rung: 'shadowed',
    reasons: [reason('VIOMMU_SHADOWED', 'info', name, `QEMU mirrors the guest's mappings into ${unit.name}: every ${aw}-bit IOVA fits its ${unit.addressWidth}-bit space, at ${sizes.join('/')} pages it maps (${unit.pageSizes.join(', ')})`, { a: aw, b: unit.addressWidth })],
  };
}
