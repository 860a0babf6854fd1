import type { CatalogIndex } from '../../catalog/catalog.js';
import { hostKinds, planBaseline, planMatrix, planUpgrade } from '../../fleet/index.js';
import { findCatalog, loadCatalogFile } from '../../io/catalog-files.js';
import { clusterHosts, loadHostProfile } from '../../io/host-files.js';
import { loadInventory, type LoadedInventory } from '../../io/inventory-files.js';
import { migrationRules } from '../../io/rules-files.js';
import type { Baseline, BaselineCandidate, FleetMatrix, UpgradePlan } from '../../model/fleet.js';
import { indexHost, type TargetHost } from '../../resolve/target.js';
import { vulnerabilityMap } from '../../service/answers.js';
import { UserError } from '../../util/errors.js';
import { oneOf, parseCommandArgs } from '../args.js';
import { print, printJson, progressReporter, table } from '../output.js';

const USAGE = `guestabi plan matrix --inventory FILE|DIR [--format table|json|csv]
       guestabi plan upgrade --inventory FILE|DIR --to VERSION --wave HOST,HOST... [--wave ...] [--json]
       guestabi plan baseline (--cluster FILE | --inventory FILE|DIR) [--json]
       guestabi plan admit HOST_PROFILE (--cluster FILE | --inventory FILE|DIR) [--json]
  (--catalog FILE adds catalogs of builds guestabi does not ship)`;

