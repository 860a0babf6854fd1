import { CatalogIndex } from '../../catalog/catalog.js';
import { findCatalog, writeCatalogFile } from '../../io/catalog-files.js';
import type { Accel } from '../../model/common.js';
import type { Catalog } from '../../model/catalog.js';
import type { HostProfile } from '../../model/host.js';
import { findQemuBuild, QEMU_ARCHES, type QemuArch, type QemuBuild } from '../../qmp/build.js';
import { probeCatalog } from '../../probe/catalog-probe.js';
import { kvmDevicePresent, REAL_ROOTS } from '../../probe/host-facts.js';
import { probeHost } from '../../probe/host-probe.js';
import { liveStarter } from '../../probe/session.js';
import { libvirtProfile } from '../../probe/libvirt.js';
import { CatalogNotFound, errorMessage, RunError, UserError } from '../../util/errors.js';
import { checkOutputFile, checkOutputFolder, writeFileAtomic } from '../../util/files.js';
import { toolVersion } from '../../util/tool.js';
import { oneOf, parseCommandArgs } from '../args.js';
import { print, printJson, progressReporter, stage, wrapList } from '../output.js';

const USAGE =
  'guestabi probe [--qemu PATH|VERSION] [--arch x86_64|ppc64|aarch64] [--accel kvm|tcg] [--name HOSTNAME] [--host-out FILE] [--catalog-out FILE] [--host-only] [--record DIR] [--push URL [--token TOKEN]] [--json]\n       guestabi probe --libvirt URI [--accel kvm|tcg] [--name HOSTNAME] [--host-out FILE] [--record FILE] [--json]   (the host profile from libvirt\'s answers)';

export function defaultAccel(): Accel {
  return kvmDevicePresent(REAL_ROOTS) ? 'kvm' : 'tcg';
}

export interface ProbeResult {
  build: QemuBuild;
  host: HostProfile;
  catalog?: Catalog;
}

/** Probe this host (and, unless hostOnly, the whole build) with one QEMU; `stages` says on stderr
 *  what runs now (the probe command's, as a catalog probe takes minutes). */
export async function runProbe(opts: { qemu?: string; arch?: QemuArch; accel?: Accel; record?: string; hostOnly?: boolean; name?: string; stages?: boolean }): Promise<ProbeResult> {
  const arch = opts.arch ?? 'x86_64';
  const build = findQemuBuild(opts.qemu, arch);
  // Other architectures run under TCG on this host's CPU.
  const accel = opts.accel ?? (arch === 'x86_64' ? defaultAccel() : 'tcg');
  const starter = liveStarter(build, { recordDir: opts.record });
  if (opts.stages) stage(`probe: this host with ${build.binary} (${accel.toUpperCase()})`);
  const host = await probeHost({ starter, accel, arch, binary: build.binary, toolVersion: toolVersion(), name: opts.name });
  if (opts.hostOnly) return { build, host };
  const label = `probing QEMU ${host.qemu.version.major}.${host.qemu.version.minor}`;
  if (opts.stages) stage(`probe: the catalog of QEMU ${host.qemu.version.major}.${host.qemu.version.minor}, one QEMU per machine type (minutes)`);
  const catalog = await probeCatalog({ starter, toolVersion: toolVersion(), arch, progress: progressReporter(label, { lines: opts.stages }) });
  return { build, host, catalog };
}

