/**
 * Synthetic fleets for benchmarks and tests, built from the real host profiles of
 * test/fixtures/hosts (QEMU 5.2, 7.2 and 10.0 under TCG and KVM) and the shipped catalogs.
 *
 * Host kinds: each fixture profile, masked as an older or smaller CPU generation would be: the
 * features of a generation are taken off the host CPU expansion, and every CPU model that needs one
 * of them is marked unrunnable with it among its unavailable features (as QEMU reports a model the
 * host cannot give). Each generation also has its own CPU identity (model number, model name).
 *
 * Guest ABIs: machine types of each build (versioned and aliases), CPU models (bare, versioned,
 * host-model, host-passthrough, with and without enforce), a few device sets, memory and vCPUs;
 * each ABI lives on a few host kinds where it can start, as templates live in a few clusters.
 */
import { prng } from '../src/lab/generate.js';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CatalogIndex } from '../src/catalog/catalog.js';
import { findCatalog } from '../src/io/catalog-files.js';
import type { FleetGuest } from '../src/fleet/classes.js';
import { parseArgvText } from '../src/formats/argv-in.js';
import type { GuestSpec } from '../src/model/guest.js';
import type { HostProfile } from '../src/model/host.js';
import { indexHost, type TargetHost } from '../src/resolve/target.js';

const HOSTS_DIR = fileURLToPath(new URL('../../test/fixtures/hosts/', import.meta.url));
export const FIXTURE_PROFILES = ['host-5.2-tcg', 'host-7.2-tcg', 'host-7.2-kvm', 'host-10.0-tcg', 'host-10.0-kvm'];

/** CPU generations, newest features first: mask j takes the first j groups off a host. */
const GENERATIONS: string[][] = [
  ['avx512f', 'avx512dq', 'avx512cd', 'avx512bw', 'avx512vl', 'avx512vnni', 'avx512-bf16'],
  ['sha-ni', 'vaes', 'vpclmulqdq', 'gfni'],
  ['clwb', 'clflushopt', 'xsaves', 'xsavec'],
  ['avx2', 'bmi2', 'bmi1', 'fma', 'invpcid'],
  ['rdseed', 'adx', 'smap', 'smep'],
  ['f16c', 'rdrand', 'fsgsbase'],
  ['avx', 'xsave', 'xsaveopt', 'aes', 'pclmulqdq'],
  ['sse4.2', 'popcnt', 'x2apic', 'movbe'],
  ['sse4.1', 'ssse3', 'cx16'],
  ['pdpe1gb', 'rdtscp', 'lahf-lm'],
  ['3dnowprefetch', 'misalignsse', 'sse4a', 'abm'],
  ['nx', 'syscall', 'lm'],
];

export interface FleetOptions {
  hosts: number;
  kinds: number;
  guests: number;
  abis: number;
  /** Host kinds each ABI's guests are spread over (at most). */
  spread?: number;
  /** Share of guests on no host. */
  unplaced?: number;
  seed?: number;
}

export interface Fleet {
  hosts: TargetHost[];
  guests: FleetGuest[];
  /** The profile of each kind, by the name of its first host. */
  kindOf: Map<string, number>;
}


export function loadFixture(name: string): { profile: HostProfile; catalog: CatalogIndex } {
  const profile = JSON.parse(readFileSync(`${HOSTS_DIR}${name}.json`, 'utf8')) as HostProfile;
  return { profile, catalog: findCatalog(profile.qemu.catalog) };
}

