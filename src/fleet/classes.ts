import type { GuestSpec } from '../model/guest.js';
import type { GuestClass } from '../model/fleet.js';
import type { TargetHost } from '../resolve/target.js';
import { UserError } from '../util/errors.js';
import { shortHash } from './hash.js';
import type { HostKinds } from './kinds.js';

/** A guest of the fleet: its definition and the host it runs on (null: on no host). */
export interface FleetGuest {
  name: string;
  spec: GuestSpec;
  host: string | null;
  /** A caller's id for the guest's ABI (the store's abiClass): guests that share it are checked
   *  as one. Without it, guests are grouped by their definition. */
  abiClass?: string;
  /** running/paused guests migrate; shut-off ones restart from their definition; saved ones
   *  resume a memory state (a migration stream). Default running. */
  state?: 'running' | 'paused' | 'shut-off' | 'saved';
  /** Snapshots that hold memory state: each loads like a migration stream. */
  memorySnapshots?: number;
}

/** Guests already grouped by the caller (the store): `count` guests of ABI `abiClass` on `host`,
 *  represented by `sample`. Classes of one ABI on hosts of one kind are merged. */
export interface PreGroupedClass {
  abiClass: string;
  host: string | null;
  count: number;
  sample: { name: string; spec: GuestSpec };
}

/** A guest class with what checking it needs: the definition of a representative guest and a host
 *  of its source kind it runs on. */
export interface ClassGroup {
  doc: GuestClass;
  spec: GuestSpec;
  /** The representative guest. */
  guest: string;
  /** The host of the representative guest; null for guests on no host. */
  from: { name: string; host: TargetHost } | null;
  /** The key the class was grouped by (ABI and source kind). */
  key: string;
}

/**
 * What a check reads of a guest definition, as text: the definition without its name and without
 * where each device came from in the input. Guests whose keys differ are never grouped together.
 * Keys keep the order the definition has them in (guestabi's parsers always give the same order):
 * two equal definitions written in another key order are two classes, checked twice, never one
 * class wrongly. (Sorting keys costs 3-4 times as much, 1 s for 100,000 guests.)
 */
export function guestSpecKey(spec: GuestSpec): string {
  return JSON.stringify({ ...spec, name: undefined, devices: spec.devices.map((d) => (d.source === undefined ? d : { ...d, source: undefined })) });
}

function cpuLabel(spec: GuestSpec): string {
  return spec.cpu.mode === 'custom' ? (spec.cpu.model ?? '(machine default)') : spec.cpu.mode;
}

function newClass(abi: string, spec: GuestSpec, guest: string, from: ClassGroup['from'], kind: string | null, key: string): ClassGroup {
  const machine = spec.machine.type;
  const cpu = cpuLabel(spec);
  const n = spec.devices.length;
  const label = `${machine}, ${cpu}, ${spec.vcpus.count} vCPU, ${spec.memory.sizeMiB} MiB, ${n} device${n === 1 ? '' : 's'}${kind ? ` on ${kind}` : ', on no host'}`;
  return {
    doc: { id: `gc-${shortHash(`${abi}\u0000${kind ?? ''}`)}`, label, abi, machine, cpu, source: kind, count: 0, members: [] },
    spec,
    guest,
    from,
    key,
  };
}

function placeOf(host: string | null, kinds: HostKinds, where: string): { kind: string | null; from: ClassGroup['from'] } {
  if (host === null) return { kind: null, from: null };
  const k = kinds.byName.get(host);
  if (!k) throw new UserError(`no host '${host}' among the hosts`, where);
  return { kind: k.kind, from: { name: host, host: k.host } };
}

/** Group guests by ABI (abiClass, or their definition) and the kind of their host. */
export function groupGuests(guests: FleetGuest[], kinds: HostKinds, where = 'guests'): ClassGroup[] {
  const classes = new Map<string, ClassGroup>();
  // One definition object per ABI, shared by its classes: checks cache their work per object.
  const specs = new Map<string, GuestSpec>();
  const seen = new Set<string>();
  guests.forEach((g, i) => {
    if (seen.has(g.name)) throw new UserError(`two guests are called '${g.name}'`, `${where}[${i}]`);
    seen.add(g.name);
    const { kind, from } = placeOf(g.host, kinds, `${where}[${i}].host`);
    const abiKey = g.abiClass !== undefined ? `abi\u0000${g.abiClass}` : `spec\u0000${guestSpecKey(g.spec)}`;
    const key = `${abiKey}\u0000${kind ?? ''}`;
    let c = classes.get(key);
    if (!c) {
      const abi = g.abiClass ?? `spec-${shortHash(abiKey, 12)}`;
      if (!specs.has(abiKey)) specs.set(abiKey, g.spec);
      classes.set(key, (c = newClass(abi, specs.get(abiKey)!, g.name, from, kind, key)));
    }
    c.doc.count++;
    c.doc.members.push(g.name);
  });
  return [...classes.values()];
}

/** Merge pre-grouped classes of one ABI on hosts of one kind. */
export function mergeClasses(input: PreGroupedClass[], kinds: HostKinds, where = 'classes'): ClassGroup[] {
  const classes = new Map<string, ClassGroup>();
  const specs = new Map<string, GuestSpec>();
  input.forEach((g, i) => {
    if (!Number.isInteger(g.count) || g.count < 1) throw new UserError(`count must be a positive integer, not ${g.count}`, `${where}[${i}].count`);
    const { kind, from } = placeOf(g.host, kinds, `${where}[${i}].host`);
    const key = `abi\u0000${g.abiClass}\u0000${kind ?? ''}`;
    let c = classes.get(key);
    if (!specs.has(g.abiClass)) specs.set(g.abiClass, g.sample.spec);
    if (!c) classes.set(key, (c = newClass(g.abiClass, specs.get(g.abiClass)!, g.sample.name, from, kind, key)));
    c.doc.count += g.count;
    c.doc.members.push(g.sample.name);
  });
  return [...classes.values()];
}