export async function probeCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      qemu: { type: 'string' },
      arch: { type: 'string' },
      accel: { type: 'string' },
      'host-out': { type: 'string' },
      'catalog-out': { type: 'string' },
      'host-only': { type: 'boolean' },
      name: { type: 'string' },
      record: { type: 'string' },
      push: { type: 'string' },
      token: { type: 'string' },
      json: { type: 'boolean' },
      libvirt: { type: 'string' },
    },
    USAGE,
  );
  if (positionals.length) throw new UserError(`unexpected argument '${positionals[0]}'\nusage: ${USAGE}`);
  if (values.libvirt !== undefined) return probeLibvirt(values.libvirt, { ...values, accel: oneOf(values.accel, ['kvm', 'tcg'] as const, '--accel') });
  if (values['host-only'] && values['catalog-out']) throw new UserError('--host-only and --catalog-out exclude each other');
  const accel = oneOf(values.accel, ['kvm', 'tcg'] as const, '--accel');
  const push = values.push !== undefined ? pushTarget(values.push) : undefined;
  // Where the results go is checked before the probe, which takes minutes.
  if (values['host-out'] !== undefined) checkOutputFile(values['host-out'], '--host-out');
  if (values['catalog-out'] !== undefined) checkOutputFile(values['catalog-out'], '--catalog-out');
  if (values['host-out'] !== undefined && values['host-out'] === values['catalog-out']) throw new UserError('--host-out and --catalog-out name the same file');
  if (values.record !== undefined) checkOutputFolder(values.record, '--record');
  const arch = oneOf(values.arch, QEMU_ARCHES, '--arch');
  const result = await runProbe({ qemu: values.qemu, arch, accel, record: values.record, hostOnly: values['host-only'], name: values.name, stages: true });
  if (values['host-out']) writeFileAtomic(values['host-out'], JSON.stringify(result.host, null, 2) + '\n');
  if (values['catalog-out'] && result.catalog) writeCatalogFile(values['catalog-out'], result.catalog);
  const pushed = push ? await pushHost(push, result.host, values.token ?? process.env.GUESTABI_TOKEN) : undefined;
  if (values.json) {
    printJson(result.catalog ? { host: result.host, catalog: result.catalog } : { host: result.host });
    return 0;
  }
  printHostSummary(result.host, result.catalog ? new CatalogIndex(result.catalog) : shippedCatalogFor(result.host));
  if (result.catalog) {
    const c = new CatalogIndex(result.catalog);
    print();
    print(`Catalog ${c.id}: ${c.data.machines.length} machine types, ${c.data.cpuModels.length} CPU models, ${c.data.deviceTypes.length} device types` + (values['catalog-out'] ? ` (written to ${values['catalog-out']})` : ''));
  }
  if (values['host-out']) print(`Host profile written to ${values['host-out']}`);
  if (values.record) print(`QMP conversations recorded in ${values.record}`);
  if (pushed) print(`Host profile pushed to ${pushed}`);
  return 0;
}

/** The service a profile is pushed to: checked before the probe runs. */
function pushTarget(url: string): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e; // ERR_INVALID_URL
    throw new UserError(`not a URL: '${url}' (e.g. http://127.0.0.1:8080)`, '--push');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UserError(`expected an http:// or https:// URL, not '${url}'`, '--push');
  return u;
}

