/**
 * Property-based fuzzing of every parser of what users give guestabi, with fast-check: seeded,
 * shrinking to a minimal failing input, in node:test, no native toolchain. The inputs are
 * structured mutations of real ones (the fixture domains, the lab's command lines, the fixture
 * profiles and clusters, the shipped policy and rules), not only random strings.
 *
 * The property: a parser returns a result or throws a GuestabiError whose message names its place
 * (the file, or --guest-argv); never another exception. GUESTABI_FUZZ_RUNS sets the runs per
 * parser (300 in CI), GUESTABI_FUZZ_SEED the seed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { parseGuestText } from '../../src/formats/guest-input.js';
import { clusterTarget, loadHostProfile } from '../../src/io/host-files.js';
import { loadInventory } from '../../src/io/inventory-files.js';
import { loadTierPolicy } from '../../src/io/policy-files.js';
import { migrationRules } from '../../src/io/rules-files.js';
import { GuestabiError } from '../../src/util/errors.js';
import { FIXTURES } from '../helpers.js';

const RUNS = Number(process.env.GUESTABI_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.GUESTABI_FUZZ_SEED ?? 9);
const ROOT = join(FIXTURES, '..', '..');
const read = (p: string) => readFileSync(p, 'utf8');

const XMLS = readdirSync(join(FIXTURES, 'libvirt')).filter((f) => f.endsWith('.xml')).map((f) => read(join(FIXTURES, 'libvirt', f)));
const ARGVS = (parseYaml(read(join(ROOT, 'lab/scenarios.yaml'))) as { scenarios: { guest?: string; destGuest?: string }[] }).scenarios
  .flatMap((s) => [s.guest, s.destGuest])
  .filter((g): g is string => typeof g === 'string' && g.startsWith('-'));
const PROFILES = readdirSync(join(FIXTURES, 'hosts')).filter((f) => f.endsWith('.json')).map((f) => read(join(FIXTURES, 'hosts', f)));
const SPECS = XMLS.slice(0, 3).map((x) => parseGuestText(x, 'fixture.xml', 'libvirt').spec);

/** Tokens that break parsers: markup, QEMU option syntax, numbers at and past every limit. */
const NASTY = ['<', '>', '&', '&amp;', ']]>', '<!--', '"', "'", '\\', ',', ',,', '=', '-', '--', ' ', '\n', '\t', '\0', '-smp', '-m', '-device', '-machine',
  '-cpu', '0', '-1', '1e308', '1e9', 'NaN', 'Infinity', '0x10', '4294967296', '99999999999999999999', '1.5', 'on', 'off', 'null', 'true', '{', '}', '[', ']',
  ':', '- ', '&a', '*a', '!!binary', '!frob', '%YAML 1.1', '---', '...', '{}', '[]', 'maxcpus=1', 'sockets=0', 'cpus=2', 'size=', 'k=v', 'pc-q35-7.2', 'q35', '\u00e9', '\ud83d\ude00'];

/** One edit of a text: delete, duplicate or replace a slice, or insert a token. */
const textEdit = fc.record({
  kind: fc.constantFrom('delete', 'duplicate', 'insert', 'replace'),
  at: fc.nat(),
  len: fc.nat({ max: 40 }),
  token: fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 8 }), fc.integer().map(String)),
});
type TextEdit = typeof textEdit extends fc.Arbitrary<infer T> ? T : never;

function applyEdits(text: string, edits: TextEdit[]): string {
  let t = text;
  for (const e of edits) {
    const at = t.length ? e.at % (t.length + 1) : 0;
    const end = Math.min(t.length, at + e.len);
    if (e.kind === 'delete') t = t.slice(0, at) + t.slice(end);
    else if (e.kind === 'duplicate') t = t.slice(0, end) + t.slice(at, end) + t.slice(end);
    else if (e.kind === 'insert') t = t.slice(0, at) + e.token + t.slice(at);
    else t = t.slice(0, at) + e.token + t.slice(end);
  }
  return t;
}

/** A real text with a few edits; sometimes a random string. */
const mutated = (texts: string[]) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.tuple(fc.constantFrom(...texts), fc.array(textEdit, { minLength: 1, maxLength: 6 })).map(([t, e]) => applyEdits(t, e)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  );

/** A value put somewhere in a JSON tree: keeps the shape mostly real, with wrong types and sizes. */
const oddValue = fc.oneof(fc.constantFrom(0, -1, 1e308, 1e9, 1.5, Number.MAX_SAFE_INTEGER, '', 'x', null, true, [], {}), fc.jsonValue({ maxDepth: 2 }));

function setAt(tree: unknown, path: number[], value: unknown): unknown {
  if (tree === null || typeof tree !== 'object' || path.length === 0) return value;
  const keys = Object.keys(tree);
  if (!keys.length) return value;
  const k = keys[path[0]! % keys.length]!;
  const copy: Record<string, unknown> = Array.isArray(tree) ? ([...tree] as unknown as Record<string, unknown>) : { ...(tree as Record<string, unknown>) };
  copy[k] = path.length === 1 ? value : setAt(copy[k], path.slice(1), value);
  return copy;
}

