import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { flattenDevice, parseQtree, parseValue, walkQtree } from '../../src/probe/qtree.js';
import { FIXTURES } from '../helpers.js';

/** Every `info qtree` text QEMU returned in the recorded probes. */
function recordedQtrees(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const version of ['5.2', '7.2', '10.0']) {
    const dir = join(FIXTURES, 'qmp', version, 'catalog');
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.qmp.jsonl.gz'))) {
      const lines = gunzipSync(readFileSync(join(dir, f))).toString('utf8').split('\n').filter(Boolean);
      const ids = new Set<unknown>();
      for (const l of lines.slice(1)) {
        const e = JSON.parse(l) as { dir: string; msg: Record<string, unknown> };
        if (e.dir === 'send' && e.msg.execute === 'human-monitor-command') ids.add(e.msg.id);
        if (e.dir === 'recv' && ids.has(e.msg.id)) out.push({ file: `${version}/${f}`, text: e.msg.return as string });
      }
    }
  }
  return out;
}

test('every device and property line of real qtree output is parsed', () => {
  const trees = recordedQtrees();
  assert.ok(trees.length >= 10, `expected recorded qtrees, found ${trees.length}`);
  for (const { file, text } of trees) {
    const root = parseQtree(text);
    const devices = [...walkQtree(root)];
    assert.equal(devices.length, (text.match(/^\s*dev: /gm) ?? []).length, `${file}: device count`);
    const props = devices.reduce((n, d) => n + Object.keys(d.device.props).length, 0);
    assert.equal(props, (text.match(/^\s*[^\s=]+ = /gm) ?? []).length, `${file}: property count`);
    const pciLines = (text.match(/^\s*class .*, pci id /gm) ?? []).length;
    assert.equal(devices.filter((d) => d.device.pci?.id).length, pciLines, `${file}: PCI identities`);
  }
});

test('values are typed as QEMU prints them', () => {
  assert.equal(parseValue('true'), true);
  assert.equal(parseValue('"off"'), 'off');
  assert.equal(parseValue('3 (0x3)'), 3);
  assert.equal(parseValue('2147483648 (2 GiB)'), 2147483648);
  assert.equal(parseValue('-1 (0xffffffffffffffff)'), -1);
  assert.equal(parseValue('18446744073709551615 (0xffffffffffffffff)'), '18446744073709551615');
  assert.equal(parseValue('04.0'), '04.0');
});

test('a virtio proxy carries its backend properties, its PCI identity and BAR sizes', () => {
  const tree = recordedQtrees().find((t) => t.file.startsWith('7.2/machine-pc-i440fx-7.2'))!;
  const root = parseQtree(tree.text);
  const net = [...walkQtree(root)].find((d) => d.device.id === 'probe-virtio-net-pci')!;
  const flat = flattenDevice(net.device, net.busType, new Set(['addr', 'mac']));
  // From the text: the proxy's own property, the backend's, the bus, the vendor:device id.
  const block = tree.text.slice(tree.text.indexOf('id "probe-virtio-net-pci"'));
  const want = (name: string) => parseValue(new RegExp(`\\n\\s*${name} = (.*)`).exec(block)![1]!);
  assert.equal(flat['disable-legacy'], want('disable-legacy'));
  assert.equal(flat.mrg_rxbuf, want('mrg_rxbuf'));
  assert.equal(flat['bus-type'], 'PCI');
  assert.equal(flat['pci.id'], /pci id ([0-9a-f:]+)/.exec(block)![1]);
  assert.equal(flat.addr, undefined);
  assert.match(String(flat['pci.bar4']), /^mem 0x[0-9a-f]+$/);
});

test('text that is not qtree output is refused', () => {
  assert.throws(() => parseQtree('Error: unknown command'), /not the output of info qtree/);
});
