import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { databaseKinds } from '../databases.js';
import { api, hostFixture, spawnServe, stopServe, testTokens, type TestTokens } from '../server-helpers.js';

function serve(db: string, tokens: TestTokens) {
  return spawnServe(['--db', db, '--listen', '127.0.0.1:0', '--no-probe', '--tokens', tokens.file, '--rate-limit', '0']);
}

const definition = (i: number) => `-machine pc-q35-7.2 -cpu Westmere -m ${256 + i} -nodefaults -device virtio-net-pci,mac=52:54:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;

/** Writers keep writing until the server dies under them; what each got acknowledged is returned. */
async function writeUntilKilled(url: string, tokens: TestTokens, child: ChildProcess, killAfter: number): Promise<Map<string, number>> {
  const put = api(url, tokens.write);
  const acked = new Map<string, number>();
  let next = 0;
  const writer = async () => {
    while (true) {
      const i = next++;
      try {
        const r = await put('PUT', `/api/guests/g${i}`, { definition: definition(i), host: 'h' });
        if (r.status === 201) acked.set(`g${i}`, i);
      } catch {
        return; // the connection died with the server: this write was never acknowledged
      }
      if (acked.size === killAfter) child.kill('SIGKILL');
    }
  };
  await Promise.all(Array.from({ length: 8 }, writer));
  return acked;
}

for (const db of databaseKinds()) {
  test(`${db.kind}: a server killed with SIGKILL mid-stream loses no acknowledged write`, { skip: db.skip }, async () => {
    const d = await db.open();
    const tokens = testTokens();
    try {
      const first = await serve(d.url, tokens);
      assert.equal((await api(first.url, tokens.write)('PUT', '/api/hosts/h', hostFixture('host-7.2-tcg'))).status, 201);
      const exited = new Promise((r) => first.child.on('exit', r));
      const acked = await writeUntilKilled(first.url, tokens, first.child, 150);
      await exited;
      assert.ok(acked.size >= 150, `${acked.size} writes acknowledged before the kill`);
      const second = await serve(d.url, tokens);
      try {
        const get = api(second.url);
        const stored = new Set<string>(((await get('GET', '/api/guests')).json.items as { name: string }[]).map((g) => g.name));
        const lost = [...acked.keys()].filter((n) => !stored.has(n));
        assert.deepEqual(lost, [], 'every acknowledged write is there');
        for (const [name, i] of [...acked].slice(0, 20)) assert.equal((await get('GET', `/api/guests/${name}`)).json.definition, definition(i));
      } finally {
        await stopServe(second.child);
      }
    } finally {
      await d.drop();
    }
  });
}
