import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  CODES,
  HTTP_PROBLEM_CODES,
  REASON_CODES,
  Reason,
  ResolveError,
  checkMigration,
  findCatalog,
  groupHosts,
  guestVisibility,
  indexHost,
  isCode,
  loadHostProfile,
  migrationRules,
  parseGuestText,
  pinGuest,
  type CodeDocument,
  type CodeInfo,
  type GuestSpec,
  type ResolutionPolicy,
  type Target,
  type TargetHost,
  UserError,
} from '../../src/index.js';
import { GOLDEN } from '../golden.js';
import { cli, FIXTURES } from '../helpers.js';

/**
 * Codes are a closed vocabulary (src/model/codes.ts). reason() takes only registered codes, so a
 * new literal does not compile; these tests catch what the compiler cannot (codes built at run
 * time, copied from data) and keep the registry's level, effect and documents true to what the
 * expected-output files and the fixtures show.
 */

interface Seen {
  code: string;
  level: string;
  effect: string | undefined;
  document: CodeDocument;
  where: string;
}

const LEVEL_RANK: Record<string, number> = { info: 0, pass: 0, warn: 1, error: 2, fail: 2 };
const EFFECT_RANK: Record<string, number> = { none: 0, unknown: 1, unsafe: 2, impossible: 3 };

/** Which document a golden file's reasons belong to: by its folder, and a finding by its shape. */
const DOCUMENT_OF_DIR: Record<string, CodeDocument> = { check: 'verdict', resolve: 'pinned-abi', tier: 'tier', validate: 'tier' };

function collect(value: unknown, document: CodeDocument, where: string, out: Seen[]): void {
  if (Array.isArray(value)) {
    for (const v of value) collect(v, document, where, out);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const o = value as Record<string, unknown>;
  if (typeof o.code === 'string' && typeof o.level === 'string') {
    // A validation finding has a check; the reasons inside a validation report are its tier's.
    out.push({ code: o.code, level: o.level, effect: o.effect as string | undefined, document: 'check' in o ? 'validation' : document, where });
  }
  for (const v of Object.values(o)) collect(v, document, where, out);
}

function goldenFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? goldenFiles(p) : p.endsWith('.json') ? [p] : [];
  });
}

function seenInGolden(): Seen[] {
  const out: Seen[] = [];
  for (const file of goldenFiles(GOLDEN)) {
    const dir = file.slice(GOLDEN.length).split('/')[0]!;
    const document = DOCUMENT_OF_DIR[dir];
    assert.ok(document, `${file}: a folder of test/golden this test does not know (add it to DOCUMENT_OF_DIR)`);
    collect(JSON.parse(readFileSync(file, 'utf8')), document, file, out);
  }
  return out;
}

function host(name: string): TargetHost {
  const profile = loadHostProfile(join(FIXTURES, 'hosts', `${name}.json`));
  return indexHost(profile, findCatalog(profile.qemu.catalog), name);
}

function fixtureGuests(): { name: string; spec: GuestSpec }[] {
  const golden = join(GOLDEN, 'guests');
  const libvirt = join(FIXTURES, 'libvirt');
  const files = [
    ...readdirSync(golden).filter((f) => f.endsWith('.args')).map((f) => join(golden, f)),
    ...readdirSync(libvirt).filter((f) => f.endsWith('.xml')).map((f) => join(libvirt, f)),
  ];
  return files.map((f) => ({ name: f, spec: parseGuestText(readFileSync(f, 'utf8'), f).spec }));
}

/** Pin every fixture guest on every fixture host with every policy, and check it between every
 *  pair of hosts both ways: the reasons each gives, refusals included. */
function seenInFixtures(): Seen[] {
  const hosts = ['host-5.2-tcg', 'host-7.2-tcg', 'host-10.0-tcg', 'host-7.2-kvm', 'host-10.0-kvm'].map(host);
  const rules = migrationRules();
  const out: Seen[] = [];
  const attempt = (document: CodeDocument, where: string, f: () => unknown) => {
    try {
      collect(f(), document, where, out);
    } catch (e) {
      // A guest a build cannot even read (a machine type it lacks) is bad input, with no codes.
      if (e instanceof UserError) return;
      if (!(e instanceof ResolveError)) throw e;
      collect(e.reasons, document, where, out);
    }
  };
  const targets: Target[] = [
    ...hosts.map((h): Target => ({ kind: 'host', name: h.name, hosts: [h] })),
    { kind: 'cluster', name: 'cluster', hosts: groupHosts(hosts.slice(0, 3)) },
  ];
  for (const g of fixtureGuests()) {
    for (const target of targets) {
      for (const policy of ['highest-runnable', 'machine-default', 'keep'] as ResolutionPolicy[]) {
        attempt('pinned-abi', `${g.name} pinned on ${target.name} (${policy})`, () => pinGuest(g.spec, target, { policy, now: new Date(0), tool: 'test', visibility: guestVisibility() }));
      }
    }
    for (const h of hosts) {
      for (const to of hosts) attempt('verdict', `${g.name} from ${h.name} to ${to.name}`, () => checkMigration({ source: g.spec, from: h, to, rules, bothWays: true }));
    }
  }
  return out;
}

