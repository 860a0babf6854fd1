import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import type { CatalogIndex } from '../catalog/catalog.js';
import type { Arch } from '../model/common.js';
import type { CpuModelAvailability, HostProfile } from '../model/host.js';
import { HOST_PROFILE_SCHEMA_ID } from '../model/host.js';
import { canonicalFeature, featuresOn, neverUnavailableUnderKvm } from '../resolve/cpu-features.js';
import { CatalogNotFound, RunError, UserError } from '../util/errors.js';
import { findCatalog } from '../io/catalog-files.js';
import { guestVisibility } from '../io/rules-files.js';

/**
 * A host profile from what libvirt already asked its QEMU (issue 15): `virsh version` for the build,
 * `virsh capabilities` for the host CPU, `virsh domcapabilities` for the CPU models it can run
 * (usable yes/no) and, for each unusable one, `virsh hypervisor-cpu-compare` for the features the
 * host lacks (libvirt 9.0's domcapabilities does not list blockers). Through virsh, not the C
 * API's bindings: virsh is what every libvirt host has (no native module to build), it speaks every
 * URI the same way (qemu+ssh://, qemu+tls://), and an operator can replay each command by hand.
 * The facts are kept as libvirt gave them (LibvirtFacts, recordable and replayed by tests); the
 * profile is made from them without I/O (profileFromLibvirt).
 */
export interface LibvirtFacts {
  uri: string;
  hostname: string;
  /** `virsh version`: the library and the running hypervisor. */
  version: { libvirt: string; qemu: string };
  capabilities: string;
  domcapabilities: string;
  /** The domcapabilities' query: the virt type and machine type asked. */
  asked: { virttype: 'kvm' | 'qemu'; arch: Arch; machine: string };
  /** Per unusable model, libvirt's words from hypervisor-cpu-compare. */
  compare: Record<string, string>;
  /** When it was asked (ISO 8601). */
  at: string;
}

export interface Virsh {
  run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** virsh -c URI ..., each command bounded (a remote host may be slow, never hung for ever). */
export function virshAt(uri: string, timeoutMs = 120_000): Virsh {
  return {
    run: (args) =>
      new Promise((resolve, reject) => {
        execFile('virsh', ['-c', uri, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
          const e = err as (NodeJS.ErrnoException & { killed?: boolean; code?: number | string }) | null;
          if (e && e.code === 'ENOENT') return reject(new UserError('virsh is not installed (Debian: libvirt-clients)', '--libvirt'));
          if (e?.killed) return reject(new RunError(`virsh -c ${uri} ${args[0]} did not answer within ${timeoutMs / 1000} s`));
          resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout, stderr });
        });
      }),
  };
}

async function must(v: Virsh, uri: string, args: string[]): Promise<string> {
  const r = await v.run(args);
  if (r.code !== 0) throw new UserError(`virsh ${args[0]} failed: ${r.stderr.trim().replace(/^error: /gm, '').split('\n').join(' | ') || `exit ${r.code}`}`, `--libvirt ${uri}`);
  return r.stdout;
}

const ARCH_OF: Record<string, Arch> = { x86_64: 'x86_64', ppc64le: 'ppc64', ppc64: 'ppc64', aarch64: 'aarch64' };

