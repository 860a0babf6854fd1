import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DOMParser, type Element } from '@xmldom/xmldom';
import { UserError } from '../util/errors.js';

/**
 * A reader for osinfo-db, the guest OS database of libosinfo (Debian package `osinfo-db`), as it
 * is installed: `os/<vendor>/<name>.xml`, extended by `os/<vendor>/<name>.d/*.xml` (driver
 * lists), and `device/**.xml`. Nothing from it is copied into guestabi: every fact is read here.
 * Inheritance follows libosinfo (osinfo_os_get_all_devices): an OS has the devices of every OS it
 * derives from or clones, minus those any of them marks `supported="false"`.
 */

export const DEFAULT_OSINFO_DIR = '/usr/share/osinfo';

export interface OsDeviceLink {
  id: string;
  supported: boolean;
}

export interface OsFirmware {
  arch: string;
  type: string;
  supported: boolean;
}

export interface OsDriver {
  arch: string;
  preInstallable: boolean;
  location: string | undefined;
  devices: string[];
}

/** One OS as osinfo-db writes it, before inheritance. */
export interface OsEntry {
  id: string;
  shortIds: string[];
  name: string;
  vendor: string | undefined;
  family: string | undefined;
  distro: string | undefined;
  version: string | undefined;
  releaseDate: string | undefined;
  eolDate: string | undefined;
  releaseStatus: string | undefined;
  derivesFrom: string[];
  upgrades: string[];
  clones: string[];
  devices: OsDeviceLink[];
  firmware: OsFirmware[];
  /** Architectures of its installation media, trees and images ('all' for any). */
  architectures: string[];
  drivers: OsDriver[];
  files: string[];
}

export interface DeviceInfo {
  id: string;
  name: string;
  class: string | undefined;
}

function children(el: Element, name: string): Element[] {
  const out: Element[] = [];
  for (let n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 1 && (n as Element).localName === name) out.push(n as Element);
  return out;
}

/** The untranslated text of a child element (osinfo-db repeats names with xml:lang). */
function plainText(el: Element, name: string): string | undefined {
  for (const c of children(el, name)) if (!c.getAttribute('xml:lang')) return c.textContent?.trim() || undefined;
  return undefined;
}

function parseXml(path: string): Element {
  const errors: string[] = [];
  const doc = new DOMParser({ onError: (level, msg) => void (level !== 'warning' && errors.push(msg)) }).parseFromString(readFileSync(path, 'utf8'), 'text/xml');
  if (errors.length || !doc.documentElement) throw new UserError(`not readable as osinfo-db XML: ${errors[0] ?? 'no document'}`, path);
  return doc.documentElement;
}

function bool(v: string | null, fallback: boolean): boolean {
  if (v === null || v === '') return fallback;
  return v === 'true' || v === 'yes' || v === '1';
}

function parseOs(el: Element, file: string): OsEntry {
  const ids = (name: string) => children(el, name).map((c) => c.getAttribute('id') ?? '').filter(Boolean);
  const devicesEl = children(el, 'devices');
  const devices = devicesEl.flatMap((d) => children(d, 'device')).map((d) => ({ id: d.getAttribute('id') ?? '', supported: bool(d.getAttribute('supported'), true) }));
  const arches = new Set<string>();
  for (const kind of ['media', 'tree', 'image']) for (const m of children(el, kind)) if (m.getAttribute('arch')) arches.add(m.getAttribute('arch')!);
  return {
    id: el.getAttribute('id') ?? '',
    shortIds: children(el, 'short-id').map((c) => c.textContent?.trim() ?? '').filter(Boolean),
    name: plainText(el, 'name') ?? '',
    vendor: plainText(el, 'vendor'),
    family: plainText(el, 'family'),
    distro: plainText(el, 'distro'),
    version: plainText(el, 'version'),
    releaseDate: plainText(el, 'release-date'),
    eolDate: plainText(el, 'eol-date'),
    releaseStatus: plainText(el, 'release-status'),
    derivesFrom: ids('derives-from'),
    upgrades: ids('upgrades'),
    clones: ids('clones'),
    devices: devices.filter((d) => d.id),
    firmware: children(el, 'firmware').map((f) => ({ arch: f.getAttribute('arch') ?? 'all', type: f.getAttribute('type') ?? '', supported: bool(f.getAttribute('supported'), true) })),
    architectures: [...arches].sort(),
    drivers: children(el, 'driver').map((d) => ({
      arch: d.getAttribute('arch') ?? 'all',
      preInstallable: bool(d.getAttribute('pre-installable'), false),
      location: d.getAttribute('location') ?? undefined,
      devices: children(d, 'device').map((x) => x.getAttribute('id') ?? '').filter(Boolean),
    })),
    files: [file],
  };
}

