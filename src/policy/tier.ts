import type { CatalogIndex } from '../catalog/catalog.js';
import type { MachineType } from '../model/catalog.js';
import type { Props } from '../model/common.js';
import { TIER_SCHEMA_ID, type TierName, type TierPolicy, type TierResult, type TierSetting } from '../model/policy.js';
import { reason, type Reason } from '../model/reason.js';
import type { ResolvedOs } from '../osinfo/db.js';
import { UserError } from '../util/errors.js';
import { placedKey } from '../resolve/devices.js';

/**
 * The support tier of a guest OS on a machine type (pure: osinfo facts, a catalog, a policy and
 * today's date in, a TierResult out). The rules are in data/policy/tiers.yaml and the README.
 */

export interface SecureSetup {
  /** A confidential guest (SEV, TDX ...): every virtio device needs iommu_platform=on. */
  confidential?: boolean;
  /** virtio devices with iommu_platform=on (a vIOMMU, or asked for). */
  iommuPlatform?: boolean;
}

export interface TierInput {
  os: ResolvedOs;
  catalog: CatalogIndex;
  machine: string;
  /** The guest's architecture, when the user names one. */
  arch?: string;
  today: string;
  policy: TierPolicy;
  secure?: SecureSetup;
  /** Look at the other machine family of the same version too (default true). */
  alternatives?: boolean;
}

const RANK: Record<TierName, number> = { recommended: 0, supported: 1, unsupported: 2 };

/** osinfo-db names PCI devices by URL: http://pcisig.com/pci/<vendor>/<device>. */
export function osinfoPciId(pciId: string): string {
  const [vendor, device] = pciId.split(':');
  return `http://pcisig.com/pci/${vendor}/${device}`;
}

class TierBuilder {
  tier: TierName = 'recommended';
  readonly reasons: Reason[] = [];
  readonly settings: TierSetting[] = [];

  cap(to: TierName, r: Reason): void {
    if (RANK[to] > RANK[this.tier]) this.tier = to;
    this.reasons.push(r);
  }

  note(r: Reason): void {
    this.reasons.push(r);
  }
}

/** A device key in a placement class, falling back to the root bus where the machine type has
 *  no such class (i440fx has no PCI Express ports). */
function keyIn(devices: Map<string, Props>, base: string, placement: string): string {
  const k = placedKey(base, placement);
  return devices.has(k) ? k : base;
}

/** A virtio device's form from its effective properties: legacy only (disable-modern, machine
 *  types up to 2.6), transitional, or virtio 1.0 only; undefined for other devices. */
export function virtioForm(key: string, props: Props): 'legacy' | 'transitional' | 'modern' | undefined {
  const type = key.split('@')[0]!;
  if (type.endsWith('-non-transitional')) return 'modern';
  if (type.endsWith('-transitional')) return 'transitional';
  if (!('disable-legacy' in props) && !('disable-modern' in props)) return undefined;
  if (props['disable-modern'] === true) return 'legacy';
  const dl = props['disable-legacy'];
  return dl === true || dl === 'on' ? 'modern' : 'transitional';
}

/** The device type without libvirt's transitional / non-transitional variant suffix. */
export function virtioBase(type: string): string {
  return type.replace(/-(non-)?transitional$/, '');
}

/** Every catalog key of one device in any form (default, transitional, modern-only) and placement. */
export function deviceForms(devices: Map<string, Props>, base: string): string[] {
  return [...devices.keys()].filter((k) => k === base || k.startsWith(`${base}-`) || k.startsWith(`${base}@`));
}

function pciIdOf(devices: Map<string, Props>, key: string): string | undefined {
  const id = devices.get(key)?.['pci.id'];
  return typeof id === 'string' ? id : undefined;
}

function placementWords(key: string): string {
  if (key.endsWith('@pcie-port')) return 'behind a PCIe root port';
  if (key.endsWith('@pci-bridge')) return 'behind a PCIe-to-PCI bridge';
  return 'on the root bus';
}

