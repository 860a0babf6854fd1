import { dirname, resolve as resolvePath } from 'node:path';
import type { CatalogIndex } from '../catalog/catalog.js';
import { HostProfile } from '../model/host.js';
import { Cluster } from '../model/pinned.js';
import { validate } from '../model/validate.js';
import { groupHosts, indexHost, type Target, type TargetHost } from '../resolve/target.js';
import { CatalogNotFound, UserError } from '../util/errors.js';
import { parseJsonOrYaml, readUserFile } from '../util/files.js';
import { checkLimit } from '../resolve/limits.js';
import { findCatalog } from './catalog-files.js';

export function loadHostProfile(path: string): HostProfile {
  return validate(HostProfile, parseJsonOrYaml(readUserFile(path, 'host profile'), path), path);
}

/** The catalog of a host's QEMU: shipped, or among those given with --catalog. */
function catalogFor(profile: HostProfile, where: string, extra: CatalogIndex[]): CatalogIndex {
  try {
    return findCatalog(profile.qemu.catalog, extra);
  } catch (e) {
    // Only "no such catalog" becomes this message; a catalog file that does not load says why.
    if (!(e instanceof CatalogNotFound)) throw e;
    const v = profile.qemu.version;
    throw new UserError(
      `host '${profile.name}' runs QEMU ${v.major}.${v.minor}.${v.micro}, and there is no catalog ${profile.qemu.catalog}: ` +
        `probe that build with 'guestabi probe --catalog-out FILE' and pass --catalog FILE`,
      where,
    );
  }
}

function checkArch(profile: HostProfile, arch: string, where: string): void {
  if (profile.arch !== arch) throw new UserError(`host '${profile.name}' is ${profile.arch}, the guest is ${arch}`, where);
}

/** A host profile as a target; its architecture must be the guest's unless `anyArch` (check, which
 *  answers another architecture with a verdict: ARCH_DIFFERS). */
export function hostTarget(path: string, arch: string, extra: CatalogIndex[] = [], anyArch = false): Target {
  const profile = loadHostProfile(path);
  if (!anyArch) checkArch(profile, arch, path);
  return { kind: 'host', name: profile.name, hosts: [indexHost(profile, catalogFor(profile, path, extra))] };
}

/** A cluster file (YAML or JSON) lists host profiles, by path relative to itself: each host indexed on its own. */
export function clusterHosts(path: string, arch: string, extra: CatalogIndex[] = []): { name: string; hosts: TargetHost[] } {
  const cluster = validate(Cluster, parseJsonOrYaml(readUserFile(path, 'cluster'), path), path);
  checkLimit('hosts', cluster.hosts.length, 'the cluster has too many hosts', `${path}: hosts`);
  const base = dirname(path);
  const hosts: TargetHost[] = [];
  const seen = new Set<string>();
  cluster.hosts.forEach((entry, i) => {
    const rel = typeof entry === 'string' ? entry : entry.profile;
    const where = `${path}: hosts[${i}]`;
    const file = resolvePath(base, rel);
    let profile: HostProfile;
    try {
      profile = loadHostProfile(file);
    } catch (e) {
      if (e instanceof UserError) throw new UserError(e.message, where);
      throw e;
    }
    const name = typeof entry === 'string' ? profile.name : (entry.name ?? profile.name);
    if (seen.has(name)) throw new UserError(`two hosts are called '${name}': rename one (hosts: [{profile: ..., name: ...}])`, where);
    seen.add(name);
    checkArch(profile, arch, where);
    hosts.push(indexHost(profile, catalogFor(profile, where, extra), name));
  });
  return { name: cluster.name ?? path, hosts };
}

/** A cluster as resolving sees it: hosts that resolve alike grouped into one (groupHosts). */
export function clusterTarget(path: string, arch: string, extra: CatalogIndex[] = []): Target {
  const { name, hosts } = clusterHosts(path, arch, extra);
  return { kind: 'cluster', name, hosts: groupHosts(hosts) };
}
