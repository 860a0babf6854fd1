import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { findCatalog } from '../../src/io/catalog-files.js';
import { hostTarget } from '../../src/io/host-files.js';
import { pinnedToArgv } from '../../src/formats/argv-out.js';
import { answerResolve } from '../../src/service/answers.js';
import { argvConformance, compareCaps, corpusDir, corpusNames, readCorpus, type CorpusArch } from '../../src/lab/libvirt-corpus.js';
import { FIXTURES } from '../helpers.js';

/**
 * Issue 16: libvirt 9.0's own test corpus (tests/qemuxml2argvdata, fetched by
 * scripts/fetch-libvirt-tests.sh) against guestabi's libvirt reader. Every x86_64 pair: no crash,
 * the devices guestabi reads from NAME.xml are the -device drivers of the command line libvirt
 * generates (NAME.x86_64-latest.args, QEMU's aliases resolved), and the domain as libvirt formats
 * it back (qemuxml2xmloutdata) reads to the same guest. What guestabi reads differently is listed
 * with its reason in test/fixtures/libvirt-corpus/nonconformance.yaml: anything else fails, and so
 * does a listed pair that now conforms (the list only shrinks).
 */
interface Listed {
  name: string;
  arch?: CorpusArch;
  status: 'refused' | 'differs' | 'same';
  /** The domain as libvirt formats it back reads to another guest (the reason says why). */
  back?: true;
  why: string;
}

function requireCorpus(t: TestContext): string | undefined {
  const dir = corpusDir();
  if (existsSync(join(dir, 'qemuxml2argvdata'))) return dir;
  const why = `libvirt's test corpus is not fetched (run scripts/fetch-libvirt-tests.sh): ${dir}`;
  if (process.env.CI === 'true') throw new Error(`${why}; under CI every live test must run`);
  t.skip(why);
  return undefined;
}

test("live: libvirt 9.0's test corpus: every x86_64 domain reads with the devices libvirt generates for it, or is listed with its reason", (t) => {
  const dir = requireCorpus(t);
  if (!dir) return;
  const listed = (parse(readFileSync(join(FIXTURES, 'libvirt-corpus', 'nonconformance.yaml'), 'utf8')) as { pairs: Listed[] }).pairs;
  const byName = new Map(listed.filter((l) => (l.arch ?? 'x86_64') === 'x86_64').map((l) => [l.name, l]));
  const rows = readCorpus(dir);
  assert.ok(rows.length >= 368, `libvirt 9.0 has 368 x86_64 pairs (found ${rows.length})`);
  const crashes = rows.filter((r) => r.status === 'crash');
  assert.deepEqual(crashes.map((r) => `${r.name}: ${r.why}`), [], 'no crash, no stack trace');
  const unlisted = rows.filter((r) => r.status !== 'same' && byName.get(r.name)?.status !== r.status);
  assert.deepEqual(
    unlisted.map((r) => `${r.name} ${r.status}: ${r.why ?? `libvirt has ${r.missing.join(' ') || 'nothing more'}, guestabi has ${r.extra.join(' ') || 'nothing more'}`}`),
    [],
    'every pair that does not conform is listed with its reason',
  );
  const healed = listed.filter((l) => rows.find((r) => r.name === l.name)?.status === 'same');
  assert.deepEqual(healed.map((l) => l.name), [], 'a listed pair that conforms now leaves the list');
  const same = rows.filter((r) => r.status === 'same').length;
  assert.ok(same / rows.length >= 0.95, `at least 95% read with exactly libvirt's devices (${same} of ${rows.length})`);
  const back = rows.filter((r) => r.formattedBack !== undefined);
  assert.deepEqual(back.filter((r) => r.formattedBack !== 'same').map((r) => `${r.name}: ${r.formattedBack}`), [], 'the domain as libvirt formats it back reads to the same guest');
  t.diagnostic(`${rows.length} x86_64 pairs: ${same} read with exactly libvirt's devices (${((100 * same) / rows.length).toFixed(1)}%), ${rows.length - same} listed; ${back.length} formatted back by libvirt read the same`);
});

