import type { Props, PropValue } from '../model/common.js';
import type { GuestVisibility } from '../model/visibility.js';
import { guestVisibleDiff, type Rules } from '../check/rules.js';
import { parseQtree, walkQtree } from '../probe/qtree.js';
import type { QmpClient } from '../qmp/client.js';
import { readQomProps } from '../qmp/qom.js';

/**
 * What the guest can see of its platform, read from a running QEMU: every vCPU's QOM properties
 * and the device tree with properties. Normalised only for what the guest cannot see, as
 * data/rules/visibility.yaml says it (the checker reads the same file): QOM bookkeeping,
 * check/enforce and filtered-feature reports of the vCPUs, device ids and backends, how QEMU was
 * started and host-side policies of the machine. MAC addresses, PCI addresses, BAR assignments
 * and vCPU topology ids are kept: the guest sees them.
 */
export interface Fingerprint {
  machine: Props;
  cpus: Props[];
  devices: Record<string, Props>;
}

const CPUID_HT = 1 << 28; // CPUID[1].EDX
const CPUID_EXT3_CMP_LEG = 1 << 1; // CPUID[0x80000001].ECX

/** Logical processors per package: the machine's smp properties, or (builds without them, 5.2)
 *  the highest ids of every possible vCPU that query-hotpluggable-cpus lists. */
async function threadsPerPackage(qmp: Pick<QmpClient, 'execute'>, machine: Props): Promise<number> {
  if (typeof machine['smp.threads'] === 'number') {
    const n = (k: string) => (typeof machine[k] === 'number' ? (machine[k] as number) : 1);
    return n('smp.threads') * n('smp.cores') * n('smp.dies') * n('smp.clusters') * n('smp.modules');
  }
  const cpus = await qmp.execute<{ props: Record<string, number | undefined> }[]>('query-hotpluggable-cpus');
  const count = (k: string) => Math.max(0, ...cpus.map((c) => c.props[k] ?? 0)) + 1;
  return count('thread-id') * count('core-id') * count('die-id');
}

function setBit(cpu: Props, eax: number, register: string, bit: number): void {
  if (typeof cpu['feature-words'] !== 'string') return;
  const words = JSON.parse(cpu['feature-words']) as { 'cpuid-input-eax': number; 'cpuid-register': string; features: number }[];
  for (const w of words) if (w['cpuid-input-eax'] === eax && w['cpuid-register'] === register) w.features = (w.features | bit) >>> 0;
  cpu['feature-words'] = JSON.stringify(words);
}

/**
 * Topology bits as the guest reads them. Before QEMU 10.0, cpu_x86_cpuid() (target/i386/cpu.c)
 * ORs them in at CPUID time whenever a package has more than one logical processor, without them
 * ever being in env->features, so the QOM properties and feature words show 0 while the guest
 * sees 1: CPUID[1].EDX.HTT (`ht`), and for vendors other than Intel CPUID[0x80000001].ECX.CmpLegacy
 * (`cmp-legacy`). QEMU 10.0 sets both in x86_cpu_expand_features() ("i386/cpu: Set up CPUID_HT in
 * x86_cpu_expand_features() instead of cpu_x86_cpuid()", "Set and track CPUID_EXT3_CMP_LEG in
 * env->features"), where the properties show them. On an older build the values the guest reads
 * are put in; a 10.0 value is left as read, so a guest that turns them off there still differs.
 */
async function runtimeTopologyBits(qmp: Pick<QmpClient, 'execute'>, cpus: Props[], machine: Props): Promise<void> {
  // x86 only: other vCPUs have no CPUID feature words.
  if (!cpus.some((c) => typeof c['feature-words'] === 'string')) return;
  const major = (await qmp.execute<{ qemu: { major: number } }>('query-version')).qemu.major;
  if (major >= 10 || (await threadsPerPackage(qmp, machine)) <= 1) return;
  for (const cpu of cpus) {
    cpu.ht = true;
    setBit(cpu, 1, 'EDX', CPUID_HT);
    if (cpu.vendor !== 'GenuineIntel') {
      // QEMU spells the property cmp_legacy (with cmp-legacy as an alias in some builds).
      for (const name of ['cmp_legacy', 'cmp-legacy']) if (name in cpu) cpu[name] = true;
      setBit(cpu, 0x80000001, 'ECX', CPUID_EXT3_CMP_LEG);
    }
  }
}

