/**
 * npm run bench:commands: whole `guestabi` processes as an operator's script runs them (once per
 * VM), beside `virsh hypervisor-cpu-compare` when libvirtd runs. Median of N runs: wall time and
 * peak RSS (from /usr/bin/time). Figures only: time belongs here, never in a test.
 *
 *   node dist/bench/commands.js [--runs N] [--bin PATH ...] [--probe]
 *
 * --bin measures another checkout's bin/guestabi.js; given twice, both in the same run (before and
 * after). --probe also times `guestabi probe` of each fetched QEMU build (scripts/fetch-qemu.sh),
 * once each: 10-200 s a build, which a test must not assert on a busy machine.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cachedBuilds } from '../src/qmp/build.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TIME = '/usr/bin/time';

interface Row {
  name: string;
  argv: string[];
  runs?: number;
  /** Where it runs (the checkout measured); the repository by default. */
  cwd?: string;
  /** A file given on stdin (the hook's domain XML). */
  stdin?: string;
}

interface Figures {
  name: string;
  wallMs: number;
  minMs: number;
  maxMs: number;
  rssMiB: number | undefined;
  exit: number | null;
  runs: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One whole process: wall time (ms) and peak RSS (KiB, when /usr/bin/time is there). */
function runOnce(argv: string[], cwd: string, stdin?: string): { ms: number; rssKiB: number | undefined; exit: number | null } {
  const withTime = existsSync(TIME);
  const [cmd, ...args] = withTime ? [TIME, '-f', 'guestabi-bench-rss %M', ...argv] : argv;
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd!, args, { cwd, encoding: 'utf8', stdio: [stdin ? 'pipe' : 'ignore', 'ignore', 'pipe'], ...(stdin ? { input: readFileSync(stdin, 'utf8') } : {}) });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const m = /guestabi-bench-rss (\d+)/.exec(r.stderr ?? '');
  return { ms, rssKiB: m ? Number(m[1]) : undefined, exit: r.status };
}

/** Every row, its runs interleaved with the other rows' (a load that comes and goes weighs on all). */
function measureAll(rows: Row[], runs: number): Figures[] {
  const cwd = (row: Row) => row.cwd ?? ROOT;
  for (const row of rows) runOnce(row.argv, cwd(row), row.stdin); // warm the page cache
  const samples = rows.map(() => [] as ReturnType<typeof runOnce>[]);
  for (let i = 0; i < Math.max(...rows.map((r) => r.runs ?? runs)); i++) {
    rows.forEach((row, j) => {
      if (i < (row.runs ?? runs)) samples[j]!.push(runOnce(row.argv, cwd(row), row.stdin));
    });
  }
  return rows.map((row, j) => {
    const ms = samples[j]!.map((s) => s.ms);
    const rss = samples[j]!.map((s) => s.rssKiB).filter((x): x is number => x !== undefined);
    return {
      name: row.name,
      wallMs: median(ms),
      minMs: Math.min(...ms),
      maxMs: Math.max(...ms),
      rssMiB: rss.length ? median(rss) / 1024 : undefined,
      exit: samples[j]!.at(-1)!.exit,
      runs: ms.length,
    };
  });
}

/** virsh's own CPU comparison, when libvirtd answers (the figure guestabi check is held to). */
function virshRows(dir: string): Row[] {
  const uri = 'qemu:///system';
  const up = spawnSync('virsh', ['-c', uri, 'version'], { encoding: 'utf8', timeout: 5000 });
  if (up.status !== 0) {
    console.log(`(virsh: libvirtd does not answer on ${uri}: no virsh figures; apt-get install libvirt-daemon-system and start libvirtd)`);
    return [];
  }
  const xml = join(dir, 'cpu.xml');
  writeFileSync(xml, "<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>Westmere</model>\n</cpu>\n");
  // --virttype qemu: TCG, as the host profiles of the guestabi rows; KVM may be absent.
  const compare = ['virsh', '-c', uri, 'hypervisor-cpu-compare', '--virttype', 'qemu', xml];
  if (spawnSync(compare[0]!, compare.slice(1), { encoding: 'utf8' }).status === 0) return [{ name: 'virsh hypervisor-cpu-compare', argv: compare }];
  console.log('(virsh hypervisor-cpu-compare fails here: virsh domcapabilities instead)');
  return [{ name: 'virsh domcapabilities', argv: ['virsh', '-c', uri, 'domcapabilities', '--virttype', 'qemu'] }];
}

/**
 * The libvirt hook as libvirtd runs it: the installed script (sh, timeout, node, guestabi hook run)
 * on `migrate begin` and `prepare begin` with a domain's XML on stdin, installed from a fixture
 * profile into a private folder (no libvirtd involved). Needs the profile's emulator binary here.
 */
