import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CatalogIndex } from '../catalog/catalog.js';
import { canonicalDeviceType } from '../formats/device-types.js';
import type { GuestSpec } from '../model/guest.js';
import { parseGuestText } from '../formats/guest-input.js';
import { GuestabiError } from '../util/errors.js';

/**
 * libvirt's test corpus (issue 16): tests/qemuxml2argvdata of libvirt 9.0, fetched by
 * scripts/fetch-libvirt-tests.sh. Each NAME.xml has NAME.x86_64-latest.args, the QEMU command
 * line libvirt generates for it: the -device drivers there are the devices the guest has.
 */
export function corpusDir(): string {
  return process.env.GUESTABI_LIBVIRT_TESTS ? join(process.env.GUESTABI_LIBVIRT_TESTS, '9.0.0', 'tests') : join(homedir(), '.cache', 'guestabi', 'libvirt-tests', '9.0.0', 'tests');
}

export interface CorpusRow {
  name: string;
  /** same: the devices libvirt generates; differs: not; refused: guestabi says why it cannot read
   *  it (exit 2); crash: anything else (a bug). */
  status: 'same' | 'differs' | 'refused' | 'crash';
  /** libvirt's -device drivers guestabi does not have. */
  missing: string[];
  /** guestabi's devices libvirt does not generate. */
  extra: string[];
  why?: string;
  /** The domain as libvirt formats it back (qemuxml2xmloutdata), where there is one: whether it
   *  reads to the same machine type, CPU and devices, or what differs. */
  formattedBack?: 'same' | string;
}

/** The -device drivers of a libvirt command line: JSON (-device '{"driver":"X",...}') or keyval. */
export function argsDevices(args: string): string[] {
  const out: string[] = [];
  const re = /^-device (?:'\{"driver":"([^"]+)"|([^,\s'{]+))/gm;
  for (let m = re.exec(args); m; m = re.exec(args)) out.push(canonicalDeviceType(m[1] ?? m[2]!));
  return out;
}

/** A pair guestabi could not read: refused (its own error, exit 2) or a crash (anything else). */
function failedRow(name: string, e: unknown): CorpusRow {
  if (e instanceof GuestabiError) return { name, status: 'refused', missing: [], extra: [], why: e.message.split('\n')[0]! };
  return { name, status: 'crash', missing: [], extra: [], why: (e as Error).stack?.split('\n').slice(0, 3).join(' | ') ?? String(e) };
}

function multisetDiff(a: string[], b: string[]): string[] {
  const left = [...b];
  const out: string[] = [];
  for (const x of a) {
    const i = left.indexOf(x);
    if (i >= 0) left.splice(i, 1);
    else out.push(x);
  }
  return out;
}

/** The architectures of the corpus's command lines (NAME.ARCH-latest.args) guestabi reads. */
export type CorpusArch = 'x86_64' | 'aarch64' | 'ppc64';

export function readPair(dir: string, name: string, arch: CorpusArch = 'x86_64'): CorpusRow {
  const xml = readFileSync(join(dir, 'qemuxml2argvdata', `${name}.xml`), 'utf8');
  const args = readFileSync(join(dir, 'qemuxml2argvdata', `${name}.${arch}-latest.args`), 'utf8');
  const libvirt = argsDevices(args);
  let ours: string[];
  let spec: GuestSpec;
  try {
    spec = parseGuestText(xml, `${name}.xml`, 'libvirt').spec;
    ours = spec.devices.map((d) => d.type);
  } catch (e) {
    return failedRow(name, e);
  }
  const missing = [...multisetDiff(libvirt, ours), ...platformDiff(args, spec)];
  const extra = multisetDiff(ours, libvirt);
  const back = formattedBack(dir, name, xml, arch);
  return { name, status: missing.length || extra.length ? 'differs' : 'same', missing, extra, ...(back ? { formattedBack: back } : {}) };
}

/** The machine type, memory and vCPU topology of libvirt's command line against the guest read:
 *  each that differs, as `what=libvirt's/ours`. */
