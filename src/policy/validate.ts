import { viommuAnswer } from '../check/viommu.js';
import type { ViommuRules } from '../model/viommu.js';
import { concreteHostModel } from '../check/check.js';
import { runtimePlatform, type RuntimePlatform } from '../check/runtime.js';
import { cpuMigratableOff, hostCpuHas } from '../resolve/cpu-features.js';
import { ResolveError, type TargetHost } from '../resolve/target.js';
import type { GuestSpec } from '../model/guest.js';
import type { GuestVisibility } from '../model/visibility.js';
import { VALIDATION_SCHEMA_ID, type Finding, type FindingLevel, type TierPolicy, type TierResult, type ValidationReport, type VulnerabilityMap, type VulnerabilityRow } from '../model/policy.js';
import type { ResolvedOs } from '../osinfo/db.js';
import { deviceForms, guestOsTier, osinfoPciId, virtioBase, virtioForm } from './tier.js';

/**
 * Validate one guest on one host, as virt-host-validate validates a host: PASS, WARN and FAIL
 * lines for vulnerability exposure (data/policy/vulnerabilities.yaml), best practice and the
 * guest OS's tier. Pure: the platform as QEMU would run it there, osinfo facts and data in.
 */
export interface ValidateInput {
  platform: RuntimePlatform;
  vulnerabilities: VulnerabilityMap;
  vulnerabilityFile: string;
  os: ResolvedOs | null;
  tierPolicy: TierPolicy;
  today: string;
  /** data/rules/viommu.yaml: with it, each assigned device's vIOMMU rung on this host is a finding. */
  viommuRules?: ViommuRules;
}

/**
 * The platform QEMU would give the guest on this host. host-model is what libvirt makes of it on
 * this host (a named model and features); when the profile cannot tell, the CPU is unknown.
 */
export function validationPlatform(spec: GuestSpec, host: TargetHost, visibility: GuestVisibility, source: string): RuntimePlatform {
  if (spec.cpu.mode !== 'host-model') return runtimePlatform(spec, host, visibility, source);
  try {
    const concrete = concreteHostModel(spec, host).spec;
    return { ...runtimePlatform(concrete, host, visibility, source), spec };
  } catch (e) {
    if (!(e instanceof ResolveError)) throw e;
    const p = runtimePlatform({ ...spec, cpu: { mode: 'host-passthrough' } }, host, visibility, source);
    return { ...p, spec, cpuName: 'host-model', cpu: null, cpuHostDependent: false };
  }
}

function finding(level: FindingLevel, check: Finding['check'], code: Finding['code'], subject: string, message: string, extra: Partial<Finding> = {}): Finding {
  const f: Finding = { level, check, code, subject, message };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) (f as Record<string, unknown>)[k] = v;
  return f;
}

export function validateGuest(input: ValidateInput): ValidationReport {
  const p = input.platform;
  const findings: Finding[] = [];
  findings.push(...vulnerabilityFindings(input));
  findings.push(...bestPracticeFindings(p));
  findings.push(...viommuFindings(input));
  let tier: TierResult | undefined;
  if (input.os && p.machine) {
    const os = input.os;
    const devices = deviceFindings(p, os);
    findings.push(...devices.findings);
    tier = guestOsTier({
      os,
      catalog: p.host.catalog,
      machine: p.machine,
      today: input.today,
      policy: input.tierPolicy,
      secure: secureSetup(p.spec),
      ...(p.spec.arch ? { arch: p.spec.arch } : {}),
    });
    findings.push(tierFinding(tier, devices.drivable, new Set(p.devices.map((d) => virtioBase(d.type)))));
    if (p.machine.startsWith('pc-i440fx') && os.devices.some((d) => d.id === input.tierPolicy.chipsets['pc-q35']?.osinfoDevice)) {
      const q35 = tierOn(input, os, p.machine.replace('pc-i440fx', 'pc-q35'));
      if (q35 && q35.tier === 'recommended') {
        findings.push(
          finding('warn', 'best-practice', 'I440FX_FOR_Q35_OS', p.machine, `${os.name} runs on q35 (recommended on ${q35.machine.name}), but the guest uses the 1996 i440fx board`, {
            remedy: `use ${q35.machine.name} (PCI Express, AHCI, secure boot capable) when the guest is next redefined`,
          }),
        );
      }
    }
  } else if (!input.os) {
    findings.push(
      finding('warn', 'guest-os', 'GUEST_OS_UNKNOWN', 'os', 'the guest names no OS, so its devices and tier cannot be checked', {
        remedy: "name it: libosinfo metadata in the domain XML (<libosinfo:os id='http://redhat.com/rhel/9.0'/>), or --os SHORT_ID",
      }),
    );
  }
  const worst = findings.some((f) => f.level === 'fail') ? 'fail' : findings.some((f) => f.level === 'warn') ? 'warn' : 'pass';
  return {
    schema: VALIDATION_SCHEMA_ID,
    guest: { machine: p.machine, cpu: p.cpuName, os: input.os?.shortId ?? null },
    host: { name: p.host.name, qemu: p.host.catalog.version, cpu: p.host.profile.cpu.modelName },
    result: worst,
    findings,
    ...(tier ? { tier } : {}),
  };
}

