import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { HostProfile } from '../../src/model/host.js';
import { isValid } from '../../src/model/validate.js';
import { probeHost } from '../../src/probe/host-probe.js';
import { replayStarter } from '../../src/probe/session.js';
import { FIXTURES } from '../helpers.js';
import { readRecordings, replyTo } from '../recording.js';

const roots = { proc: join(FIXTURES, 'host/this-vm/proc'), sys: join(FIXTURES, 'host/this-vm/sys'), dev: join(FIXTURES, 'host/this-vm/dev') };

for (const version of ['5.2', '7.2', '10.0']) {
  test(`QEMU ${version}: a host profile from recorded replies says what QEMU said can run`, async () => {
    const dir = join(FIXTURES, 'qmp', version, 'host-tcg');
    const profile = await probeHost({ starter: replayStarter(dir), accel: 'tcg', binary: 'qemu-system-x86_64', toolVersion: 'test', roots, now: new Date('2026-11-21T00:00:00Z'), name: 'fixture' });
    assert.ok(isValid(HostProfile, profile));
    const rec = readRecordings(dir)[0]!;
    const defs = replyTo<{ name: string; 'unavailable-features': string[] }[]>(rec, 'query-cpu-definitions');
    for (const d of defs) {
      assert.deepEqual(profile.cpuModels[d.name], { runnable: d['unavailable-features'].length === 0, unavailableFeatures: d['unavailable-features'] });
    }
    const v = replyTo<{ qemu: { major: number; minor: number; micro: number } }>(rec, 'query-version').qemu;
    assert.equal(profile.qemu.catalog, `qemu-${v.major}.${v.minor}.${v.micro}-x86_64`);
    assert.equal(profile.hostCpu.model, 'max');
    assert.equal(profile.kvm.devicePresent, false, 'the fixture tree has no /dev/kvm');
    assert.equal(profile.accel, 'tcg');
    assert.ok(profile.probeMachine.startsWith('pc-i440fx-'));
  });
}
