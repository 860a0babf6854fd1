import { checkMigration } from '../../check/check.js';
import { parseGuestText } from '../../formats/guest-input.js';
import { migrationRules } from '../../io/rules-files.js';
import { libvirtProfile, virshAt } from '../../probe/libvirt.js';
import { indexHost } from '../../resolve/target.js';
import { UserError } from '../../util/errors.js';
import { oneOf, parseCommandArgs } from '../args.js';
import { print, printJson } from '../output.js';
import { printCheck } from './check.js';

const USAGE = 'guestabi preflight DOMAIN --from URI --to URI [--both-ways] [--json]';

/**
 * Before `virsh migrate`: the domain's migratable XML from the source libvirt, both hosts' profiles
 * from their libvirt (probe --libvirt), and check's verdict with its reasons. Exit 0 only when the
 * migration is safe (and back, with --both-ways); then it prints the virsh command to run.
 */
export async function preflightCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { from: { type: 'string' }, to: { type: 'string' }, 'both-ways': { type: 'boolean' }, json: { type: 'boolean' } }, USAGE);
  const [domain, ...more] = positionals;
  if (!domain || more.length) throw new UserError(`give one libvirt domain name\nusage: ${USAGE}`);
  if (!values.from || !values.to) throw new UserError(`give --from URI and --to URI (qemu:///system, qemu+ssh://host/system)\nusage: ${USAGE}`);
  const dump = await virshAt(values.from).run(['dumpxml', '--migratable', domain]);
  if (dump.code !== 0) throw new UserError(`virsh dumpxml --migratable ${domain} failed: ${dump.stderr.trim().replace(/^error: /gm, '').split('\n').join(' | ')}`, `--from ${values.from}`);
  const guest = parseGuestText(dump.stdout, `${domain} (virsh -c ${values.from} dumpxml --migratable)`, 'libvirt');
  // The accelerator the domain runs with (<domain type='kvm'|'qemu'>) is the one both hosts are asked about.
  const accel = oneOf(/<domain[^>]*type=['"](kvm|qemu)['"]/.exec(dump.stdout)?.[1] === 'kvm' ? 'kvm' : 'tcg', ['kvm', 'tcg'] as const, 'domain type');
  const sides = await Promise.all([values.from, values.to].map((uri) => libvirtProfile(uri, { accel })));
  for (const [s, uri] of [[sides[0]!, values.from], [sides[1]!, values.to]] as const) {
    if (!s.catalog) throw new UserError(`libvirt there runs QEMU ${s.facts.version.qemu} (${s.facts.asked.arch}), for which guestabi ships no catalog: run guestabi probe on that host and check with its profile`, `--libvirt ${uri}`);
  }
  const [from, to] = sides.map((s) => indexHost(s.host, s.catalog!)) as [ReturnType<typeof indexHost>, ReturnType<typeof indexHost>];
  const result = checkMigration({ source: guest.spec, from, to, rules: migrationRules(), bothWays: values['both-ways'] });
  const command = `virsh -c ${values.from} migrate --live --persistent --verbose ${domain} ${values.to}`;
  if (values.json) {
    printJson({ domain, from: values.from, to: values.to, hosts: sides.map((s) => ({ name: s.host.name, qemu: s.facts.version.qemu, libvirt: s.facts.version.libvirt, accel: s.host.accel })), result, ...(result.outcome === 'safe' ? { command } : {}) });
  } else {
    print(`preflight ${domain}: ${values.from} (${sides[0]!.host.name}, QEMU ${sides[0]!.facts.version.qemu}) -> ${values.to} (${sides[1]!.host.name}, QEMU ${sides[1]!.facts.version.qemu}), host facts from libvirt`);
    printCheck(result);
    print();
    print(result.outcome === 'safe' ? `Safe. Run:\n  ${command}` : `Not safe (${result.outcome}): do not migrate as it is; the remedies above say what would make it safe (guestabi resolve ${domain}.xml --cluster HOSTS pins a machine type and CPU model both hosts give).`);
  }
  return result.outcome === 'safe' ? 0 : 1;
}