/** Later files of the same OS (the .d folder) add to it; they never take anything away. */
function merge(a: OsEntry, b: OsEntry): OsEntry {
  const pick = <T>(x: T | undefined, y: T | undefined) => x ?? y;
  return {
    ...a,
    shortIds: [...new Set([...a.shortIds, ...b.shortIds])],
    name: a.name || b.name,
    vendor: pick(a.vendor, b.vendor),
    family: pick(a.family, b.family),
    distro: pick(a.distro, b.distro),
    version: pick(a.version, b.version),
    releaseDate: pick(a.releaseDate, b.releaseDate),
    eolDate: pick(a.eolDate, b.eolDate),
    releaseStatus: pick(a.releaseStatus, b.releaseStatus),
    derivesFrom: [...new Set([...a.derivesFrom, ...b.derivesFrom])],
    upgrades: [...new Set([...a.upgrades, ...b.upgrades])],
    clones: [...new Set([...a.clones, ...b.clones])],
    devices: [...a.devices, ...b.devices],
    firmware: [...a.firmware, ...b.firmware],
    architectures: [...new Set([...a.architectures, ...b.architectures])].sort(),
    drivers: [...a.drivers, ...b.drivers],
    files: [...a.files, ...b.files],
  };
}

function xmlFilesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...xmlFilesUnder(p));
    else if (name.endsWith('.xml')) out.push(p);
  }
  return out;
}

const OS_ID = /<os\s+id="([^"]+)"/;
const SHORT_ID = /<short-id>([^<]+)<\/short-id>/g;

/**
 * osinfo-db as installed in one folder. OS files are found by a cheap scan of their ids and
 * parsed only when asked for, so that looking up a few OSes does not parse all 800.
 */
export class OsinfoDb {
  readonly dir: string;
  readonly version: string | undefined;
  private readonly filesById = new Map<string, string[]>();
  private readonly idByShortId = new Map<string, string>();
  private readonly parsed = new Map<string, OsEntry>();
  private devicesById: Map<string, DeviceInfo> | undefined;

  constructor(dir: string) {
    this.dir = dir;
    const osDir = join(dir, 'os');
    if (!existsSync(osDir)) {
      throw new UserError(`no osinfo-db here (no os/ folder): install the Debian package osinfo-db, or give --osinfo DIR`, dir);
    }
    const versionFile = join(dir, 'VERSION');
    this.version = existsSync(versionFile) ? readFileSync(versionFile, 'utf8').trim() : undefined;
    for (const file of xmlFilesUnder(osDir)) {
      const text = readFileSync(file, 'utf8');
      const id = OS_ID.exec(text)?.[1];
      if (!id) continue;
      const list = this.filesById.get(id) ?? [];
      // The OS's own file before the files of its .d folder, which extend it.
      if (file.includes('.d/')) list.push(file);
      else list.unshift(file);
      this.filesById.set(id, list);
      for (const m of text.matchAll(SHORT_ID)) if (!this.idByShortId.has(m[1]!.trim())) this.idByShortId.set(m[1]!.trim(), id);
    }
    if (this.filesById.size === 0) throw new UserError('osinfo-db has no OS entries (os/**/*.xml)', dir);
  }

  /** Every short-id the database knows. */
  shortIds(): string[] {
    return [...this.idByShortId.keys()].sort();
  }

  /** An OS by short-id (rhel6.10) or libosinfo id (http://redhat.com/rhel/6.10). */
  find(idOrShortId: string): OsEntry | undefined {
    const id = this.filesById.has(idOrShortId) ? idOrShortId : this.idByShortId.get(idOrShortId);
    return id ? this.byId(id) : undefined;
  }

  /** Like find, but an unknown OS is the user's mistake, with the nearest names offered. */
  get(idOrShortId: string, where?: string): OsEntry {
    const os = this.find(idOrShortId);
    if (os) return os;
    const near = this.nearShortIds(idOrShortId);
    throw new UserError(
      `osinfo-db${this.version ? ` ${this.version}` : ''} (${this.dir}) has no OS '${idOrShortId}'${near.length ? `; near: ${near.join(', ')}` : ''}`,
      where,
    );
  }

  private nearShortIds(asked: string): string[] {
    const stem = /^[a-z]+/i.exec(asked)?.[0];
    if (!stem) return [];
    return this.shortIds()
      .filter((s) => s.startsWith(stem) && /\d/.test(s))
      .sort((a, b) => compareVersions(versionNumbers(b), versionNumbers(a)))
      .slice(0, 6);
  }

  byId(id: string): OsEntry | undefined {
    const hit = this.parsed.get(id);
    if (hit) return hit;
    const files = this.filesById.get(id);
    if (!files) return undefined;
    let entry: OsEntry | undefined;
    for (const file of files) {
      const root = parseXml(file);
      for (const el of children(root, 'os')) {
        if (el.getAttribute('id') !== id) continue;
        const e = parseOs(el, file);
        entry = entry ? merge(entry, e) : e;
      }
    }
    if (entry) this.parsed.set(id, entry);
    return entry;
  }

