import { prefersSockets, qemuSmp } from '../../src/resolve/limits.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argvToText, pinnedToArgv } from '../../src/formats/argv-out.js';
import { parseGuestText, type LoadedGuest } from '../../src/formats/guest-input.js';
import { libvirtModelName, patchLibvirtXml, pinnedToLibvirtXml } from '../../src/formats/libvirt-out.js';
import { hostTarget } from '../../src/io/host-files.js';
import { guestAbi } from '../../src/resolve/abi.js';
import { pinGuest } from '../../src/resolve/pin.js';
import { guestVisibility } from '../../src/io/rules-files.js';
import type { Target } from '../../src/resolve/target.js';
import { FIXTURES, requireTool } from '../helpers.js';

const NOW = new Date('2026-11-21T12:00:00Z');
const target = (v: string) => hostTarget(join(FIXTURES, 'hosts', `host-${v}.json`), 'x86_64');
const resolve = (g: LoadedGuest, t: Target) => pinGuest(g.spec, t, { policy: 'highest-runnable', now: NOW, tool: 'test', visibility: guestVisibility() });

/** The guest's platform, its vCPU topology as QEMU makes it (libvirt XML always writes one; a
 *  command line may leave it to QEMU's default for the machine type). */
const platform = (p: Parameters<typeof guestAbi>[0]) => {
  const t = qemuSmp(p.vcpus, prefersSockets(/-(\d+\.\d+)$/.exec(p.machine.type)?.[1] ?? null, [99, 0]));
  const vcpus = typeof t === 'string' ? p.vcpus : { ...p.vcpus, sockets: t.sockets, dies: t.dies, cores: t.cores, threads: t.threads };
  return guestAbi({ ...p, vcpus }, guestVisibility());
};

const ARGV_GUESTS = [
  '-machine q35 -cpu Nehalem,+aes,-x2apic -m 2048 -smp 4,sockets=1,cores=2,threads=2 -nodefaults -device pcie-root-port,id=rp1,chassis=1 -device virtio-net-pci,id=net0,bus=rp1,mq=on,vectors=6 -device virtio-blk-pci-transitional,id=d0,drive=x -device qemu-xhci,id=usb -device usb-tablet -device virtio-balloon-pci,iommu_platform=on',
  '-machine pc -cpu Westmere -m 1G -nodefaults -device e1000,netdev=n -device VGA -device virtio-rng-pci -device virtio-scsi-pci,id=scsi -device scsi-hd,drive=d,bus=scsi.0',
  '-machine pc-q35-7.2 -cpu qemu64,+aes -enable-kvm -m 512 -device virtio-net-pci-non-transitional -device e1000e',
];

const LIBVIRT_GUESTS = ['rhel6.xml', 'westmere.xml', 'i440fx-hostmodel.xml', 'passthrough.xml'];

function validateXml(t: Parameters<typeof requireTool>[0], xml: string, name: string): void {
  const tool = requireTool(t, 'virt-xml-validate', 'libvirt-clients libxml2-utils');
  if (!tool) return;
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-xml-'));
  const file = join(dir, `${name}.xml`);
  writeFileSync(file, xml);
  const r = spawnSync(tool, [file, 'domain'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `${name}: virt-xml-validate says\n${r.stdout}${r.stderr}\n${xml}`);
}

for (const [i, argv] of ARGV_GUESTS.entries()) {
  test(`QEMU argv guest ${i + 1}: libvirt XML that validates, and argv, both resolve back to the same PinnedAbi`, (t) => {
    const host = target('10.0-tcg');
    const first = resolve(parseGuestText(argv, 'argv', 'argv'), host);
    const xml = pinnedToLibvirtXml(first);
    validateXml(t, xml, `argv${i + 1}`);
    assert.deepEqual(platform(resolve(parseGuestText(xml, 'out.xml'), host)), platform(first), 'through libvirt XML');
    const text = argvToText(pinnedToArgv(first));
    assert.deepEqual(platform(resolve(parseGuestText(text, 'out.sh', 'argv'), host)), platform(first), 'through the command line');
  });
}

for (const name of LIBVIRT_GUESTS) {
  test(`libvirt ${name}: written back with pinned names, it validates and resolves to the same PinnedAbi`, (t) => {
    const host = target('10.0-tcg');
    const text = readFileSync(join(FIXTURES, 'libvirt', name), 'utf8');
    const guest = parseGuestText(text, name);
    const first = resolve(guest, host);
    const xml = patchLibvirtXml(guest.document!, first);
    validateXml(t, xml, name);
    if (!first.cpu.hostDependent) assert.match(xml, new RegExp(`<model fallback="forbid">${libvirtModelName(first.cpu.model!)}</model>`));
    assert.match(xml, new RegExp(`machine="${first.machine.type}"`));
    assert.deepEqual(platform(resolve(parseGuestText(xml, name), host)), platform(first));
    // And the command line written from it resolves to the same platform.
    assert.deepEqual(platform(resolve(parseGuestText(argvToText(pinnedToArgv(first)), 'out.sh', 'argv'), host)), platform(first));
  });
}