/** Each assigned device's rung of the guest's vIOMMU on this host: refused fails, unknown warns. */
function viommuFindings(input: ValidateInput): Finding[] {
  const p = input.platform;
  if (!input.viommuRules || !p.machine || !(p.spec.devices ?? []).some((d) => d.type === 'vfio-pci')) return [];
  const r = viommuAnswer({ guest: p.spec, catalog: p.host.catalog, machine: p.machine, host: { name: p.host.name, iommu: p.host.profile.iommu }, rules: input.viommuRules });
  const level = (rung: string): FindingLevel => (rung === 'refused' ? 'fail' : rung === 'unknown' ? 'warn' : 'pass');
  const out = r.start.map((x) => finding('fail', 'viommu', x.code, x.subject, x.message, { a: x.a }));
  for (const d of r.devices) for (const x of d.reasons) out.push(finding(level(d.rung), 'viommu', x.code, d.device, `${d.rung}: ${x.message}`, { a: x.a, b: x.b, remedy: x.remedy }));
  return out;
}

function tierOn(input: ValidateInput, os: ResolvedOs, machine: string): TierResult | undefined {
  if (!input.platform.host.catalog.machine(machine)) return undefined;
  return guestOsTier({ os, catalog: input.platform.host.catalog, machine, today: input.today, policy: input.tierPolicy, alternatives: false });
}

export function secureSetup(spec: GuestSpec): { confidential: boolean; iommuPlatform: boolean } {
  const on = (v: string | undefined) => v === 'on' || v === 'true' || v === 'yes';
  return {
    confidential: spec.launchSecurity !== undefined,
    iommuPlatform: spec.devices.some((d) => d.type.startsWith('virtio-') && on(d.properties?.iommu_platform)),
  };
}

// --- vulnerabilities ------------------------------------------------------------------------

const NOT_AFFECTED = /^Not affected/i;

/** What the pseries speculation capabilities say to the guest (hw/ppc/spapr_caps.c: broken =
 *  "no protection"; the guest reads them with H_GET_CPU_CHARACTERISTICS). */
const SPAPR_MITIGATIONS: Record<string, string> = {
  'cap-cfpc': 'cache flush on privilege change (Meltdown)',
  'cap-sbbc': 'speculation barrier bounds checking (Spectre v1)',
  'cap-ibs': 'indirect branch speculation (Spectre v2)',
};

function emulatedVulnerabilityFindings(p: RuntimePlatform): Finding[] {
  const host = p.host.profile;
  const out = [finding('pass', 'vulnerability', 'VULNERABILITY_EMULATED', 'host', `the guest's ${host.arch} CPU is emulated under ${host.accel.toUpperCase()} on a ${host.cpu.vendor} host: the host CPU's vulnerabilities are the QEMU process's, and the guest's own are what the platform tells it`)];
  const machine = p.board?.get('board/machine') ?? {};
  for (const [cap, what] of Object.entries(SPAPR_MITIGATIONS)) {
    if (machine[cap] === 'broken') out.push(finding('warn', 'vulnerability', 'SPAPR_CAP_UNMITIGATED', cap, `${cap}=broken tells the guest there is no ${what} mitigation: on a vulnerable POWER host under KVM its kernel cannot protect itself`, { a: 'broken', remedy: `set ${cap}=workaround (or higher) where the host's firmware gives it` }));
  }
  return out;
}

