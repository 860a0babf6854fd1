import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgvText } from '../../src/formats/argv-in.js';
import { parseGuestText } from '../../src/formats/guest-input.js';
import { parseLibvirtXml } from '../../src/formats/libvirt-in.js';
import { parseMemoryMiB, shellSplit } from '../../src/formats/qemuopts.js';
import { UserError } from '../../src/util/errors.js';
import { FIXTURES } from '../helpers.js';

const LIBVIRT = join(FIXTURES, 'libvirt');
const xml = (name: string) => readFileSync(join(LIBVIRT, name), 'utf8');

test('a QEMU command line: machine options, CPU features in every spelling, devices, globals, sizes', () => {
  const spec = parseArgvText(
    `/usr/bin/qemu-system-x86_64 -name vm1 -machine q35,smm=on,accel=kvm -cpu Skylake-Client,+avx2,-hle,rtm=off,pcid=on,family=6,model-id="My CPU",enforce \\
     -m 4G -smp 8,sockets=2,cores=2,threads=2 -nodefaults \\
     -device pcie-root-port,id=rp1,chassis=1 -device virtio-net-pci,id=n0,bus=rp1,mq=on,vectors=10 \\
     -device '{"driver":"virtio-blk-pci","id":"d0","drive":"x","iommu_platform":true}' \\
     -global virtio-pci.disable-legacy=on -global driver=e1000,property=mac,value=52:54:00:00:00:01 \\
     -object sev-guest,id=sev0,policy=0x3 -vga none`,
    '--guest-argv',
  );
  assert.equal(spec.name, 'vm1');
  assert.deepEqual(spec.machine, { type: 'q35', options: { smm: 'on' } });
  assert.equal(spec.accel, 'kvm');
  assert.equal(spec.cpu.model, 'Skylake-Client');
  assert.equal(spec.cpu.enforce, true);
  assert.deepEqual(spec.cpu.features, [
    { name: 'avx2', policy: 'require' },
    { name: 'hle', policy: 'disable' },
    { name: 'rtm', policy: 'disable' },
    { name: 'pcid', policy: 'require' },
  ]);
  assert.deepEqual(spec.cpu.properties, { family: 6, 'model-id': 'My CPU' });
  assert.deepEqual(spec.memory, { sizeMiB: 4096 });
  assert.deepEqual(spec.vcpus, { count: 8, sockets: 2, cores: 2, threads: 2 });
  const [rp, net, blk] = spec.devices;
  assert.equal(rp!.role, 'bridge');
  assert.deepEqual([net!.type, net!.id, net!.placement, net!.properties], ['virtio-net-pci', 'n0', 'pcie-port', { bus: 'rp1', mq: 'on', vectors: '10' }]);
  assert.deepEqual([blk!.type, blk!.placement, blk!.properties?.iommu_platform], ['virtio-blk-pci', 'root', 'on']);
  assert.deepEqual(spec.globals, [
    { driver: 'virtio-pci', property: 'disable-legacy', value: 'on' },
    { driver: 'e1000', property: 'mac', value: '52:54:00:00:00:01' },
  ]);
  assert.deepEqual(spec.launchSecurity, { type: 'sev', options: { id: 'sev0', policy: '0x3' } });
  assert.ok(!spec.devices.some((d) => d.role === 'video'), '-vga none');
});

test('without -nodefaults QEMU adds its default devices, and without -accel it runs TCG', () => {
  const spec = parseArgvText('-machine pc -m 512', 'x');
  assert.equal(spec.accel, 'tcg');
  assert.deepEqual(spec.devices.map((d) => d.type), ['VGA', 'isa-serial', 'isa-parallel', 'ide-cd', 'e1000']);
  const q35 = parseArgvText('-machine q35 -m 512 -vga none -netdev user,id=n -device virtio-net-pci,netdev=n -device ide-hd,drive=d', 'x');
  assert.deepEqual(q35.devices.map((d) => d.type), ['virtio-net-pci', 'ide-hd', 'isa-serial', 'isa-parallel']);
  assert.equal(parseArgvText('-machine pc -cpu host -enable-kvm', 'x').cpu.mode, 'host-passthrough');
  assert.equal(parseArgvText('-machine pc -cpu max', 'x').cpu.mode, 'maximum');
});

test('command line mistakes name the argument', () => {
  const cases: [string, RegExp][] = [
    ['-machine q35 -m', /argument 3 '-m': -m needs an argument/],
    ['-machine q35 -m lots', /argument 3 '-m': not a memory size/],
    ['-machine q35 -smp cores=two', /-smp cores must be a positive integer/],
    ['-machine q35 -cpu EPYC,avx2=maybe', /CPU property 'avx2' wants on or off/],
    ["-machine 'q35", /unterminated single quote/],
    ['-machine q35 stray', /argument 3: expected an option, got 'stray'/],
  ];
  for (const [text, re] of cases) assert.throws(() => parseArgvText(text, '--guest-argv'), (e: unknown) => e instanceof UserError && re.test(e.message), text);
});

test('shell splitting and memory sizes follow the shell and QEMU', () => {
  assert.deepEqual(shellSplit(`a 'b c' "d \\"e\\"" f\\ g \\\n h`), ['a', 'b c', 'd "e"', 'f g', 'h']);
  assert.equal(parseMemoryMiB('2048'), 2048);
  assert.equal(parseMemoryMiB('2G'), 2048);
  assert.equal(parseMemoryMiB('1048576K'), 1024);
});