/** A fixture profile as a host of CPU generation `gen` would report it (0: as probed). */
export function maskedProfile(base: HostProfile, catalog: CatalogIndex, gen: number): HostProfile {
  const masked = new Set(GENERATIONS.slice(0, gen).flat());
  const cpuModels: HostProfile['cpuModels'] = {};
  for (const [name, a] of Object.entries(base.cpuModels)) {
    const e = catalog.cpuExpansion(name) ?? {};
    const lost = [...masked].filter((f) => e[f] === true && !a.unavailableFeatures.includes(f));
    const unavailableFeatures = [...a.unavailableFeatures, ...lost];
    cpuModels[name] = { runnable: unavailableFeatures.length === 0, unavailableFeatures };
  }
  const props = base.hostCpu.props ? { ...base.hostCpu.props } : undefined;
  if (props) {
    for (const f of masked) if (f in props) props[f] = false;
    if (gen > 0) {
      props.model = 16 + gen;
      props['model-id'] = `${base.cpu.modelName} (generation -${gen})`;
    }
  }
  return {
    ...base,
    cpu: { ...base.cpu, modelName: gen ? `${base.cpu.modelName} (generation -${gen})` : base.cpu.modelName, model: gen ? 16 + gen : base.cpu.model },
    hostCpu: { ...base.hostCpu, ...(props ? { props } : {}) },
    cpuModels,
  };
}

/** K host kinds: the fixture profiles, each in K/5 generations. */
export function kindProfiles(k: number): { profile: HostProfile; catalog: CatalogIndex }[] {
  const bases = FIXTURE_PROFILES.map(loadFixture);
  const out: { profile: HostProfile; catalog: CatalogIndex }[] = [];
  for (let i = 0; i < k; i++) {
    const b = bases[i % bases.length]!;
    const gen = Math.floor(i / bases.length);
    if (gen > GENERATIONS.length) throw new Error(`at most ${bases.length * (GENERATIONS.length + 1)} kinds`);
    out.push({ profile: maskedProfile(b.profile, b.catalog, gen), catalog: b.catalog });
  }
  return out;
}

/**
 * N hosts of K kinds. Hosts of one kind share their indexed CPU tables (as a store that keeps host
 * kinds would hand them over); `independent` indexes every host on its own instead.
 */
export function makeHosts(n: number, k: number, independent = false): { hosts: TargetHost[]; kindOf: Map<string, number> } {
  const kinds = kindProfiles(k);
  const indexed = kinds.map((x) => indexHost(x.profile, x.catalog, 'kind'));
  const hosts: TargetHost[] = [];
  const kindOf = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const ki = i % k;
    const name = `host${String(i).padStart(5, '0')}`;
    const profile = { ...kinds[ki]!.profile, name };
    hosts.push(independent ? indexHost(profile, kinds[ki]!.catalog, name) : { ...indexed[ki]!, name, members: [name], profile });
    kindOf.set(name, ki);
  }
  return { hosts, kindOf };
}

const MACHINES = [
  'pc-q35-2.12', 'pc-q35-4.2', 'pc-q35-5.2', 'pc-q35-6.2', 'pc-q35-7.2', 'pc-q35-8.2', 'pc-q35-9.2', 'pc-q35-10.0', 'q35',
  'pc-i440fx-2.12', 'pc-i440fx-4.2', 'pc-i440fx-5.2', 'pc-i440fx-7.2', 'pc-i440fx-9.0', 'pc-i440fx-10.0', 'pc', 'pc-1.3',
];
const CPUS = [
  'qemu64', 'kvm64', 'Westmere', 'Westmere-v2', 'Nehalem', 'Nehalem-v1', 'Penryn', 'Conroe', 'Opteron_G2', 'Opteron_G3-v1', 'EPYC', 'EPYC-v3',
  'EPYC-Rome', 'Skylake-Server', 'Skylake-Server-v4', 'Cascadelake-Server', 'pentium3', '486-v1', 'host-passthrough', 'host-model',
];
const DEVICE_SETS = [
  '',
  '-device virtio-net-pci -device virtio-blk-pci,drive=d0 -device virtio-balloon-pci',
  '-device e1000 -device VGA',
  '-device pcie-root-port,id=rp1,chassis=1 -device virtio-net-pci,bus=rp1 -device virtio-scsi-pci -device qemu-xhci -device usb-tablet -device virtio-rng-pci',
  '-device virtio-net-pci,disable-legacy=on -device virtio-blk-pci,drive=d0,num-queues=4 -device virtio-serial-pci',
];
const MEMORY = [1024, 2048, 4096, 8192];
const SMP = [1, 2, 4, 8];