function assertRegistered(seen: Seen[]): void {
  const unregistered = [...new Set(seen.filter((s) => !isCode(s.code)).map((s) => `${s.code} (${s.where})`))];
  assert.deepEqual(unregistered, [], 'codes emitted but not registered in src/model/codes.ts');
}

/** The registry's level and effect are the most severe a code comes with, and it names the
 *  documents the code was seen in. */
function assertTrueToRegistry(seen: Seen[]): void {
  const wrong = new Set<string>();
  for (const s of seen) {
    const info: CodeInfo = CODES[s.code as keyof typeof CODES];
    if (LEVEL_RANK[s.level]! > LEVEL_RANK[info.level]!) wrong.add(`${s.code}: seen at level ${s.level}, registered ${info.level} (${s.where})`);
    if (EFFECT_RANK[s.effect ?? 'none']! > EFFECT_RANK[info.effect]!) wrong.add(`${s.code}: seen with effect ${s.effect}, registered ${info.effect} (${s.where})`);
    if (!info.documents.includes(s.document)) wrong.add(`${s.code}: seen in a ${s.document} document, registered in ${info.documents.join(', ')} (${s.where})`);
  }
  assert.deepEqual([...wrong], []);
}

test('codes: every code in the expected-output files is registered, with its level, effect and documents', () => {
  const seen = seenInGolden();
  assert.ok(seen.length > 500, `only ${seen.length} coded reasons and findings in test/golden`);
  assertRegistered(seen);
  assertTrueToRegistry(seen);
});

test('codes: every code that pinning and checking the fixture guests on the fixture hosts gives is registered', () => {
  const seen = seenInFixtures();
  assert.ok(new Set(seen.map((s) => s.code)).size >= 30, 'the fixtures exercise many codes');
  assertRegistered(seen);
  assertTrueToRegistry(seen);
});

test('codes: the registry is one closed list, and the Reason schema lists exactly its document codes', () => {
  assert.deepEqual(
    REASON_CODES.filter((c) => (HTTP_PROBLEM_CODES as string[]).includes(c)),
    [],
    'a code is either a document code or an HTTP problem code',
  );
  assert.equal(Object.keys(CODES).length, REASON_CODES.length + HTTP_PROBLEM_CODES.length);
  for (const [code, info] of Object.entries(CODES)) {
    assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, code);
    assert.ok(info.meaning.length > 10 && info.meaning.length < 160 && !info.meaning.includes('\n'), `${code}: a one-line meaning`);
    assert.ok(info.documents.length > 0, `${code}: the documents it is in`);
    assert.match(info.since, /^\d+\.\d+\.\d+$/, `${code}: the version it appeared in`);
    assert.equal(info.documents.includes('http'), (HTTP_PROBLEM_CODES as string[]).includes(code), `${code}: http documents are the HTTP problem codes`);
  }
  const listed = (Reason.properties.code.anyOf as { const: string }[]).map((x) => x.const);
  assert.deepEqual(listed, REASON_CODES);
});

test('codes: guestabi codes --json lists every code seen in test/golden, as registered', () => {
  const r = cli(['codes', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { schema: string; codes: ({ code: string } & CodeInfo)[] };
  assert.equal(doc.schema, 'guestabi/codes@1');
  const listed = new Map(doc.codes.map((c) => [c.code, c]));
  const missing = [...new Set(seenInGolden().map((s) => s.code))].filter((c) => !listed.has(c));
  assert.deepEqual(missing, []);
  assert.equal(listed.size, Object.keys(CODES).length);
  for (const [code, info] of Object.entries(CODES)) assert.deepEqual(listed.get(code), { code, ...info });

  const one = cli(['codes', 'CPU_FEATURE_FILTERED']);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /CPU_FEATURE_FILTERED +warn +unsafe/);
  const bad = cli(['codes', 'NO_SUCH_CODE']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no such code: NO_SUCH_CODE/);
});
