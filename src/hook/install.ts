import { chmodSync, existsSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCatalog } from '../io/catalog-files.js';
import { loadHostProfile } from '../io/host-files.js';
import { HOOK_CONFIG_SCHEMA_ID, type HookConfig, type HookEmulator, type HookProfile } from '../model/hook.js';
import type { HostProfile } from '../model/host.js';
import { libvirtProfile } from '../probe/libvirt.js';
import { CatalogNotFound, errorMessage, RunError, UserError } from '../util/errors.js';
import { makeFolders, readUserFile, underSpecialRoot, writeFileAtomic } from '../util/files.js';
import { hookScript, HOOK_MARKER } from './script.js';
import { configPath, hookInstalled, readHookConfig, SCRIPT_NAME } from './state.js';

export interface InstallOptions {
  uri: string;
  /** Profiles of guestabi's own probe to use instead of libvirt's answers. */
  hosts: string[];
  inventory?: string;
  tokenFile?: string;
  starts: HookConfig['starts'];
  unknown: HookConfig['unknown'];
  timeoutSeconds: number;
  hooksDir: string;
  state: string;
  reload: boolean;
}

export interface InstallResult {
  config: HookConfig;
  reloaded: string;
}

/** The guestabi this code belongs to (bin/guestabi.js), which the script runs. */
function guestabiBin(): string {
  return fileURLToPath(new URL('../../../bin/guestabi.js', import.meta.url));
}

/**
 * Install (or refresh) the hook: this host's profiles, asked of libvirt now (the hook never calls
 * back into libvirt: libvirtd waits for it), the configuration, then the script libvirt runs, and a
 * SIGHUP so libvirtd looks for hooks again (it looks only at startup and on reload).
 */
