import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteDatabase } from '../databases.js';
import { cli, cliAsync, requireQemu } from '../helpers.js';
import { api, spawnServe, stopServe, testServer, testTokens } from '../server-helpers.js';

test('guestabi probe --push stores this host in a running service; a bad URL is refused before probing, a read-only token by the service', async (t) => {
  if (!requireQemu(t, '7.2')) return;
  const tokens = testTokens();
  const d = sqliteDatabase();
  const server = await testServer(d.url, tokens);
  try {
    const bad = cli(['probe', '--qemu', '7.2', '--host-only', '--accel', 'tcg', '--name', 'pushed', '--push', 'not a url']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--push: not a URL/);
    const denied = await cliAsync(['probe', '--qemu', '7.2', '--host-only', '--accel', 'tcg', '--name', 'pushed', '--push', server.url, '--token', tokens.read]);
    assert.equal(denied.code, 2);
    assert.match(denied.stderr, /HTTP 403: token 'viewer' is read-only/);
    const r = await cliAsync(['probe', '--qemu', '7.2', '--host-only', '--accel', 'tcg', '--name', 'pushed', '--push', server.url], { GUESTABI_TOKEN: tokens.write });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Host profile pushed to http:\/\/127\.0\.0\.1:\d+\/api\/hosts\/pushed/);
    const got = await api(server.url)('GET', '/api/hosts/pushed');
    assert.equal(got.status, 200);
    assert.equal(got.json.profile.accel, 'tcg');
    assert.equal(got.json.source, 'api:ops');
    assert.ok(Object.keys(got.json.profile.cpuModels).length > 50, 'the whole profile arrived');
  } finally {
    await server.close();
    await d.drop();
  }
});

test('guestabi serve with no arguments: an embedded database in the working folder, a token, this host probed in', async (t) => {
  if (!requireQemu(t, '7.2')) return;
  const cwd = mkdtempSync(join(tmpdir(), 'guestabi-serve-'));
  const served = spawnServe(['--listen', '127.0.0.1:0'], { cwd });
  try {
    const { output: out, url } = await served;
    assert.match(out, /Created guestabi-tokens\.yaml with a read-write token/);
    assert.match(out, /guestabi serve: guestabi\.db \(sqlite\)/);
    assert.match(out, /Catalogs: QEMU 5\.2\.0, 7\.2\.22, 10\.0\.2/);
    assert.match(out, /Host '.+' stored: QEMU /);
    const hosts = (await api(url)('GET', '/api/hosts')).json.items as { source: string }[];
    assert.equal(hosts.length, 1);
    assert.equal(hosts[0]!.source, 'probe');
    const token = /^ {2}(gabi_\S+)$/m.exec(out)![1]!;
    assert.equal((await api(url, token)('PUT', '/api/guests/g', { definition: '-machine q35 -m 1G' })).status, 201, 'the printed token writes');
    const page = await fetch(`${url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>guestabi<\/title>/);
  } finally {
    await served.then((s) => stopServe(s.child), () => undefined);
    rmSync(cwd, { recursive: true, force: true });
  }
});