  /** The OS and every OS it derives from or clones, nearest first, each once (libosinfo's
   *  osinfo_product_foreach_related with DERIVES_FROM | CLONES). */
  lineage(os: OsEntry, relations: ('derivesFrom' | 'clones' | 'upgrades')[] = ['derivesFrom', 'clones']): OsEntry[] {
    const out: OsEntry[] = [];
    const seen = new Set<string>();
    const queue: OsEntry[] = [os];
    while (queue.length) {
      const o = queue.shift()!;
      if (seen.has(o.id)) continue;
      seen.add(o.id);
      out.push(o);
      for (const r of relations) for (const id of o[r]) {
        const rel = this.byId(id);
        if (rel) queue.push(rel);
      }
    }
    return out;
  }

  device(id: string): DeviceInfo | undefined {
    if (!this.devicesById) {
      this.devicesById = new Map();
      for (const file of xmlFilesUnder(join(this.dir, 'device'))) {
        const root = parseXml(file);
        for (const el of children(root, 'device')) {
          const id = el.getAttribute('id');
          if (id) this.devicesById.set(id, { id, name: plainText(el, 'name') ?? id, class: plainText(el, 'class') });
        }
      }
    }
    return this.devicesById.get(id);
  }
}

function versionNumbers(shortId: string): number[] {
  return (shortId.match(/\d+/g) ?? []).map(Number);
}

function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? -1) - (b[i] ?? -1);
    if (d) return d;
  }
  return 0;
}

const opened = new Map<string, OsinfoDb>();

/** osinfo-db from --osinfo DIR, $OSINFO_SYSTEM_DIR (as libosinfo reads it) or /usr/share/osinfo. */
export function openOsinfoDb(dir?: string): OsinfoDb {
  const path = dir ?? process.env.OSINFO_SYSTEM_DIR ?? DEFAULT_OSINFO_DIR;
  let db = opened.get(path);
  if (!db) {
    if (!existsSync(path)) {
      throw new UserError(`osinfo-db is not installed: install the Debian package osinfo-db (apt-get install osinfo-db), or give --osinfo DIR`, path);
    }
    db = new OsinfoDb(path);
    opened.set(path, db);
  }
  return db;
}

/** An OS with what it inherits resolved: the view tiers and validation work from. */
export interface ResolvedOs {
  id: string;
  shortId: string;
  name: string;
  vendor: string | undefined;
  family: string | undefined;
  releaseDate: string | undefined;
  eolDate: string | undefined;
  releaseStatus: string | undefined;
  /** Architectures it is built for; inherited from the nearest relative when it lists none. */
  architectures: string[];
  architecturesFrom: string | undefined;
  /** Device ids it supports (http://pcisig.com/pci/1af4/1041 ...), inherited as libosinfo does. */
  devices: { id: string; name: string | undefined; class: string | undefined }[];
  firmware: OsFirmware[];
  drivers: OsDriver[];
  /** Short-ids of the OS and everything it derives from or clones, nearest first. */
  lineage: string[];
  osinfoVersion: string | undefined;
}

export function resolveOs(db: OsinfoDb, os: OsEntry): ResolvedOs {
  const lineage = db.lineage(os);
  // libosinfo: the union of every related OS's devices, minus any one of them marks unsupported.
  const unsupported = new Set(lineage.flatMap((o) => o.devices.filter((d) => !d.supported).map((d) => d.id)));
  const deviceIds = [...new Set(lineage.flatMap((o) => o.devices.filter((d) => d.supported).map((d) => d.id)))].filter((id) => !unsupported.has(id));
  // Firmware: the nearest OS that says anything about an (arch, type) decides it.
  const firmware = new Map<string, OsFirmware>();
  for (const o of lineage) for (const f of o.firmware) if (!firmware.has(`${f.arch}/${f.type}`)) firmware.set(`${f.arch}/${f.type}`, f);
  const archSource = db.lineage(os, ['derivesFrom', 'clones', 'upgrades']).find((o) => o.architectures.length > 0);
  return {
    id: os.id,
    shortId: os.shortIds[0] ?? os.id,
    name: os.name,
    vendor: os.vendor,
    family: os.family,
    releaseDate: os.releaseDate,
    eolDate: os.eolDate,
    releaseStatus: os.releaseStatus,
    architectures: archSource?.architectures ?? [],
    architecturesFrom: archSource && archSource.id !== os.id ? (archSource.shortIds[0] ?? archSource.id) : undefined,
    devices: deviceIds.map((id) => {
      const info = db.device(id);
      return { id, name: info?.name, class: info?.class };
    }),
    firmware: [...firmware.values()],
    drivers: lineage.flatMap((o) => o.drivers),
    lineage: lineage.map((o) => o.shortIds[0] ?? o.id),
    osinfoVersion: db.version,
  };
}