function platformDiff(args: string, spec: GuestSpec): string[] {
  const out: string[] = [];
  const machine = /^-machine ([^,\s]+)/m.exec(args)?.[1];
  if (machine && machine !== spec.machine.type) out.push(`machine=${machine}/${spec.machine.type}`);
  const m = /^-m (?:size=)?(\d+)(k?)/m.exec(args);
  const mib = m ? Number(m[1]) / (m[2] ? 1024 : 1) : undefined;
  if (mib !== undefined && mib !== spec.memory.sizeMiB) out.push(`memory=${mib}/${spec.memory.sizeMiB}`);
  const smp = /^-smp (\S+?) ?\\?$/m.exec(args)?.[1];
  if (smp) {
    const [count, ...kv] = smp.split(',');
    const o = Object.fromEntries(kv.map((x) => x.split('=') as [string, string]));
    const v = spec.vcpus;
    const pairs: [string, string | undefined, number | undefined][] = [['count', count, v.count], ['maxcpus', o.maxcpus, v.max ?? v.count], ['sockets', o.sockets, v.sockets], ['dies', o.dies, v.dies ?? (o.dies ? 1 : undefined)], ['cores', o.cores, v.cores], ['threads', o.threads, v.threads]];
    for (const [k, a, b] of pairs) if (a !== undefined && Number(a) !== b) out.push(`${k}=${a}/${b ?? 'unset'}`);
  }
  return out;
}

/** NAME.xml against the domain libvirt formats back from it: the same guest, read either way. */
function formattedBack(dir: string, name: string, xml: string, arch: CorpusArch): string | undefined {
  const file = [`${name}.${arch}-latest.xml`, `${name}.xml`].map((f) => join(dir, 'qemuxml2xmloutdata', f)).find((f) => existsSync(f));
  if (!file) return undefined;
  // libvirt formats the default CPU it will use when the domain names none (the machine type's own
  // default, qemuDomainDefSetDefaultCPU()): the model written back stands for "the default".
  const named = /<model[^>]*>[^<]/.test(xml.slice(xml.indexOf('<cpu'), xml.indexOf('</cpu>') + 1 || undefined));
  const key = (text: string) => {
    const s = parseGuestText(text, name, 'libvirt').spec;
    return { machine: s.machine.type, cpu: `${s.cpu.mode}:${named ? (s.cpu.model ?? '') : 'default'}:${(s.cpu.features ?? []).map((f) => `${f.policy}=${f.name}`).sort().join(',')}`, devices: s.devices.map((d) => d.type).sort().join(' ') };
  };
  try {
    const [a, b] = [key(xml), key(readFileSync(file, 'utf8'))];
    const diffs = (Object.keys(a) as (keyof typeof a)[]).filter((k) => a[k] !== b[k]).map((k) => `${k}: ${a[k]} / ${b[k]}`);
    return diffs.length ? diffs.join('; ') : 'same';
  } catch (e) {
    return `unreadable: ${(e as Error).message.split('\n')[0]}`;
  }
}

export function corpusNames(dir: string, arch: CorpusArch = 'x86_64'): string[] {
  const suffix = `.${arch}-latest.args`;
  return readdirSync(join(dir, 'qemuxml2argvdata'))
    .filter((f) => f.endsWith(suffix))
    .map((f) => f.slice(0, -suffix.length))
    .filter((n) => existsSync(join(dir, 'qemuxml2argvdata', `${n}.xml`)))
    .sort();
}

export function readCorpus(dir: string, only?: string[], arch: CorpusArch = 'x86_64'): CorpusRow[] {
  return corpusNames(dir, arch)
    .filter((n) => !only?.length || only.includes(n))
    .map((n) => readPair(dir, n, arch));
}

export function summarise(rows: CorpusRow[]): { counts: Record<string, number>; missing: [string, number][]; extra: [string, number][] } {
  const counts: Record<string, number> = {};
  const tally = (pick: (r: CorpusRow) => string[]) => {
    const m = new Map<string, number>();
    for (const r of rows) for (const t of new Set(pick(r))) m.set(t, (m.get(t) ?? 0) + 1);
    return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  };
  for (const r of rows) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return { counts, missing: tally((r) => r.missing), extra: tally((r) => r.extra) };
}

/** The replies of a libvirt capabilities recording (caps_V.x86_64.replies): each command with its
 *  reply, in order (JSON documents one after another). */