export async function installHook(o: InstallOptions): Promise<InstallResult> {
  const token = o.tokenFile ? readUserFile(o.tokenFile, 'token file').trim() : undefined;
  if (o.inventory && !/^https?:\/\//.test(o.inventory)) throw new UserError(`the inventory is a guestabi service URL (http://host:8080), not '${o.inventory}'`, '--inventory');
  const profiles = o.hosts.length ? o.hosts.map((f) => probedProfile(f)) : await libvirtProfiles(o.uri);
  if (!profiles.length) throw new UserError('libvirt gave no profile of this host', '--uri');
  const createdHooksDir = !existsSync(o.hooksDir) || (hookInstalled(o.state) && readHookConfig(o.state).createdHooksDir);
  makeFolder(o.state, '--state', 0o700);
  const config: HookConfig = {
    schema: HOOK_CONFIG_SCHEMA_ID,
    installedAt: new Date().toISOString(),
    uri: o.hosts.length ? `(profiles: ${o.hosts.join(', ')})` : o.uri,
    script: join(o.hooksDir, SCRIPT_NAME),
    createdHooksDir,
    host: profiles[0]!.profile.name,
    profiles: profiles.map((p) => p.entry),
    starts: o.starts,
    unknown: o.unknown,
    timeoutSeconds: o.timeoutSeconds,
    ...(o.inventory ? { inventory: { url: o.inventory, ...(token ? { token } : {}) } } : {}),
  };
  for (const p of profiles) writeFileAtomic(join(o.state, p.entry.file), JSON.stringify(p.profile, null, 2) + '\n');
  writeFileAtomic(configPath(o.state), JSON.stringify(config, null, 2) + '\n');
  chmodSync(configPath(o.state), 0o600);
  makeFolder(o.hooksDir, '--hooks-dir', 0o755);
  writeFileAtomic(config.script, hookScript({ node: process.execPath, guestabi: guestabiBin(), state: o.state, timeoutSeconds: o.timeoutSeconds }));
  chmodSync(config.script, 0o755);
  return { config, reloaded: o.reload ? reloadLibvirt() : 'not reloaded (--no-reload): libvirtd finds the hook when it next starts or gets SIGHUP' };
}

/** A folder the hook needs (as root: /var/lib, /etc/libvirt), or exit 2 naming it. */
function makeFolder(path: string, flag: string, mode: number): void {
  const special = underSpecialRoot(resolve(path));
  if (special) throw new UserError(`${path} is on ${special}, a special file system: not a place for the hook's files`, flag);
  try {
    makeFolders(path);
    chmodSync(path, mode);
  } catch (e) {
    throw new UserError(`cannot make ${path}: ${errorMessage(e)}${process.getuid?.() === 0 ? '' : ' (install the hook as root)'}`, flag);
  }
}

type Made = { profile: HostProfile; entry: HookProfile };

function emulatorOf(path: string): HookEmulator {
  try {
    const st = statSync(path);
    return { path, size: st.size, mtimeMs: st.mtimeMs };
  } catch (e) {
    throw new RunError(`the emulator ${path} is not readable here: ${errorMessage(e)}`);
  }
}

async function libvirtProfiles(uri: string): Promise<Made[]> {
  const out: Made[] = [];
  for (const accel of ['kvm', 'tcg'] as const) {
    let made: Awaited<ReturnType<typeof libvirtProfile>>;
    try {
      made = await libvirtProfile(uri, { accel });
    } catch (e) {
      if (accel === 'kvm' && e instanceof UserError && /no KVM/.test(e.message)) continue;
      throw e;
    }
    const path = /<path>\s*([^<]+?)\s*<\/path>/.exec(made.facts.domcapabilities)?.[1];
    if (!path) throw new RunError(`libvirt's domcapabilities name no emulator (${uri})`);
    const file = `host-${made.host.arch}-${accel}.json`;
    out.push({ profile: made.host, entry: { arch: made.host.arch, accel, file, qemu: made.facts.version.qemu, catalog: made.catalog?.id ?? null, emulator: emulatorOf(path), from: 'libvirt' } });
  }
  return out;
}

function probedProfile(file: string): Made {
  const profile = loadHostProfile(file);
  if (!profile.qemu.binary.startsWith('/')) throw new UserError(`the profile names no emulator binary (${profile.qemu.binary}): give a profile of guestabi probe`, file);
  let catalog: string | null = profile.qemu.catalog;
  try {
    findCatalog(profile.qemu.catalog, [], profile.arch);
  } catch (e) {
    if (!(e instanceof CatalogNotFound)) throw e;
    catalog = null;
  }
  const v = profile.qemu.version;
  const entry: HookProfile = { arch: profile.arch, accel: profile.accel, file: `host-${profile.arch}-${profile.accel}.json`, qemu: `${v.major}.${v.minor}.${v.micro}`, catalog, emulator: emulatorOf(profile.qemu.binary), from: 'probe' };
  return { profile, entry };
}

/** Ask the running libvirt daemon (monolithic libvirtd, or the modular virtqemud) to look for
 *  hooks again: SIGHUP makes it call the daemon's reload hook, which rescans (virHookCall()). */
export function reloadLibvirt(): string {
  for (const name of ['libvirtd', 'virtqemud']) {
    const pid = daemonPid(name);
    if (pid === undefined) continue;
    try {
      process.kill(pid, 'SIGHUP');
      return `${name} (pid ${pid}) reloaded with SIGHUP: it looks for hooks again`;
    } catch (e) {
      return `could not signal ${name} (pid ${pid}): ${errorMessage(e)}; restart it (systemctl restart ${name}) so it finds the hook`;
    }
  }
  return 'no libvirtd or virtqemud is running: it finds the hook when it starts';
}

function daemonPid(name: string): number | undefined {
  const fromFile = (() => {
    try {
      return Number(readFileSync(`/run/${name}.pid`, 'utf8').trim());
    } catch {
      return undefined;
    }
  })();
  const isIt = (pid: number) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === name;
    } catch {
      return false;
    }
  };
  if (fromFile && isIt(fromFile)) return fromFile;
  for (const d of readdirSync('/proc')) if (/^\d+$/.test(d) && isIt(Number(d))) return Number(d);
  return undefined;
}

/** What uninstall removed, and what it left (a folder someone else also uses). */
export function uninstallHook(state: string, hooksDir: string, reload: boolean): { removed: string[]; left: string[]; reloaded?: string } {
  const removed: string[] = [];
  const left: string[] = [];
  const config = hookInstalled(state) ? readHookConfig(state) : undefined;
  const script = config?.script ?? join(hooksDir, SCRIPT_NAME);
  if (existsSync(script)) {
    if (!readFileSync(script, 'utf8').includes(HOOK_MARKER)) throw new UserError(`${script} is not guestabi's hook (no "${HOOK_MARKER}" line): left as it is`, script);
    rmSync(script);
    removed.push(script);
  }
  const files = ['config.json', 'hook.log', 'hook.log.1', ...(config?.profiles.map((p) => p.file) ?? [])];
  for (const f of files.map((x) => join(state, x))) {
    if (!existsSync(f)) continue;
    rmSync(f);
    removed.push(f);
  }
  const dirs = [state, ...(state.endsWith('/guestabi/hook') ? [dirname(state)] : []), ...(config?.createdHooksDir ? [dirname(script)] : [])];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    if (readdirSync(d).length) {
      left.push(`${d} (not empty: ${readdirSync(d).join(', ')})`);
      continue;
    }
    rmdirSync(d);
    removed.push(d);
  }
  return { removed, left, ...(reload && removed.includes(script) ? { reloaded: reloadLibvirt() } : {}) };
}
