import { existsSync, readFileSync } from 'node:fs';
import type { CatalogIndex } from '../../catalog/catalog.js';
import { loadCatalogFile } from '../../io/catalog-files.js';
import { argvToText, pinnedToArgv } from '../../formats/argv-out.js';
import type { LoadedGuest } from '../../formats/guest-input.js';
import { patchLibvirtXml, pinnedToLibvirtXml, type LibvirtOutOptions } from '../../formats/libvirt-out.js';
import { clusterTarget, hostTarget } from '../../io/host-files.js';
import { guestVisibility } from '../../io/rules-files.js';
import type { PinnedAbi, ResolutionPolicy } from '../../model/pinned.js';
import type { Reason } from '../../model/reason.js';
import { canonicalFeature } from '../../resolve/cpu-features.js';
import { pinGuest } from '../../resolve/pin.js';
import { ResolveError, type Target } from '../../resolve/target.js';
import { UserError } from '../../util/errors.js';
import { toolVersion } from '../../util/tool.js';
import { GUEST_OPTIONS, loadOneGuest, oneOf, parseCommandArgs } from '../args.js';
import { print, printJson } from '../output.js';

const USAGE =
  'guestabi resolve (GUEST | --guest-argv "...") (--host FILE | --cluster FILE) [--policy highest-runnable|machine-default|keep] [--output json|libvirt|argv] [--catalog FILE ...] [--json]';

const LIBVIRT_CPU_FEATURES = '/usr/share/libvirt/cpu_map/x86_features.xml';

/** libvirt's own CPU feature names, from its cpu_map when libvirt is installed. */
export function libvirtFeatureNames(): Set<string> | undefined {
  if (!existsSync(LIBVIRT_CPU_FEATURES)) return undefined;
  return new Set([...readFileSync(LIBVIRT_CPU_FEATURES, 'utf8').matchAll(/<feature name='([^']+)'/g)].map((m) => m[1]!));
}

/** Whether the installed libvirt's CPU map defines a model (libvirt 9.0 has unversioned names only). */
function libvirtKnowsModel(model: string): boolean {
  return !existsSync('/usr/share/libvirt/cpu_map') || existsSync(`/usr/share/libvirt/cpu_map/x86_${model}.xml`);
}

/** The guest, and the host or cluster it is resolved against: shared by resolve, check and validate. */
export function loadTarget(values: { host?: string; cluster?: string; catalog?: string[] }, arch: string): Target {
  if ((values.host === undefined) === (values.cluster === undefined)) throw new UserError('give one of --host FILE or --cluster FILE');
  const extra: CatalogIndex[] = (values.catalog ?? []).map((f) => loadCatalogFile(f));
  return values.host !== undefined ? hostTarget(values.host, arch, extra) : clusterTarget(values.cluster!, arch, extra);
}

export function outputFor(guest: LoadedGuest, pinned: PinnedAbi, target: Target, format: 'json' | 'libvirt' | 'argv'): string {
  if (format === 'json') return JSON.stringify(pinned, null, 2) + '\n';
  if (format === 'argv') return argvToText(pinnedToArgv(pinned)) + '\n';
  const catalog = target.hosts[0]!.catalog;
  const userSpelling = new Map((guest.spec.cpu.features ?? []).map((f) => [canonicalFeature(f.name, catalog), f.name]));
  const o: LibvirtOutOptions = { libvirtFeatures: libvirtFeatureNames(), featureAliases: catalog.data.cpuFeatureAliases, userSpelling };
  return guest.document ? patchLibvirtXml(guest.document, pinned, o) : pinnedToLibvirtXml(pinned, o);
}

export async function resolveCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { ...GUEST_OPTIONS, host: { type: 'string' }, cluster: { type: 'string' }, policy: { type: 'string' }, output: { type: 'string' } },
    USAGE,
  );
  const policy = oneOf(values.policy, ['highest-runnable', 'machine-default', 'keep'] as const, '--policy') ?? 'highest-runnable';
  const output = oneOf(values.output, ['json', 'libvirt', 'argv'] as const, '--output');
  const guest = loadOneGuest(positionals, values['guest-argv'], USAGE);
  const target = loadTarget(values, guest.spec.arch ?? 'x86_64');
  let pinned: PinnedAbi;
  try {
    pinned = pinGuest(guest.spec, target, { policy: policy as ResolutionPolicy, now: new Date(), tool: toolVersion(), visibility: guestVisibility(), source: guest.source });
  } catch (e) {
    if (!(e instanceof ResolveError)) throw e;
    if (values.json || output === 'json') printJson({ error: e.message, reasons: e.reasons });
    else {
      process.stderr.write(`guestabi: ${e.message}\n`);
      for (const r of e.reasons) process.stderr.write(formatReason(r) + '\n');
    }
    return 1;
  }
  if (values.json || output === 'json') {
    process.stdout.write(outputFor(guest, pinned, target, 'json'));
    return 0;
  }
  if (output) {
    process.stdout.write(outputFor(guest, pinned, target, output));
    const notes = [...pinned.warnings];
    if (output === 'libvirt' && pinned.cpu.model && /-v\d+$/.test(pinned.cpu.model) && !libvirtKnowsModel(pinned.cpu.model)) {
      notes.push({
        code: 'LIBVIRT_VERSIONED_MODEL',
        level: 'warn',
        subject: pinned.cpu.model,
        message: `the installed libvirt's CPU map has no ${pinned.cpu.model}: libvirt 9.0 (Debian 12) defines such a domain but refuses to start it ("Unknown CPU model"); newer libvirt lists versioned models`,
        remedy: 'use a libvirt that knows versioned CPU models, or the QEMU command line (--output argv)',
      });
    }
    for (const w of notes) process.stderr.write(formatReason(w) + '\n');
    return 0;
  }
  printPinned(pinned);
  return 0;
}

