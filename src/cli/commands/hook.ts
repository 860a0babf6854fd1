import { readFileSync } from 'node:fs';
import { installHook, uninstallHook } from '../../hook/install.js';
import { runHook } from '../../hook/run.js';
import { REFUSE_EXIT } from '../../hook/script.js';
import { DEFAULT_HOOKS_DIR, DEFAULT_STATE } from '../../hook/state.js';
import { hookStatus, type HookStatus } from '../../hook/status.js';
import { UserError } from '../../util/errors.js';
import { oneOf, parseCommandArgs } from '../args.js';
import { print, printJson } from '../output.js';
import { formatReason } from './resolve.js';

const USAGE = `guestabi hook install [--uri URI | --host PROFILE ...] [--inventory URL [--inventory-token-file FILE]]
                      [--starts log|refuse] [--unknown allow|refuse] [--timeout SECONDS] [--no-reload] [--json]
       guestabi hook status [--last N] [--json]
       guestabi hook uninstall [--no-reload] [--json]
       guestabi hook run -- DOMAIN OPERATION SUB-OPERATION EXTRA   (what the installed script runs; the XML on stdin)
  every one takes --state DIR (default ${DEFAULT_STATE}) and --hooks-dir DIR (default ${DEFAULT_HOOKS_DIR})`;

const OPTIONS = {
  uri: { type: 'string' },
  host: { type: 'string', multiple: true },
  inventory: { type: 'string' },
  'inventory-token-file': { type: 'string' },
  starts: { type: 'string' },
  unknown: { type: 'string' },
  timeout: { type: 'string' },
  'no-reload': { type: 'boolean' },
  state: { type: 'string' },
  'hooks-dir': { type: 'string' },
  last: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** guestabi hook: a libvirt hook that refuses an incoming migration this host cannot give exactly. */
export async function hookCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseCommandArgs(rest, OPTIONS, USAGE);
  const state = values.state ?? DEFAULT_STATE;
  const hooksDir = values['hooks-dir'] ?? DEFAULT_HOOKS_DIR;
  if (sub === 'run') return run(state, positionals);
  if (positionals.length) throw new UserError(`unexpected argument '${positionals[0]}'\nusage: ${USAGE}`);
  if (sub === 'install') {
    const timeout = Number(values.timeout ?? '10');
    if (!(timeout > 0 && timeout <= 600)) throw new UserError(`--timeout takes seconds, more than 0 and at most 600, not '${values.timeout}'`, '--timeout');
    if (values.uri && values.host) throw new UserError('give --uri (profiles from libvirt) or --host (profiles of guestabi probe), not both', '--host');
    const r = await installHook({
      uri: values.uri ?? 'qemu:///system',
      hosts: values.host ?? [],
      ...(values.inventory ? { inventory: values.inventory } : {}),
      ...(values['inventory-token-file'] ? { tokenFile: values['inventory-token-file'] } : {}),
      starts: oneOf(values.starts, ['log', 'refuse'] as const, '--starts') ?? 'log',
      unknown: oneOf(values.unknown, ['allow', 'refuse'] as const, '--unknown') ?? 'allow',
      timeoutSeconds: timeout,
      hooksDir,
      state,
      reload: !values['no-reload'],
    });
    if (values.json) printJson({ ...r, config: { ...r.config, inventory: r.config.inventory ? { url: r.config.inventory.url } : undefined } });
    else {
      print(`installed ${r.config.script} (state in ${state})`);
      for (const p of r.config.profiles) print(`  ${r.config.host}: ${p.arch} under ${p.accel}, QEMU ${p.qemu} (${p.emulator.path}), ${p.catalog ? `catalog ${p.catalog}` : 'no shipped catalog: every decision is unknown'}, from ${p.from}`);
      print(`  source hosts: ${r.config.inventory ? `the inventory at ${r.config.inventory.url}, else the domain XML` : 'the domain XML (no --inventory)'}`);
      print(`  incoming migrations: refused when impossible or unsafe${r.config.unknown === 'refuse' ? ' or unknown' : ''}; starts: ${r.config.starts === 'refuse' ? 'refused when this host cannot give them exactly' : 'logged'}; ${r.config.timeoutSeconds} s at most, then libvirt proceeds`);
      print(`  ${r.reloaded}`);
    }
    return 0;
  }
  if (sub === 'uninstall') {
    const r = uninstallHook(state, hooksDir, !values['no-reload']);
    if (values.json) printJson(r);
    else {
      print(r.removed.length ? `removed:\n${r.removed.map((x) => `  ${x}`).join('\n')}` : 'nothing of the hook was installed');
      for (const l of r.left) print(`left: ${l}`);
      if (r.reloaded) print(r.reloaded);
    }
    return 0;
  }
  if (sub === 'status') {
    const s = hookStatus(state, hooksDir, Number(values.last ?? '10'));
    if (values.json) printJson({ ...s, config: s.config ? { ...s.config, inventory: s.config.inventory ? { url: s.config.inventory.url } : undefined } : undefined });
    else printStatus(s);
    return s.installed && s.profiles.every((p) => !p.stale) ? 0 : 1;
  }
  throw new UserError(`give install, status, uninstall or run\nusage: ${USAGE}`);
}

/** What libvirt's script runs: nothing on stdout (on migrate it would replace the XML). */
async function run(state: string, positionals: string[]): Promise<number> {
  if (positionals.length < 3) throw new UserError(`give DOMAIN OPERATION SUB-OPERATION [EXTRA], as libvirt does\nusage: ${USAGE}`);
  const xml = /^(migrate|prepare)$/.test(positionals[1]!) ? readFileSync(0, 'utf8') : '';
  const answer = await runHook(state, positionals, xml);
  if (!answer.refuse) return 0;
  process.stderr.write(`${answer.message}\n`);
  return REFUSE_EXIT;
}

function printStatus(s: HookStatus): void {
  const c = s.config;
  print(s.installed ? `installed: ${s.script.path}${s.script.executable ? '' : ' (NOT executable: libvirt skips it)'}` : `not installed${s.script.present && !s.script.ours ? ` (${s.script.path} is someone else's)` : ''}`);
  if (c) {
    print(`  installed ${c.installedAt} for ${c.host} from ${c.uri}; source hosts from ${c.inventory ? c.inventory.url : 'the domain XML'}; starts ${c.starts}, unknown ${c.unknown}, timeout ${c.timeoutSeconds} s`);
    for (const p of s.profiles) print(`  profile ${p.arch}/${p.accel}: QEMU ${p.qemu}, ${p.emulator}${p.stale ? ` STALE: ${p.stale}; run guestabi hook install again` : ', current'}`);
  }
  print(`log ${s.log.path}: ${s.log.entries} entries, ${s.log.refused} refused, ${s.log.failures} own failures`);
  for (const e of s.log.last) {
    if (e.schema === 'guestabi/hook-failure@1') print(`  ${String(e.at)} ${String(e.domain)} ${String(e.operation)}: FAILED ${String(e.why)}: ${String(e.detail)}`);
    else {
      print(`  ${String(e.at)} ${String(e.domain)} ${String(e.operation)}: ${String(e.action).toUpperCase()} (${String(e.outcome)}, source ${String(e.source)}${e.from ? ` ${String(e.from)}` : ''}, ${String(e.ms)} ms)`);
      for (const r of (e.reasons as Parameters<typeof formatReason>[0][] | undefined) ?? []) if (r.level !== 'info') print(`    ${formatReason(r)}`);
    }
  }
}