export function guestOsTier(input: TierInput): TierResult {
  const { os, catalog, today } = input;
  const { m, chip, devices } = tierMachine(input);
  const osIds = new Set(os.devices.map((d) => d.id));
  const has = (pciId: string | undefined) => pciId !== undefined && osIds.has(osinfoPciId(pciId));
  const t = new TierBuilder();
  const arch = checkArchitecture(t, input, catalog.data.arch);
  const chipsetOk = checkChipset(t, input, m, chip, osIds);
  checkFirmware(t, input, arch);
  const ctx: DeviceClassContext = { t, input, machine: m, devices, placement: input.policy.defaultPlacement[m.family] ?? 'root', has, refused: m.refusedDevices ?? {}, chipsetOk };
  for (const cls of input.policy.deviceClasses) checkDeviceClass(ctx, cls);
  checkLifecycle(t, input);
  if (m.deprecated) t.note(reason('MACHINE_TYPE_DEPRECATED', 'warn', m.name, `QEMU ${catalog.version} deprecates ${m.name}`, { remedy: 'pin a newer machine type of the family' }));
  return {
    schema: TIER_SCHEMA_ID,
    os: osSummary(os),
    machine: { asked: input.machine, name: m.name, family: m.family, qemu: catalog.version },
    arch,
    today,
    tier: t.tier,
    reasons: t.reasons,
    settings: t.settings,
    alternatives: alternativesFor(input, t, m),
  };
}

type Chipset = TierPolicy['chipsets'][string];

/** The machine type asked for, the policy of its family and its probed devices. */
function tierMachine(input: TierInput): { m: MachineType; chip: Chipset; devices: Map<string, Props> } {
  const { catalog, policy } = input;
  const m = catalog.machine(input.machine);
  if (!m) throw new UserError(`QEMU ${catalog.version} has no machine type '${input.machine}'`, '--machine');
  const chip = policy.chipsets[m.family];
  const devices = catalog.devicesOn(m.name);
  if (!chip || !devices) {
    const covered = Object.keys(policy.chipsets).join(', ');
    throw new UserError(`the tier policy covers the machine families ${covered}; ${m.name} is ${m.family}${devices ? '' : ' (not probed)'}`, '--machine');
  }
  return { m, chip, devices };
}

/** Whether osinfo-db records the OS on this chipset (true when the policy names no device for it). */
function checkChipset(t: TierBuilder, input: TierInput, m: MachineType, chip: Chipset, osIds: ReadonlySet<string>): boolean {
  const { os, catalog, policy } = input;
  if (!chip.osinfoDevice) return true;
  if (osIds.has(chip.osinfoDevice)) {
    t.note(reason('CHIPSET_SUPPORTED', 'info', m.family, `osinfo-db records that ${os.shortId} runs on ${m.family}`, { source: chip.source }));
    return true;
  }
  const to = chip.unrecorded ?? 'unsupported';
  t.cap(
    to,
    reason(to === 'unsupported' ? 'CHIPSET_UNSUPPORTED' : 'CHIPSET_UNRECORDED', to === 'unsupported' ? 'error' : 'warn', m.family, `osinfo-db does not record ${os.name} as running on the ${m.family} chipset (no ${chip.osinfoDevice}); the policy treats that as ${to}`, {
      remedy: otherFamilyRemedy(catalog, m.family, m.version, policy),
      source: chip.source,
    }),
  );
  return false;
}

