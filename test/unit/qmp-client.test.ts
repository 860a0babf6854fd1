import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QmpClient, QmpClosedError, QmpCommandError, QmpTimeoutError, type QmpTranscriptEntry } from '../../src/qmp/client.js';
import { SocketTransport } from '../../src/qmp/transport.js';

const GREETING = { QMP: { version: { qemu: { major: 7, minor: 2, micro: 22 }, package: 'test' }, capabilities: ['oob'] } };

type Handler = (cmd: Record<string, unknown>, send: (msg: unknown) => void, socket: Socket) => void;

/** A scripted QMP peer on a real unix socket. */
async function fakeQmp(handler: Handler, greeting: unknown = GREETING): Promise<{ path: string; server: Server; done: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-test-'));
  const path = join(dir, 'qmp.sock');
  const server = createServer((socket) => {
    const send = (m: unknown) => socket.write(JSON.stringify(m) + '\n');
    if (greeting !== null) send(greeting);
    let buf = '';
    socket.on('data', (d) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const cmd = JSON.parse(line) as Record<string, unknown>;
        if (cmd.execute === 'qmp_capabilities') send({ return: {}, id: cmd.id });
        else handler(cmd, send, socket);
      }
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path,
    server,
    done: () => {
      server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('replies are matched by id even when they arrive out of order, with events in between', async () => {
  const held: [Record<string, unknown>, (m: unknown) => void][] = [];
  const peer = await fakeQmp((cmd, send) => {
    held.push([cmd, send]);
    if (held.length === 2) {
      send({ event: 'STOP', timestamp: { seconds: 1, microseconds: 2 } });
      // answer the second first
      send({ return: 'second', id: held[1]![0].id });
      send({ event: 'RESUME', timestamp: { seconds: 1, microseconds: 3 } });
      send({ return: 'first', id: held[0]![0].id });
    }
  });
  const client = await QmpClient.connect(await SocketTransport.connect(peer.path));
  const events: string[] = [];
  client.on('event', (e) => events.push(e.event));
  const resume = client.waitForEvent('RESUME');
  const [a, b] = await Promise.all([client.execute('one'), client.execute('two')]);
  assert.equal(a, 'first');
  assert.equal(b, 'second');
  assert.equal((await resume).event, 'RESUME');
  assert.deepEqual(events, ['STOP', 'RESUME']);
  assert.equal(client.greeting.QMP.version.qemu.major, 7);
  client.close();
  peer.done();
});

test('an error reply becomes a typed QmpCommandError with QEMU class and description', async () => {
  const peer = await fakeQmp((cmd, send) => send({ error: { class: 'DeviceNotFound', desc: "Device 'x' not found" }, id: cmd.id }));
  const client = await QmpClient.connect(await SocketTransport.connect(peer.path));
  await assert.rejects(client.execute('device_del', { id: 'x' }), (e: unknown) => {
    assert.ok(e instanceof QmpCommandError);
    assert.equal(e.errorClass, 'DeviceNotFound');
    assert.equal(e.command, 'device_del');
    return true;
  });
  client.close();
  peer.done();
});

test('a command without a reply times out, and a late reply is ignored', async () => {
  let late: (() => void) | undefined;
  const peer = await fakeQmp((cmd, send) => {
    if (cmd.execute === 'slow') late = () => send({ return: 'late', id: cmd.id });
    else send({ return: 'ok', id: cmd.id });
  });
  const client = await QmpClient.connect(await SocketTransport.connect(peer.path));
  await assert.rejects(client.execute('slow', undefined, { timeoutMs: 50 }), QmpTimeoutError);
  late?.();
  assert.equal(await client.execute('fast'), 'ok');
  client.close();
  peer.done();
});

test('pending commands fail with QmpClosedError when the peer goes away', async () => {
  const peer = await fakeQmp((_cmd, _send, socket) => socket.destroy());
  const client = await QmpClient.connect(await SocketTransport.connect(peer.path));
  const waiting = client.waitForEvent('SHUTDOWN', { timeoutMs: 5000 });
  await assert.rejects(client.execute('query-status'), QmpClosedError);
  await assert.rejects(waiting, QmpClosedError);
  await assert.rejects(client.execute('query-status'), QmpClosedError);
  peer.done();
});

test('a peer that is not QMP is refused', async () => {
  const peer = await fakeQmp(() => undefined, { hello: 'world' });
  await assert.rejects(QmpClient.connect(await SocketTransport.connect(peer.path)), /expected a QMP greeting/);
  peer.done();
});

test('a peer that never greets times out', async () => {
  const peer = await fakeQmp(() => undefined, null);
  await assert.rejects(QmpClient.connect(await SocketTransport.connect(peer.path), { timeoutMs: 100 }), QmpTimeoutError);
  peer.done();
});

test('the recorder sees every message in both directions', async () => {
  const peer = await fakeQmp((cmd, send) => send({ return: { status: 'paused' }, id: cmd.id }));
  const seen: QmpTranscriptEntry[] = [];
  const client = await QmpClient.connect(await SocketTransport.connect(peer.path), { recorder: (e) => seen.push(e) });
  await client.execute('query-status');
  client.close();
  assert.deepEqual(
    seen.map((e) => `${e.dir}:${(e.msg.execute as string) ?? Object.keys(e.msg)[0]}`),
    ['recv:QMP', 'send:qmp_capabilities', 'recv:return', 'send:query-status', 'recv:return'],
  );
  peer.done();
});