test('real virsh dumpxml output: every device element becomes a device, in its placement class', () => {
  for (const f of readdirSync(LIBVIRT).filter((n) => n.endsWith('.xml'))) {
    const text = xml(f);
    const { spec } = parseLibvirtXml(text, f);
    const count = (re: RegExp) => (text.match(re) ?? []).length;
    assert.equal(spec.devices.filter((d) => d.role === 'net').length, count(/<interface /g), `${f}: interfaces`);
    assert.equal(spec.devices.filter((d) => d.role === 'disk').length, count(/<disk /g), `${f}: disks`);
    assert.equal(spec.devices.filter((d) => d.role === 'bridge').length, count(/model='pcie-root-port'|model='pcie-to-pci-bridge'|model='pci-bridge'/g), `${f}: PCI controllers`);
    assert.equal(spec.machine.type, /machine='([^']+)'/.exec(text)![1]);
    assert.equal(spec.memory.sizeMiB, Number(/<memory unit='KiB'>(\d+)</.exec(text)![1]) / 1024);
  }
});

test('rhel6.xml: transitional virtio devices behind libvirt\'s pcie-to-pci-bridge, libosinfo id', () => {
  const { spec } = parseLibvirtXml(xml('rhel6.xml'), 'rhel6.xml');
  assert.equal(spec.os?.id, 'http://redhat.com/rhel/6.10');
  const byType = (t: string) => spec.devices.find((d) => d.type === t)!;
  for (const t of ['virtio-blk-pci-transitional', 'virtio-net-pci-transitional', 'virtio-balloon-pci-transitional', 'virtio-rng-pci-transitional']) {
    assert.equal(byType(t).placement, 'pci-bridge', t);
    assert.equal(byType(t).properties?.bus, 'pci.2');
  }
  assert.equal(byType('qemu-xhci').placement, 'pcie-port');
  assert.equal(byType('VGA').placement, 'root');
  assert.equal(byType('isa-serial').role, 'serial');
  assert.deepEqual(spec.cpu, { mode: 'custom', model: 'Nehalem', fallback: 'forbid', features: [{ name: 'x2apic', policy: 'require' }] });
});

test('modern.xml: driver iommu and queues become QEMU properties', () => {
  const { spec } = parseLibvirtXml(xml('modern.xml'), 'modern.xml');
  const net = spec.devices.find((d) => d.type === 'virtio-net-pci')!;
  assert.deepEqual([net.placement, net.properties?.iommu_platform, net.properties?.mq, net.properties?.vectors], ['pcie-port', 'on', 'on', '10']);
  assert.deepEqual(spec.vcpus, { count: 4, sockets: 1, dies: 1, cores: 2, threads: 2 });
  assert.deepEqual(spec.machine.options, { smm: 'on' });
});

test('i440fx-hostmodel.xml: host-model, and Hyper-V enlightenments as CPU properties', () => {
  const { spec } = parseLibvirtXml(xml('i440fx-hostmodel.xml'), 'i440fx-hostmodel.xml');
  assert.equal(spec.cpu.mode, 'host-model');
  assert.deepEqual(spec.cpu.features, [
    { name: 'hv-relaxed', policy: 'require' },
    { name: 'hv-vapic', policy: 'require' },
  ]);
  assert.deepEqual(spec.cpu.properties, { 'hv-spinlocks': 8191 });
});

test('libvirt XML mistakes name the line', () => {
  const cases: [string, RegExp][] = [
    ['<domain><name>x</name>\n<os><type machine="pc">hvm</type></os>\n<memory>1</memory', /malformed XML at line 3/],
    ['<network/>', /not a libvirt domain: the root element is <network>/],
    ['<domain><memory>1024</memory></domain>', /no <os><type machine=/],
    ["<domain><os><type machine='pc'>hvm</type></os><memory>1024</memory>\n<devices>\n<interface type='user'><model type='bogus'/></interface></devices></domain>", /line 3: unknown interface model 'bogus'/],
  ];
  for (const [text, re] of cases) assert.throws(() => parseLibvirtXml(text, 'g.xml'), (e: unknown) => e instanceof UserError && re.test(e.message), text);
});

test('the format is told from the text; a GuestSpec in YAML is validated field by field', () => {
  assert.equal(parseGuestText(xml('rhel6.xml'), 'x').format, 'libvirt');
  assert.equal(parseGuestText('qemu-system-x86_64 -machine q35', 'x').format, 'argv');
  const yaml = 'machine: {type: q35}\ncpu: {mode: custom, model: EPYC}\nmemory: {sizeMiB: 1024}\nvcpus: {count: 2}\ndevices: []\n';
  assert.equal(parseGuestText(yaml, 'g.yaml').spec.cpu.model, 'EPYC');
  assert.throws(() => parseGuestText(yaml.replace('1024', '"lots"'), 'g.yaml'), /g\.yaml: not valid as a GuestSpec:\n {2}memory\.sizeMiB/);
  assert.throws(() => parseGuestText('machine: {type: q35\n', 'g.yaml'), /g\.yaml: malformed YAML at line/);
});
