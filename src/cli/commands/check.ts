import type { CatalogIndex } from '../../catalog/catalog.js';
import { loadCatalogFile } from '../../io/catalog-files.js';
import { checkMigration } from '../../check/check.js';
import { migrationRules } from '../../io/rules-files.js';
import { loadGuest } from '../../formats/guest-input.js';
import { hostTarget } from '../../io/host-files.js';
import type { CheckResult, Verdict } from '../../model/verdict.js';
import { UserError } from '../../util/errors.js';
import { GUEST_OPTIONS, loadOneGuest, parseCommandArgs } from '../args.js';
import { print, printJson } from '../output.js';
import { formatReason } from './resolve.js';

const USAGE =
  'guestabi check (GUEST | --guest-argv "...") --from HOST --to HOST [--dest-guest FILE | --dest-guest-argv "..."] [--both-ways] [--catalog FILE ...] [--rules FILE] [--json]';

export function checkCommand(argv: string[]): number {
  const { values, positionals } = parseCommandArgs(
    argv,
    {
      ...GUEST_OPTIONS,
      from: { type: 'string' },
      to: { type: 'string' },
      'dest-guest': { type: 'string' },
      'dest-guest-argv': { type: 'string' },
      'both-ways': { type: 'boolean' },
      rules: { type: 'string' },
    },
    USAGE,
  );
  const guest = loadOneGuest(positionals, values['guest-argv'], USAGE);
  if (!values.from || !values.to) throw new UserError(`give --from HOST and --to HOST (host profiles from guestabi probe)\nusage: ${USAGE}`);
  const dest = values['dest-guest'] !== undefined || values['dest-guest-argv'] !== undefined ? loadGuest({ file: values['dest-guest'], argv: values['dest-guest-argv'] }) : undefined;
  const arch = guest.spec.arch ?? 'x86_64';
  const extra: CatalogIndex[] = (values.catalog ?? []).map((f) => loadCatalogFile(f));
  const from = hostTarget(values.from, arch, extra, true).hosts[0]!;
  const to = hostTarget(values.to, arch, extra, true).hosts[0]!;
  const result = checkMigration({
    source: guest.spec,
    destination: dest?.spec,
    from,
    to,
    rules: values.rules ? migrationRules(values.rules) : migrationRules(),
    bothWays: values['both-ways'],
  });
  if (values.json) printJson(result);
  else printCheck(result);
  return result.outcome === 'safe' ? 0 : 1;
}

function describeSide(s: Verdict['from']): string {
  return `${s.host} (QEMU ${s.catalog.replace(/^qemu-|-(x86_64|ppc64|aarch64|s390x)$/g, '')}${s.machine ? `, ${s.machine}` : ''}${s.cpu ? `, -cpu ${s.cpu}` : ''})`;
}

function printVerdict(v: Verdict): void {
  print(`${v.direction.padEnd(8)} ${describeSide(v.from)} -> ${describeSide(v.to)}: ${v.outcome.toUpperCase()}`);
  const order = { error: 0, warn: 1, info: 2 } as const;
  for (const r of [...v.reasons].sort((a, b) => order[a.level] - order[b.level])) print(formatReason(r));
}

export function printCheck(r: CheckResult): void {
  printVerdict(r.forward);
  if (r.rollback) {
    print();
    printVerdict(r.rollback);
  }
  if (r.fence) {
    print();
    print('Rollback fence: what would end rollback');
    for (const f of r.fence) print(formatReason(f));
  }
}