test("live: libvirt's recordings of QEMU 5.2 and 7.2 agree with guestabi's catalogs on machine types, aliases, defaults, CPU models and their aliases, but for what is listed", (t) => {
  const dir = requireCorpus(t);
  if (!dir) return;
  const listed = (parse(readFileSync(join(FIXTURES, 'libvirt-corpus', 'nonconformance.yaml'), 'utf8')) as { caps: { version: string; machinesOnlyOurs?: string[] }[] }).caps;
  for (const v of ['5.2.0', '7.2.0']) {
    const c = compareCaps(dir, v, findCatalog(v.replace(/\.0$/, '')));
    const expected = listed.find((l) => l.version === v)!;
    assert.deepEqual(c.machines, { onlyLibvirt: [], onlyOurs: expected.machinesOnlyOurs ?? [], aliases: [], defaults: [], deprecated: [], defaultCpu: [] }, `${v}: machine types`);
    assert.deepEqual(c.cpus, { onlyLibvirt: [], onlyOurs: [], aliasOf: [], deprecated: [] }, `${v}: CPU models`);
  }
});

test("live: guestabi's command line of each corpus domain has the -device drivers libvirt's has, or is listed with its reason", (t) => {
  const dir = requireCorpus(t);
  if (!dir) return;
  const file = parse(readFileSync(join(FIXTURES, 'libvirt-corpus', 'nonconformance.yaml'), 'utf8')) as { pairs: Listed[]; argv: { names: string[]; status: string }[] };
  const listed = new Map<string, string>([...file.pairs.filter((p) => (p.arch ?? 'x86_64') === 'x86_64').map((p) => [p.name, p.status] as const), ...file.argv.flatMap((a) => a.names.map((n) => [n, a.status] as const))]);
  const target = hostTarget(join(FIXTURES, 'hosts', 'host-7.2-tcg.json'), 'x86_64');
  const rows = corpusNames(dir).map((n) => argvConformance(dir, n, (spec) => pinnedToArgv(answerResolve(spec, target, 'keep', n))));
  assert.deepEqual(rows.filter((r) => r.status === 'crash').map((r) => `${r.name}: ${r.why}`), [], 'no crash');
  const wrong = rows.filter((r) => (r.status === 'same' ? listed.has(r.name) : listed.get(r.name) !== r.status));
  assert.deepEqual(wrong.map((r) => `${r.name} ${r.status}: ${r.why ?? `libvirt has ${r.missing.join(' ') || 'nothing more'}, guestabi writes ${r.extra.join(' ') || 'nothing more'}`}`), [], 'every pair that does not conform is listed, and only those');
  const same = rows.filter((r) => r.status === 'same').length;
  assert.ok(same / rows.length >= 0.95, `at least 95%: ${same} of ${rows.length}`);
  t.diagnostic(`--output argv: ${same} of ${rows.length} with exactly libvirt's -device drivers (${((100 * same) / rows.length).toFixed(1)}%); ${rows.length - same} listed`);
});

for (const arch of ['aarch64', 'ppc64'] as const) {
  test(`live: libvirt 9.0's ${arch} domains read with the devices, machine type, memory and topology libvirt generates, or are listed with their reason`, (t) => {
    const dir = requireCorpus(t);
    if (!dir) return;
    const listed = (parse(readFileSync(join(FIXTURES, 'libvirt-corpus', 'nonconformance.yaml'), 'utf8')) as { pairs: Listed[] }).pairs.filter((l) => l.arch === arch);
    const byName = new Map(listed.map((l) => [l.name, l]));
    const rows = readCorpus(dir, undefined, arch);
    assert.ok(rows.length >= 10, `${arch}: libvirt 9.0's pairs (${rows.length})`);
    assert.deepEqual(rows.filter((r) => r.status === 'crash').map((r) => `${r.name}: ${r.why}`), [], 'no crash');
    const wrong = rows.filter((r) => (byName.get(r.name)?.status ?? 'same') !== r.status || (r.formattedBack !== undefined && (r.formattedBack !== 'same') !== (byName.get(r.name)?.back === true)));
    assert.deepEqual(wrong.map((r) => `${r.name} ${r.status}: ${r.why ?? `libvirt has ${r.missing.join(' ') || 'nothing more'}, guestabi has ${r.extra.join(' ') || 'nothing more'}`}; formatted back: ${r.formattedBack ?? 'none'}`), [], 'what differs is listed, and only that');
    const same = rows.filter((r) => r.status === 'same').length;
    t.diagnostic(`${arch}: ${same} of ${rows.length} read with exactly libvirt's devices, machine, memory and topology; ${rows.length - same} listed`);
  });
}