function vulnerabilityFindings(input: ValidateInput): Finding[] {
  const p = input.platform;
  const host = p.host.profile;
  // Another architecture than the host CPU's (a Power or Arm guest emulated on x86): the host's
  // sysfs vulnerabilities do not describe the guest's CPU.
  if (host.arch !== 'x86_64' && /^(GenuineIntel|AuthenticAMD|HygonGenuine)$/.test(host.cpu.vendor)) return emulatedVulnerabilityFindings(p);
  const out: Finding[] = [];
  const vendor = host.cpu.vendor;
  const notAffected: string[] = [];
  for (const [vuln, status] of Object.entries(host.vulnerabilities).sort(([a], [b]) => a.localeCompare(b))) {
    if (NOT_AFFECTED.test(status)) {
      notAffected.push(vuln);
      continue;
    }
    const rows = input.vulnerabilities.rows.filter((r) => r.vulnerability === vuln && (!r.vendor || r.vendor === vendor));
    if (rows.length === 0) {
      out.push(
        finding('warn', 'vulnerability', 'VULNERABILITY_NOT_MAPPED', vuln, `the host reports "${status}", and ${input.vulnerabilityFile} has no row for ${vuln} on ${vendor}: guestabi cannot say whether the guest can mitigate it`, {
          b: status,
        }),
      );
      continue;
    }
    for (const row of rows) out.push(...rowFindings(rowContext(row, status, input.vulnerabilityFile, p)));
  }
  if (notAffected.length) out.push(finding('pass', 'vulnerability', 'HOST_NOT_AFFECTED', 'host', `the host CPU is not affected by ${notAffected.join(', ')}`));
  return out;
}

/** One row of the vulnerability map against one guest: what every finding of it says. */
interface RowContext {
  row: VulnerabilityRow;
  /** What the host reports for the vulnerability. */
  status: string;
  /** Where the row is, for the findings' source. */
  source: string;
  title: string;
  p: RuntimePlatform;
  /** Whether the guest CPU has a feature on. */
  has: (f: string) => boolean;
  /** Whether the host CPU offers a feature. */
  hostHas: (f: string) => boolean;
}

function rowContext(row: VulnerabilityRow, status: string, file: string, p: RuntimePlatform): RowContext {
  return {
    row,
    status,
    source: `${file}#${row.vulnerability}${row.vendor ? `/${row.vendor}` : ''}: ${row.source}`,
    title: `${row.title}${row.cves.length ? ` (${row.cves.join(', ')})` : ''}`,
    p,
    has: (f) => p.cpu?.[f] === true,
    hostHas: (f) => hostCpuHas(p.host, f),
  };
}

function rowFindings(x: RowContext): Finding[] {
  const { row, status, source, title } = x;
  const subject = row.vulnerability;
  if (!row.guestMitigates) return [hostOnlyFinding(x), ...misreported(x)];
  if (!row.needs || row.needs.length === 0) {
    return [finding('pass', 'vulnerability', 'VULNERABILITY_MITIGATED', subject, `${title}: the guest mitigates it in software; the host reports "${status}"${row.note ? ` (${row.note})` : ''}`, { b: status, source }), ...misreported(x)];
  }
  if (x.p.cpu === null) {
    const why = x.p.cpuName === 'host-model' ? 'host-model cannot be resolved from this host profile' : "the host profile has no expansion of the guest's CPU";
    return [finding('warn', 'vulnerability', 'GUEST_CPU_UNKNOWN', subject, `${title}: the host reports "${status}", and the guest's CPU features are not known (${why})`, { b: status, source }), ...misreported(x)];
  }
  return [...guestFeatureFindings(x, row.needs), ...misreported(x)];
}

/** A vulnerability only the host can mitigate. */
function hostOnlyFinding({ row, status, source, title }: RowContext): Finding {
  const hostVulnerable = /^Vulnerable/i.test(status);
  const unknown = /^Unknown/i.test(status);
  const level: FindingLevel = hostVulnerable || unknown ? 'warn' : 'pass';
  return finding(level, 'vulnerability', hostVulnerable || unknown ? 'HOST_VULNERABLE' : 'HOST_MITIGATED', row.vulnerability, `${title}: only the host can mitigate it, and it reports "${status}"${row.note ? `; ${row.note}` : ''}`, {
    b: status,
    source,
    ...(hostVulnerable ? { remedy: 'update the host microcode and kernel' } : {}),
  });
}

/** Whether the guest CPU has one of the feature sets its kernel needs to mitigate it, and what
 *  would make the mitigation better. */
