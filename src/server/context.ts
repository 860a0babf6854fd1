import type { CatalogIndex } from '../catalog/catalog.js';
import { findCatalog, shippedCatalogs } from '../io/catalog-files.js';
import { migrationRules } from '../io/rules-files.js';
import type { Rules } from '../check/rules.js';
import { parseGuestText, type GuestFormat, type LoadedGuest } from '../formats/guest-input.js';
import type { GuestSpec } from '../model/guest.js';
import type { HostProfile } from '../model/host.js';
import type { PinnedAbi } from '../model/pinned.js';
import { indexHost, type TargetHost } from '../resolve/target.js';
import type { GuestRecord as StoredGuest, Store } from '../store/index.js';
import { UserError } from '../util/errors.js';
import { HttpProblem } from './problem.js';

const GUEST_CACHE = 1000;

/**
 * What every request handler shares: the store, the catalogs and rules (loaded once), and host
 * profiles indexed for resolving, cached by name and version so that a changed profile is
 * re-indexed and an unchanged one never is.
 */
export class ServerContext {
  readonly rules: Rules = migrationRules();
  private readonly hosts = new Map<string, { version: number; target: TargetHost }>();
  private readonly guests = new Map<string, StoredGuest>();

  constructor(
    readonly store: Store,
    readonly dbKind: 'sqlite' | 'postgres',
  ) {}

  catalogs(): CatalogIndex[] {
    return shippedCatalogs();
  }

  catalog(idOrVersion: string, field = 'catalog'): CatalogIndex {
    try {
      return findCatalog(idOrVersion);
    } catch (e) {
      if (e instanceof UserError) throw new HttpProblem(404, 'CATALOG_UNKNOWN', e.message, { field });
      throw e;
    }
  }

  /** The catalog a profile's QEMU build needs; a build with no catalog is refused by name. */
  catalogForProfile(profile: HostProfile, where: string): CatalogIndex {
    try {
      return findCatalog(profile.qemu.catalog);
    } catch (e) {
      // No catalog by that id, or a catalog file that does not load: either way the build is not known here.
      if (!(e instanceof UserError)) throw e;
      throw new HttpProblem(422, 'CATALOG_UNKNOWN', `${where}: there is no catalog ${profile.qemu.catalog} for this host's QEMU: probe the build with 'guestabi probe --catalog-out FILE'`);
    }
  }

  /** Hosts by name, indexed for resolving; each re-indexed only when its stored version changed. */
  async targetHosts(names: readonly string[], field = 'hosts'): Promise<Map<string, TargetHost>> {
    const versions = await this.store.currentVersions('hosts', names);
    const missing = names.find((n) => !versions.has(n));
    if (missing !== undefined) throw new HttpProblem(404, 'HOST_UNKNOWN', `${field}: no host called '${missing}'`, { field });
    const stale = [...versions].filter(([n, v]) => this.hosts.get(n)?.version !== v).map(([n]) => n);
    for (const row of await this.store.getHostsByNames(stale)) {
      const target = indexHost(row.profile, this.catalogForProfile(row.profile, `host '${row.name}'`), row.name);
      this.hosts.set(row.name, { version: row.version, target });
    }
    return new Map(names.map((n) => [n, this.hosts.get(n)!.target]));
  }

  async targetHost(name: string, field = 'host'): Promise<TargetHost> {
    return (await this.targetHosts([name], field)).get(name)!;
  }

  /** A stored guest, parsed once per version (a small cache: the definitions are large). */
  async storedGuest(name: string, field = 'guest'): Promise<StoredGuest> {
    const version = (await this.store.currentVersions('guests', [name])).get(name);
    if (version === undefined) throw new HttpProblem(404, 'GUEST_UNKNOWN', `${field}: no guest called '${name}'`, { field });
    const hit = this.guests.get(name);
    if (hit && hit.version === version) return hit;
    const row = await this.store.getGuest(name);
    if (!row) throw new HttpProblem(404, 'GUEST_UNKNOWN', `${field}: no guest called '${name}'`, { field });
    if (this.guests.size >= GUEST_CACHE) this.guests.delete(this.guests.keys().next().value!);
    this.guests.set(name, row);
    return row;
  }

  /** A guest named in the store, or a definition given in the request. */
  async guestSpec(input: { guest?: string; definition?: string; format?: GuestFormat }, field = 'guest'): Promise<{ spec: GuestSpec; source: string; pinned: PinnedAbi | null; loaded?: LoadedGuest }> {
    if ((input.guest === undefined) === (input.definition === undefined)) {
      throw new HttpProblem(400, 'BAD_INPUT', `give one of '${field}' (a stored guest's name) or 'definition' (libvirt XML, a QEMU command line or a GuestSpec)`);
    }
    if (input.definition !== undefined) {
      const loaded = parseGuestText(input.definition, 'definition', input.format);
      return { spec: loaded.spec, source: 'definition', pinned: null, loaded };
    }
    const row = await this.storedGuest(input.guest!, field);
    return { spec: row.spec, source: `guest '${row.name}'`, pinned: row.pinned };
  }
}
