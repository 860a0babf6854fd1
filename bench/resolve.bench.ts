import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findCatalog } from '../src/io/catalog-files.js';
import { parseArgvText } from '../src/formats/argv-in.js';
import type { HostProfile } from '../src/model/host.js';
import { pinGuest } from '../src/resolve/pin.js';
import { guestVisibility } from '../src/io/rules-files.js';
import { groupHosts, indexHost, type Target } from '../src/resolve/target.js';
import { makeHosts } from './fleet-gen.js';
import { bench, type BenchResult } from './harness.js';

const HOSTS = fileURLToPath(new URL('../../test/fixtures/hosts/', import.meta.url));

/**
 * A cluster built from the real host profiles, half QEMU 7.2 and half 10.0, with `kinds` kinds of
 * host: kinds beyond the two builds differ in one host CPU property (as microcode or CPU steppings
 * make real hosts differ), so that they cannot be resolved as one.
 */
export function cluster(size = 1000, kinds = 2): Target {
  const profiles = ['host-7.2-tcg.json', 'host-10.0-tcg.json'].map((f) => JSON.parse(readFileSync(HOSTS + f, 'utf8')) as HostProfile);
  const hosts = Array.from({ length: size }, (_, i) => {
    const p = profiles[i % profiles.length]!;
    const kind = i % kinds;
    const hostCpu = kind < 2 ? p.hostCpu : { ...p.hostCpu, props: { ...p.hostCpu.props, 'ucode-rev': kind } };
    return indexHost({ ...p, hostCpu, name: `host-${i}` }, findCatalog(p.qemu.catalog));
  });
  return { kind: 'cluster', name: `cluster-${size}`, hosts: groupHosts(hosts) };
}

export function resolveBenches(): BenchResult[] {
  const big = cluster(1000);
  const varied = cluster(1000, 50);
  const distinct = cluster(1000, 1000);
  // 50 kinds that differ in what resolving reads (CPU generations of 5.2, 7.2 and 10.0 hosts).
  const generations: Target = { kind: 'cluster', name: 'generations', hosts: groupHosts(makeHosts(1000, 50, true).hosts.filter((h) => h.profile.accel === 'tcg')) };
  const one = cluster(1);
  const now = new Date();
  const guests = {
    'bare Westmere, q35 alias': parseArgvText('-machine q35 -cpu Westmere -m 2G -smp 2 -nodefaults -device virtio-net-pci -device virtio-blk-pci,drive=d', 'bench'),
    'bare EPYC (no version runs)': parseArgvText('-machine q35 -cpu EPYC -m 2G -nodefaults', 'bench'),
    'versioned, keep policy': parseArgvText('-machine pc-i440fx-6.0 -cpu qemu64 -m 2G -nodefaults -device e1000', 'bench'),
  };
  const results: BenchResult[] = [];
  for (const [label, spec] of Object.entries(guests)) {
    const policy = label.includes('keep') ? 'keep' : 'highest-runnable';
    const targets = [
      ['1 host', one],
      ['1,000 hosts of 2 kinds', big],
      ['1,000 hosts of 50 kinds', varied],
      ['1,000 distinct hosts', distinct],
      ['600 TCG hosts of 30 CPU generations', generations],
    ] as const;
    for (const [tname, target] of targets) {
      results.push(
        bench(`resolve ${label} against ${tname}`, () => {
          try {
            pinGuest(spec, target, { policy, now, tool: 'bench', visibility: guestVisibility() });
          } catch {
            /* EPYC: the negative answer is the work measured */
          }
        }),
      );
    }
  }
  results.push(bench('index 1,000 host profiles into a cluster', () => void cluster(1000), 1));
  return results;
}
