import { viommuRules } from '../io/viommu-files.js';
import { relative } from 'node:path';
import { catalogForMachine } from '../io/catalog-files.js';
import { UserError } from '../util/errors.js';
import type { GuestSpec } from '../model/guest.js';
import type { PinnedAbi, ResolutionPolicy } from '../model/pinned.js';
import type { TierPolicy, TierResult, ValidationReport, VulnerabilityMap } from '../model/policy.js';
import { openOsinfoDb, resolveOs, type OsinfoDb, type ResolvedOs } from '../osinfo/db.js';
import { loadTierPolicy, loadVulnerabilityMap, TIER_POLICY_FILE, VULNERABILITY_FILE } from '../io/policy-files.js';
import { guestVisibility } from '../io/rules-files.js';
import { guestOsTier } from '../policy/tier.js';
import { validateGuest, validationPlatform } from '../policy/validate.js';
import { pinGuest } from '../resolve/pin.js';
import type { Target, TargetHost } from '../resolve/target.js';
import { toolVersion } from '../util/tool.js';

/**
 * The questions guestabi answers, with their data files loaded: the one place that the CLI and
 * the HTTP API both call, so that the same question gets the same document from either.
 * Data files are read once per path and kept (a long-running service reads them at first use).
 */
const osinfoDbs = new Map<string, OsinfoDb>();
const tierPolicies = new Map<string, TierPolicy>();
const vulnerabilityMaps = new Map<string, VulnerabilityMap>();

function memo<T>(cache: Map<string, T>, key: string, load: () => T): T {
  let v = cache.get(key);
  if (v === undefined) {
    v = load();
    cache.set(key, v);
  }
  return v;
}

export function osinfoDb(dir?: string): OsinfoDb {
  return memo(osinfoDbs, dir ?? '', () => openOsinfoDb(dir));
}

export function tierPolicy(file = TIER_POLICY_FILE): TierPolicy {
  return memo(tierPolicies, file, () => loadTierPolicy(file));
}

export function vulnerabilityMap(file = VULNERABILITY_FILE): VulnerabilityMap {
  return memo(vulnerabilityMaps, file, () => loadVulnerabilityMap(file));
}

export interface OsPolicyOptions {
  osinfo?: string;
  policyFile?: string;
  today: string;
}

export function lookupOs(name: string, where: string, osinfo?: string): ResolvedOs {
  const db = osinfoDb(osinfo);
  return resolveOs(db, db.get(name, where));
}

export interface TierQuestion extends OsPolicyOptions {
  os: string;
  machine: string;
  qemu?: string;
  arch?: string;
  confidential?: boolean;
  iommuPlatform?: boolean;
  /** How the user named the OS field (--os, or the API's os). */
  osField?: string;
}

export function answerTier(q: TierQuestion): TierResult {
  const os = lookupOs(q.os, q.osField ?? '--os', q.osinfo);
  const catalog = catalogForMachine(q.machine, q.qemu);
  const secure = { confidential: q.confidential === true, iommuPlatform: q.iommuPlatform === true };
  return guestOsTier({ os, catalog, machine: q.machine, today: q.today, policy: tierPolicy(q.policyFile), secure, ...(q.arch ? { arch: q.arch } : {}) });
}

export interface ValidateQuestion extends OsPolicyOptions {
  spec: GuestSpec;
  source: string;
  host: TargetHost;
  os?: string;
  osField?: string;
  vulnerabilitiesFile?: string;
}

/** The data file as a reader finds it in the repository (data/policy/...), else as given. */
function relativeName(file: string): string {
  const r = relative(process.cwd(), file);
  return r.startsWith('..') ? file : r;
}

export function answerValidate(q: ValidateQuestion): ValidationReport {
  const file = q.vulnerabilitiesFile ?? VULNERABILITY_FILE;
  const osName = q.os ?? q.spec.os?.shortId ?? q.spec.os?.id;
  const os = osName ? lookupOs(osName, q.os ? (q.osField ?? '--os') : `${q.source}: libosinfo:os`, q.osinfo) : null;
  return validateGuest({
    platform: validationPlatform(q.spec, q.host, guestVisibility(), q.source),
    vulnerabilities: vulnerabilityMap(file),
    vulnerabilityFile: relativeName(file),
    os,
    tierPolicy: tierPolicy(q.policyFile),
    today: q.today,
    viommuRules: viommuRules(),
  });
}

export function answerResolve(spec: GuestSpec, target: Target, policy: ResolutionPolicy, source: string): PinnedAbi {
  return pinGuest(spec, target, { policy, now: new Date(), tool: toolVersion(), visibility: guestVisibility(), source });
}

/** Today as the user gives it (--today YYYY-MM-DD) or from the clock: the only clock read. */
export function todayOption(value: string | undefined): string {
  if (value === undefined) return new Date().toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value)) || new Date(value).toISOString().slice(0, 10) !== value) {
    throw new UserError(`not a date: '${value}' (expected YYYY-MM-DD)`, '--today');
  }
  return value;
}

