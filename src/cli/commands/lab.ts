import { migrationRules } from '../../io/rules-files.js';
import { argvToText, pinnedToArgv, specAsPinned } from '../../formats/argv-out.js';
import { loadGuest } from '../../formats/guest-input.js';
import { shellSplit } from '../../formats/qemuopts.js';
import { labMigrate, type LabRun } from '../../lab/migrate.js';
import { checkAccel, checkIsQemu, isAccelFailure, withAccel } from '../../lab/preflight.js';
import { ScenarioFile } from '../../lab/scenarios.js';
import { verifyScenarios, type ScenarioResult, type VerifySummary } from '../../lab/verify.js';
import { validate } from '../../model/validate.js';
import { findQemuBuild } from '../../qmp/build.js';
import { HelpRequested, RunError, UserError } from '../../util/errors.js';
import { parseJsonOrYaml, readUserFile } from '../../util/files.js';
import { oneOf, parseCommandArgs, requireOne } from '../args.js';
import { print, printConfusion, printJson, table } from '../output.js';
import { formatReason } from './resolve.js';

const USAGE = `guestabi lab migrate --from-qemu VERSION|PATH --to-qemu VERSION|PATH (GUEST | --guest-argv "...") [--dest-guest-argv "..."] [--accel kvm|tcg] [--json]
       guestabi lab verify SCENARIOS.yaml [--only NAME ...] [--min-agreement 0.95] [--json]
       guestabi lab fuzz [--seed N] [--count K] [--from-qemu V --to-qemu V] [--arch x86_64|ppc64|aarch64] [--accel tcg|kvm] [--jobs N] [--max-shrink N] [--json] [--out DIR]`;

export async function labCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === 'migrate') return migrateCommand(rest);
  if (sub === 'verify') return verifyCommand(rest);
  if (sub === 'fuzz') return (await import('./fuzz.js')).fuzzCommand(rest, USAGE);
  if (sub === '--help' || sub === '-h' || sub === 'help') throw new HelpRequested(USAGE);
  throw new UserError(`${sub ? `unknown lab command '${sub}'` : 'which lab command?'}\nusage: ${USAGE}`);
}

/** QEMU arguments for a guest: a command line as written, or another format written out as one. */
function guestArgs(file: string | undefined, argvText: string | undefined): string[] {
  const g = loadGuest({ file, argv: argvText });
  if (g.format === 'argv') return shellSplit(argvText ?? readUserFile(file!, 'guest')).filter((w, i) => !(i === 0 && !w.startsWith('-')));
  if (g.spec.cpu.mode === 'host-model') {
    // QEMU has no host-model: libvirt expands it on the host that starts the guest. Running
    // anything else in its place would prove nothing about this guest.
    throw new UserError(
      `the guest's CPU is host-model, which libvirt expands per host and QEMU cannot run: give the expanded definition (guestabi resolve ${file ?? 'GUEST'} --host HOST --output argv)`,
      file ?? '--guest-argv',
    );
  }
  return pinnedToArgv(specAsPinned(g.spec)).slice(1);
}

async function migrateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      'from-qemu': { type: 'string' },
      'to-qemu': { type: 'string' },
      'guest-argv': { type: 'string' },
      'dest-guest-argv': { type: 'string' },
      accel: { type: 'string' },
      json: { type: 'boolean' },
    },
    USAGE,
  );
  if (!values['from-qemu'] || !values['to-qemu']) throw new UserError(`give --from-qemu and --to-qemu\nusage: ${USAGE}`);
  const accel = oneOf(values.accel, ['kvm', 'tcg'] as const, '--accel');
  const source = withAccel(guestArgs(positionals[0], values['guest-argv']), accel);
  const destination = values['dest-guest-argv'] !== undefined ? withAccel(guestArgs(undefined, values['dest-guest-argv']), accel) : source;
  // What the run needs is checked first: a missing accelerator or a binary that is not QEMU is a
  // failure to run (exit 2), not a migration verdict.
  for (const a of new Set([source.accel, destination.accel])) checkAccel(a, accel !== undefined);
  const from = findQemuBuild(values['from-qemu']);
  const to = findQemuBuild(values['to-qemu']);
  await checkIsQemu(from, '--from-qemu');
  await checkIsQemu(to, '--to-qemu');
  const run = await labMigrate({ from, to, sourceArgs: source.args, destinationArgs: destination.args, rules: migrationRules() });
  if (run.stage === 'source-start' || (run.stage === 'destination-start' && isAccelFailure(run.error))) {
    const side = run.stage === 'source-start' ? `the source (--from-qemu ${values['from-qemu']})` : `the destination (--to-qemu ${values['to-qemu']})`;
    throw new RunError(`could not run the migration: ${side} did not start the guest: ${run.error}`);
  }
  if (values.json) printJson(run);
  else printMigration(run, { from: values['from-qemu'], to: values['to-qemu'], source: source.args, destination: destination === source ? undefined : destination.args });
  return run.observed === 'safe' ? 0 : 1;
}