export function formatReason(r: Reason): string {
  const tag = r.level === 'error' ? 'ERROR' : r.level === 'warn' ? 'WARN ' : 'info ';
  const lines = [`  ${tag} ${r.code}: ${r.message}${r.host && !r.message.includes(r.host) ? ` [${r.host}]` : ''}`];
  if (r.details?.length && !r.message.includes(r.details.join(' '))) lines.push(`        ${r.details.join(' ')}`);
  if (r.remedy) lines.push(`        remedy: ${r.remedy}`);
  return lines.join('\n');
}

function printPinned(p: PinnedAbi): void {
  const a = p.provenance.asked;
  const against = p.provenance.against;
  print(`Resolved ${p.name ?? 'guest'} against ${against.kind} ${against.name} (${against.hosts.length} host${against.hosts.length > 1 ? 's' : ''}: ${[...new Set(against.hosts.map((h) => h.catalog))].join(', ')}), policy ${p.provenance.policy}`);
  print(`  machine  ${a.machine} -> ${p.machine.type}`);
  const c = p.cpu;
  const feats = Object.entries(c.features).map(([f, on]) => `${on ? '+' : '-'}${f}`);
  print(`  cpu      ${a.cpuMode}${a.cpuModel ? ` ${a.cpuModel}` : ''} -> ${c.hostDependent ? `${c.mode} (host-dependent)` : c.model}${feats.length ? ` ${feats.join(' ')}` : ''}${c.enforce ? ' enforce' : ''}`);
  if (c.identity) print(`           ${c.identity.vendor} family ${c.identity.family} model ${c.identity.model} stepping ${c.identity.stepping} "${c.identity.modelId}"`);
  print(`  memory   ${p.memory.sizeMiB} MiB; vCPUs ${p.vcpus.count}${p.vcpus.sockets ? ` (${p.vcpus.sockets} sockets x ${p.vcpus.cores ?? 1} cores x ${p.vcpus.threads ?? 1} threads)` : ''}`);
  const unknown = p.devices.filter((d) => !d.catalogKey).length;
  print(`  devices  ${p.devices.length} (${p.devices.length - unknown} with properties from the catalog${unknown ? `, ${unknown} unknown to it` : ''})`);
  for (const d of p.devices) print(`           ${d.type}${d.placement !== 'root' ? ` @${d.placement}` : ''}${d.id ? ` id=${d.id}` : ''}${d.catalogKey ? '' : '  (not in catalog)'}`);
  print('Why:');
  for (const r of p.provenance.decisions) print(formatReason(r));
  if (p.warnings.length) {
    print('Warnings:');
    for (const r of p.warnings) print(formatReason(r));
  }
  print('Write it out: --output libvirt | --output argv | --json');
}