/** The same version of another family, when it gives a better tier (or the same without settings). */
function alternativesFor(input: TierInput, t: TierBuilder, m: MachineType): TierResult['alternatives'] {
  const { catalog, policy } = input;
  const alternatives: TierResult['alternatives'] = [];
  if (input.alternatives === false || (t.tier !== 'unsupported' && t.settings.length === 0)) return alternatives;
  for (const other of Object.keys(policy.chipsets).filter((f) => f !== m.family)) {
    const alt = catalog.family(other).find((x) => x.version === m.version && x.version !== null);
    if (!alt || !catalog.devicesOn(alt.name)) continue;
    const r = guestOsTier({ ...input, machine: alt.name, alternatives: false });
    if (RANK[r.tier] < RANK[t.tier] || (r.tier === t.tier && r.tier !== 'unsupported' && r.settings.length === 0 && t.settings.length > 0)) {
      const why = r.settings.length === 0 ? `${r.tier} there without device or firmware settings` : `${r.tier} there with ${r.settings.length} setting(s)`;
      alternatives.push({ machine: alt.name, tier: r.tier, why });
    }
  }
  return alternatives;
}

function osSummary(os: ResolvedOs): TierResult['os'] {
  return {
    shortId: os.shortId,
    id: os.id,
    name: os.name,
    ...(os.vendor ? { vendor: os.vendor } : {}),
    ...(os.releaseDate ? { releaseDate: os.releaseDate } : {}),
    ...(os.eolDate ? { eolDate: os.eolDate } : {}),
    ...(os.releaseStatus ? { releaseStatus: os.releaseStatus } : {}),
    architectures: os.architectures,
    ...(os.osinfoVersion ? { osinfo: os.osinfoVersion } : {}),
  };
}

function otherFamilyRemedy(catalog: CatalogIndex, family: string, version: string | null, policy: TierPolicy): string {
  const others = Object.keys(policy.chipsets).filter((f) => f !== family);
  const alt = others.map((f) => catalog.family(f).find((x) => x.version === version)).find((x) => x);
  return alt ? `use ${alt.name}` : `use a machine type of another family (${others.join(', ')})`;
}

function checkArchitecture(t: TierBuilder, input: TierInput, platformArch: string): string {
  const { os, policy } = input;
  const runnable = policy.architectures[platformArch] ?? [platformArch];
  const osArches = os.architectures;
  const from = os.architecturesFrom ? ` (as ${os.architecturesFrom}, from which it derives)` : '';
  const anyArch = osArches.includes('all');
  if (input.arch) {
    const arch = input.arch;
    if (!runnable.includes(arch)) {
      t.cap('unsupported', reason('ARCH_NOT_RUNNABLE', 'error', arch, `${platformArch} machine types do not run ${arch} guests (they run ${runnable.join(', ')})`, { a: arch, b: platformArch, remedy: `run ${arch} guests with qemu-system-${arch}` }));
    }
    if (osArches.length > 0 && !anyArch && !osArches.includes(arch)) {
      t.cap('unsupported', reason('OS_ARCH_UNSUPPORTED', 'error', os.shortId, `${os.name} is built for ${osArches.join(', ')}${from}, not ${arch}`, { a: arch, b: osArches.join(', ') }));
    }
    if (osArches.length === 0) t.cap('supported', archUnknown(os));
    return arch;
  }
  if (osArches.length === 0) {
    t.cap('supported', archUnknown(os));
    return platformArch;
  }
  const candidates = anyArch ? [platformArch] : osArches.filter((a) => runnable.includes(a));
  if (candidates.length === 0) {
    t.cap(
      'unsupported',
      reason('OS_ARCH_UNSUPPORTED', 'error', os.shortId, `${os.name} is built for ${osArches.join(', ')}${from}; ${platformArch} machine types run ${runnable.join(', ')}`, {
        a: osArches.join(', '),
        b: platformArch,
      }),
    );
    return platformArch;
  }
  const arch = candidates.includes(platformArch) ? platformArch : candidates[0]!;
  if (arch !== platformArch) t.note(reason('GUEST_ARCH', 'info', os.shortId, `${os.name} runs as an ${arch} guest (it is not built for ${platformArch})`, { a: arch }));
  return arch;
}