function printMigration(run: LabRun, o: { from: string; to: string; source: string[]; destination: string[] | undefined }): void {
  const line = (a: string[]) => argvToText(['qemu', ...a]).replace(/\\\n {2}/g, '');
  print(`source       QEMU ${o.from}: ${line(o.source)}`);
  if (o.destination) print(`destination  QEMU ${o.to}: ${line(o.destination)}`);
  print(`destination started: ${run.destinationStarted ? 'yes' : 'no'}; migration: ${run.migration}; destination running: ${run.destinationRunning ? 'yes' : 'no'}`);
  print(`observed: ${run.observed.toUpperCase()} (${run.stage}, ${(run.durationMs / 1000).toFixed(1)} s)${run.error ? `: ${run.error}` : ''}`);
  for (const d of run.differences.slice(0, 40)) print(`  ${d.where} ${d.property}: ${JSON.stringify(d.source)} -> ${JSON.stringify(d.destination)}`);
  if (run.differences.length > 40) print(`  ... and ${run.differences.length - 40} more (--json)`);
}

async function verifyCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { only: { type: 'string', multiple: true }, 'min-agreement': { type: 'string' }, json: { type: 'boolean' } }, USAGE);
  const file = requireOne(positionals, 'scenario file', USAGE);
  const suite = validate(ScenarioFile, parseJsonOrYaml(readUserFile(file, 'scenarios'), file), file);
  const names = new Set<string>();
  for (const s of suite.scenarios) {
    if (names.has(s.name)) throw new UserError(`two scenarios are called '${s.name}'`, file);
    names.add(s.name);
  }
  let scenarios = suite.scenarios;
  if (values.only?.length) {
    const unknown = values.only.filter((n) => !names.has(n));
    if (unknown.length) throw new UserError(`no scenario ${unknown.join(', ')}`, '--only');
    scenarios = scenarios.filter((s) => values.only!.includes(s.name));
  }
  const min = values['min-agreement'] !== undefined ? Number(values['min-agreement']) : 0.95;
  if (!(min >= 0 && min <= 1)) throw new UserError('must be a number from 0 to 1', '--min-agreement');
  const tty = !values.json;
  const summary = await verifyScenarios(scenarios, migrationRules(), (r, i) => {
    if (tty) print(`${String(i + 1).padStart(3)}/${scenarios.length} ${r.agree ? 'agree   ' : r.falseSafe ? 'FALSE-SAFE' : 'DISAGREE'} ${r.name}: predicted ${r.predicted}, observed ${r.observed} (${(r.lab.durationMs / 1000).toFixed(1)} s)`);
  });
  if (values.json) printJson(summary);
  else printSummary(summary);
  return summary.falseSafe === 0 && summary.agreement >= min ? 0 : 1;
}

function printSummary(s: VerifySummary): void {
  printConfusion(s.confusion);
  if (s.skipped) print(`skipped ${s.skipped.names.length} KVM scenario(s): ${s.skipped.why}`);
  print(`agreement ${(s.agreement * 100).toFixed(1)}% (${s.results.filter((r) => r.agree).length} of ${s.results.length}); predicted safe but not safe: ${s.falseSafe}; ${(s.durationMs / 1000).toFixed(0)} s`);
  const dis = s.results.filter((r) => !r.agree);
  if (dis.length) {
    print();
    print('Disagreements:');
    for (const r of dis) printDisagreement(r);
  }
  print();
  print(table(s.results.map((r) => [r.name, `${r.from} -> ${r.to}`, r.predicted, r.observed, r.agree ? '' : 'x']), ['scenario', 'builds', 'predicted', 'observed', '']));
}

function printDisagreement(r: ScenarioResult): void {
  print(`  ${r.name} (${r.from} -> ${r.to}): predicted ${r.predicted}, observed ${r.observed} at ${r.lab.stage}${r.lab.error ? `: ${r.lab.error}` : ''}`);
  for (const reason of r.reasons.filter((x) => x.effect)) print(`    ${formatReason(reason).trim()}`);
  for (const d of r.lab.differences.slice(0, 10)) print(`    observed: ${d.where} ${d.property}: ${JSON.stringify(d.source)} -> ${JSON.stringify(d.destination)}`);
}
