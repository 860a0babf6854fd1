/**
 * libvirt's own test corpus against guestabi's libvirt reader (issue 16): for every x86_64 pair of
 * tests/qemuxml2argvdata (scripts/fetch-libvirt-tests.sh), the guest guestabi reads from NAME.xml
 * against the QEMU command line libvirt generates for it (NAME.x86_64-latest.args).
 *
 *   node dist/tools/libvirt-corpus.js [--arch x86_64|aarch64|ppc64] [--json] [--only NAME] [--all] [--caps]
 */
import { parseArgs } from 'node:util';
import { findCatalog } from '../src/io/catalog-files.js';
import { compareCaps, corpusDir, readCorpus, summarise, type CorpusArch } from '../src/lab/libvirt-corpus.js';

const { values } = parseArgs({ options: { arch: { type: 'string' }, caps: { type: 'boolean' }, json: { type: 'boolean' }, only: { type: 'string', multiple: true }, all: { type: 'boolean' } } });
const dir = corpusDir();
if (values.caps) {
  for (const v of ['5.2.0', '7.2.0']) console.log(JSON.stringify(compareCaps(dir, v, findCatalog(v.replace(/\.0$/, ''))), null, 2));
  process.exit(0);
}
const arch = (values.arch ?? 'x86_64') as CorpusArch;
const rows = readCorpus(dir, values.only, arch);
if (values.json) console.log(JSON.stringify(rows, null, 2));
else {
  const s = summarise(rows);
  console.log(`${dir}: ${rows.length} ${arch} pairs`);
  for (const [k, v] of Object.entries(s.counts)) console.log(`  ${k}: ${v}`);
  console.log('devices read differently (libvirt -device driver: pairs):');
  for (const [k, v] of s.missing.slice(0, values.all ? 1000 : 40)) console.log(`  - ${k}: ${v}`);
  console.log('devices guestabi has that libvirt does not generate:');
  for (const [k, v] of s.extra.slice(0, values.all ? 1000 : 40)) console.log(`  + ${k}: ${v}`);
}
