import { findCatalog } from '../../io/catalog-files.js';
import { migrationRules } from '../../io/rules-files.js';
import { generatePairs, type GenBuild } from '../../lab/generate.js';
import { fuzzPairs, type FuzzSummary } from '../../lab/fuzz.js';
import { checkAccel, checkIsQemu } from '../../lab/preflight.js';
import { findQemuBuild, QEMU_ARCHES, type QemuArch } from '../../qmp/build.js';
import { UserError } from '../../util/errors.js';
import { checkOutputFolder } from '../../util/files.js';
import { oneOf, parseCommandArgs } from '../args.js';
import { print, printConfusion, printJson, progressReporter } from '../output.js';

/** The builds `lab fuzz` runs between when none is named: those scripts/fetch-qemu.sh fetches. */
const FETCHED = ['5.2', '7.2', '10.0'];

function integer(value: string | undefined, flag: string, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UserError(`must be an integer of at least ${min}`, flag);
  return n;
}

/** A build with its catalog, or why it cannot be used. */
async function labBuild(version: string, flag: string, arch: QemuArch): Promise<GenBuild> {
  const build = findQemuBuild(version, arch);
  await checkIsQemu(build, flag);
  return { version, catalog: findCatalog(version, [], arch) };
}

/** The build pairs: the one named, or every ordered pair (same build included) of those fetched. */
async function buildPairs(from: string | undefined, to: string | undefined, arch: QemuArch): Promise<[GenBuild, GenBuild][]> {
  if (from !== undefined || to !== undefined) {
    if (!from || !to) throw new UserError('give both --from-qemu and --to-qemu, or neither (all pairs of the fetched builds)');
    return [[await labBuild(from, '--from-qemu', arch), await labBuild(to, '--to-qemu', arch)]];
  }
  const have: GenBuild[] = [];
  for (const v of FETCHED) {
    try {
      have.push(await labBuild(v, '--qemu', arch));
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      process.stderr.write(`note: QEMU ${v} left out: ${e.message}\n`);
    }
  }
  if (!have.length) throw new UserError('no QEMU build to run: fetch them with scripts/fetch-qemu.sh all');
  return have.flatMap((a) => have.map((b) => [a, b] as [GenBuild, GenBuild]));
}

export async function fuzzCommand(argv: string[], usage: string): Promise<number> {
  const { values } = parseCommandArgs(
    argv,
    {
      seed: { type: 'string' },
      count: { type: 'string' },
      'from-qemu': { type: 'string' },
      'to-qemu': { type: 'string' },
      accel: { type: 'string' },
      json: { type: 'boolean' },
      out: { type: 'string' },
      'max-shrink': { type: 'string' },
      jobs: { type: 'string' },
      arch: { type: 'string' },
    },
    usage,
  );
  const seed = integer(values.seed, '--seed', 1, 0);
  const count = integer(values.count, '--count', 50, 1);
  const maxShrinkTries = integer(values['max-shrink'], '--max-shrink', 40, 0);
  const jobs = integer(values.jobs, '--jobs', 1, 1);
  const accel = oneOf(values.accel, ['kvm', 'tcg'] as const, '--accel') ?? 'tcg';
  if (values.out !== undefined) checkOutputFolder(values.out, '--out');
  checkAccel(accel, values.accel !== undefined);
  const arch = oneOf(values.arch, QEMU_ARCHES, '--arch') ?? 'x86_64';
  if (arch !== 'x86_64' && accel === 'kvm') throw new UserError(`${arch} guests run under TCG on this host`, '--accel');
  const builds = await buildPairs(values['from-qemu'], values['to-qemu'], arch);
  const pairs = generatePairs({ seed, count, builds });
  const progress = values.json ? () => undefined : progressReporter('lab fuzz', { lines: true });
  const summary = await fuzzPairs(pairs, {
    seed,
    accel,
    rules: migrationRules(),
    out: values.out,
    maxShrinkTries,
    jobs,
    onPair: (r, done, total) => {
      progress(done, total, `${r.name} ${r.from}->${r.to}`);
      if (!values.json && !r.agree) print(`${r.falseSafe ? 'FALSE-SAFE' : 'DISAGREE  '} ${r.name} (${r.from} -> ${r.to}): predicted ${r.predicted}, observed ${r.observed}`);
    },
  });
  if (values.json) printJson(summary);
  else printFuzz(summary);
  return summary.falseSafe ? 1 : 0;
}

function printFuzz(s: FuzzSummary): void {
  printConfusion(s.confusion);
  const agreed = Math.round(s.agreement * s.pairs);
  if (s.refused.length) print(`${s.refused.length} generated pairs refused by check as bad input (below), left out of the table`);
  print(`seed ${s.seed}, ${s.accel}: agreement ${(s.agreement * 100).toFixed(1)}% (${agreed} of ${s.pairs}); predicted safe but not safe: ${s.falseSafe}`);
  print(`${s.secondsPerPair.toFixed(2)} s per pair; ${(s.durationMs / 1000).toFixed(0)} s in all (shrinking included)`);
  for (const r of s.refused) {
    print();
    print(`check refused ${r.scenario.name} (${r.scenario.from} -> ${r.scenario.to}): ${r.error}`);
    print(`  guest:     ${r.scenario.guest}`);
    if (r.scenario.destGuest) print(`  destGuest: ${r.scenario.destGuest}`);
  }
  for (const d of s.disagreements) {
    print();
    print(`${d.falseSafe ? 'FALSE SAFE' : 'disagreement'} ${d.scenario.name} (${d.scenario.from} -> ${d.scenario.to}): predicted ${d.predicted}, observed ${d.observed}; shrunk in ${d.shrinkTries} runs${d.file ? `, written to ${d.file}` : ''}`);
    print(`  guest:     ${d.scenario.guest}`);
    if (d.scenario.destGuest) print(`  destGuest: ${d.scenario.destGuest}`);
  }
}
