import type { HostKind } from '../model/fleet.js';
import { sameProps } from '../catalog/props.js';
import type { TargetHost } from '../resolve/target.js';
import { UserError } from '../util/errors.js';
import { canonicalJson, shortHash } from './hash.js';

/**
 * Hosts grouped by what a check reads of a host: the QEMU build (catalog), accelerator and
 * architecture, which features each CPU model lacks there, the host CPU expansion and what the
 * accelerator adds to every model. Hosts of one kind give every guest the same verdicts (only host
 * names in messages differ), so a fleet is checked once per kind.
 *
 * This is what `signature()` in src/resolve/target.ts covers, read from the indexed host (the
 * accelerator delta instead of the raw accelCpu expansion, so the probe machine it depends on is
 * included), compared directly instead of hashed: hashing the JSON of every profile costs ~0.2 ms
 * a host, too much for 10,000 hosts; the id is hashed once per kind.
 */
export interface HostKinds {
  /** The kinds, in the order each first appears. */
  kinds: HostKind[];
  /** Per kind id: the TargetHost of each member, in the order of its members. */
  hosts: Map<string, TargetHost[]>;
  /** Per host name: its kind and TargetHost. */
  byName: Map<string, { kind: string; host: TargetHost }>;
}

function sameSet(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

function sameUnavailable(a: TargetHost['unavailable'], b: TargetHost['unavailable']): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [model, features] of a) {
    const other = b.get(model);
    if (!other || !sameSet(features, other)) return false;
  }
  return true;
}


/** Whether two hosts check alike (see HostKinds). */
export function sameKind(a: TargetHost, b: TargetHost): boolean {
  const pa = a.profile;
  const pb = b.profile;
  return (
    a.catalog.id === b.catalog.id &&
    pa.accel === pb.accel &&
    pa.arch === pb.arch &&
    pa.hostCpu.model === pb.hostCpu.model &&
    pa.hostCpu.error === pb.hostCpu.error &&
    sameProps(pa.hostCpu.props, pb.hostCpu.props) &&
    sameProps(a.accelCpuDelta, b.accelCpuDelta) &&
    sameUnavailable(a.unavailable, b.unavailable)
  );
}

/** A cheap key that equal kinds share: hosts are compared in full only within a bucket. */
function bucketKey(h: TargetHost): string {
  let blocked = 0;
  let runnable = 0;
  for (const s of h.unavailable.values()) {
    blocked += s.size;
    if (s.size === 0) runnable++;
  }
  const props = h.profile.hostCpu.props;
  return `${h.catalog.id}\u0000${h.profile.accel}\u0000${h.profile.arch}\u0000${h.unavailable.size}\u0000${runnable}\u0000${blocked}\u0000${props ? Object.keys(props).length : -1}\u0000${h.hostFeatures?.size ?? -1}`;
}

/** What a check reads of a host, as canonical text (sorted keys): equal for hosts of one kind. */
export function hostKindContent(h: TargetHost): string {
  const unavailable = [...h.unavailable].map(([m, s]) => [m, [...s].sort()] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return canonicalJson({
    catalog: h.catalog.id,
    accel: h.profile.accel,
    arch: h.profile.arch,
    hostCpu: { model: h.profile.hostCpu.model, props: h.profile.hostCpu.props ?? null, error: h.profile.hostCpu.error ?? null },
    accelDelta: h.accelCpuDelta,
    unavailable,
  });
}

/** The short id of a host's kind: a fast hash of hostKindContent (an id within one fleet; a
 *  store that trusts ids across users' writes hashes the content with SHA-256 instead). */
export function hostKindId(h: TargetHost): string {
  return `hk-${shortHash(hostKindContent(h))}`;
}

function describe(id: string, h: TargetHost, members: string[]): HostKind {
  const runnable = [...h.unavailable.values()].filter((s) => s.size === 0).length;
  const accel = h.profile.accel.toUpperCase();
  return {
    id,
    label: `QEMU ${h.catalog.version} ${accel}, ${h.profile.cpu.modelName}, ${runnable} of ${h.unavailable.size} CPU models runnable`,
    qemu: h.catalog.version,
    catalog: h.catalog.id,
    accel: h.profile.accel,
    cpu: h.profile.cpu.modelName,
    members,
  };
}

export interface KindOptions {
  /** Where the hosts come from, for errors ('hosts'). */
  where?: string;
  /** A kind id the caller keeps per host (a store computes hostKindId when a profile is saved):
   *  hosts are then grouped by it without comparing their profiles. Undefined: compared. */
  kindOf?: (host: TargetHost) => string | undefined;
}

interface Group {
  id: string | undefined;
  rep: TargetHost;
  members: string[];
  hosts: TargetHost[];
}

/** The group of a host: by the id the caller gives, or among the hosts that compare equal. */
function groupOf(h: TargetHost, given: string | undefined, byId: Map<string, Group>, buckets: Map<string, Group[]>, order: Group[]): Group {
  if (given !== undefined) {
    let g = byId.get(given);
    if (!g) {
      byId.set(given, (g = { id: given, rep: h, members: [], hosts: [] }));
      order.push(g);
    }
    return g;
  }
  const key = bucketKey(h);
  let bucket = buckets.get(key);
  if (!bucket) buckets.set(key, (bucket = []));
  let g = bucket.find((x) => sameKind(x.rep, h));
  if (!g) {
    bucket.push((g = { id: undefined, rep: h, members: [], hosts: [] }));
    order.push(g);
  }
  return g;
}

/**
 * Group hosts into kinds. Each TargetHost stands for its members (one host from indexHost, or a
 * group from groupHosts); every member name must be unique.
 */
export function hostKinds(hosts: TargetHost[], opts: KindOptions = {}): HostKinds {
  const where = opts.where ?? 'hosts';
  const byId = new Map<string, Group>();
  const buckets = new Map<string, Group[]>();
  const order: Group[] = [];
  const seen = new Set<string>();
  hosts.forEach((h, i) => {
    for (const name of h.members) {
      if (seen.has(name)) throw new UserError(`two hosts are called '${name}'`, `${where}[${i}]`);
      seen.add(name);
    }
    const g = groupOf(h, opts.kindOf?.(h), byId, buckets, order);
    for (const name of h.members) {
      g.members.push(name);
      g.hosts.push(h);
    }
  });
  const out: HostKinds = { kinds: [], hosts: new Map(), byName: new Map() };
  for (const g of nameGroups(order, byId)) {
    out.kinds.push(describe(g.id!, g.rep, g.members));
    out.hosts.set(g.id!, g.hosts);
    g.members.forEach((name, i) => out.byName.set(name, { kind: g.id!, host: g.hosts[i]! }));
  }
  return out;
}

/** Give compared groups their id (the hash of their content). A group whose id the caller gave to
 *  other hosts joins them; two different groups with one 40-bit hash (never seen) stay apart. */
function nameGroups(order: Group[], named: Map<string, Group>): Group[] {
  const out: Group[] = [];
  const taken = new Set(named.keys());
  for (const g of order) {
    if (g.id === undefined) {
      const id = hostKindId(g.rep);
      const same = named.get(id);
      if (same) {
        g.members.forEach((name, i) => {
          same.members.push(name);
          same.hosts.push(g.hosts[i]!);
        });
        continue;
      }
      g.id = id;
      for (let n = 2; taken.has(g.id); n++) g.id = `${id}-${n}`;
      taken.add(g.id);
    }
    out.push(g);
  }
  return out;
}