/** One guest ABI as a QEMU command line (host-model is libvirt's: set on the parsed definition). */
function abiSpec(machine: string, cpu: string, enforce: boolean, devices: string, mem: number, smp: number): GuestSpec {
  const cpuArg = cpu === 'host-passthrough' ? 'host' : cpu === 'host-model' ? 'qemu64' : `${cpu}${enforce ? ',enforce' : ''}`;
  const spec = parseArgvText(`-machine ${machine} -cpu ${cpuArg} -m ${mem} -smp ${smp} -nodefaults ${devices}`, 'fleet-gen');
  if (cpu === 'host-model') spec.cpu = { mode: 'host-model' };
  return spec;
}

/** Whether a guest of this ABI can start on hosts of this kind (to place guests where they run). */
function startsOn(spec: GuestSpec, h: TargetHost): boolean {
  const c = h.catalog;
  const machine = c.resolveMachineAlias(spec.machine.type);
  if (!machine || (spec.devices.some((d) => d.type === 'pcie-root-port') && !machine.includes('q35'))) return false;
  if (spec.cpu.mode === 'host-model') return h.hostFeatures !== null;
  if (spec.cpu.mode !== 'custom') return true;
  const model = spec.cpu.model!;
  return !!c.cpuModel(model) && (!spec.cpu.enforce || h.unavailable.get(model)?.size === 0);
}

/** A distinct ABIs, each with the host kinds (indexes into `reps`) its guests live on. */
export function makeAbis(a: number, reps: TargetHost[], spread: number, random: () => number): { spec: GuestSpec; home: number[] }[] {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const seen = new Set<string>();
  const out: { spec: GuestSpec; home: number[] }[] = [];
  for (let tries = 0; out.length < a; tries++) {
    if (tries > a * 200) throw new Error(`could not make ${a} distinct ABIs that start on these hosts`);
    const key = [pick(MACHINES), pick(CPUS), random() < 0.5, pick(DEVICE_SETS), pick(MEMORY), pick(SMP)] as const;
    const text = JSON.stringify(key);
    if (seen.has(text)) continue;
    seen.add(text);
    const spec = abiSpec(...key);
    const can = reps.map((h, i) => (startsOn(spec, h) ? i : -1)).filter((i) => i >= 0);
    if (!can.length) continue;
    const home = new Set<number>();
    const n = 1 + Math.floor(random() * spread);
    while (home.size < Math.min(n, can.length)) home.add(pick(can));
    out.push({ spec, home: [...home] });
  }
  return out;
}

/** N hosts of K kinds and M guests of A ABIs (Zipf-like popularity), each guest on a host of one
 *  of its ABI's kinds (or on no host, for a share `unplaced`). Every guest has its own definition
 *  object, as guests read from a store would. */
export function generateFleet(o: FleetOptions): Fleet {
  const random = prng(o.seed ?? 1); // the same fleet for the same options
  const { hosts, kindOf } = makeHosts(o.hosts, o.kinds);
  const byKind: TargetHost[][] = Array.from({ length: o.kinds }, () => []);
  for (const h of hosts) byKind[kindOf.get(h.name)!]!.push(h);
  const abis = makeAbis(o.abis, byKind.map((k) => k[0]!), o.spread ?? 3, random);
  const weights = abis.map((_, i) => 1 / Math.pow(i + 1, 0.8));
  const total = weights.reduce((s, w) => s + w, 0);
  const cumulative: number[] = [];
  weights.reduce((s, w) => (cumulative.push((s + w) / total), s + w), 0);
  const guests: FleetGuest[] = [];
  for (let i = 0; i < o.guests; i++) {
    const r = random();
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    // Every ABI has at least one guest when there are enough guests.
    const abi = abis[i < abis.length && o.guests >= abis.length ? i : lo]!;
    const kind = byKind[abi.home[Math.floor(random() * abi.home.length)]!]!;
    const host = random() < (o.unplaced ?? 0.01) ? null : kind[Math.floor(random() * kind.length)]!.name;
    const name = `guest${String(i).padStart(6, '0')}`;
    guests.push({ name, spec: { ...structuredClone(abi.spec), name }, host });
  }
  return { hosts, guests, kindOf };
}