const treeEdit = fc.tuple(fc.array(fc.nat(), { minLength: 1, maxLength: 6 }), oddValue);
const mutatedTree = (trees: unknown[], asYaml: boolean) =>
  fc.tuple(fc.constantFrom(...trees), fc.array(treeEdit, { minLength: 1, maxLength: 4 }), fc.boolean()).map(([t, edits, yaml]) => {
    const tree = edits.reduce((acc, [p, v]) => setAt(acc, p, v), t);
    return asYaml && yaml ? stringifyYaml(tree) : JSON.stringify(tree);
  });

/** The property: a result, or a GuestabiError that names `place`. */
function assertNamesPlace(run: () => unknown, place: string): void {
  try {
    run();
  } catch (e) {
    if (!(e instanceof GuestabiError)) throw new Error(`not a GuestabiError: ${(e as Error)?.stack ?? String(e)}`, { cause: e });
    assert.ok(e.message.includes(place), `the message does not name ${place}: ${e.message}`);
  }
}

const params = { numRuns: RUNS, seed: SEED, endOnFailure: true };
const tmp = mkdtempSync(join(tmpdir(), 'guestabi-fuzz-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Loaders that read a path: the text written to a file first. */
function viaFile(name: string, text: string, load: (path: string) => unknown): void {
  const path = join(tmp, name);
  writeFileSync(path, text);
  assertNamesPlace(() => load(path), path);
}

test('fuzz: the real inputs the mutations start from are read without error', () => {
  for (const x of XMLS) parseGuestText(x, 'fixture.xml', 'libvirt');
  for (const a of ARGVS) parseGuestText(a, '--guest-argv', 'argv');
  for (const p of PROFILES) viaFile('host.json', p, loadHostProfile);
  assert.ok(ARGVS.length > 50 && XMLS.length >= 5);
});

test('fuzz: libvirt domain XML (mutated fixture domains)', () => {
  fc.assert(fc.property(mutated(XMLS), (x) => assertNamesPlace(() => parseGuestText(x, 'fuzz.xml', 'libvirt'), 'fuzz.xml')), params);
});

test('fuzz: QEMU command lines (mutated lab scenarios)', () => {
  fc.assert(fc.property(mutated(ARGVS), (a) => assertNamesPlace(() => parseGuestText(a, '--guest-argv', 'argv'), '--guest-argv')), params);
});

test('fuzz: GuestSpec in JSON and YAML (mutated fields and text)', () => {
  const texts = SPECS.flatMap((s) => [JSON.stringify(s), stringifyYaml(s)]);
  fc.assert(
    fc.property(fc.oneof(mutatedTree(SPECS, true), mutated(texts)), (t) => assertNamesPlace(() => parseGuestText(t, 'fuzz.yaml', 'spec'), 'fuzz.yaml')),
    params,
  );
});

test('fuzz: host profiles (mutated fixture profiles)', () => {
  const trees = PROFILES.map((p) => JSON.parse(p) as unknown);
  fc.assert(fc.property(fc.oneof(mutatedTree(trees, false), mutated(PROFILES.map((p) => p.slice(0, 4000)))), (t) => viaFile('host.json', t, loadHostProfile)), params);
});

test('fuzz: cluster files (mutated clusters of the fixture profiles)', () => {
  const hosts = join(FIXTURES, 'hosts');
  const clusters = [`hosts: [${hosts}/host-7.2-tcg.json, ${hosts}/host-10.0-tcg.json]\n`, `name: c\nhosts:\n- profile: ${hosts}/host-5.2-tcg.json\n  name: a\n- ${hosts}/host-10.0-kvm.json\n`];
  fc.assert(fc.property(mutated(clusters), (t) => viaFile('cluster.yaml', t, (p) => clusterTarget(p, 'x86_64'))), params);
});

test('fuzz: inventory files (mutated inventories of fixture hosts and lab guests)', () => {
  const hosts = join(FIXTURES, 'hosts');
  const inventories = [
    `name: fleet\nhosts:\n- profile: ${hosts}/host-7.2-tcg.json\n  name: a\n- describe: {qemu: '10.0', cpu: EPYC-v4}\n  name: b\nguests:\n- name: g\n  host: a\n  argv: ${JSON.stringify(ARGVS[0])}\n`,
  ];
  fc.assert(fc.property(mutated(inventories), (t) => viaFile('inventory.yaml', t, (p) => loadInventory(p))), { ...params, numRuns: Math.max(1, Math.floor(RUNS / 3)) });
});

test('fuzz: tier policy and migration rules files (mutated shipped files)', () => {
  const policy = read(join(ROOT, 'data/policy/tiers.yaml'));
  const rules = read(join(ROOT, 'data/rules/migration.yaml'));
  fc.assert(fc.property(mutated([policy]), (t) => viaFile('tiers.yaml', t, (p) => loadTierPolicy(p))), params);
  fc.assert(fc.property(mutated([rules]), (t) => viaFile('rules.yaml', t, (p) => migrationRules(p))), params);
});
