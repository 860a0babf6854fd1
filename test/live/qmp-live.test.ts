import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { QmpClosedError, QmpCommandError } from '../../src/qmp/client.js';
import { launchQemu, liveQemuCount } from '../../src/qmp/launcher.js';
import { requireQemu } from '../helpers.js';

const ARGS = ['-machine', 'pc', '-nodefaults', '-display', 'none', '-no-user-config', '-S', '-accel', 'tcg'];

for (const version of ['5.2', '7.2', '10.0']) {
  test(`QEMU ${version}: greeting, commands, interleaved events, typed errors, clean shutdown`, async (t) => {
    const build = requireQemu(t, version);
    if (!build) return;
    const q = await launchQemu(build, ARGS);
    try {
      const v = await q.qmp.execute<{ qemu: { major: number; minor: number } }>('query-version');
      assert.equal(`${v.qemu.major}.${v.qemu.minor}`, version);
      assert.deepEqual(q.qmp.greeting.QMP.version.qemu, (await q.qmp.execute<{ qemu: unknown }>('query-version')).qemu);
      const resumed = q.qmp.waitForEvent('RESUME', { timeoutMs: 5000 });
      await q.qmp.execute('cont');
      await resumed;
      const stopped = q.qmp.waitForEvent('STOP', { timeoutMs: 5000 });
      // Pipelined: the STOP event arrives between replies.
      const [, status] = await Promise.all([q.qmp.execute('stop'), q.qmp.execute<{ status: string }>('query-status')]);
      await stopped;
      assert.equal(status.status, 'paused');
      await assert.rejects(q.qmp.execute('qom-get', { path: '/machine/nope', property: 'type' }), QmpCommandError);
      await assert.rejects(q.qmp.execute('no-such-command'), (e: unknown) => e instanceof QmpCommandError && e.errorClass === 'CommandNotFound');
    } finally {
      await q.stop();
    }
    assert.equal(q.alive(), false);
    assert.equal(existsSync(`/proc/${q.pid}`), false, 'QEMU has exited');
    assert.equal(liveQemuCount(), 0);
  });
}

test('a QEMU that dies under us fails the pending command, and stop() still cleans up', async (t) => {
  const build = requireQemu(t, '7.2');
  if (!build) return;
  const q = await launchQemu(build, ARGS);
  process.kill(q.pid!, 'SIGKILL');
  await assert.rejects(q.qmp.execute('query-status', undefined, { timeoutMs: 5000 }), QmpClosedError);
  await q.stop();
  assert.equal(q.alive(), false);
});

test('a QEMU that rejects its arguments is reported with its own message and leaves nothing behind', async (t) => {
  const build = requireQemu(t, '7.2');
  if (!build) return;
  await assert.rejects(launchQemu(build, ['-machine', 'no-such-machine', ...ARGS.slice(2)]), /QEMU did not start: .*unsupported machine type|QEMU did not start: .*no-such-machine/i);
  assert.equal(liveQemuCount(), 0);
});