function guestFeatureFindings(x: RowContext, needs: string[][]): Finding[] {
  const { row, status, source, title, has, hostHas } = x;
  const subject = row.vulnerability;
  const out: Finding[] = [];
  const met = needs.find((alt) => alt.every(has));
  if (met) {
    out.push(finding('pass', 'vulnerability', 'VULNERABILITY_MITIGATED', subject, `${title}: the guest CPU has ${met.join(' + ')}, which its kernel uses to mitigate it`, { a: met.join(','), b: status, source }));
  } else {
    const missing = needs[0]!.filter((f) => !has(f));
    const hostLacks = missing.filter((f) => !hostHas(f));
    const remedy = hostLacks.length
      ? `the host CPU does not offer ${hostLacks.join(', ')} either: update the host microcode and kernel, then add ${missing.map((f) => `+${f}`).join(',')}`
      : `add ${missing.map((f) => `+${f}`).join(',')} to the guest CPU (libvirt <feature policy='require' name='${missing[0]}'/>), or use a CPU model version that has it`;
    out.push(
      finding('fail', 'vulnerability', 'VULNERABILITY_UNMITIGATED', subject, `${title}: the host is affected ("${status}") and the guest CPU ${x.p.cpuName ?? ''} lacks ${needs.map((alt) => alt.join(' + ')).join(' or ')}, so the guest cannot mitigate it`, {
        a: missing.join(','),
        b: status,
        remedy,
        source,
      }),
    );
  }
  const recommendedMissing = (row.recommended ?? []).filter((f) => !has(f));
  if (met && recommendedMissing.length) {
    out.push(
      finding('warn', 'vulnerability', 'VULNERABILITY_FEATURE_RECOMMENDED', subject, `${title}: ${recommendedMissing.join(', ')} would make the guest's mitigation stronger or cheaper`, {
        a: recommendedMissing.join(','),
        remedy: recommendedMissing.every(hostHas) ? `add ${recommendedMissing.map((f) => `+${f}`).join(',')}` : 'the host CPU does not offer it',
        source,
      }),
    );
  }
  return out;
}

/** Features that tell the guest it is not affected while the host is. */
function misreported({ row, status, source, title, has }: RowContext): Finding[] {
  const claims = (row.mustNotClaim ?? []).filter(has);
  if (!claims.length) return [];
  return [
    finding('fail', 'vulnerability', 'VULNERABILITY_MISREPORTED', row.vulnerability, `${title}: the guest CPU has ${claims.join(', ')}, which tells the guest it is not affected, but the host is ("${status}"): the guest will skip its mitigation`, {
      a: claims.join(','),
      b: status,
      remedy: `remove ${claims.map((f) => `-${f}`).join(',')} from the guest CPU`,
      source,
    }),
  ];
}

// --- best practice ----------------------------------------------------------------------------

function bestPracticeFindings(p: RuntimePlatform): Finding[] {
  const out: Finding[] = [];
  for (const r of p.problems) out.push(finding('fail', 'best-practice', r.code, r.subject, r.message, r.remedy ? { remedy: r.remedy } : {}));
  if (!p.machine) return out;
  out.push(...machineFindings(p, p.machine));
  const mode = p.spec.cpu.mode;
  if (mode === 'host-passthrough' || mode === 'maximum') out.push(hostDependentCpuFinding(p, mode));
  else if (mode === 'custom' && p.cpuName) out.push(...namedCpuFindings(p, p.machine, p.cpuName));
  else if (mode === 'host-model') {
    out.push(finding('warn', 'best-practice', 'CPU_NOT_PINNED', mode, 'host-model becomes a different CPU on every host it starts on', { remedy: 'pin the named model it expands to (guestabi resolve)' }));
  }
  return out;
}

/** A versioned machine type, not deprecated. */
function machineFindings(p: RuntimePlatform, machine: string): Finding[] {
  const c = p.host.catalog;
  const asked = p.spec.machine.type;
  const out: Finding[] = [];
  if (asked !== machine) {
    out.push(
      finding('warn', 'best-practice', 'MACHINE_NOT_PINNED', asked, `machine type ${asked} is an alias: on QEMU ${c.version} it is ${machine}, on another build something else`, {
        a: asked,
        b: machine,
        remedy: `pin ${machine} (guestabi resolve)`,
      }),
    );
  } else out.push(finding('pass', 'best-practice', 'MACHINE_PINNED', machine, `machine type ${machine} is versioned`));
  const m = c.machine(machine)!;
  if (m.deprecated) {
    const newest = c.family(m.family).filter((x) => !x.deprecated).at(-1);
    out.push(
      finding('warn', 'best-practice', 'MACHINE_TYPE_DEPRECATED', machine, `QEMU ${c.version} deprecates ${machine}: a later QEMU will remove it`, {
        ...(newest ? { b: newest.name, remedy: `move the guest to ${newest.name} at its next cold boot` } : {}),
      }),
    );
  }
  return out;
}

