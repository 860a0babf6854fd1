import type { CatalogIndex } from '../../catalog/catalog.js';
import { loadCatalogFile } from '../../io/catalog-files.js';
import { hostTarget } from '../../io/host-files.js';
import type { Finding, ValidationReport } from '../../model/policy.js';
import { answerValidate, todayOption } from '../../service/answers.js';
import { UserError } from '../../util/errors.js';
import { GUEST_OPTIONS, loadOneGuest, OS_POLICY_OPTIONS, parseCommandArgs } from '../args.js';
import { print, printJson } from '../output.js';

const USAGE =
  'guestabi validate (GUEST | --guest-argv "...") --host HOST [--os SHORT_ID] [--osinfo DIR] [--policy FILE] [--vulnerabilities FILE] [--today DATE] [--catalog FILE ...] [--json]';

export function validateCommand(argv: string[]): number {
  const { values, positionals } = parseCommandArgs(
    argv,
    { ...GUEST_OPTIONS, ...OS_POLICY_OPTIONS, host: { type: 'string' }, os: { type: 'string' }, vulnerabilities: { type: 'string' } },
    USAGE,
  );
  const guest = loadOneGuest(positionals, values['guest-argv'], USAGE);
  if (!values.host) throw new UserError(`give --host HOST (a host profile from guestabi probe)\nusage: ${USAGE}`);
  const today = todayOption(values.today);
  const extra: CatalogIndex[] = (values.catalog ?? []).map((f) => loadCatalogFile(f));
  const host = hostTarget(values.host, guest.spec.arch ?? 'x86_64', extra).hosts[0]!;
  const report = answerValidate({
    spec: guest.spec,
    source: guest.source,
    host,
    os: values.os,
    today,
    osinfo: values.osinfo,
    policyFile: values.policy,
    vulnerabilitiesFile: values.vulnerabilities,
  });
  if (values.json) printJson(report);
  else printReport(report, guest.source);
  return report.result === 'fail' ? 1 : 0;
}

const CHECK_NAMES: Record<Finding['check'], string> = { vulnerability: 'Vulnerability', 'best-practice': 'Best practice', 'guest-os': 'Guest OS', viommu: 'vIOMMU' };

export function printReport(r: ValidationReport, source: string): void {
  print(`Validating ${source}: ${r.guest.machine ?? '?'}, -cpu ${r.guest.cpu ?? '?'}, OS ${r.guest.os ?? 'unknown'} on ${r.host.name} (QEMU ${r.host.qemu}, ${r.host.cpu})`);
  for (const f of r.findings) {
    const head = `${CHECK_NAMES[f.check]}: ${f.subject} (${f.code})`;
    print(`${head.padEnd(64)} : ${f.level.toUpperCase()}`);
    print(`    ${f.message}`);
    if (f.remedy) print(`    remedy: ${f.remedy}`);
    if (f.source && f.level !== 'pass') print(`    source: ${f.source}`);
  }
  const n = (l: string) => r.findings.filter((f) => f.level === l).length;
  print();
  print(`${r.result.toUpperCase()}: ${n('fail')} fail, ${n('warn')} warn, ${n('pass')} pass`);
}
