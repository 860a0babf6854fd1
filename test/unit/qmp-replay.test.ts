import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { QmpClient, QmpCommandError, type QmpTranscriptEntry } from '../../src/qmp/client.js';
import { ReplayTransport } from '../../src/qmp/transport.js';
import { FIXTURES } from '../helpers.js';

function load(version: string): QmpTranscriptEntry[] {
  const [, ...rest] = readFileSync(join(FIXTURES, 'qmp', version, 'session', 'session.qmp.jsonl'), 'utf8').split('\n').filter(Boolean);
  return rest.map((l) => JSON.parse(l) as QmpTranscriptEntry);
}

for (const version of ['5.2', '7.2', '10.0']) {
  test(`QEMU ${version}: a recorded session replays with its events and its typed error`, async () => {
    const entries = load(version);
    const client = await QmpClient.connect(new ReplayTransport(entries));
    const events: string[] = [];
    client.on('event', (e) => events.push(e.event));
    const greeting = entries[0]!.msg as { QMP: { version: { qemu: { major: number } } } };
    assert.equal(client.greeting.QMP.version.qemu.major, greeting.QMP.version.qemu.major);
    assert.equal(((await client.execute('query-status')) as { status: string }).status, 'prelaunch');
    await client.execute('cont');
    await client.execute('stop');
    assert.equal(((await client.execute('query-status')) as { status: string }).status, 'paused');
    await assert.rejects(client.execute('qom-get', { path: '/machine/no-such-object', property: 'type' }), (e: unknown) => {
      assert.ok(e instanceof QmpCommandError);
      // QEMU's own class for a missing object, as recorded
      const recorded = entries.find((x) => x.dir === 'recv' && 'error' in x.msg)!.msg.error as { class: string };
      assert.equal(e.errorClass, recorded.class);
      return true;
    });
    // The events QEMU interleaved with the replies, in QEMU's order.
    const recordedEvents = entries.filter((x) => x.dir === 'recv' && typeof x.msg.event === 'string').map((x) => x.msg.event);
    await client.execute('quit');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(events, recordedEvents.slice(0, events.length));
    assert.ok(events.includes('RESUME') && events.includes('STOP'));
  });
}

test('replay refuses a command that differs from the recording', async () => {
  const client = await QmpClient.connect(new ReplayTransport(load('7.2')));
  // The mismatch closes the replayed monitor, and says what differed.
  await assert.rejects(client.execute('query-version'), /sent \{"execute":"query-version"\}, recorded \{"execute":"query-status"\}/);
});
