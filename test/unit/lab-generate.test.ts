import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findCatalog } from '../../src/io/catalog-files.js';
import { parseArgvText } from '../../src/formats/argv-in.js';
import { generatePairs, renderGuest, type GenBuild, type GenPair } from '../../src/lab/generate.js';
import { reductions, shrinkPair } from '../../src/lab/shrink.js';

const builds: GenBuild[] = ['5.2', '7.2', '10.0'].map((version) => ({ version, catalog: findCatalog(version) }));
const allPairs = builds.flatMap((a) => builds.map((b) => [a, b] as [GenBuild, GenBuild]));
const byVersion = new Map(builds.map((b) => [b.version, b.catalog]));

test('lab fuzz generator: the same seed gives the same pairs, another seed others', () => {
  const a = generatePairs({ seed: 7, count: 40, builds: allPairs });
  const b = generatePairs({ seed: 7, count: 40, builds: allPairs });
  const c = generatePairs({ seed: 8, count: 40, builds: allPairs });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.map((p) => renderGuest(p.source)), c.map((p) => renderGuest(p.source)));
  assert.equal(a.length, 40);
});

test('lab fuzz generator: every command line parses, and its machine, CPU and devices are the source catalog\'s', () => {
  const pairs = generatePairs({ seed: 1, count: 300, builds: allPairs });
  let destinations = 0;
  const kinds = new Set<string>();
  for (const p of pairs) {
    const catalog = byVersion.get(p.from)!;
    const probeTypes = new Set(catalog.data.probe.devices.map((d) => d.type));
    for (const g of [p.source, p.destination].filter((x) => x !== undefined)) {
      const spec = parseArgvText(renderGuest(g), p.name);
      assert.ok(spec.machine, p.name);
      for (const d of (spec.devices ?? []).filter((x) => !x.source?.includes('QEMU default'))) {
        // The placement's own ports and bridge are probe devices too.
        assert.ok(probeTypes.has(d.type), `${p.name}: ${d.type} is not in the probe set of ${catalog.id}`);
      }
      const versioned = catalog.resolveMachineAlias(g.machine);
      for (const d of g.devices.filter((x) => x.props && versioned)) {
        const props = catalog.deviceOn(versioned!, d.key) ?? {};
        for (const [k] of d.props!) assert.equal(typeof props[k], 'boolean', `${p.name}: ${d.key}.${k} is a boolean property of the catalog's`);
      }
    }
    assert.ok(catalog.machine(p.source.machine), `${p.name}: ${p.source.machine} is not in ${catalog.id}`);
    assert.ok(catalog.cpuModel(p.source.cpu), `${p.name}: ${p.source.cpu} is not in ${catalog.id}`);
    const versioned = catalog.resolveMachineAlias(p.source.machine)!;
    for (const d of p.source.devices) assert.ok(catalog.deviceOn(versioned, d.key), `${p.name}: ${d.key} was not probed on ${versioned}`);
    const features = catalog.cpuExpansion(p.source.cpu) ?? {};
    for (const [f] of p.source.cpuProps) assert.ok(f in features && catalog.cpuFeatures().has(f), `${p.name}: ${f} is not a feature of ${p.source.cpu}`);
    if (p.destination) destinations++;
    for (const g of [p.source, p.destination]) {
      if (g?.machineOpts) kinds.add('machine options');
      if (g?.globals) kinds.add('globals');
      if (g?.defaults) kinds.add('defaults');
      if (g?.devices.some((d) => d.props)) kinds.add('device properties');
    }
  }
  assert.deepEqual([...kinds].sort(), ['defaults', 'device properties', 'globals', 'machine options'], 'every kind of element is generated');
  assert.ok(destinations > 30 && destinations < 150, `some destinations differ (${destinations} of 300)`);
});

/** A pair with a bit of everything to take away. */
function bigPair(): GenPair {
  const [p] = generatePairs({ seed: 3, count: 1, builds: [[builds[1]!, builds[2]!]] });
  return {
    ...p!,
    source: {
      ...p!.source,
      cpuProps: [['pdpe1gb', true], ['sse4a', false]],
      smp: { cpus: 2, sockets: 1, cores: 2, threads: 1 },
      hotplug: { slots: 2, maxmemMiB: 1024 },
      memMiB: 512,
      devices: [{ key: 'qemu-xhci' }, { key: 'usb-tablet' }, { key: 'virtio-net-pci' }, { key: 'e1000' }],
    },
  };
}

test('lab fuzz shrinker: keeps only what the predicate needs', async () => {
  const fails = async (p: GenPair) => p.source.devices.some((d) => d.key === 'e1000') && p.source.cpuProps.some(([f]) => f === 'sse4a');
  const { pair, tries } = await shrinkPair(bigPair(), fails);
  assert.deepEqual(pair.source.devices, [{ key: 'e1000' }]);
  assert.deepEqual(pair.source.cpuProps, [['sse4a', false]]);
  assert.equal(pair.source.smp, undefined);
  assert.equal(pair.source.hotplug, undefined);
  assert.equal(pair.source.memMiB, 128);
  assert.ok(tries > 0);
  assert.ok(await fails(pair));
});

test('lab fuzz shrinker: a parent goes with its children, and the try budget holds', async () => {
  const noXhci = reductions(bigPair()).find((p) => !p.source.devices.some((d) => d.key === 'qemu-xhci'))!;
  assert.deepEqual(noXhci.source.devices.map((d) => d.key), ['virtio-net-pci', 'e1000']);
  let calls = 0;
  const { tries } = await shrinkPair(bigPair(), async () => (calls++, true), { maxTries: 3 });
  assert.equal(tries, 3);
  assert.equal(calls, 3);
});
