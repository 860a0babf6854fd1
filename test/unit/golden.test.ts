import { test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCatalog } from '../../src/io/catalog-files.js';
import { checkMigration } from '../../src/check/check.js';
import { guestVisibility, migrationRules } from '../../src/io/rules-files.js';
import { argvToText, pinnedToArgv } from '../../src/formats/argv-out.js';
import { parseGuestText } from '../../src/formats/guest-input.js';
import { patchLibvirtXml, pinnedToLibvirtXml } from '../../src/formats/libvirt-out.js';
import { ScenarioFile } from '../../src/lab/scenarios.js';
import { HostProfile } from '../../src/model/host.js';
import { validate } from '../../src/model/validate.js';
import { canonicalFeature } from '../../src/resolve/cpu-features.js';
import { pinGuest } from '../../src/resolve/pin.js';
import { groupHosts, indexHost, ResolveError, type Target, type TargetHost } from '../../src/resolve/target.js';
import { answerTier, answerValidate } from '../../src/service/answers.js';
import { UserError } from '../../src/util/errors.js';
import { parseJsonOrYaml } from '../../src/util/files.js';
import { expectFile, GOLDEN, jsonText } from '../golden.js';
import { FIXTURES, requireOsinfo } from '../helpers.js';

/**
 * Expected outputs beside their inputs, as libvirt's qemuxml2argv tests keep them: every lab
 * scenario's verdict, every golden guest's pinned ABI, command line and domain XML, its validation
 * and tier. A change in behaviour shows as a diff of these files (GUESTABI_REGENERATE=1).
 */
const ROOT = join(FIXTURES, '..', '..');
const rules = migrationRules();
const TODAY = '2026-11-21';

function host(name: string): TargetHost {
  const file = join(FIXTURES, 'hosts', `${name}.json`);
  const profile = validate(HostProfile, JSON.parse(readFileSync(file, 'utf8')), file);
  return indexHost(profile, findCatalog(profile.qemu.catalog));
}
const HOSTS: Record<string, TargetHost> = Object.fromEntries(['5.2-tcg', '7.2-tcg', '10.0-tcg', '7.2-kvm', '10.0-kvm'].map((n) => [n, host(`host-${n}`)]));

/** What a question gives: its document, or the error a user would see. */
function answer(f: () => unknown): unknown {
  try {
    return f();
  } catch (e) {
    if (e instanceof ResolveError) return { error: e.message, reasons: e.reasons };
    if (e instanceof UserError) return { error: e.message };
    throw e;
  }
}

test('golden: the verdict of every lab scenario on the TCG host profiles of its builds', () => {
  const file = join(ROOT, 'lab', 'scenarios.yaml');
  const suite = validate(ScenarioFile, parseJsonOrYaml(readFileSync(file, 'utf8'), file), file);
  for (const s of suite.scenarios) {
    const from = HOSTS[`${s.from}-${s.accel ?? 'tcg'}`];
    const to = HOSTS[`${s.to}-${s.accel ?? 'tcg'}`];
    if (!from || !to) continue;
    const result = answer(() => {
      const source = parseGuestText(s.guest, 'guest', 'argv').spec;
      const destination = s.destGuest ? parseGuestText(s.destGuest, 'destGuest', 'argv').spec : undefined;
      return checkMigration({ source, destination, from, to, rules, bothWays: true });
    });
    expectFile(join(GOLDEN, 'check', `${s.name}.json`), jsonText(result));
  }
});

function guests(): { name: string; text: string }[] {
  const dir = join(GOLDEN, 'guests');
  const inputs = readdirSync(dir).filter((f) => /\.(args|xml)$/.test(f));
  const libvirt = readdirSync(join(FIXTURES, 'libvirt')).filter((f) => f.endsWith('.xml'));
  return [
    ...inputs.map((f) => ({ name: f.replace(/\.\w+$/, ''), text: readFileSync(join(dir, f), 'utf8') })),
    ...libvirt.map((f) => ({ name: `libvirt-${f.replace(/\.xml$/, '')}`, text: readFileSync(join(FIXTURES, 'libvirt', f), 'utf8') })),
  ];
}

const TARGETS: Record<string, () => Target> = {
  '7.2-tcg': () => ({ kind: 'host', name: 'host-7.2-tcg', hosts: [HOSTS['7.2-tcg']!] }),
  'cluster-5.2-7.2-10.0-tcg': () => ({ kind: 'cluster', name: 'cluster', hosts: groupHosts([HOSTS['5.2-tcg']!, HOSTS['7.2-tcg']!, HOSTS['10.0-tcg']!]) }),
  '10.0-kvm': () => ({ kind: 'host', name: 'host-10.0-kvm', hosts: [HOSTS['10.0-kvm']!] }),
};

function outputs(text: string, name: string, target: Target) {
  const loaded = parseGuestText(text, name);
  const pinned = pinGuest(loaded.spec, target, { policy: 'highest-runnable', now: new Date(0), tool: 'guestabi (golden)', visibility: guestVisibility(), source: name });
  const catalog = target.hosts[0]!.catalog;
  const userSpelling = new Map((loaded.spec.cpu.features ?? []).map((f) => [canonicalFeature(f.name, catalog), f.name]));
  const o = { libvirtFeatures: undefined, featureAliases: catalog.data.cpuFeatureAliases, userSpelling };
  const xml = loaded.document ? patchLibvirtXml(loaded.document, pinned, o) : pinnedToLibvirtXml(pinned, o);
  return { pinned, argv: argvToText(pinnedToArgv(pinned)) + '\n', xml };
}

test('golden: every golden guest pinned on one host and on a cluster, as JSON, a command line and domain XML', () => {
  for (const g of guests()) {
    for (const [label, target] of Object.entries(TARGETS)) {
      const base = join(GOLDEN, 'resolve', label, g.name);
      let out: ReturnType<typeof outputs> | undefined;
      const pinned = answer(() => (out = outputs(g.text, g.name, target())).pinned);
      expectFile(`${base}.pinned.json`, jsonText(pinned));
      if (out) {
        expectFile(`${base}.args`, out.argv);
        expectFile(`${base}.xml`, out.xml);
      }
    }
  }
});

test('golden: validation of every golden guest, and tiers, on the installed osinfo-db', (t) => {
  if (!requireOsinfo(t)) return;
  for (const g of guests()) {
    const spec = answer(() => parseGuestText(g.text, g.name).spec);
    const report = answer(() => answerValidate({ spec: parseGuestText(g.text, g.name).spec, source: g.name, host: HOSTS['7.2-tcg']!, os: (spec as { os?: unknown }).os ? undefined : 'rhel9.0', today: TODAY }));
    expectFile(join(GOLDEN, 'validate', `${g.name}.json`), jsonText(report));
  }
  const cells = [];
  for (const os of ['rhel6.10', 'rhel9.0', 'win11', 'winxp', 'freebsd13.1', 'ubuntu22.04']) {
    for (const machine of ['pc-i440fx-2.6', 'pc-i440fx-10.0', 'pc-q35-5.2', 'pc-q35-10.0']) cells.push(answer(() => answerTier({ os, machine, today: TODAY })));
  }
  expectFile(join(GOLDEN, 'tier', 'matrix.json'), jsonText(cells));
});