/** Ask libvirt: version, capabilities, domcapabilities on the given machine type, the blockers. */
export async function libvirtFacts(uri: string, v: Virsh, machineFor: (arch: Arch, qemu: string) => string | undefined, accel?: 'kvm' | 'tcg'): Promise<LibvirtFacts> {
  const versionText = await must(v, uri, ['version']);
  const qemu = /Running hypervisor:\s*QEMU\s+(\d+\.\d+\.\d+)/.exec(versionText)?.[1];
  const lib = /Using library:\s*libvirt\s+(\S+)/.exec(versionText)?.[1] ?? 'unknown';
  if (!qemu) throw new UserError(`libvirt does not run QEMU there (virsh version: ${versionText.trim().split('\n').join(' | ')})`, `--libvirt ${uri}`);
  const hostname = (await must(v, uri, ['hostname'])).trim();
  const capabilities = await must(v, uri, ['capabilities']);
  const caps = parse(capabilities, 'capabilities', uri);
  const hostArch = text(first(first(caps, 'host'), 'cpu'), 'arch');
  const arch = ARCH_OF[hostArch];
  if (!arch) throw new UserError(`the host's architecture ${hostArch || '(none)'} is not one guestabi knows (x86_64, ppc64le, aarch64)`, `--libvirt ${uri}`);
  const kvm = [...caps.getElementsByTagName('domain')].some((d) => d.getAttribute('type') === 'kvm');
  if (accel === 'kvm' && !kvm) throw new UserError('libvirt offers no KVM domains on this host', '--accel');
  const virttype = accel === 'tcg' || !kvm ? 'qemu' : 'kvm';
  const machine = machineFor(arch, qemu);
  const domcapabilities = await must(v, uri, ['domcapabilities', '--virttype', virttype, '--arch', hostArch, ...(machine ? ['--machine', machine] : [])]);
  const domcaps = parse(domcapabilities, 'domcapabilities', uri);
  const asked = { virttype, arch, machine: machine ?? text(domcaps.documentElement!, 'machine') } as const;
  // With a catalog the blockers are worked out from libvirt's host-model (profileFromLibvirt); without
  // one, libvirt's own comparison names them (in its CPU map's terms).
  const compare: Record<string, string> = {};
  if (!machine) for (const m of customModels(domcaps).filter((x) => !x.usable)) compare[m.name] = await cpuCompare(v, m.name, virttype, hostArch, asked.machine);
  return { uri, hostname, version: { libvirt: lib, qemu }, capabilities, domcapabilities, asked, compare, at: new Date().toISOString() };
}