export function capsReplies(dir: string, version: string): { execute: string; arguments?: unknown; reply: unknown }[] {
  const text = readFileSync(join(dir, 'qemucapabilitiesdata', `caps_${version}.x86_64.replies`), 'utf8');
  const docs = text.split(/\n\s*\n(?=\{)/).map((d) => JSON.parse(d) as Record<string, unknown>);
  const out: { execute: string; arguments?: unknown; reply: unknown }[] = [];
  for (let i = 0; i + 1 < docs.length; i += 2) out.push({ execute: String(docs[i]!.execute), arguments: docs[i]!.arguments, reply: docs[i + 1]!.return ?? docs[i + 1]!.error });
  return out;
}

export interface CapsComparison {
  version: string;
  catalog: string;
  machines: { onlyLibvirt: string[]; onlyOurs: string[]; aliases: string[]; defaults: string[]; deprecated: string[]; defaultCpu: string[] };
  cpus: { onlyLibvirt: string[]; onlyOurs: string[]; aliasOf: string[]; deprecated: string[] };
}

interface QmpMachine { name: string; alias?: string; 'is-default'?: boolean; deprecated?: boolean; 'default-cpu-type'?: string }
interface QmpCpu { name: string; 'alias-of'?: string; deprecated?: boolean }

/** libvirt's recording of upstream QEMU (the last query-machines and query-cpu-definitions it made,
 *  TCG's) against guestabi's catalog of the same version (Debian's build). */
export function compareCaps(dir: string, version: string, catalog: CatalogIndex): CapsComparison {
  const replies = capsReplies(dir, version);
  const last = <T>(cmd: string) => [...replies].reverse().find((r) => r.execute === cmd)!.reply as T[];
  const machines = last<QmpMachine>('query-machines');
  const cpus = last<QmpCpu>('query-cpu-definitions');
  const ours = new Set(catalog.machineNames());
  const theirs = new Set(machines.map((m) => m.name));
  const oursCpu = new Set(catalog.cpuModelNames());
  const theirsCpu = new Set(cpus.map((c) => c.name));
  const sorted = (xs: string[]) => xs.sort();
  return {
    version,
    catalog: catalog.id,
    machines: {
      onlyLibvirt: sorted([...theirs].filter((n) => !ours.has(n))),
      onlyOurs: sorted([...ours].filter((n) => !theirs.has(n))),
      aliases: machines.filter((m) => m.alias && ours.has(m.name) && catalog.resolveMachineAlias(m.alias) !== m.name).map((m) => `${m.alias}: ${m.name} / ${catalog.resolveMachineAlias(m.alias!) ?? 'none'}`),
      defaults: machines.filter((m) => ours.has(m.name) && !!m['is-default'] !== !!catalog.machine(m.name)?.isDefault).map((m) => m.name),
      deprecated: machines.filter((m) => ours.has(m.name) && !!m.deprecated !== !!catalog.machine(m.name)?.deprecated).map((m) => `${m.name}: ${!!m.deprecated} / ${!!catalog.machine(m.name)?.deprecated}`),
      defaultCpu: machines.filter((m) => ours.has(m.name) && m['default-cpu-type'] !== undefined && catalog.machine(m.name)?.defaultCpuType !== undefined && `${catalog.machine(m.name)!.defaultCpuType}-x86_64-cpu` !== m['default-cpu-type']).map((m) => `${m.name}: ${m['default-cpu-type']} / ${catalog.machine(m.name)!.defaultCpuType}`),
    },
    cpus: {
      onlyLibvirt: sorted([...theirsCpu].filter((n) => !oursCpu.has(n))),
      onlyOurs: sorted([...oursCpu].filter((n) => !theirsCpu.has(n))),
      aliasOf: cpus.filter((c) => oursCpu.has(c.name) && (c['alias-of'] ?? null) !== (catalog.cpuModel(c.name)?.aliasOf ?? null)).map((c) => `${c.name}: ${c['alias-of'] ?? 'none'} / ${catalog.cpuModel(c.name)?.aliasOf ?? 'none'}`),
      deprecated: cpus.filter((c) => oursCpu.has(c.name) && !!c.deprecated !== !!catalog.cpuModel(c.name)?.deprecated).map((c) => c.name),
    },
  };
}

/**
 * The command line guestabi writes for a corpus domain (resolved with policy keep on `target`)
 * against libvirt's: the same -device drivers. Refused: resolve says why it cannot pin it there.
 */
export function argvConformance(dir: string, name: string, pin: (spec: GuestSpec) => string[]): Omit<CorpusRow, 'formattedBack'> {
  const xml = readFileSync(join(dir, 'qemuxml2argvdata', `${name}.xml`), 'utf8');
  const libvirt = argsDevices(readFileSync(join(dir, 'qemuxml2argvdata', `${name}.x86_64-latest.args`), 'utf8'));
  let argv: string[];
  try {
    argv = pin(parseGuestText(xml, `${name}.xml`, 'libvirt').spec);
  } catch (e) {
    return failedRow(name, e);
  }
  const ours = argv.flatMap((w, i) => (w === '-device' ? [canonicalDeviceType(argv[i + 1]!.split(',')[0]!)] : []));
  const missing = multisetDiff(libvirt, ours);
  const extra = multisetDiff(ours, libvirt);
  return { name, status: missing.length || extra.length ? 'differs' : 'same', missing, extra };
}
