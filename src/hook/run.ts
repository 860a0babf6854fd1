import { appendFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { arrival, type Arrival } from '../check/arrival.js';
import { parseGuestText } from '../formats/guest-input.js';
import { findCatalog } from '../io/catalog-files.js';
import { loadHostProfile } from '../io/host-files.js';
import { migrationRules } from '../io/rules-files.js';
import { HOOK_DECISION_SCHEMA_ID, type HookConfig, type HookDecision, type HookProfile } from '../model/hook.js';
import { HostProfile } from '../model/host.js';
import { reason, type Reason } from '../model/reason.js';
import { validate } from '../model/validate.js';
import { indexHost, type TargetHost } from '../resolve/target.js';
import { answerValidate } from '../service/answers.js';
import { errorMessage } from '../util/errors.js';
import { readHookConfig } from './state.js';

/** What the hook answers libvirt: let it through, or refuse with a message for its error. */
export interface HookAnswer {
  refuse: boolean;
  message?: string;
  decision?: HookDecision;
}

const LOG_LIMIT = 8 * 1024 * 1024;

/**
 * One call of the hook (`guestabi hook run --state DIR -- DOMAIN OP SUBOP EXTRA`, the XML given):
 * `migrate begin` is decided (refused when this host cannot give the guest's platform exactly),
 * `prepare begin` (a start, and the start of an incoming migration) is logged, refused only when
 * the configuration says so. Every decision is appended to STATE/hook.log.
 */
export async function runHook(state: string, args: string[], xml: string, now = () => new Date()): Promise<HookAnswer> {
  const [domain = '-', op = '-', subop = '-'] = args;
  const kind = op === 'migrate' && subop === 'begin' ? 'migrate' : op === 'prepare' && subop === 'begin' ? 'start' : undefined;
  if (!kind) return { refuse: false };
  const started = Date.now();
  const config = readHookConfig(state);
  const guest = parseGuestText(xml, `${domain} (the domain XML libvirt passed to the ${op} hook)`, 'libvirt');
  const spec = guest.spec;
  const here = hereFor(config, state, spec.arch ?? 'x86_64', spec.accel ?? 'tcg', /<emulator>\s*([^<\s]+)\s*<\/emulator>/.exec(xml)?.[1]);
  const notes: Reason[] = [];
  let result: Arrival;
  let from: string | undefined;
  if ('why' in here) {
    result = { outcome: 'unknown', source: kind === 'start' ? 'this-host' : 'xml', reasons: [reason('HOOK_NO_PROFILE', 'warn', 'host profile', here.why, { effect: 'unknown', remedy: 'run guestabi hook install again: it asks libvirt for this host as it is now' })] };
  } else {
    const source = kind === 'migrate' && config.inventory ? await inventorySource(config, domain, here.host.catalog.arch, notes) : undefined;
    from = source?.name;
    result = arrival({ spec, here: here.host, kind, rules: migrationRules(), ...(source ? { source } : {}) });
  }
  const findings = kind === 'start' && !('why' in here) ? answerValidate({ spec, source: domain, host: here.host, today: now().toISOString().slice(0, 10) }).findings.filter((f) => f.level !== 'pass') : undefined;
  const bad = result.outcome === 'impossible' || result.outcome === 'unsafe';
  const refuse = kind === 'migrate' ? bad || (result.outcome === 'unknown' && config.unknown === 'refuse') : bad && config.starts === 'refuse';
  const decision: HookDecision = {
    schema: HOOK_DECISION_SCHEMA_ID,
    at: now().toISOString(),
    domain,
    operation: `${op} ${subop}`,
    action: refuse ? 'refuse' : 'allow',
    outcome: result.outcome,
    source: result.source,
    ...(from ? { from } : {}),
    to: config.host,
    reasons: [...notes, ...result.reasons],
    ...(findings ? { findings } : {}),
    ms: Date.now() - started,
  };
  appendLog(state, decision);
  return { refuse, decision, ...(refuse ? { message: refusal(decision, state) } : {}) };
}

/** This host's profile for the domain: its architecture and accelerator, and the emulator it was
 *  made for, unchanged since (a replaced binary is another build the profile does not speak for). */
function hereFor(config: HookConfig, state: string, arch: string, accel: string, emulator: string | undefined): { host: TargetHost } | { why: string } {
  const p = config.profiles.find((x) => x.arch === arch && x.accel === accel);
  if (!p) return { why: `no profile of ${config.host} for ${arch} guests under ${accel} (install made: ${config.profiles.map((x) => `${x.arch}/${x.accel}`).join(', ') || 'none'})` };
  if (emulator && emulator !== p.emulator.path) return { why: `the domain runs ${emulator}; the profile is of ${p.emulator.path}` };
  const stale = staleEmulator(p);
  if (stale) return { why: stale };
  if (!p.catalog) return { why: `guestabi ships no catalog of QEMU ${p.qemu}, which ${config.host} runs` };
  const profile = loadHostProfile(join(state, p.file));
  return { host: indexHost(profile, findCatalog(p.catalog, [], profile.arch)) };
}

export function staleEmulator(p: HookProfile): string | undefined {
  try {
    const st = statSync(p.emulator.path);
    if (st.size === p.emulator.size && st.mtimeMs === p.emulator.mtimeMs) return undefined;
    return `${p.emulator.path} changed since install (QEMU ${p.qemu} then): the profile no longer speaks for it`;
  } catch (e) {
    return `${p.emulator.path}: ${errorMessage(e)}`;
  }
}

/** The source host's profile from the inventory service: the guest's host there, that host's
 *  profile. Anything short of that (unreachable, slow, unknown) leaves the XML to stand in, said. */
async function inventorySource(config: HookConfig, domain: string, arch: string, notes: Reason[]): Promise<TargetHost | undefined> {
  const inv = config.inventory!;
  const budget = Math.min(3000, (config.timeoutSeconds * 1000) / 3);
  const get = async (path: string) => {
    const res = await fetch(new URL(path, inv.url.endsWith('/') ? inv.url : `${inv.url}/`), { signal: AbortSignal.timeout(budget), headers: inv.token ? { authorization: `Bearer ${inv.token}` } : {} });
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return (await res.json()) as Record<string, unknown>;
  };
  const miss = (why: string) => {
    notes.push(reason('HOOK_INVENTORY_UNANSWERED', 'warn', inv.url, `${why}: the domain XML stands in for the source host`));
    return undefined;
  };
  try {
    const guest = await get(`api/guests/${encodeURIComponent(domain)}`);
    const host = typeof guest.host === 'string' ? guest.host : undefined;
    if (!host) return miss(`the inventory has ${domain} on no host`);
    if (host === config.host) return miss(`the inventory has ${domain} on ${host}, this host, already`);
    const doc = await get(`api/hosts/${encodeURIComponent(host)}`);
    const profile = validate(HostProfile, doc.profile, `${inv.url} host ${host}`);
    if (profile.arch !== arch) return miss(`the inventory's ${host} is ${profile.arch}`);
    return indexHost(profile, findCatalog(profile.qemu.catalog, [], profile.arch));
  } catch (e) {
    return miss(`the inventory at ${inv.url} did not give the source host (${errorMessage(e)})`);
  }
}

function refusal(d: HookDecision, state: string): string {
  const what = d.operation.startsWith('migrate') ? 'the incoming migration of' : 'the start of';
  const lines = d.reasons.filter((r) => r.effect === 'impossible' || r.effect === 'unsafe' || (r.effect === 'unknown' && d.outcome === 'unknown')).map((r) => `${r.code} ${r.subject}: ${r.message}${r.remedy ? ` (remedy: ${r.remedy})` : ''}`);
  return `guestabi refuses ${what} ${d.domain} (${d.outcome}): ${lines.join('; ')}. Log: ${join(state, 'hook.log')}`;
}

/** One JSON document per line; past 8 MiB the log moves to hook.log.1 (one generation kept). */
function appendLog(state: string, d: HookDecision): void {
  const file = join(state, 'hook.log');
  try {
    if (statSync(file).size > LOG_LIMIT) renameSync(file, `${file}.1`);
  } catch {
    // no log yet
  }
  appendFileSync(file, JSON.stringify(d) + '\n', { mode: 0o600 });
}