export async function fingerprint(qmp: Pick<QmpClient, 'execute'>, visibility: GuestVisibility): Promise<Fingerprint> {
  const cpus = await qmp.execute<{ 'cpu-index': number; 'qom-path': string }[]>('query-cpus-fast');
  const cpuFps = await Promise.all([...cpus].sort((a, b) => a['cpu-index'] - b['cpu-index']).map((c) => readQomProps(qmp, c['qom-path'], visibility.cpuUnseen)));
  const machine = await readQomProps(qmp, '/machine', visibility.machineUnseen);
  await runtimeTopologyBits(qmp, cpuFps, machine);
  const qtree = parseQtree(await qmp.execute<string>('human-monitor-command', { 'command-line': 'info qtree' }));
  const devices: Record<string, Props> = {};
  const seen = new Map<string, number>();
  for (const { device, busType } of walkQtree(qtree)) {
    // Devices are named by their place in the tree as the guest finds them: bus type, then the
    // PCI address when there is one, else the type and its rank among devices of that type.
    const addr = typeof device.props.addr === 'string' ? device.props.addr : undefined;
    const base = `${busType}/${addr ? `${addr}/` : ''}${device.type}`;
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    const props: Props = {};
    for (const [k, v] of Object.entries(device.props)) if (!visibility.deviceUnseen.has(k)) props[k] = v;
    if (device.pci) {
      props['pci.id'] = device.pci.id;
      props['pci.subsystem'] = device.pci.subsystem;
      props['pci.class'] = device.pci.class;
      for (const [bar, desc] of Object.entries(device.pci.bars)) props[`pci.${bar}`] = desc;
    }
    devices[n > 1 ? `${base}#${n}` : base] = props;
  }
  return { machine, cpus: cpuFps, devices };
}

export interface FingerprintDifference {
  where: string;
  property: string;
  source: PropValue | undefined;
  destination: PropValue | undefined;
}

/**
 * The vCPU as the guest sees it: its properties, with the CPUID words QEMU reports in
 * feature-words spread out one key each (a word a build does not report is 0).
 */
function cpuView(p: Props): Props {
  const out: Props = {};
  for (const [k, v] of Object.entries(p)) if (k !== 'feature-words') out[k] = v;
  if (typeof p['feature-words'] === 'string') {
    for (const w of JSON.parse(p['feature-words']) as { 'cpuid-input-eax': number; 'cpuid-input-ecx'?: number; 'cpuid-register': string; features: number }[]) {
      out[`cpuid[0x${w['cpuid-input-eax'].toString(16)}${w['cpuid-input-ecx'] !== undefined ? `,${w['cpuid-input-ecx']}` : ''}].${w['cpuid-register']}`] = w.features;
    }
  }
  return out;
}

/**
 * Every guest-visible difference between two fingerprints, normalised as the migration rules say
 * (data/rules/migration.yaml): equivalent values, renamed device types, devices only some builds
 * show in qtree, knobs only one build has; CPUID words compared bit for bit.
 */
export function diffFingerprints(a: Fingerprint, b: Fingerprint, rules: Rules): FingerprintDifference[] {
  const out: FingerprintDifference[] = [];
  for (const d of guestVisibleDiff(a.machine, b.machine, rules)) out.push({ where: 'machine', property: d.property, source: d.a, destination: d.b });
  const n = Math.max(a.cpus.length, b.cpus.length);
  for (let i = 0; i < n; i++) {
    const ca = a.cpus[i];
    const cb = b.cpus[i];
    if (!ca || !cb) {
      out.push({ where: `cpu[${i}]`, property: '(present)', source: !!ca, destination: !!cb });
      continue;
    }
    const va = cpuView(ca);
    const vb = cpuView(cb);
    for (const k of Object.keys({ ...va, ...vb })) {
      if (!k.startsWith('cpuid[')) continue;
      va[k] ??= 0;
      vb[k] ??= 0;
    }
    for (const d of guestVisibleDiff(va, vb, rules, { cpu: true, cpuFeatures: new Set() })) out.push({ where: `cpu[${i}]`, property: d.property, source: d.a, destination: d.b });
  }
  const canon = (devices: Record<string, Props>) =>
    new Map(Object.entries(devices).map(([k, v]) => [k.replace(/[^/]+(?=(#\d+)?$)/, (t) => rules.canonicalType(t)), v]));
  const da = canon(a.devices);
  const db = canon(b.devices);
  for (const key of [...new Set([...da.keys(), ...db.keys()])].sort()) {
    const pa = da.get(key);
    const pb = db.get(key);
    if (!pa || !pb) {
      const type = key.replace(/#\d+$/, '').split('/').pop()!;
      if (!rules.qtreeOnly.has(type)) out.push({ where: key, property: '(present)', source: !!pa, destination: !!pb });
      continue;
    }
    for (const d of guestVisibleDiff(pa, pb, rules)) out.push({ where: key, property: d.property, source: d.a, destination: d.b });
  }
  return out;
}