/** hypervisor-cpu-compare of one model, from a CPU definition file virsh reads. */
async function cpuCompare(v: Virsh, model: string, virttype: string, arch: string, machine: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-cpu-'));
  try {
    const file = join(dir, 'cpu.xml');
    writeFileSync(file, `<cpu mode='custom' match='exact'><model fallback='forbid'>${model.replace(/[<>&'"]/g, '')}</model></cpu>\n`);
    const r = await v.run(['hypervisor-cpu-compare', file, '--virttype', virttype, '--arch', arch, '--machine', machine, '--error']);
    return (r.stderr + r.stdout).trim();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parse(xml: string, what: string, uri: string) {
  let failed = '';
  const doc = new DOMParser({ onError: (level, msg) => { if (level !== 'warning') failed ||= msg; } }).parseFromString(xml, 'text/xml');
  if (failed || !doc.documentElement) throw new RunError(`virsh -c ${uri} ${what} gave no readable XML: ${failed || 'empty'}`);
  return doc;
}

function first(e: Element | { getElementsByTagName: Element['getElementsByTagName'] } | undefined, tag: string): Element | undefined {
  return e?.getElementsByTagName(tag)[0] ?? undefined;
}

function text(e: Element | undefined, tag: string): string {
  return first(e, tag)?.textContent?.trim() ?? '';
}

function customModels(doc: { getElementsByTagName: Element['getElementsByTagName'] }): { name: string; usable: boolean }[] {
  const mode = [...doc.getElementsByTagName('mode')].find((m) => m.getAttribute('name') === 'custom');
  return [...(mode?.getElementsByTagName('model') ?? [])].map((m) => ({ name: m.textContent?.trim() ?? '', usable: m.getAttribute('usable') === 'yes' }));
}

/** libvirt's words "Host CPU does not provide required features: a, b" as feature names. */
export function blockersOf(words: string): string[] | undefined {
  const m = /does not provide required features?:\s*([^\n|]+)/.exec(words);
  return m ? m[1]!.split(',').map((s) => s.trim().replace(/\.$/, '')).filter(Boolean) : undefined;
}

/**
 * The host profile libvirt's answers give, on the shipped catalog of the same build (none: the CPU
 * models are still listed, and what needs the catalog is unknown). Not given by libvirt, and so
 * absent or empty: the kernel release, the host CPU's expansion, Hyper-V and KVM option refusals,
 * vulnerabilities, the IOMMU.
 */
export function profileFromLibvirt(f: LibvirtFacts, catalog: CatalogIndex | undefined, svmOnly: RegExp | null, name?: string): HostProfile {
  const uri = f.uri;
  const caps = parse(f.capabilities, 'capabilities', uri);
  const cpu = first(first(caps, 'host'), 'cpu');
  const sig = first(cpu, 'signature');
  const num = (s: string | null | undefined) => (s && /^\d+$/.test(s) ? Number(s) : 0);
  const canon = (n: string) => (catalog ? canonicalFeature(n, catalog) : n);
  const flags = [...(cpu?.getElementsByTagName('feature') ?? [])].map((e) => e.getAttribute('name') ?? '').filter(Boolean);
  const domcaps = parse(f.domcapabilities, 'domcapabilities', uri);
  const models = customModels(domcaps);
  const host = catalog ? hostModelFeatures(domcaps, catalog) : undefined;
  const cpuModels: Record<string, CpuModelAvailability> = {};
  for (const m of models) {
    const blockers = m.usable ? [] : host && catalog ? modelBlockers(catalog, m.name, f.asked, host, svmOnly) : blockersOf(f.compare[m.name] ?? '')?.map(canon);
    cpuModels[m.name] = { runnable: m.usable, unavailableFeatures: (blockers ?? ['(libvirt gave no blockers)']).sort() };
  }
  // libvirt lists the unversioned names only: the versioned ones (Nehalem-v2) are worked out the
  // same way, from the host-model CPU (the listed ones agree with guestabi's own probe: issue 15).
  if (host && catalog) {
    for (const name of catalog.cpuModelNames()) {
      if (cpuModels[name] || catalog.cpuModel(name)?.hostDependent) continue;
      const blockers = modelBlockers(catalog, name, f.asked, host, svmOnly).sort();
      cpuModels[name] = { runnable: blockers.length === 0, unavailableFeatures: blockers };
    }
  }
  const [major, minor, micro] = f.version.qemu.split('.').map(Number) as [number, number, number];
  return {
    schema: HOST_PROFILE_SCHEMA_ID,
    name: name ?? f.hostname,
    arch: f.asked.arch,
    kernel: { release: 'unknown', version: 'not given by libvirt' },
    // /proc/cpuinfo's flags are not given (libvirt's feature names are another vocabulary): none.
    cpu: { vendor: text(cpu, 'vendor') || 'unknown', modelName: `${text(cpu, 'model') || 'unknown'} (libvirt's host-model name, ${flags.length} features)`, family: num(sig?.getAttribute('family')), model: num(sig?.getAttribute('model')), stepping: num(sig?.getAttribute('stepping')), flags: [] },
    qemu: { version: catalog?.data.qemu ?? { major, minor, micro, package: 'unknown (through libvirt)' }, catalog: catalog?.id ?? `qemu-${f.version.qemu}-${f.asked.arch} (no shipped catalog)`, binary: '(through libvirt)' },
    accel: f.asked.virttype === 'kvm' ? 'kvm' : 'tcg',
    kvm: { devicePresent: f.asked.virttype === 'kvm', enabled: f.asked.virttype === 'kvm' },
    probeMachine: f.asked.machine,
    hostCpu: hostCpuOf(domcaps, catalog, f.asked),
    cpuModels,
    vulnerabilities: {},
    iommu: { present: false, groups: 0, units: [], notProbed: true },
    libvirt: { uri, libvirt: f.version.libvirt, qemu: f.version.qemu },
    probedAt: f.at,
    tool: 'guestabi probe --libvirt',
  };
}

/** The features of libvirt's host-model CPU (the base model's expansion, plus what it requires,
 *  less what it disables), in QEMU's names: libvirt computes host-model from QEMU's own expansion
 *  of the host CPU (query-cpu-model-expansion), written in its CPU map's terms. */
function hostModelFeatures(domcaps: { getElementsByTagName: Element['getElementsByTagName'] }, catalog: CatalogIndex): Set<string> | undefined {
  const mode = [...domcaps.getElementsByTagName('mode')].find((m) => m.getAttribute('name') === 'host-model');
  const base = first(mode, 'model')?.textContent?.trim();
  if (!mode || !base || !catalog.cpuExpansion(base)) return undefined;
  const out = featuresOn(catalog, catalog.cpuExpansion(base)!);
  for (const e of [...mode.getElementsByTagName('feature')]) {
    const n = canonicalFeature(e.getAttribute('name') ?? '', catalog);
    if (e.getAttribute('policy') === 'disable') out.delete(n);
    else out.add(n);
  }
  return out;
}


/**
 * What QEMU would report unavailable for a model (query-cpu-definitions' unavailable-features): the
 * features its expansion turns on, with what the accelerator sets (KVM: svm, monitor, acpi off;
 * catalog.kvm) less what it turns on, less the SVM word without svm (x86_cpu_expand_features() clears it) and the
 * features QEMU never reports missing under KVM (topoext, ht, the KVM hints), that the host lacks.
 */
function modelBlockers(catalog: CatalogIndex, model: string, asked: LibvirtFacts['asked'], host: Set<string>, svmOnly: RegExp | null): string[] {
  const kvm = asked.virttype === 'kvm';
  const delta = kvm ? (catalog.kvmCpuDelta(model, asked.machine) ?? {}) : {};
  const props = { ...catalog.cpuExpansion(model), ...delta };
  // What KVM's defaults turn on are its own paravirtual features (kvmclock, kvm-pv-eoi ...), which
  // libvirt's host-model does not list and KVM gives.
  return [...featuresOn(catalog, props)].filter((f) => !host.has(f) && delta[f] !== true && !(svmOnly?.test(f) && props.svm !== true) && !(kvm && neverUnavailableUnderKvm(f)));
}

/**
 * QEMU's expansion of -cpu host (KVM) or max (TCG) as libvirt's host-model gives it: the base
 * model's expansion with what the accelerator sets, the features it requires on, those it disables
 * off. A feature libvirt's CPU map does not name stays as the base model has it (in practice off:
 * taken as lacking, never as given).
 */
function hostCpuOf(domcaps: { getElementsByTagName: Element['getElementsByTagName'] }, catalog: CatalogIndex | undefined, asked: LibvirtFacts['asked']): HostProfile['hostCpu'] {
  const model = asked.virttype === 'kvm' ? 'host' : 'max';
  const mode = [...domcaps.getElementsByTagName('mode')].find((m) => m.getAttribute('name') === 'host-model');
  const base = first(mode, 'model')?.textContent?.trim();
  const expansion = base && catalog?.cpuExpansion(base);
  if (!mode || mode.getAttribute('supported') !== 'yes' || !catalog || !expansion) return { model, error: `libvirt gives no host-model CPU here${catalog ? '' : ' the catalog knows'}` };
  const props: Record<string, string | number | boolean> = { ...expansion, ...(asked.virttype === 'kvm' ? catalog.kvmCpuDelta(base, asked.machine) : {}) };
  for (const e of [...mode.getElementsByTagName('feature')]) props[canonicalFeature(e.getAttribute('name') ?? '', catalog)] = e.getAttribute('policy') !== 'disable';
  return { model, props };
}

/** The build's shipped catalog, or none (then what needs it is unknown). */
export function shippedCatalogOf(arch: Arch, qemu: string): CatalogIndex | undefined {
  try {
    return findCatalog(qemu, [], arch);
  } catch (e) {
    if (e instanceof CatalogNotFound) return undefined;
    throw e;
  }
}

const BOARD: Partial<Record<Arch, string>> = { x86_64: 'pc', ppc64: 'pseries', aarch64: 'virt' };

/** Ask the libvirt at `uri` and make its host profile (probe --libvirt, preflight). */
export async function libvirtProfile(uri: string, opts: { accel?: 'kvm' | 'tcg'; name?: string; virsh?: Virsh } = {}): Promise<{ facts: LibvirtFacts; catalog: CatalogIndex | undefined; host: HostProfile }> {
  const machineFor = (arch: Arch, qemu: string) => (BOARD[arch] ? shippedCatalogOf(arch, qemu)?.resolveMachineAlias(BOARD[arch]!) : undefined);
  const facts = await libvirtFacts(uri, opts.virsh ?? virshAt(uri), machineFor, opts.accel);
  const catalog = shippedCatalogOf(facts.asked.arch, facts.version.qemu);
  return { facts, catalog, host: profileFromLibvirt(facts, catalog, guestVisibility().svmOnly, opts.name) };
}
