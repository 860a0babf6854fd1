import { type TierMatrix, type TierResult } from '../../model/policy.js';
import { answerTier, lookupOs, osinfoDb, todayOption } from '../../service/answers.js';
import { UserError } from '../../util/errors.js';
import { OS_POLICY_OPTIONS, parseCommandArgs } from '../args.js';
import { print, printJson, table } from '../output.js';
import { formatReason } from './resolve.js';

const USAGE = `guestabi tier --os SHORT_ID --machine TYPE [--qemu VERSION] [--arch ARCH] [--policy FILE] [--today DATE]
                     [--osinfo DIR] [--confidential] [--iommu-platform] [--json]
       guestabi tier --matrix --os ID,ID,... --machine TYPE,TYPE,... [same options]`;

function list(value: string | undefined, flag: string): string[] {
  const items = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new UserError(`give at least one value\nusage: ${USAGE}`, flag);
  return items;
}

export function tierCommand(argv: string[]): number {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      ...OS_POLICY_OPTIONS,
      os: { type: 'string' },
      machine: { type: 'string' },
      qemu: { type: 'string' },
      arch: { type: 'string' },
      matrix: { type: 'boolean' },
      confidential: { type: 'boolean' },
      'iommu-platform': { type: 'boolean' },
      json: { type: 'boolean' },
    },
    USAGE,
  );
  if (positionals.length) throw new UserError(`unexpected argument '${positionals[0]}'\nusage: ${USAGE}`);
  const oses = list(values.os, '--os');
  const machines = list(values.machine, '--machine');
  if (!values.matrix && (oses.length > 1 || machines.length > 1)) throw new UserError(`several OSes or machine types: add --matrix\nusage: ${USAGE}`);
  const today = todayOption(values.today);
  const results: TierResult[] = [];
  for (const os of oses) {
    for (const machine of machines) {
      results.push(answerTier({ os, machine, qemu: values.qemu, arch: values.arch, today, osinfo: values.osinfo, policyFile: values.policy, confidential: values.confidential, iommuPlatform: values['iommu-platform'] }));
    }
  }
  if (!values.matrix) {
    const r = results[0]!;
    if (values.json) printJson(r);
    else printTier(r);
    return r.tier === 'unsupported' ? 1 : 0;
  }
  const matrix: TierMatrix = { schema: 'guestabi/tier-matrix@1', today, oses: oses.map((o) => lookupOs(o, '--os', values.osinfo).shortId), machines, results };
  if (values.json) printJson(matrix);
  else printMatrix(matrix, osinfoDb(values.osinfo).version);
  return 0;
}

export function printTier(r: TierResult): void {
  print(`${r.os.shortId} (${r.os.name}) on ${r.machine.name}${r.machine.asked !== r.machine.name ? ` (${r.machine.asked})` : ''}, QEMU ${r.machine.qemu}, ${r.arch}, as of ${r.today}: ${r.tier.toUpperCase()}`);
  const order = { error: 0, warn: 1, info: 2 } as const;
  for (const x of [...r.reasons].sort((a, b) => order[a.level] - order[b.level])) print(formatReason(x));
  if (r.settings.length) {
    print();
    print('Settings that make it work:');
    print('  libvirt domain XML:');
    for (const s of r.settings) for (const l of s.libvirt) print(`    ${l}`);
    print('  QEMU command line:');
    const seen = new Set<string>();
    for (const l of r.settings.flatMap((s) => s.qemu)) {
      if (seen.has(l)) continue;
      seen.add(l);
      print(`    ${l}`);
    }
  }
  if (r.alternatives.length) {
    print();
    for (const a of r.alternatives) print(`Or: ${a.machine}: ${a.why}`);
  }
}

/** A cell says the tier and, for supported, what holds it there. */
function cell(r: TierResult): string {
  if (r.tier !== 'supported') return r.tier;
  const why: string[] = [];
  if (r.settings.length) why.push('settings');
  if (r.reasons.some((x) => x.code === 'OS_PAST_EOL')) why.push('eol');
  if (r.reasons.some((x) => x.code === 'OS_TOO_OLD')) why.push('age');
  if (r.reasons.some((x) => x.code === 'OS_PRERELEASE')) why.push('prerelease');
  if (r.reasons.some((x) => ['OS_ARCH_UNKNOWN', 'RELEASE_DATE_UNKNOWN', 'OS_DRIVERS_UNKNOWN', 'CHIPSET_UNRECORDED'].includes(x.code))) why.push('data');
  return `supported (${why.join(', ')})`;
}

export function printMatrix(m: TierMatrix, osinfoVersion: string | undefined): void {
  const rows = m.oses.map((os, i) => [os, ...m.machines.map((_, j) => cell(m.results[i * m.machines.length + j]!))]);
  print(`Guest OS tiers as of ${m.today} (osinfo-db ${osinfoVersion ?? '?'}; QEMU ${[...new Set(m.results.map((r) => r.machine.qemu))].join(', ')})`);
  print();
  print(table(rows, ['OS', ...m.machines]));
  print();
  print('supported (settings): works with the settings below; (eol): past vendor end-of-life; (age): released');
  print("more than the policy's age window ago; (prerelease): a prerelease in osinfo-db; (data): osinfo-db lacks a");
  print('fact guestabi needs.');
  const notes = m.results.filter((r) => r.tier === 'unsupported' || r.settings.length);
  if (notes.length) {
    print();
    for (const r of notes) {
      const main = r.reasons.filter((x) => x.level !== 'info' && !['OS_PAST_EOL', 'OS_TOO_OLD'].includes(x.code));
      print(`${r.os.shortId} on ${r.machine.name}: ${r.tier}`);
      for (const x of main) print(`  ${x.code}: ${x.message}`);
    }
  }
}