function archUnknown(os: ResolvedOs): Reason {
  return reason('OS_ARCH_UNKNOWN', 'warn', os.shortId, `osinfo-db names no architecture for ${os.name} (no media, tree or image, nor any from what it derives from): guestabi cannot say it runs here`);
}

function checkFirmware(t: TierBuilder, input: TierInput, arch: string): void {
  const { os, policy } = input;
  const fw = (type: string) => os.firmware.find((f) => f.type === type && (f.arch === arch || f.arch === 'all'));
  const def = fw(policy.defaultFirmware);
  if (!def || def.supported) return;
  const usable = os.firmware.filter((f) => f.supported && (f.arch === arch || f.arch === 'all') && policy.firmwareSettings[f.type]);
  if (usable.length === 0) {
    t.cap('unsupported', reason('FIRMWARE_UNSUPPORTED', 'error', policy.defaultFirmware, `${os.name} does not boot ${policy.defaultFirmware} and osinfo-db names no firmware it boots that guestabi knows how to set`));
    return;
  }
  const f = usable[0]!;
  const how = policy.firmwareSettings[f.type]!;
  t.cap(
    'supported',
    reason('FIRMWARE_SETTING_NEEDED', 'warn', f.type, `${os.name} does not boot ${policy.defaultFirmware}, the machine type's default firmware; it needs ${f.type}`, {
      a: policy.defaultFirmware,
      b: f.type,
      remedy: `libvirt ${how.libvirt}; QEMU ${how.qemu}`,
    }),
  );
  t.settings.push({ class: 'firmware', subject: f.type, why: `${os.name} does not boot ${policy.defaultFirmware} (osinfo-db: firmware ${policy.defaultFirmware} supported="false")`, libvirt: [how.libvirt], qemu: [how.qemu] });
}

type DeviceClassRule = TierPolicy['deviceClasses'][number];

/** What the device-class checks of one tier question share. */
interface DeviceClassContext {
  t: TierBuilder;
  input: TierInput;
  machine: MachineType;
  /** The machine type's probed devices by catalog key. */
  devices: Map<string, Props>;
  /** Where the family puts a device by default (root, or behind a PCIe port). */
  placement: string;
  /** Whether the OS drives a PCI id. */
  has: (pciId: string | undefined) => boolean;
  /** Devices QEMU refuses on the machine type, with why. */
  refused: Record<string, string>;
  /** Whether osinfo-db records the OS on the chipset. */
  chipsetOk: boolean;
}

/**
 * A device class (network, disk ...): the first paravirtual device the OS drives in a form the
 * machine type offers, else the first emulated one. A required class with none caps the tier.
 */
function checkDeviceClass(ctx: DeviceClassContext, cls: DeviceClassRule): void {
  const { t, input } = ctx;
  let osKnowsClass = false;
  for (const base of cls.paravirtual) {
    const r = paravirtualDevice(ctx, cls, base);
    if (r === 'settled') return;
    if (r === 'unusable') osKnowsClass = true;
  }
  const emulated = emulatedDevice(ctx, cls);
  if (emulated === 'settled') return;
  if (emulated === 'known') osKnowsClass = true;
  const candidates = [...cls.paravirtual, ...cls.emulated.filter((e) => e !== 'board')].join(', ');
  if (!cls.required) return;
  if (osKnowsClass) {
    t.cap('unsupported', reason('NO_DRIVABLE_DEVICE', 'error', cls.class, `${input.os.name} cannot drive any ${cls.class} device ${ctx.machine.name} offers (${candidates})`));
  } else {
    t.cap('supported', reason('OS_DRIVERS_UNKNOWN', 'warn', cls.class, `osinfo-db lists no ${cls.class} device ${input.os.name} drives among ${candidates}: guestabi cannot say which one works`));
  }
}

