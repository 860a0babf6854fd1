import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { CatalogIndex } from '../../src/catalog/catalog.js';
import { buildPrebuilt, prebuiltSource } from '../../src/catalog/prebuilt.js';
import { CATALOG_INDEX_DIR, readPrebuiltCatalog, shippedCatalogFiles, writeCatalogIndex } from '../../src/io/catalog-files.js';
import { Catalog } from '../../src/model/catalog.js';
import { isValid } from '../../src/model/validate.js';

const files = shippedCatalogFiles();
const parsed = new Map(files.map((f) => [f, JSON.parse(readFileSync(f, 'utf8')) as Catalog]));

/** Every answer an index gives, for every machine type and CPU model (the lazy index must give
 *  what the whole catalog gives). */
function everything(c: CatalogIndex): unknown {
  const machines = c.machineNames();
  const models = c.cpuModelNames();
  return {
    id: c.id,
    version: c.version,
    qemu: c.qemu,
    machines,
    models,
    default: c.defaultMachine()?.name,
    features: [...c.cpuFeatures()],
    expansions: models.map((n) => c.cpuExpansion(n)),
    versions: [...new Set(models.map((n) => c.cpuModel(n)!.base))].map((b) => c.cpuVersions(b).map((m) => m.name)),
    families: [...new Set(machines.map((m) => c.machine(m)!.family))].map((f) => c.family(f).map((m) => m.name)),
    aliases: machines.map((m) => c.machine(m)!.alias).filter((a) => a !== undefined).map((a) => c.resolveMachineAlias(a!)),
    // Every machine type's devices; CPU models on it sampled (the same code on the same data).
    perMachine: machines.map((m) => ({
      devices: c.devicesOn(m) && [...c.devicesOn(m)!],
      cpus: models.filter((_, i) => i % 16 === 0).map((n) => c.cpuOnMachine(n, m)),
      aliasOf: models.map((n) => c.cpuAliasOf(n, m)),
    })),
  };
}

test('shipped catalogs are valid against the Catalog schema (they are not re-validated when loaded)', () => {
  assert.ok(files.length >= 3);
  for (const [f, data] of parsed) assert.ok(isValid(Catalog, data), `${f} is a valid catalog`);
});

test('the prebuilt form of each shipped catalog gives back exactly its JSON, and the same answers', () => {
  for (const [f, data] of parsed) {
    const { index, body } = buildPrebuilt(data);
    const bytes = Buffer.from(body, 'utf8');
    assert.equal(bytes.length, body.length, 'the body is ASCII: offsets are bytes');
    const lazy = CatalogIndex.fromSource(prebuiltSource(JSON.parse(JSON.stringify(index)), (s, e) => bytes.toString('latin1', s, e)));
    const whole = new CatalogIndex(data);
    assert.deepEqual(everything(lazy), everything(whole), f);
    // Key order included: --json output of the catalog is its data.
    assert.equal(JSON.stringify(lazy.data), JSON.stringify(data), f);
  }
});

test('the prebuilt index that npm run build wrote equals what the JSON gives (when it is current)', (t) => {
  let current = 0;
  for (const [f, data] of parsed) {
    const prebuilt = readPrebuiltCatalog(f);
    if (!prebuilt) continue;
    current++;
    assert.equal(JSON.stringify(prebuilt.data), JSON.stringify(data), `${CATALOG_INDEX_DIR}: ${basename(f)}`);
  }
  if (!current) t.skip(`no current prebuilt index in ${CATALOG_INDEX_DIR} (npm run build writes it)`);
});

test('a catalog changed after the index was built is read from its JSON', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-index-'));
  try {
    const src = files.find((f) => f.includes('7.2'))!;
    const copy = join(dir, basename(src));
    copyFileSync(src, copy);
    const out = join(dir, 'index');
    writeCatalogIndex(dir, out);
    assert.equal(readPrebuiltCatalog(copy, out)?.id, parsed.get(src)!.id);
    const body = join(out, basename(src).replace(/\.json$/, '.body'));
    const built = readFileSync(body);
    writeFileSync(body, Buffer.concat([Buffer.from('0000000000000000'), built.subarray(16)]));
    assert.equal(readPrebuiltCatalog(copy, out), undefined, 'a body of another build than its manifest');
    writeFileSync(body, built);
    writeFileSync(copy, readFileSync(src));
    utimesSync(copy, new Date(), new Date(Date.now() + 5000));
    assert.equal(readPrebuiltCatalog(copy, out), undefined, 'a newer file than its index');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
