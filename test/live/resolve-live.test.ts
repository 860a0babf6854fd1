import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findCatalog } from '../../src/io/catalog-files.js';
import { pinnedToArgv } from '../../src/formats/argv-out.js';
import { parseArgvText } from '../../src/formats/argv-in.js';
import { launchQemu } from '../../src/qmp/launcher.js';
import { probeHost } from '../../src/probe/host-probe.js';
import { liveStarter } from '../../src/probe/session.js';
import { pinGuest } from '../../src/resolve/pin.js';
import { guestVisibility } from '../../src/io/rules-files.js';
import { groupHosts, indexHost, ResolveError, type Target } from '../../src/resolve/target.js';
import type { QemuBuild } from '../../src/qmp/build.js';
import { requireQemu } from '../helpers.js';

async function liveCluster(builds: [string, QemuBuild][]): Promise<Target> {
  const hosts = [];
  for (const [label, build] of builds) {
    const profile = await probeHost({ starter: liveStarter(build), accel: 'tcg', binary: build.binary, toolVersion: 'live-test', name: `live-${label}` });
    hosts.push(indexHost(profile, findCatalog(profile.qemu.catalog)));
  }
  return { kind: builds.length > 1 ? 'cluster' : 'host', name: 'live', hosts: groupHosts(hosts) };
}

/** Start the pinned guest's command line on a real QEMU (paused) and see whether it runs. */
async function starts(build: QemuBuild, argv: string[]): Promise<{ ok: boolean; error?: string }> {
  try {
    const q = await launchQemu(build, [...argv.slice(1).filter((a) => a !== '-nodefaults'), '-nodefaults', '-display', 'none', '-S']);
    await q.stop();
    return { ok: true };
  } catch (e) {
    return { ok: false, error: (e as Error).message };
  }
}

test('live: q35 on QEMU 10.0 and on a 7.2 + 10.0 cluster; bare CPU names pinned to the highest version that really starts', async (t) => {
  const b72 = requireQemu(t, '7.2');
  const b100 = requireQemu(t, '10.0');
  if (!b72 || !b100) return;
  const only100 = await liveCluster([['10.0', b100]]);
  const both = await liveCluster([
    ['7.2', b72],
    ['10.0', b100],
  ]);
  const opts = { policy: 'highest-runnable' as const, now: new Date(), tool: 'live-test', visibility: guestVisibility() };
  assert.equal(pinGuest(parseArgvText('-machine q35 -cpu qemu64', 'live'), only100, opts).machine.type, 'pc-q35-10.0');
  assert.equal(pinGuest(parseArgvText('-machine q35 -cpu qemu64', 'live'), both, opts).machine.type, 'pc-q35-7.2');

  for (const base of ['Nehalem', 'Westmere', 'Opteron_G2', 'EPYC', 'Skylake-Client']) {
    let pinned;
    try {
      pinned = pinGuest(parseArgvText(`-machine q35 -cpu ${base}`, 'live'), both, opts);
    } catch (e) {
      assert.ok(e instanceof ResolveError);
      // No version runs: the lowest must really be refused with enforce on some host.
      const lowest = `${base}-v1`;
      const results = await Promise.all([b72, b100].map((b) => starts(b, ['qemu', '-machine', 'pc-q35-7.2', '-accel', 'tcg', '-cpu', `${lowest},enforce`])));
      assert.ok(results.some((r) => !r.ok), `${base}: said to run nowhere, but ${lowest} started everywhere`);
      continue;
    }
    const argv = pinnedToArgv(pinned);
    for (const b of [b72, b100]) {
      const r = await starts(b, argv);
      assert.ok(r.ok, `${base} pinned as ${pinned.cpu.model} (enforce) does not start: ${r.error}`);
    }
    // The next version, if the builds have one, is refused by at least one of them.
    const next = pinned.cpu.model!.replace(/-v(\d+)$/, (_m, n: string) => `-v${Number(n) + 1}`);
    if (both.hosts.every((h) => h.catalog.cpuModel(next))) {
      const results = await Promise.all([b72, b100].map((b) => starts(b, argv.map((a) => a.replace(pinned.cpu.model!, next)))));
      assert.ok(results.some((r) => !r.ok), `${next} starts everywhere, so ${pinned.cpu.model} was not the highest`);
    }
  }
});
