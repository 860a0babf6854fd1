/** Issue 9: QEMU's own defaulting rules, limits on what users give, unknown or repeated input. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseGuestText } from '../../src/formats/guest-input.js';
import { memoryBytes, parseMemoryMiB } from '../../src/formats/qemuopts.js';
import { DEFAULT_LIMITS, limitsFromEnv, prefersSockets, qemuSmp, setLimits } from '../../src/resolve/limits.js';
import { UserError } from '../../src/util/errors.js';
import { FIXTURES } from '../helpers.js';

const BIN = join(FIXTURES, '..', '..', 'bin', 'guestabi.js');
const HOSTS = join(FIXTURES, 'hosts');
const argv = (text: string) => parseGuestText(text, '--guest-argv', 'argv').spec;
const cli = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, GUESTABI_MAX_INPUT_BYTES: '' } });
const refuses = (run: () => unknown, re: RegExp) => assert.throws(run, (e: unknown) => e instanceof UserError && re.test(e.message));

test('-m as QEMU reads it: 0 is the default 128 MiB, a bare number MiB, qemu_strtosz suffixes', () => {
  assert.equal(argv('-machine q35 -m 0').memory.sizeMiB, 128);
  assert.equal(argv('-machine q35 -m size=0').memory.sizeMiB, 128);
  assert.equal(argv('-machine q35 -m 512').memory.sizeMiB, 512);
  assert.equal(argv('-machine q35 -m 1.5G').memory.sizeMiB, 1536);
  assert.equal(argv('-machine q35 -m 2g,maxmem=8G,slots=4').memory.maxMiB, 8192);
  assert.equal(parseMemoryMiB('1T'), 1024 * 1024);
  assert.equal(memoryBytes('512B'), 512); // a suffix: bytes, not MiB
  assert.equal(parseMemoryMiB('512MB'), undefined); // QEMU refuses two suffixes
  assert.equal(parseMemoryMiB('99999999999999999999'), undefined); // over 64 bits
  refuses(() => argv('-machine q35 -m size='), /missing 'size'/);
  refuses(() => argv('-machine q35 -m 1G,frob=1'), /-m has no parameter 'frob'/);
  refuses(() => argv('-machine q35 -m 2G,maxmem=1G,slots=2'), /maximum memory .* at least/);
  refuses(() => argv('-machine q35 -m 2G,maxmem=4G,slots=1000'), /at most 256/);
});

test('-smp forms and missing members computed as machine-smp.c does, sockets before 6.2, cores since', () => {
  assert.deepEqual(argv('-machine q35 -smp 4').vcpus, { count: 4 });
  assert.deepEqual(argv('-machine q35 -smp cpus=4,maxcpus=8').vcpus, { count: 4, max: 8 });
  assert.deepEqual(argv('-machine q35 -smp maxcpus=8').vcpus, { count: 8, max: 8 }); // cpus defaults to maxcpus
  assert.deepEqual(argv('-machine q35 -smp sockets=2,cores=2,threads=2').vcpus, { count: 8, sockets: 2, cores: 2, threads: 2 });
  assert.deepEqual(qemuSmp({ count: 4 }, true), { cpus: 4, maxcpus: 4, sockets: 4, dies: 1, cores: 1, threads: 1 });
  assert.deepEqual(qemuSmp({ count: 4 }, false), { cpus: 4, maxcpus: 4, sockets: 1, dies: 1, cores: 4, threads: 1 });
  assert.deepEqual(qemuSmp({ count: 8, threads: 2 }, false), { cpus: 8, maxcpus: 8, sockets: 1, dies: 1, cores: 4, threads: 2 });
  assert.equal(prefersSockets('6.1', [10, 0]), true); // hw_compat_6_1: prefer_sockets
  assert.equal(prefersSockets('6.2', [10, 0]), false);
  assert.equal(prefersSockets('5.2', [5, 2]), true);
  assert.equal(prefersSockets(null, [5, 2]), true);
  refuses(() => argv('-machine q35 -smp 2,maxcpus=1'), /maxcpus \(1\) must be equal to or greater/);
  refuses(() => argv('-machine q35 -smp 5,cores=2'), /product of the hierarchy must match maxcpus/);
  refuses(() => argv('-machine q35 -smp 0'), /positive integer/);
  refuses(() => argv('-machine q35 -smp 4,frob=2'), /-smp has no parameter 'frob'/);
  assert.deepEqual(argv('-machine q35 -smp 4,clusters=2').unmodelled, ['-smp clusters=2']);
});

test('numbers over the limits are refused before the work, naming the limit and how to raise it', () => {
  const spec = (memory: string, vcpus: string) =>
    `{"machine":{"type":"pc-q35-7.2"},"cpu":{"mode":"custom"},"memory":${memory},"vcpus":${vcpus},"devices":[]}`;
  refuses(() => parseGuestText(spec('{"sizeMiB":1e308}', '{"count":1}'), 'g.json'), /g\.json: memory\.sizeMiB: .*over the limit of 4294967296 .*--max-memory-mib or GUESTABI_MAX_MEMORY_MIB/);
  refuses(() => parseGuestText(spec('{"sizeMiB":128}', '{"count":1e9}'), 'g.json'), /vcpus\.count: .*over the limit of 4096 .*--max-vcpus/);
  refuses(() => argv('-machine q35 -smp 100000'), /over the limit of 4096/);
  refuses(() => argv('-machine q35 -device virtio-net-pci,queues=100000'), /queues=100000: QEMU takes at most 1024/);
  const many = `-machine q35 -nodefaults ${'-device e1000 '.repeat(DEFAULT_LIMITS.devices + 1)}`;
  refuses(() => argv(many), /devices: .*over the limit of 4096 \(raise it with --max-devices or GUESTABI_MAX_DEVICES\)/);
  try {
    setLimits({ devices: 10_000 });
    assert.equal(argv(many).devices.length, DEFAULT_LIMITS.devices + 1);
  } finally {
    setLimits({ devices: DEFAULT_LIMITS.devices });
  }
  assert.deepEqual(limitsFromEnv({ GUESTABI_MAX_INPUT_BYTES: '1000' }), { inputBytes: 1000 });
  refuses(() => limitsFromEnv({ GUESTABI_MAX_HOSTS: 'lots' }), /GUESTABI_MAX_HOSTS: a limit must be a positive integer/);
});

test('a domain of 870,000 interfaces is refused at once by its size, or by its device count', () => {
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-limits-'));
  const file = join(dir, 'big.xml');
  const iface = "<interface type='network'><source network='default'/><model type='virtio'/></interface>\n";
  writeFileSync(file, `<domain type='kvm'><name>big</name><memory>1048576</memory><os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type></os><devices>\n${iface.repeat(200_000)}</devices></domain>\n`);
  let r = cli('resolve', file, '--host', join(HOSTS, 'host-10.0-tcg.json'));
  assert.equal(r.status, 2);
  assert.match(r.stderr, /big\.xml: the guest is too big: \d+ bytes, over the limit of 16777216 \(raise it with --max-input-bytes or GUESTABI_MAX_INPUT_BYTES\)/);
  r = cli('resolve', file, '--host', join(HOSTS, 'host-10.0-tcg.json'), '--max-input-bytes', '100000000');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /<devices> has too many elements: 200000 devices, over the limit of 4096/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('repeated and conflicting flags, unknown options, XML errors once, YAML warnings as errors', () => {
  const from = join(HOSTS, 'host-7.2-tcg.json');
  const to = join(HOSTS, 'host-10.0-tcg.json');
  let r = cli('check', '--guest-argv', '-machine pc-q35-7.2', '--from', from, '--from', to, '--to', to);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--from is given more than once/);
  r = cli('check', '--guest-argv', '-machine pc-q35-7.2', '--from', from, '--to', to, '--dest-guest', 'x.xml', '--dest-guest-argv', '-machine q35');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /give --dest-guest or --dest-guest-argv, not both/);
  // An option no build has: resolve refuses, naming the build; check says impossible on both sides.
  r = cli('resolve', '--guest-argv', '-machine q35 -frob 1', '--host', to);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /QEMU 10\.0\.2 \(host host-10\.0-tcg\) has no option -frob/);
  r = cli('check', '--guest-argv', '-machine pc-q35-7.2 -frob 1', '--from', from, '--to', to);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /OPTION_UNKNOWN/);
  // An option QEMU has and guestabi does not model is kept, never dropped.
  assert.deepEqual(argv('-machine q35 -numa node,nodeid=0').unmodelled, ['-numa node,nodeid=0']);
  // More vCPUs than the machine type takes: resolve names the limit, check says impossible.
  r = cli('resolve', '--guest-argv', '-machine pc-q35-7.2 -smp 300', '--host', to);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /machine type pc-q35-7\.2 takes at most 288 on QEMU 10\.0\.2/);
  r = cli('check', '--guest-argv', '-machine pc-q35-7.2 -smp 300', '--from', from, '--to', to);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /VCPUS_OVER_MACHINE_LIMIT.*at most 288 vCPUs, the guest asks 300/);
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-input-'));
  writeFileSync(join(dir, 'bad.xml'), "<domain><name>x</name><memory>1</memory>\n<os><type machine='pc'>hvm</os></domain>");
  r = cli('resolve', join(dir, 'bad.xml'), '--host', to);
  assert.equal(r.status, 2);
  assert.equal(r.stderr.match(/Opening and ending tag mismatch/g)?.length, 1, r.stderr);
  writeFileSync(join(dir, 'tag.yaml'), 'machine: !frob {type: pc}\ncpu: {mode: custom}\nmemory: {sizeMiB: 128}\nvcpus: {count: 1}\ndevices: []\n');
  r = cli('resolve', join(dir, 'tag.yaml'), '--host', to);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /tag\.yaml: malformed YAML at line 1, column 10: Unresolved tag: !frob\n/);
  assert.doesNotMatch(r.stderr, /YAMLWarning|trace-warnings/);
});

test('fuzz finding: a rules file with a pattern that does not compile names the rule, no SyntaxError', async () => {
  const { migrationRules } = await import('../../src/io/rules-files.js');
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-rules-'));
  const file = join(dir, 'rules.yaml');
  const { readFileSync } = await import('node:fs');
  writeFileSync(file, readFileSync(join(FIXTURES, '..', '..', 'data', 'rules', 'migration.yaml'), 'utf8').replace("'^mac$'", () => "'^(mac$'"));
  refuses(() => migrationRules(file), /rules\.yaml: properties\[2\]\.match: not a regular expression/);
});