/** One paravirtual device's forms on the machine type, as the OS sees them. */
interface ParavirtualForms {
  base: string;
  /** The catalog key, properties and PCI id of the device as the family places it by default. */
  defKey: string;
  defProps: Props;
  defId: string | undefined;
  /** The virtio 1.0 form: the -non-transitional type, or the device where it is modern only. */
  modernKey: string;
  modernId: string | undefined;
  /** The PCI ids of the forms the OS drives. */
  drivenIds: string[];
  /** Where the default form sits, in words. */
  where: string;
}

/**
 * Whether the OS can drive a paravirtual device, and in which form: none (no form it drives;
 * the class goes on), settled (a reason said it: works, needs a setting, or cannot be secure) or
 * unusable (the OS drives a form the machine type does not offer where it can be placed).
 */
function paravirtualDevice(ctx: DeviceClassContext, cls: DeviceClassRule, base: string): 'none' | 'settled' | 'unusable' {
  const { t, devices, has, input } = ctx;
  const os = input.os;
  // Every form the catalog knows of this device (default, transitional, modern-only, in each
  // placement): the OS has a driver when it lists the PCI id of any of them.
  const variants = deviceForms(devices, base);
  const driven = variants.filter((k) => has(pciIdOf(devices, k)));
  if (driven.length === 0) {
    const variantIds = variants.map((k) => pciIdOf(devices, k)).filter((x): x is string => x !== undefined).map(osinfoPciId);
    const installable = os.drivers.filter((d) => variantIds.some((id) => d.devices.includes(id)));
    if (installable.length > 0) {
      t.note(reason('VIRTIO_DRIVERS_INSTALLABLE', 'info', base, `${os.name} has no driver for ${base} of its own; osinfo-db lists installable drivers for it (${installable[0]!.location ?? 'virtio-win'})`));
    }
    return 'none';
  }
  const f = formsOf(ctx, base, variants, driven);
  const secure = input.secure ?? {};
  if (secure.confidential === true || secure.iommuPlatform === true || f.defProps.iommu_platform === true) {
    secureForm(ctx, cls, f);
    return 'settled';
  }
  if (has(f.defId)) {
    t.note(reason('DEVICE_DEFAULT_WORKS', 'info', base, `${os.name} drives ${base} ${f.where} on ${ctx.machine.name} (${f.defId})`, { a: f.defId ?? null }));
    return 'settled';
  }
  // The default form is one the OS cannot drive: find a form it can.
  if (transitionalForm(ctx, cls, f) || modernForm(ctx, cls, f)) return 'settled';
  t.note(reason('DEVICE_NO_USABLE_FORM', 'warn', base, `${os.name} drives ${f.drivenIds.join(', ')}, a form of ${base} that ${ctx.machine.name} does not offer where it can be placed`));
  return 'unusable';
}

function formsOf({ devices, placement }: DeviceClassContext, base: string, variants: string[], driven: string[]): ParavirtualForms {
  const defKey = keyIn(devices, base, placement);
  const modernKey = [keyIn(devices, `${base}-non-transitional`, placement), ...variants].find((k) => devices.has(k) && virtioForm(k, devices.get(k)!) === 'modern') ?? defKey;
  return {
    base,
    defKey,
    defProps: devices.get(defKey)!,
    defId: pciIdOf(devices, defKey),
    modernKey,
    modernId: pciIdOf(devices, modernKey),
    drivenIds: [...new Set(driven.map((k) => pciIdOf(devices, k)!))],
    where: placementWords(defKey),
  };
}

/** A confidential guest, or iommu_platform=on: every virtio device must be virtio 1.0 with
 *  iommu_platform=on, which the OS must drive. */
