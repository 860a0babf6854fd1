/**
 * Record real QMP conversations with the fetched QEMU builds, for the replay tests
 * (libvirt's habit: capture once, replay in fast unit tests). Run: npm run fixtures:record
 * Writes test/fixtures/qmp/<version>/{catalog,host-tcg,session}/ and gzips the large files.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { findQemuBuild } from '../src/qmp/build.js';
import { launchQemu } from '../src/qmp/launcher.js';
import type { QmpTranscriptEntry } from '../src/qmp/client.js';
import { probeCatalog } from '../src/probe/catalog-probe.js';
import { probeHost } from '../src/probe/host-probe.js';
import { liveStarter } from '../src/probe/session.js';
import { FIXTURES, RECORDED_MACHINES } from '../test/helpers.js';

function gzipAll(dir: string): void {
  for (const f of readdirSync(dir)) {
    if (!f.endsWith('.jsonl')) continue;
    const p = join(dir, f);
    writeFileSync(`${p}.gz`, gzipSync(readFileSync(p), { level: 9 }));
    unlinkSync(p);
  }
}

async function recordSession(version: string, dir: string): Promise<void> {
  // A small conversation with events between replies and an error reply, for the client tests.
  mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  const args = ['-machine', 'pc', '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', 'tcg'];
  lines.push(JSON.stringify({ argv: args }));
  const q = await launchQemu(findQemuBuild(version), args, { record: (_a, e: QmpTranscriptEntry) => void lines.push(JSON.stringify(e)) });
  await q.qmp.execute('query-status');
  await q.qmp.execute('cont');
  await q.qmp.execute('stop');
  await q.qmp.execute('query-status');
  await q.qmp.execute('qom-get', { path: '/machine/no-such-object', property: 'type' }).catch(() => undefined);
  await q.stop();
  writeFileSync(join(dir, 'session.qmp.jsonl'), lines.join('\n') + '\n');
}

for (const version of ['5.2', '7.2', '10.0']) {
  const base = join(FIXTURES, 'qmp', version);
  rmSync(base, { recursive: true, force: true });
  const build = findQemuBuild(version);
  const catalogDir = join(base, 'catalog');
  await probeCatalog({ starter: liveStarter(build, { recordDir: catalogDir }), toolVersion: 'fixture', onlyMachines: RECORDED_MACHINES[version] });
  gzipAll(catalogDir);
  const hostDir = join(base, 'host-tcg');
  await probeHost({ starter: liveStarter(build, { recordDir: hostDir }), accel: 'tcg', binary: build.binary, toolVersion: 'fixture' });
  gzipAll(hostDir);
  await recordSession(version, join(base, 'session'));
  console.log(`recorded QEMU ${version} into ${base}`);
}