/** host-passthrough and maximum: fine for a guest that does not migrate. */
function hostDependentCpuFinding(p: RuntimePlatform, mode: string): Finding {
  if (cpuMigratableOff(p.spec.cpu)) return finding('pass', 'best-practice', 'HOST_DEPENDENT_CPU_NOT_MIGRATED', mode, `${mode} with migratable=off: the guest is not meant to migrate`);
  return finding('warn', 'best-practice', 'HOST_DEPENDENT_CPU', mode, `${mode} gives the guest whatever this host's CPU is: it can migrate only to an identical host`, {
    remedy: 'pin a named CPU model every destination can run (guestabi resolve --cluster), or say the guest does not migrate (migratable=off)',
  });
}

/** A named CPU: versioned, current, and enforced. */
function namedCpuFindings(p: RuntimePlatform, machine: string, cpuName: string): Finding[] {
  const c = p.host.catalog;
  const out: Finding[] = [];
  const model = c.cpuModel(cpuName);
  // x86 versions its models (EPYC-v3); ppc64 and aarch64 name a version (power9_v2.0) or a
  // model outright, and a bare name is one that stands for another (power9).
  const bare = c.arch === 'x86_64' ? model?.version === null : model?.aliasOf !== undefined;
  if (model && bare) {
    const alias = c.cpuAliasOf(cpuName, machine);
    out.push(
      finding('warn', 'best-practice', 'CPU_NOT_PINNED', cpuName, `CPU model ${cpuName} is a bare name: what it means depends on the machine type and the QEMU build`, {
        a: cpuName,
        ...(alias ? { b: alias } : {}),
        remedy: alias ? `pin ${alias}, which it stands for on ${machine} (guestabi resolve --policy keep)` : `pin a versioned model (guestabi resolve --policy keep keeps this exact CPU)`,
      }),
    );
  } else if (model) out.push(finding('pass', 'best-practice', 'CPU_PINNED', cpuName, `CPU model ${cpuName} is versioned`));
  if (model?.deprecated) {
    const current = c.cpuVersions(model.base).filter((v) => !v.deprecated).at(-1);
    out.push(
      finding('warn', 'best-practice', 'CPU_MODEL_DEPRECATED', cpuName, `QEMU ${c.version} deprecates CPU model ${cpuName}`, {
        ...(current ? { b: current.name } : {}),
        remedy: current ? `use ${current.name}` : 'use a current CPU model (guestabi resolve)',
      }),
    );
  }
  // Only x86 filters CPU features a host lacks; Power and Arm models are given whole or refused.
  if (c.arch !== 'x86_64') return out;
  if (!p.spec.cpu.enforce) {
    out.push(
      finding('warn', 'best-practice', 'CPU_NOT_ENFORCED', cpuName, `without enforce, QEMU silently drops CPU features a host lacks${p.filtered.length ? ` (here: ${p.filtered.join(' ')})` : ''}, and the guest's CPU differs from host to host`, {
        remedy: "add enforce (-cpu ...,enforce; libvirt <cpu check='full'>)",
      }),
    );
  } else out.push(finding('pass', 'best-practice', 'CPU_ENFORCED', cpuName, 'enforce: QEMU refuses to start rather than drop a feature'));
  return out;
}

// --- devices against the guest OS -------------------------------------------------------------

/** Each virtio device of the guest against the PCI ids the OS drives; and the device types
 *  (without variant suffix) the OS drives as the guest has them. */
