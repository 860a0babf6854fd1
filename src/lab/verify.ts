import { kvmUnusable } from './preflight.js';
import { findCatalog } from '../io/catalog-files.js';
import { checkMigration } from '../check/check.js';
import type { Rules } from '../check/rules.js';
import { parseArgvText } from '../formats/argv-in.js';
import { shellSplit } from '../formats/qemuopts.js';
import type { Accel } from '../model/common.js';
import type { Outcome } from '../model/verdict.js';
import type { Reason } from '../model/reason.js';
import { findQemuBuild, type QemuArch, type QemuBuild } from '../qmp/build.js';
import { probeHost } from '../probe/host-probe.js';
import { liveStarter } from '../probe/session.js';
import { indexHost, type TargetHost } from '../resolve/target.js';
import { toolVersion } from '../util/tool.js';
import { labMigrate, type LabRun, type Observed } from './migrate.js';
import type { Scenario } from './scenarios.js';

export interface ScenarioResult {
  name: string;
  from: string;
  to: string;
  predicted: Outcome;
  observed: Observed;
  agree: boolean;
  /** Predicted safe, yet the migration failed or changed the guest: the worst kind of wrong. */
  falseSafe: boolean;
  reasons: Reason[];
  lab: LabRun;
}

export interface VerifySummary {
  results: ScenarioResult[];
  /** KVM scenarios not run because KVM is not usable here, and why. */
  skipped: { names: string[]; why: string } | null;
  agreement: number;
  falseSafe: number;
  confusion: Record<Outcome, Record<Observed, number>>;
  durationMs: number;
}

/** What a host with each build looks like, probed once per build and accelerator. */
export class LabHosts {
  private readonly hosts = new Map<string, Promise<{ build: QemuBuild; host: TargetHost }>>();
  get(version: string, accel: Accel, arch: QemuArch = 'x86_64'): Promise<{ build: QemuBuild; host: TargetHost }> {
    const key = `${version}/${accel}/${arch}`;
    let h = this.hosts.get(key);
    if (!h) {
      h = (async () => {
        const build = findQemuBuild(version, arch);
        const name = arch === 'x86_64' ? `lab-${version}-${accel}` : `lab-${version}-${arch}-${accel}`;
        const profile = await probeHost({ starter: liveStarter(build), accel, arch, binary: build.binary, toolVersion: toolVersion(), name });
        return { build, host: indexHost(profile, findCatalog(profile.qemu.catalog)) };
      })();
      this.hosts.set(key, h);
    }
    return h;
  }
}

/** A guest's command line as the lab starts it: with the accelerator asked for unless it names one. */
export function labArgs(text: string, accel: Accel): string[] {
  const words = shellSplit(text);
  const hasAccel = words.some((w, i) => w === '-accel' || w === '-enable-kvm' || (w === '-machine' && /accel=/.test(words[i + 1] ?? '')));
  return hasAccel ? words : [...words, '-accel', accel];
}

/** Predict with `check`, observe with a real migration, compare. */
export async function runScenario(s: Scenario, hosts: LabHosts, rules: Rules): Promise<ScenarioResult> {
  const accel = s.accel ?? 'tcg';
  const arch = s.arch ?? 'x86_64';
  const from = await hosts.get(s.from, accel, arch);
  const to = await hosts.get(s.to, accel, arch);
  const binary = `qemu-system-${arch} `;
  const source = parseArgvText(`${binary}${s.guest} -accel ${accel}`, `${s.name}: guest`);
  const destination = s.destGuest ? parseArgvText(`${binary}${s.destGuest} -accel ${accel}`, `${s.name}: destGuest`) : undefined;
  const verdict = checkMigration({ source, destination, from: from.host, to: to.host, rules }).forward;
  const lab = await labMigrate({ from: from.build, to: to.build, sourceArgs: labArgs(s.guest, accel), destinationArgs: labArgs(s.destGuest ?? s.guest, accel), rules });
  const predicted = verdict.outcome;
  return {
    name: s.name,
    from: s.from,
    to: s.to,
    predicted,
    observed: lab.observed,
    agree: predicted === lab.observed,
    falseSafe: predicted === 'safe' && lab.observed !== 'safe',
    reasons: verdict.reasons,
    lab,
  };
}

/** Run every scenario; those on KVM are skipped (and said so) where /dev/kvm cannot be used. */
export async function verifyScenarios(all: Scenario[], rules: Rules, onResult?: (r: ScenarioResult, i: number) => void): Promise<VerifySummary> {
  const started = Date.now();
  const hosts = new LabHosts();
  const results: ScenarioResult[] = [];
  const noKvm = kvmUnusable();
  const skippedNames = noKvm ? all.filter((s) => s.accel === 'kvm').map((s) => s.name) : [];
  const scenarios = all.filter((s) => !skippedNames.includes(s.name));
  for (const [i, s] of scenarios.entries()) {
    const r = await runScenario(s, hosts, rules);
    results.push(r);
    onResult?.(r, i);
  }
  const outcomes: Outcome[] = ['safe', 'unsafe', 'impossible', 'unknown'];
  const observed: Observed[] = ['safe', 'unsafe', 'impossible'];
  const confusion = Object.fromEntries(outcomes.map((p) => [p, Object.fromEntries(observed.map((o) => [o, 0]))])) as VerifySummary['confusion'];
  for (const r of results) confusion[r.predicted][r.observed]++;
  return {
    results,
    skipped: skippedNames.length ? { names: skippedNames, why: `KVM is not usable here (${noKvm})` } : null,
    agreement: results.length ? results.filter((r) => r.agree).length / results.length : 0,
    falseSafe: results.filter((r) => r.falseSafe).length,
    confusion,
    durationMs: Date.now() - started,
  };
}