function secureForm({ t, input, has }: DeviceClassContext, cls: DeviceClassRule, f: ParavirtualForms): void {
  const { os, policy } = input;
  const why = input.secure?.confidential ? 'a confidential guest' : 'iommu_platform=on';
  if (!has(f.modernId)) {
    const r = reason('VIRTIO1_REQUIRED', cls.required ? 'error' : 'warn', f.base, `${why} needs virtio 1.0 ${f.base} (${f.modernId ?? '?'}); ${os.name} drives only ${f.drivenIds.join(', ')}`, {
      a: f.drivenIds.join(', '),
      b: f.modernId ?? null,
      details: [policy.secureVirtio.why],
      source: policy.secureVirtio.source,
      ...(cls.required ? {} : { remedy: `leave ${f.base} out of this guest` }),
    });
    if (cls.required) t.cap('unsupported', r);
    else t.note(r);
    return;
  }
  if (f.defId === f.modernId && f.defProps.iommu_platform === true) return;
  t.cap('supported', reason('DEVICE_SETTING_NEEDED', 'warn', f.base, `${why}: ${f.base} must be virtio 1.0 with iommu_platform=on`, { a: f.defId ?? null, b: f.modernId ?? null }));
  t.settings.push({
    class: cls.class,
    subject: f.base,
    why: `${why} needs virtio 1.0 with iommu_platform=on`,
    libvirt: [`${cls.libvirt.modern} with <driver iommu='on'/> inside it`],
    qemu: [`-device ${f.base}-non-transitional,iommu_platform=on`],
  });
}

/** The OS drives legacy virtio: a transitional device on a conventional PCI slot. */
function transitionalForm({ t, input, devices, placement, has, refused, machine }: DeviceClassContext, cls: DeviceClassRule, f: ParavirtualForms): boolean {
  const { base, defId } = f;
  const os = input.os;
  const transitional = placement === 'pcie-port' ? [`${base}-transitional@pci-bridge`, `${base}@pci-bridge`] : [keyIn(devices, `${base}-transitional`, placement)];
  const tKey = transitional.find((k) => devices.has(k) && has(pciIdOf(devices, k)) && !refused[k.split('@')[0]!]);
  if (!tKey) return false;
  const tId = pciIdOf(devices, tKey)!;
  t.cap(
    'supported',
    reason('DEVICE_SETTING_NEEDED', 'warn', base, `${base} ${f.where} is ${defId} on ${machine.name}, which ${os.name} cannot drive; as a transitional device ${placementWords(tKey)} it is ${tId}, which it can`, {
      a: defId ?? null,
      b: tId,
      remedy: 'use a transitional virtio device on a conventional PCI slot (QEMU docs/pcie.txt: legacy I/O belongs behind a PCIe-to-PCI bridge)',
    }),
  );
  const qemu =
    placement === 'pcie-port'
      ? [`-device pcie-root-port,id=rp-pci-bridge,chassis=30`, `-device pcie-pci-bridge,id=pci-bridge0,bus=rp-pci-bridge`, `-device ${base}-transitional,bus=pci-bridge0 (or ${base},disable-legacy=off,bus=pci-bridge0)`]
      : [`-device ${base}-transitional (or ${base},disable-legacy=off)`];
  t.settings.push({
    class: cls.class,
    subject: base,
    why: `${os.name} drives legacy virtio (${tId}) but not virtio 1.0 (${defId})`,
    libvirt: [cls.libvirt.transitional + (placement === 'pcie-port' ? ' (libvirt puts it behind a pcie-to-pci-bridge it adds)' : '')],
    qemu,
  });
  return true;
}

/** The OS drives virtio 1.0 only, and the default form is not. */
function modernForm({ t, input, has, machine }: DeviceClassContext, cls: DeviceClassRule, f: ParavirtualForms): boolean {
  const { base, defId, modernId } = f;
  if (!has(modernId) || f.modernKey === f.defKey) return false;
  t.cap('supported', reason('DEVICE_SETTING_NEEDED', 'warn', base, `${base} ${f.where} is ${defId} on ${machine.name}, which ${input.os.name} cannot drive; as a virtio 1.0 device it is ${modernId}`, { a: defId ?? null, b: modernId ?? null }));
  t.settings.push({ class: cls.class, subject: base, why: `${input.os.name} drives virtio 1.0 (${modernId}) only`, libvirt: [cls.libvirt.modern], qemu: [`-device ${base}-non-transitional (or ${base},disable-modern=off,disable-legacy=on)`] });
  return true;
}

