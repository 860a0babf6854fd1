import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgvText } from '../../src/formats/argv-in.js';
import { specAsPinned } from '../../src/formats/argv-out.js';
import { isPciType, placementOn } from '../../src/formats/device-types.js';
import { parseLibvirtXml } from '../../src/formats/libvirt-in.js';
import * as models from '../../src/formats/libvirt-models.js';
import { pinnedToLibvirtXml } from '../../src/formats/libvirt-out.js';
import { findCatalog } from '../../src/io/catalog-files.js';
import { requireTool } from '../helpers.js';

const TABLES = Object.entries(models).filter((e): e is [string, readonly models.ModelRow[]] => Array.isArray(e[1]) && e[0] !== 'DRIVE_BUSES');
const catalog = () => findCatalog('10.0').data;

test('the libvirt model table: each row reads and writes back to itself, and cites its source', () => {
  for (const [name, rows] of TABLES) {
    for (const row of rows) {
      assert.match(row.source, /libvirt (src|docs)\//, `${name} ${row.libvirt}: a source`);
      assert.equal(models.byLibvirt(rows, row.libvirt, row.secondary === true)?.qemu, row.qemu, `${name}: libvirt ${row.libvirt} reads as ${row.qemu}`);
      assert.equal(models.byQemu(rows, row.qemu), row, `${name}: ${row.qemu} writes as ${row.libvirt}`);
    }
  }
});

test('the table agrees with QEMU: every type is a device of the build, and what libvirt plugs into PCI is a PCI device', () => {
  const c = catalog();
  const devices = new Set(c.deviceTypes);
  for (const [name, rows] of TABLES) {
    // libvirt writes vhost-vsock-pci-transitional for <vsock model='virtio-transitional'>, a type QEMU
    // does not have (hw/virtio/vhost-vsock-pci.c has no transitional_name): read as written, QEMU refuses it.
    for (const row of rows.filter((r) => !r.arch && r.qemu !== 'vhost-vsock-pci-transitional')) {
      assert.ok(devices.has(row.qemu), `${name}: ${row.qemu} is a QEMU 10.0 device type`);
      // virtio-iommu-pci is the one PCI device libvirt places itself (the vIOMMU is compared on the root bus).
      if (row.qemu !== 'virtio-iommu-pci') assert.equal(isPciType(row.qemu, c), row.plug !== undefined, `${name}: ${row.qemu} PCI as libvirt connects it`);
    }
  }
});

test('PCI-ness is the catalog\'s: a device on a USB bus has no placement class, ne2k_pci behind a root port has one', () => {
  const spec = parseArgvText('-machine q35 -nodefaults -device qemu-xhci,id=usb -device usb-tablet,bus=usb.0 -device pcie-root-port,id=rp1,chassis=1 -device ne2k_pci,bus=rp1', 'x');
  const c = catalog();
  assert.deepEqual(
    spec.devices.map((d) => [d.type, placementOn(d, c)]),
    [
      ['qemu-xhci', 'root'],
      ['usb-tablet', 'root'],
      ['pcie-root-port', 'root'],
      ['ne2k_pci', 'pcie-port'],
    ],
  );
});

test('devices without an <address> on q35 go where libvirt\'s address assignment puts them', () => {
  const xml = `<domain type='kvm'><os><type machine='pc-q35-7.2'>hvm</type></os><memory unit='MiB'>512</memory><devices>
    <interface type='user'><model type='e1000'/></interface><interface type='user'><model type='e1000e'/></interface>
    <interface type='user'><model type='virtio-transitional'/></interface><controller type='pci' index='1' model='pcie-root-port'/>
    <input type='tablet' bus='usb'/><watchdog model='i6300esb'/><watchdog model='ib700'/></devices></domain>`;
  const { spec } = parseLibvirtXml(xml, 'q35.xml');
  assert.deepEqual(
    spec.devices.map((d) => [d.type, d.placement]),
    [
      ['e1000', 'pci-bridge'],
      ['e1000e', 'pcie-port'],
      ['virtio-net-pci-transitional', 'pci-bridge'],
      ['pcie-root-port', 'root'],
      ['usb-tablet', 'root'],
      ['i6300esb', 'pci-bridge'],
      ['ib700', 'root'],
      // What libvirt adds: its default USB controller and memballoon (PCI Express), a root port for
      // each PCI Express device after the empty one written, a pcie-to-pci-bridge on a root port of
      // its own for the conventional ones, and one root port kept free for hotplug.
      ['qemu-xhci', 'pcie-port'],
      ['virtio-balloon-pci', 'pcie-port'],
      ['pcie-root-port', 'root'],
      ['pcie-root-port', 'root'],
      ['pcie-root-port', 'root'],
      ['pcie-root-port', 'root'],
      ['pcie-pci-bridge', 'pcie-port'],
    ],
  );
});

test('models the writer has from the table are written as libvirt elements, validate and read back', (t) => {
  const argv = '-machine pc-q35-10.0 -nodefaults -device pcie-root-port,id=rp1,chassis=1 -device ne2k_pci,bus=rp1 -device pcnet -device ich9-usb-uhci1 -device lsi53c895a -device vmware-svga -device virtio-tablet-pci -device pci-serial -device ib700 -device intel-hda -device hda-duplex -device tpm-tis';
  const p = specAsPinned(parseArgvText(argv, 'x'), catalog());
  const xml = pinnedToLibvirtXml(p);
  assert.ok(!xml.includes('qemu:commandline'), `every device has its element:\n${xml}`);
  const back = parseLibvirtXml(xml, 'out.xml').spec.devices;
  assert.deepEqual(
    back.map((d) => [d.type, d.placement]),
    p.devices.map((d) => [d.type, d.placement]),
  );
  const tool = requireTool(t, 'virt-xml-validate', 'libvirt-clients libxml2-utils');
  if (!tool) return;
  const file = join(mkdtempSync(join(tmpdir(), 'guestabi-xml-')), 'models.xml');
  writeFileSync(file, xml);
  const r = spawnSync(tool, [file, 'domain'], { encoding: 'utf8' });
  assert.equal(r.status, 0, `virt-xml-validate says\n${r.stdout}${r.stderr}\n${xml}`);
});
