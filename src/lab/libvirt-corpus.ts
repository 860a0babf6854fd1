import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { canonicalDeviceType } from '../formats/device-types.js';
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

export function readPair(dir: string, name: string): CorpusRow {
  const xml = readFileSync(join(dir, 'qemuxml2argvdata', `${name}.xml`), 'utf8');
  const args = readFileSync(join(dir, 'qemuxml2argvdata', `${name}.x86_64-latest.args`), 'utf8');
  const libvirt = argsDevices(args);
  let ours: string[];
  try {
    ours = parseGuestText(xml, `${name}.xml`, 'libvirt').spec.devices.map((d) => d.type);
  } catch (e) {
    if (e instanceof GuestabiError) return { name, status: 'refused', missing: [], extra: [], why: e.message.split('\n')[0]! };
    return { name, status: 'crash', missing: [], extra: [], why: (e as Error).stack?.split('\n').slice(0, 3).join(' | ') ?? String(e) };
  }
  const missing = multisetDiff(libvirt, ours);
  const extra = multisetDiff(ours, libvirt);
  const back = formattedBack(dir, name, xml);
  return { name, status: missing.length || extra.length ? 'differs' : 'same', missing, extra, ...(back ? { formattedBack: back } : {}) };
}

/** NAME.xml against the domain libvirt formats back from it: the same guest, read either way. */
function formattedBack(dir: string, name: string, xml: string): string | undefined {
  const file = [`${name}.x86_64-latest.xml`, `${name}.xml`].map((f) => join(dir, 'qemuxml2xmloutdata', f)).find((f) => existsSync(f));
  if (!file) return undefined;
  const key = (text: string) => {
    const s = parseGuestText(text, name, 'libvirt').spec;
    // libvirt formats the default CPU it will use when the domain names none (qemu64 on x86's PC
    // machines, QEMU's default; qemuDomainDefSetDefaultCPU()).
    return { machine: s.machine.type, cpu: `${s.cpu.mode}:${s.cpu.model ?? (s.cpu.mode === 'custom' ? 'qemu64' : '')}:${(s.cpu.features ?? []).map((f) => `${f.policy}=${f.name}`).sort().join(',')}`, devices: s.devices.map((d) => d.type).sort().join(' ') };
  };
  try {
    const [a, b] = [key(xml), key(readFileSync(file, 'utf8'))];
    const diffs = (Object.keys(a) as (keyof typeof a)[]).filter((k) => a[k] !== b[k]).map((k) => `${k}: ${a[k]} / ${b[k]}`);
    return diffs.length ? diffs.join('; ') : 'same';
  } catch (e) {
    return `unreadable: ${(e as Error).message.split('\n')[0]}`;
  }
}

export function corpusNames(dir: string): string[] {
  return readdirSync(join(dir, 'qemuxml2argvdata'))
    .filter((f) => f.endsWith('.x86_64-latest.args'))
    .map((f) => f.replace(/\.x86_64-latest\.args$/, ''))
    .filter((n) => existsSync(join(dir, 'qemuxml2argvdata', `${n}.xml`)))
    .sort();
}

export function readCorpus(dir: string, only?: string[]): CorpusRow[] {
  return corpusNames(dir)
    .filter((n) => !only?.length || only.includes(n))
    .map((n) => readPair(dir, n));
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