/**
 * The class's emulated devices: settled when the OS drives one the machine type offers (or the
 * board's own controller covers the class), known when the OS drives one at all.
 */
function emulatedDevice({ t, input, devices, placement, has, refused, machine, chipsetOk }: DeviceClassContext, cls: DeviceClassRule): 'settled' | 'known' | 'none' {
  const { os, policy } = input;
  let known = false;
  for (const e of cls.emulated) {
    if (e === 'board') {
      const c = (policy.boardControllers[machine.family] ?? []).find((x) => x.class === cls.class && (x.coveredBy === 'assumed' || chipsetOk));
      if (!c) continue;
      t.note(reason('DEVICE_EMULATED', 'info', c.name, `${os.name} uses the board's ${c.name} (${c.coveredBy === 'chipset' ? 'it runs on this chipset' : c.why})`, { source: c.source }));
      return 'settled';
    }
    const key = keyIn(devices, e, placement);
    const id = pciIdOf(devices, key);
    if (has(id)) known = true;
    if (!devices.has(key) || refused[e]) continue;
    if (has(id)) {
      t.note(reason('DEVICE_EMULATED', 'info', e, `${os.name} has no paravirtual ${cls.class} driver; it drives the emulated ${e} (${id})`, { a: id ?? null }));
      return 'settled';
    }
  }
  return known ? 'known' : 'none';
}

function addYears(date: string, years: number): string {
  const [y, rest] = [Number(date.slice(0, 4)), date.slice(4)];
  return `${String(y + years).padStart(4, '0')}${rest}`;
}

function checkLifecycle(t: TierBuilder, input: TierInput): void {
  const { os, policy, today } = input;
  const status = os.releaseStatus ?? 'released';
  if (status === 'prerelease' || status === 'snapshot') {
    if (policy.capPrerelease) t.cap('supported', reason('OS_PRERELEASE', 'warn', os.shortId, `${os.name} is a ${status} in osinfo-db, not a release its vendor supports`, { a: status }));
  }
  if (os.eolDate && policy.capAtVendorEol) {
    if (os.eolDate <= today) {
      t.cap('supported', reason('OS_PAST_EOL', 'warn', os.shortId, `${os.name} reached its vendor end-of-life on ${os.eolDate}`, { a: os.eolDate, b: today }));
    } else {
      t.note(reason('OS_IN_VENDOR_SUPPORT', 'info', os.shortId, `${os.name} is supported by its vendor until ${os.eolDate}`, { a: os.eolDate }));
    }
  }
  if (status === 'rolling') {
    t.note(reason('OS_ROLLING', 'info', os.shortId, `${os.name} is a rolling release: no end-of-life, no age limit`));
    return;
  }
  if (!os.releaseDate) {
    if (status === 'released') t.cap('supported', reason('RELEASE_DATE_UNKNOWN', 'warn', os.shortId, `osinfo-db gives no release date for ${os.name}: guestabi cannot place it in the ${policy.ageYears}-year window`));
    return;
  }
  const limit = addYears(os.releaseDate, policy.ageYears);
  if (limit <= today) {
    t.cap(
      'supported',
      reason('OS_TOO_OLD', 'warn', os.shortId, `${os.name} was released on ${os.releaseDate}, more than ${policy.ageYears} years before ${today} (its window ended on ${limit})`, {
        a: os.releaseDate,
        b: today,
      }),
    );
  } else {
    t.note(reason('OS_IN_AGE_WINDOW', 'info', os.shortId, `${os.name} was released on ${os.releaseDate}, within ${policy.ageYears} years of ${today} (until ${limit})`, { a: os.releaseDate }));
  }
}