function deviceFindings(p: RuntimePlatform, os: ResolvedOs): { findings: Finding[]; drivable: Set<string> } {
  const out: Finding[] = [];
  const drivable = new Set<string>();
  const osIds = new Set(os.devices.map((d) => d.id));
  const all = p.machine ? p.host.catalog.devicesOn(p.machine) : undefined;
  if (!all) return { findings: out, drivable };
  for (const d of p.devices) {
    const id = d.props?.['pci.id'];
    const mode = d.props ? virtioForm(d.type, d.props) : undefined;
    if (typeof id !== 'string' || !mode) continue;
    const base = virtioBase(d.type);
    // The PCI ids this device can have in any form the catalog knows, and those the OS drives.
    const forms = deviceForms(all, base).map((k) => [k, all.get(k)!] as const);
    const formIds = new Set(forms.map(([, v]) => v['pci.id']).filter((x): x is string => typeof x === 'string'));
    const driven = [...formIds].filter((x) => osIds.has(osinfoPciId(x)));
    if (driven.length === 0) continue; // osinfo-db says nothing about this OS and this device
    const name = d.id ? `${d.type} ${d.id}` : d.type;
    if (!osIds.has(osinfoPciId(id))) {
      out.push(
        finding('fail', 'guest-os', 'DEVICE_NOT_DRIVABLE', name, `${name} is ${mode} virtio (${id}) where it is placed (${d.placement}); ${os.name} drives only ${driven.join(', ')}`, {
          a: id,
          b: driven.join(', '),
          remedy: mode === 'modern' ? `make it transitional: libvirt model='virtio-transitional' (behind a pcie-to-pci-bridge), QEMU ${base}-transitional on a conventional PCI bus` : `make it modern: libvirt model='virtio-non-transitional', QEMU ${base}-non-transitional`,
        }),
      );
      continue;
    }
    drivable.add(base);
    const modernIds = forms.filter(([k, v]) => virtioForm(k, v) === 'modern').map(([, v]) => v['pci.id']).filter((x): x is string => typeof x === 'string');
    if (mode !== 'modern' && modernIds.some((x) => osIds.has(osinfoPciId(x)))) {
      out.push(
        finding('warn', 'best-practice', 'VIRTIO_LEGACY_FOR_MODERN_OS', name, `${name} is ${mode} virtio (${id}), but ${os.name} drives virtio 1.0 (${modernIds[0]}): the legacy interface costs I/O port space and cannot use iommu_platform`, {
          a: id,
          b: modernIds[0]!,
          remedy: `use virtio 1.0: libvirt model='virtio-non-transitional' or a PCIe root port, QEMU ${base}-non-transitional`,
        }),
      );
    } else {
      out.push(finding('pass', 'guest-os', 'DEVICE_DRIVABLE', name, `${os.name} drives ${name} (${id})`, { a: id }));
    }
  }
  return { findings: out, drivable };
}

function tierFinding(t: TierResult, drivable: ReadonlySet<string>, guestBases: ReadonlySet<string>): Finding {
  const level: FindingLevel = t.tier === 'recommended' ? 'pass' : t.tier === 'supported' ? 'warn' : 'fail';
  const needs = t.reasons.filter((r) => r.code === 'DEVICE_SETTING_NEEDED').map((r) => r.subject);
  const why = [
    ...(needs.length ? [`needs device settings for ${needs.join(', ')}`] : []),
    ...t.reasons.filter((r) => r.level !== 'info' && r.code !== 'DEVICE_SETTING_NEEDED').map((r) => r.message),
  ];
  // Settings the guest already applies (a device of that type the OS drives), and those that
  // concern it (firmware, or a device it has).
  const applied = t.settings.filter((s) => s.class !== 'firmware' && drivable.has(s.subject));
  const open = t.settings.filter((s) => !applied.includes(s) && (s.class === 'firmware' || guestBases.has(s.subject)));
  const remedy = open.length
    ? `settings that make it work: ${open.map((s) => `${s.class}: ${s.libvirt[0]}`).join('; ')} (guestabi tier --os ${t.os.shortId} --machine ${t.machine.name} lists them all)`
    : t.alternatives.length
      ? `better on ${t.alternatives.map((x) => `${x.machine} (${x.tier})`).join(', ')}`
      : undefined;
  const has = applied.length ? `; the guest already has the settings for ${applied.map((s) => s.subject).join(', ')}` : '';
  return finding(level, 'guest-os', 'GUEST_OS_TIER', t.os.shortId, `${t.os.name} on ${t.machine.name} is ${t.tier}${why.length ? `: ${why.join('; ')}` : ''}${has}`, {
    a: t.tier,
    ...(remedy ? { remedy } : {}),
  });
}
