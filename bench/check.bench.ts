import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findCatalog } from '../src/io/catalog-files.js';
import { checkMigration, newCheckCache } from '../src/check/check.js';
import { migrationRules } from '../src/io/rules-files.js';
import { parseArgvText } from '../src/formats/argv-in.js';
import type { HostProfile } from '../src/model/host.js';
import { indexHost } from '../src/resolve/target.js';
import { bench, type BenchResult } from './harness.js';

const HOSTS = fileURLToPath(new URL('../../test/fixtures/hosts/', import.meta.url));

function host(file: string) {
  const p = JSON.parse(readFileSync(HOSTS + file, 'utf8')) as HostProfile;
  return indexHost(p, findCatalog(p.qemu.catalog));
}

/** One check in process: parse once, then predict forward (and back) as often as possible. */
export function checkBenches(): BenchResult[] {
  const rules = migrationRules();
  const h72 = host('host-7.2-tcg.json');
  const h100 = host('host-10.0-tcg.json');
  const small = parseArgvText('-machine pc-q35-7.2 -cpu Westmere -m 2G -nodefaults', 'bench');
  const big = parseArgvText(
    '-machine pc-q35-7.2 -cpu Westmere -m 2G -smp 4 -nodefaults -device pcie-root-port,id=rp1,chassis=1 -device virtio-net-pci,bus=rp1 -device virtio-blk-pci,drive=d -device virtio-scsi-pci -device qemu-xhci -device usb-tablet -device virtio-balloon-pci -device virtio-rng-pci -device VGA',
    'bench',
  );
  const other = parseArgvText('-machine pc-q35-7.2 -cpu qemu64 -m 2G -nodefaults', 'bench');
  const cache = newCheckCache();
  // Power and Arm: the same questions on pseries (capabilities compared as levels) and virt.
  const p72 = host('host-7.2-ppc64-tcg.json');
  const p100 = host('host-10.0-ppc64-tcg.json');
  const a72 = host('host-7.2-aarch64-tcg.json');
  const pseries = parseArgvText('qemu-system-ppc64 -machine pseries-7.2,ic-mode=xive -cpu power9_v2.0 -m 2G -smp 4 -nodefaults -device virtio-net-pci -device virtio-blk-pci,drive=d -device virtio-scsi-pci -device spapr-vscsi', 'bench');
  const virt = parseArgvText('qemu-system-aarch64 -machine virt-7.2,gic-version=3 -cpu cortex-a57 -m 2G -smp 4 -nodefaults -device pcie-root-port,id=rp1,chassis=1 -device virtio-net-pci,bus=rp1 -device virtio-blk-pci,drive=d -device qemu-xhci -device usb-tablet', 'bench');
  return [
    bench('check pseries 4 devices, same build', () => void checkMigration({ source: pseries, from: p72, to: p72, rules })),
    bench('check pseries 4 devices, 7.2 -> 10.0', () => void checkMigration({ source: pseries, from: p72, to: p100, rules })),
    bench('check virt 5 devices, same build', () => void checkMigration({ source: virt, from: a72, to: a72, rules })),
    bench('check CPU only (machine + CPU), same build', () => void checkMigration({ source: small, from: h72, to: h72, rules })),
    bench('check CPU only, 7.2 -> 10.0', () => void checkMigration({ source: small, from: h72, to: h100, rules })),
    bench('check 9 devices, 7.2 -> 10.0', () => void checkMigration({ source: big, from: h72, to: h100, rules })),
    bench('check 9 devices, both ways + fence', () => void checkMigration({ source: big, from: h72, to: h100, rules, bothWays: true })),
    bench('check another CPU model on the destination', () => void checkMigration({ source: small, destination: other, from: h72, to: h72, rules })),
    // As the fleet matrix checks: each definition's platform on each host computed once (the
    // cache), so a check is the comparison of two precomputed platforms, every reason kept.
    bench('check 9 devices, 7.2 -> 10.0, platforms precomputed', () => void checkMigration({ source: big, from: h72, to: h100, rules, cache })),
    bench('check 9 devices, both ways + fence, precomputed', () => void checkMigration({ source: big, from: h72, to: h100, rules, bothWays: true, cache })),
  ];
}