/** PUT the profile to a guestabi service (replacing what it holds for this host: If-Match *). */
async function pushHost(base: URL, host: HostProfile, token: string | undefined): Promise<string> {
  const url = new URL(`api/hosts/${encodeURIComponent(host.name)}`, base.href.endsWith('/') ? base : `${base.href}/`);
  let res: Response;
  try {
    res = await fetch(url, { method: 'PUT', headers: { 'content-type': 'application/json', 'if-match': '*', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(host) });
  } catch (e) {
    throw new RunError(`--push ${base.href}: ${errorMessage((e as Error).cause ?? e)}`);
  }
  if (!res.ok) {
    // A refusal without a JSON problem body (a proxy's page): the status says it alone.
    const body = (await res.json().catch(() => ({}))) as { detail?: string };
    throw new RunError(`--push ${url.href}: HTTP ${res.status}${body.detail ? `: ${body.detail}` : ''}${res.status === 401 ? ' (give --token or GUESTABI_TOKEN)' : ''}`);
  }
  return url.href;
}

function shippedCatalogFor(host: HostProfile): CatalogIndex | undefined {
  try {
    return findCatalog(host.qemu.catalog);
  } catch (e) {
    // A build with no shipped catalog: the summary goes without what the catalog adds.
    if (!(e instanceof CatalogNotFound)) throw e;
    return undefined;
  }
}

/** The readable summary of a host: its kernel, CPU, KVM, QEMU, and the CPU models it can run. */
export function printHostSummary(host: HostProfile, catalog: CatalogIndex | undefined): void {
  const q = host.qemu.version;
  print(`Host ${host.name}: ${host.arch}, Linux ${host.kernel.release}`);
  print(`  CPU      ${host.cpu.modelName} (${host.cpu.vendor}, family ${host.cpu.family} model ${host.cpu.model} stepping ${host.cpu.stepping}, ${host.cpu.flags.length} flags)`);
  print(`  KVM      ${host.kvm.devicePresent ? '/dev/kvm usable' : 'no usable /dev/kvm'}; probed with ${host.accel.toUpperCase()}${host.kvm.enabled ? ' (KVM enabled)' : ''}`);
  print(`  QEMU     ${q.major}.${q.minor}.${q.micro} (${q.package}) ${host.qemu.binary}`);
  print(`  catalog  ${host.qemu.catalog}${catalog ? '' : ' (not shipped: run guestabi probe --catalog-out FILE to make it)'}`);
  print(`  machine  ${host.probeMachine} (the build's default)`);
  const hc = host.hostCpu;
  if (hc.props) {
    const feats = Object.entries(hc.props).filter(([, v]) => v === true).length;
    print(`  -cpu ${hc.model.padEnd(4)} ${String(hc.props['model-id'] ?? '')} (${hc.props.vendor}, family ${hc.props.family} model ${hc.props.model}), ${feats} properties on`);
  } else {
    print(`  -cpu ${hc.model}  cannot be expanded here: ${hc.error}`);
  }

  const names = Object.keys(host.cpuModels);
  const runnable = names.filter((n) => host.cpuModels[n]!.runnable && n !== 'host' && n !== 'max' && n !== 'base');
  const versioned = runnable.filter((n) => /-v\d+$/.test(n));
  print();
  print(`CPU models that can run here with ${host.accel.toUpperCase()}: ${runnable.length} of ${names.length} names (${versioned.length} versioned)`);
  print(wrapList(versioned.length ? versioned : runnable));
  if (host.accel === 'kvm' && versioned.length * 4 < names.filter((n) => /-v\d+$/.test(n)).length) {
    print(`  Note: this KVM passes few CPUID features to guests (nested or restricted KVM?), so most models`);
    print(`  cannot run with it. 'guestabi probe --accel tcg' shows what runs under TCG.`);
  }
  const blocked = names
    .filter((n) => !host.cpuModels[n]!.runnable && /-v\d+$/.test(n))
    .map((n) => ({ n, missing: host.cpuModels[n]!.unavailableFeatures }))
    .sort((a, b) => a.missing.length - b.missing.length);
  if (blocked.length) {
    print(`Closest that cannot run (missing features):`);
    for (const b of blocked.slice(0, 5)) print(`  ${b.n.padEnd(24)} ${b.missing.slice(0, 8).join(' ')}${b.missing.length > 8 ? ` (+${b.missing.length - 8})` : ''}`);
  }
  print();
  const vulns = Object.entries(host.vulnerabilities).filter(([, t]) => t !== 'Not affected');
  print(`CPU vulnerabilities (/sys/devices/system/cpu/vulnerabilities): ${vulns.length} of ${Object.keys(host.vulnerabilities).length} not "Not affected"`);
  for (const [n, t] of vulns) print(`  ${n.padEnd(26)} ${t}`);
  print();
  print(
    host.iommu.present
      ? `IOMMU: ${host.iommu.units.map((u) => `${u.name} (${u.kind}${u.decoded?.addressWidths?.length ? `, ${u.decoded.addressWidths.join('/')}-bit` : ''}${u.decoded?.pageSizes ? `, pages ${u.decoded.pageSizes.join('/')}` : ''})`).join(', ')}; ${host.iommu.groups} groups`
      : 'IOMMU: none found in /sys/class/iommu (no device assignment, no vIOMMU backed by the host)',
  );
}

/** guestabi probe --libvirt URI: the host profile from libvirt's own answers, on the shipped catalog of its build. */
async function probeLibvirt(uri: string, values: { name?: string; 'host-out'?: string; record?: string; json?: boolean; qemu?: string; 'catalog-out'?: string; 'host-only'?: boolean; accel?: 'kvm' | 'tcg' }): Promise<number> {
  for (const flag of ['qemu', 'catalog-out', 'host-only'] as const) if (values[flag] !== undefined) throw new UserError(`--${flag} does not go with --libvirt (libvirt names the build)`, `--${flag}`);
  if (!uri) throw new UserError('give a libvirt URI (qemu:///system, qemu+ssh://host/system)', '--libvirt');
  if (values['host-out'] !== undefined) checkOutputFile(values['host-out'], '--host-out');
  if (values.record !== undefined) checkOutputFile(values.record, '--record');
  const { facts, catalog, host } = await libvirtProfile(uri, { accel: values.accel, name: values.name });
  if (values.record) writeFileAtomic(values.record, JSON.stringify(facts, null, 1) + '\n');
  if (values['host-out']) writeFileAtomic(values['host-out'], JSON.stringify(host, null, 2) + '\n');
  if (values.json) {
    printJson(host);
    return 0;
  }
  print(`From libvirt ${facts.version.libvirt} at ${uri}: QEMU ${facts.version.qemu}, ${facts.asked.virttype === 'kvm' ? 'KVM' : 'TCG'}, CPU models asked on ${facts.asked.machine}`);
  print(catalog ? `Catalog: ${catalog.id} (shipped)` : `Catalog: none shipped for QEMU ${facts.version.qemu} (${facts.asked.arch}): the verdicts that need it are unknown`);
  printHostSummary(host, catalog);
  print('Not given by libvirt (unknown in this profile): the kernel release, QEMU\'s expansion of -cpu host, Hyper-V and KVM option refusals, vulnerabilities, the IOMMU.');
  if (values['host-out']) print(`Host profile written to ${values['host-out']}`);
  if (values.record) print(`libvirt's answers recorded in ${values.record}`);
  return 0;
}