function hookRows(bin: string, dir: string): Row[] {
  const cwd = dirname(dirname(bin));
  const state = join(dir, 'hook-state');
  const hooks = join(dir, 'hooks');
  const inst = spawnSync(process.execPath, [bin, 'hook', 'install', '--host', join(cwd, 'test', 'fixtures', 'hosts', 'host-7.2-tcg.json'), '--state', state, '--hooks-dir', hooks, '--no-reload'], { encoding: 'utf8' });
  if (inst.status !== 0) {
    console.log(`(hook: not installed for the bench: ${inst.stderr.trim()})`);
    return [];
  }
  const xml = join(dir, 'domain.xml');
  writeFileSync(xml, readFileSync(join(cwd, 'test', 'fixtures', 'libvirt', 'plain-q35.xml'), 'utf8'));
  const script = join(hooks, 'guestabi');
  return [
    { name: 'hook script: migrate begin (plain-q35.xml)', argv: [script, 'gabi-plain-q35', 'migrate', 'begin', '-'], stdin: xml, cwd },
    { name: 'hook script: prepare begin (plain-q35.xml, + validate)', argv: [script, 'gabi-plain-q35', 'prepare', 'begin', '-'], stdin: xml, cwd },
    { name: 'hook script: started begin (not ours: sh only)', argv: [script, 'gabi-plain-q35', 'started', 'begin', '-'], stdin: xml, cwd },
  ];
}

function probeRows(bin: string, dir: string): Row[] {
  return [...cachedBuilds().keys()].sort().map((v) => ({
    name: `guestabi probe --qemu ${v} (whole build)`,
    argv: [process.execPath, bin, 'probe', '--qemu', v, '--accel', 'tcg', '--catalog-out', join(dir, `catalog-${v}.json`), '--host-out', join(dir, `host-${v}.json`)],
    runs: 1,
  }));
}

function print(rows: Figures[]): void {
  const head = ['command', 'median ms', 'min', 'max', 'peak RSS MiB', 'exit', 'runs'];
  const cells = rows.map((r) => [r.name, r.wallMs.toFixed(1), r.minMs.toFixed(1), r.maxMs.toFixed(1), r.rssMiB?.toFixed(1) ?? 'n/a', String(r.exit), String(r.runs)]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  for (const c of cells) console.log(line(c));
}

/** The guestabi rows for one checkout's bin/guestabi.js (paths relative to that checkout). */
function guestabiRows(bin: string, label: string): Row[] {
  const cwd = dirname(dirname(bin));
  const hosts = join(cwd, 'test', 'fixtures', 'hosts');
  const g = (name: string, ...args: string[]): Row => ({ name: `${label}guestabi ${name}`, argv: [process.execPath, bin, ...args], cwd });
  return [
    g('--help', '--help'),
    g('check (Westmere, pc-q35-7.2, 7.2 -> 10.0)', 'check', '--guest-argv', '-nodefaults -machine pc-q35-7.2 -cpu Westmere', '--from', join(hosts, 'host-7.2-tcg.json'), '--to', join(hosts, 'host-10.0-tcg.json')),
    g('resolve (q35, Westmere, 10.0)', 'resolve', '--guest-argv', '-nodefaults -machine q35 -cpu Westmere', '--host', join(hosts, 'host-10.0-tcg.json')),
    g('tier (rhel9.0, pc-q35-10.0)', 'tier', '--os', 'rhel9.0', '--machine', 'pc-q35-10.0', '--today', '2026-01-01'),
  ];
}

function main(): void {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, bin: { type: 'string', multiple: true }, probe: { type: 'boolean' } } });
  const runs = Number(values.runs ?? 10);
  const bins = (values.bin ?? [join(ROOT, 'bin', 'guestabi.js')]).map((b) => resolve(b));
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-bench-'));
  try {
    const rows: Row[] = [
      { name: 'node -e 0 (the floor: Node starting)', argv: [process.execPath, '-e', '0'] },
      ...bins.flatMap((b, i) => guestabiRows(b, bins.length > 1 ? `[${i + 1}] ` : '')),
      ...hookRows(bins[0]!, dir),
      ...virshRows(dir),
      ...(values.probe ? probeRows(bins[0]!, dir) : []),
    ];
    console.log(`node ${process.version}; median of ${runs} runs, interleaved, after one warm-up${existsSync(TIME) ? '' : ' (no /usr/bin/time: no RSS)'}`);
    bins.forEach((b, i) => console.log(`${bins.length > 1 ? `[${i + 1}] ` : ''}${b}`));
    print(measureAll(rows, runs));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main();
