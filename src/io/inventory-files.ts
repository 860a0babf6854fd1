import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve as resolvePath, dirname } from 'node:path';
import type { CatalogIndex } from '../catalog/catalog.js';
import { describedProfile } from '../fleet/described.js';
import type { FleetGuest } from '../fleet/index.js';
import { parseGuestText } from '../formats/guest-input.js';
import type { HostProfile } from '../model/host.js';
import { Inventory, type InventoryGuest } from '../model/inventory.js';
import { validate } from '../model/validate.js';
import { indexHost, type TargetHost } from '../resolve/target.js';
import { UserError } from '../util/errors.js';
import { parseJsonOrYaml, readUserFile } from '../util/files.js';
import { checkLimit } from '../resolve/limits.js';
import { findCatalog } from './catalog-files.js';
import { loadHostProfile } from './host-files.js';

/** A guest of an inventory: where it runs and in which state, with its definition read. */
export interface InventoryGuestEntry extends FleetGuest {
  state: NonNullable<InventoryGuest['state']>;
  snapshots: NonNullable<InventoryGuest['snapshots']>;
  source: string;
}

export interface LoadedInventory {
  name: string;
  hosts: TargetHost[];
  guests: InventoryGuestEntry[];
}

const GUEST_FILE = /\.(xml|args|json|ya?ml)$/;

function catalogOf(profile: HostProfile, where: string, extra: CatalogIndex[]): CatalogIndex {
  try {
    return findCatalog(profile.qemu.catalog, extra);
  } catch (e) {
    if (e instanceof UserError) throw new UserError(`no catalog ${profile.qemu.catalog} for this host's QEMU (probe it: guestabi probe --catalog-out FILE, then --catalog FILE)`, where);
    throw e;
  }
}

function uniqueNames<T extends { name: string }>(items: T[], what: string, where: string): T[] {
  const seen = new Set<string>();
  for (const x of items) {
    if (seen.has(x.name)) throw new UserError(`two ${what}s are called '${x.name}'`, where);
    seen.add(x.name);
  }
  return items;
}

function guestEntry(text: string, source: string, entry: InventoryGuest, fallbackName: string): InventoryGuestEntry {
  const spec = parseGuestText(text, source).spec;
  const snapshots = entry.snapshots ?? [];
  return { name: entry.name ?? spec.name ?? fallbackName, spec, host: entry.host ?? null, state: entry.state ?? 'running', snapshots, memorySnapshots: snapshots.filter((x) => x.memory).length, source };
}

/** An error of a file an entry names, said with the entry (inventory.yaml: hosts[2]: h.json: ...). */
function atEntry<T>(where: string, run: () => T): T {
  try {
    return run();
  } catch (e) {
    if (e instanceof UserError && !e.message.startsWith(where)) throw new UserError(e.message, where);
    throw e;
  }
}

/** An inventory file (YAML/JSON, schema `inventory`): hosts probed or described, guests and where they run. */
function inventoryFile(path: string, extra: CatalogIndex[]): LoadedInventory {
  const inv = validate(Inventory, parseJsonOrYaml(readUserFile(path, 'inventory'), path), path);
  checkLimit('hosts', inv.hosts.length, 'the inventory has too many hosts', `${path}: hosts`);
  const base = dirname(path);
  const hosts = inv.hosts.map((h, i) => {
    const where = `${path}: hosts[${i}]`;
    if ((h.profile === undefined) === (h.describe === undefined)) throw new UserError(`give one of profile (a probed host) or describe (a planned one)`, where);
    return atEntry(where, () => {
      if (h.profile !== undefined) {
        const profile = loadHostProfile(resolvePath(base, h.profile));
        return indexHost(profile, catalogOf(profile, where, extra), h.name);
      }
      const catalog = findCatalog(h.describe!.qemu, extra);
      return indexHost(describedProfile(h.name, h.describe!, catalog, `${where}: describe`), catalog, h.name);
    });
  });
  const guests = inv.guests.map((g, i) => {
    const where = `${path}: guests[${i}]`;
    if ((g.file === undefined) === (g.argv === undefined)) throw new UserError('give one of file or argv', where);
    const file = g.file !== undefined ? resolvePath(base, g.file) : undefined;
    return atEntry(where, () => {
      const text = file ? readUserFile(file, 'guest') : g.argv!;
      return guestEntry(text, file ?? `${where}: argv`, g, file ? basename(file).replace(GUEST_FILE, '') : `guest${i}`);
    });
  });
  return { name: inv.name ?? path, hosts: uniqueNames(hosts, 'host', path), guests: uniqueNames(guests, 'guest', path) };
}

/** A folder: hosts/*.json (profiles) and guests/*.xml (on no host) or guests/HOST/*.xml. */
function inventoryFolder(dir: string, extra: CatalogIndex[]): LoadedInventory {
  const hostDir = join(dir, 'hosts');
  if (!existsSync(hostDir)) throw new UserError('an inventory folder needs hosts/ (host profiles) and guests/ (guests/HOST/NAME.xml)', dir);
  const hosts = readdirSync(hostDir)
    .filter((f) => /\.(json|ya?ml)$/.test(f))
    .sort()
    .map((f) => {
      const profile = loadHostProfile(join(hostDir, f));
      return indexHost(profile, catalogOf(profile, join(hostDir, f), extra));
    });
  const guests: InventoryGuestEntry[] = [];
  const guestDir = join(dir, 'guests');
  const read = (folder: string, host: string | null) => {
    for (const f of readdirSync(folder).sort()) {
      const p = join(folder, f);
      if (statSync(p).isDirectory()) {
        if (host === null) read(p, f);
      } else if (GUEST_FILE.test(f)) guests.push(guestEntry(readUserFile(p, 'guest'), p, { host }, f.replace(GUEST_FILE, '')));
    }
  };
  if (existsSync(guestDir)) read(guestDir, null);
  return { name: dir, hosts: uniqueNames(hosts, 'host', hostDir), guests: uniqueNames(guests, 'guest', guestDir) };
}

/** An inventory from a file or a folder; every guest's host must be one of its hosts. */
export function loadInventory(path: string, extra: CatalogIndex[] = []): LoadedInventory {
  const isDir = existsSync(path) && statSync(path).isDirectory();
  const inv = isDir ? inventoryFolder(path, extra) : inventoryFile(path, extra);
  const names = new Set(inv.hosts.map((h) => h.name));
  for (const g of inv.guests) if (g.host !== null && !names.has(g.host)) throw new UserError(`guest '${g.name}' runs on '${g.host}', which is not among the hosts`, path);
  return inv;
}