const OPTIONS = {
  inventory: { type: 'string' },
  cluster: { type: 'string' },
  format: { type: 'string' },
  to: { type: 'string' },
  wave: { type: 'string', multiple: true },
  catalog: { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseCommandArgs<typeof OPTIONS>>['values'];

/** A progress bar on a terminal for plans that take more than a moment (nothing when piped). */
function cellsProgress(label: string, what: string): (done: number, total: number) => void {
  const bar = progressReporter(label);
  return (done, total) => bar(done, total, what);
}

const LETTER = { safe: 'S', unsafe: 'U', impossible: 'X', unknown: '?' } as const;

function fleet(values: Values, extra: CatalogIndex[], needGuests: boolean): LoadedInventory {
  if (values.inventory !== undefined) return loadInventory(values.inventory, extra);
  if (needGuests || values.cluster === undefined) throw new UserError(`give --inventory FILE|DIR${needGuests ? '' : ' or --cluster FILE'}\nusage: ${USAGE}`);
  // Each host on its own: plans compare hosts by all a check reads, more than resolving groups by.
  const { hosts } = clusterHosts(values.cluster, 'x86_64', extra);
  return { name: values.cluster, hosts, guests: [] };
}

function printMatrix(m: FleetMatrix): void {
  print(`${m.summary.guests} guests in ${m.summary.guestClasses} classes x ${m.summary.hosts} hosts in ${m.summary.hostKinds} kinds: ` + Object.entries(m.summary.byOutcome).map(([k, n]) => `${k} ${n}`).join(', ') + ' (cells)');
  print();
  m.hostKinds.forEach((k, i) => print(`  K${i + 1}  ${k.label} (${k.members.length} hosts: ${k.members.slice(0, 3).join(', ')}${k.members.length > 3 ? ', ...' : ''})`));
  print();
  const cell = new Map(m.cells.map((c) => [`${c.guestClass}\u0000${c.hostKind}`, c]));
  const rows = m.guestClasses.map((g) => [`${g.label} (${g.count})`, ...m.hostKinds.map((k) => LETTER[cell.get(`${g.id}\u0000${k.id}`)!.outcome])]);
  print(table(rows, ['guest class (guests)', ...m.hostKinds.map((_, i) => `K${i + 1}`)]));
  print('\nS safe, U unsafe (the guest sees another platform), X impossible (QEMU refuses), ? unknown. Why, per class and kind:');
  for (const g of m.guestClasses) {
    const bad = m.hostKinds.map((k, i) => [i, cell.get(`${g.id}\u0000${k.id}`)!] as const).filter(([, c]) => c.outcome !== 'safe');
    const byCodes = new Map<string, number[]>();
    for (const [i, c] of bad) byCodes.set(c.error ?? c.codes.join(' '), [...(byCodes.get(c.error ?? c.codes.join(' ')) ?? []), i + 1]);
    for (const [codes, ks] of byCodes) print(`  ${g.label}: ${ks.map((k) => `K${k}`).join(' ')}: ${codes || '(no code)'}`);
  }
}

function matrixCsv(m: FleetMatrix): string {
  const q = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const kinds = new Map(m.hostKinds.map((k) => [k.id, k]));
  const classes = new Map(m.guestClasses.map((g) => [g.id, g]));
  const lines = ['guest_class,guests,machine,cpu,source_kind,destination_kind,destination_hosts,outcome,codes'];
  for (const c of m.cells) {
    const g = classes.get(c.guestClass)!;
    const k = kinds.get(c.hostKind)!;
    lines.push([g.id, String(g.count), g.machine, g.cpu, g.source ?? '', k.label, String(k.members.length), c.outcome, c.error ?? c.codes.join(' ')].map(q).join(','));
  }
  return lines.join('\n') + '\n';
}

function matrixCommand(values: Values, extra: CatalogIndex[]): number {
  const format = oneOf(values.format, ['table', 'json', 'csv'] as const, '--format') ?? (values.json ? 'json' : 'table');
  const inv = fleet(values, extra, true);
  const m = planMatrix({ hosts: inv.hosts, guests: inv.guests, rules: migrationRules(), progress: cellsProgress('matrix', 'cells') });
  if (format === 'json') printJson(m);
  else if (format === 'csv') process.stdout.write(matrixCsv(m));
  else printMatrix(m);
  return 0;
}

function waves(values: Values): string[][] {
  if (!values.wave?.length) throw new UserError(`give at least one --wave HOST,HOST...\nusage: ${USAGE}`);
  return values.wave.map((w) => w.split(',').map((s) => s.trim()).filter(Boolean));
}

function printUpgrade(p: UpgradePlan): void {
  const s = p.summary;
  print(`Upgrade to ${p.to}, ${s.waves} wave(s), ${s.guests} guests on their hosts:`);
  print(`  ${s.loseForward} cannot move forward safely, ${s.loseRollback} cannot roll back safely, ${s.loseSavedState} cannot load their saved state or memory snapshots safely;`);
  print(`  machine type deprecated for ${s.deprecatedMachines}, removed for ${s.removedMachines}`);
  for (const n of p.notes) print(`  note: ${n.message}`);
  for (const w of p.waves) {
    print(`\nWave ${w.index}: ${w.hosts.join(', ')}`);
    const rows = w.guests.map((g) => {
      const st = `${g.state}${g.memorySnapshots ? ` +${g.memorySnapshots} memory snapshots` : ''}`;
      const machine = g.machineStatus === 'ok' ? g.machine : `${g.machine} (${g.machineStatus}${g.suggestedMachine ? `; newest ${g.suggestedMachine}` : ''})`;
      return [g.guest, st, machine, `${g.forward} -> ${g.forwardTo}`, `${g.rollback} -> ${g.rollbackTo}`, g.error ?? g.codes.join(' ')];
    });
    print(table(rows, ['guest', 'state', 'machine', 'forward', 'rollback', 'why']));
  }
}

function upgradeCommand(values: Values, extra: CatalogIndex[]): number {
  if (!values.to) throw new UserError(`give --to VERSION (a QEMU build: 10.0, or a catalog id)\nusage: ${USAGE}`);
  const inv = fleet(values, extra, true);
  const to = findCatalog(values.to, extra);
  const plan = planUpgrade({ hosts: inv.hosts, guests: inv.guests, to, waves: waves(values), rules: migrationRules(), progress: cellsProgress('upgrade', 'guests') });
  if (values.json) printJson(plan);
  else printUpgrade(plan);
  return plan.summary.loseForward || plan.summary.loseRollback ? 1 : 0;
}

function printBaseline(b: Baseline): void {
  print(`Baseline for ${b.hosts} hosts, best first:`);
  for (const n of b.notes) print(`  note: ${n.message}`);
  const rows = b.candidates.map((c) => [String(c.rank), c.cpu + Object.entries(c.features).map(([f, on]) => `,${on ? '+' : '-'}${f}`).join(''), c.machine, String(c.cost.featuresLost), String(c.cost.mitigationsLost), String(c.cost.guestsToRestart)]);
  print(table(rows, ['#', 'CPU', 'machine', 'features lost', 'mitigations lost', 'guests to restart']));
}

function baselineCommand(values: Values, extra: CatalogIndex[]): number {
  const inv = fleet(values, extra, false);
  const b = planBaseline({ hosts: inv.hosts, guests: inv.guests, vulnerabilityMap: vulnerabilityMap() });
  if (values.json) printJson(b);
  else printBaseline(b);
  return b.candidates.length ? 0 : 1;
}

/** The CPU features a candidate gives the guest: its model's on the machine type, and the extras. */
function candidateFeatures(c: BaselineCandidate, host: TargetHost): Set<string> {
  const e = host.catalog.cpuOnMachine(c.cpu, c.machine) ?? {};
  const known = host.catalog.cpuFeatures();
  const on = new Set(Object.keys(e).filter((k) => e[k] === true && known.has(k)));
  for (const [f, v] of Object.entries(c.features)) if (v) on.add(f);
  else on.delete(f);
  return on;
}

/** Host kinds without which the fleet's best baseline would give more: they hold it back. */
function holdingBack(hosts: TargetHost[], current: BaselineCandidate): { kind: string; hosts: string[]; baseline: string; gains: string[] }[] {
  const have = candidateFeatures(current, hosts[0]!);
  const kinds = hostKinds(hosts);
  const out = [];
  for (const k of kinds.kinds) {
    const rest = hosts.filter((h) => !k.members.includes(h.name));
    const better = rest.length ? planBaseline({ hosts: rest, vulnerabilityMap: vulnerabilityMap() }).candidates[0] : undefined;
    if (!better) continue;
    const gains = [...candidateFeatures(better, rest[0]!)].filter((f) => !have.has(f)).sort();
    if (gains.length) out.push({ kind: k.label, hosts: k.members, baseline: better.cpu, gains });
  }
  return out;
}

/** EVC-style admission: can HOST join under the fleet's current best baseline, and what holds the baseline back. */
function admitCommand(values: Values, extra: CatalogIndex[], file: string): number {
  const inv = fleet(values, extra, false);
  const profile = loadHostProfile(file);
  const host: TargetHost = indexHost(profile, findCatalog(profile.qemu.catalog, extra));
  const current = planBaseline({ hosts: inv.hosts, vulnerabilityMap: vulnerabilityMap() }).candidates[0];
  const blocked = current ? [...(host.unavailable.get(current.cpu) ?? ['(model unknown to this host)'])] : [];
  const extraMissing = current ? Object.entries(current.features).filter(([f, on]) => on && host.hostFeatures && !host.hostFeatures.has(f)).map(([f]) => f) : [];
  const admitted = current !== undefined && blocked.length === 0 && extraMissing.length === 0;
  const heldBy = current ? holdingBack(inv.hosts, current) : [];
  const result = { host: profile.name, baseline: current ?? null, admitted, missing: [...blocked, ...extraMissing], heldBy };
  if (values.json) printJson(result);
  else if (!current) print('The fleet has no baseline every host can run.');
  else {
    print(`${admitted ? 'ADMIT' : 'REFUSE'} ${profile.name} under ${current.cpu} on ${current.machine}${admitted ? '' : `: it lacks ${result.missing.join(' ')}`}`);
    for (const h of heldBy) print(`  held back by ${h.hosts.join(', ')} (${h.kind}): without them, ${h.baseline} would add ${h.gains.join(' ')}`);
  }
  return admitted ? 0 : 1;
}

export function planCommand(argv: string[]): number {
  const { values, positionals } = parseCommandArgs(argv, OPTIONS, USAGE);
  const [sub, ...rest] = positionals;
  const extra: CatalogIndex[] = (values.catalog ?? []).map((f) => loadCatalogFile(f));
  if (sub !== 'admit' && rest.length) throw new UserError(`unexpected argument '${rest[0]}'\nusage: ${USAGE}`);
  switch (sub) {
    case 'matrix':
      return matrixCommand(values, extra);
    case 'upgrade':
      return upgradeCommand(values, extra);
    case 'baseline':
      return baselineCommand(values, extra);
    case 'admit':
      if (rest.length !== 1) throw new UserError(`give one host profile to admit\nusage: ${USAGE}`);
      return admitCommand(values, extra, rest[0]!);
    default:
      throw new UserError(`which plan? matrix, upgrade, baseline or admit\nusage: ${USAGE}`);
  }
}
