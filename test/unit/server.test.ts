import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { databaseKinds } from '../databases.js';
import { cli, FIXTURES, requireOsinfo } from '../helpers.js';
import { api, hostFixture, loadFixtures, testServer, testTokens } from '../server-helpers.js';

const tokens = testTokens();
const HOSTS = join(FIXTURES, 'hosts');

for (const db of databaseKinds()) {
  test(`${db.kind}: hosts are versioned; a write needs the version it is based on`, { skip: db.skip }, async () => {
    const d = await db.open();
    const server = await testServer(d.url, tokens);
    try {
      const put = api(server.url, tokens.write);
      const profile = hostFixture('host-7.2-tcg');
      const created = await put('PUT', '/api/hosts/a', profile);
      assert.equal(created.status, 201);
      assert.equal(created.headers.get('etag'), '"1"');
      const got = await put('GET', '/api/hosts/a');
      assert.equal(got.headers.get('etag'), '"1"');
      assert.deepEqual(got.json.profile, profile, 'the profile comes back as it was sent');
      assert.equal(got.json.source, 'api:ops');
      const noMatch = await put('PUT', '/api/hosts/a', profile);
      assert.equal(noMatch.status, 428, 'replacing without If-Match is refused');
      assert.equal(noMatch.headers.get('content-type'), 'application/problem+json; charset=utf-8');
      const ok = await put('PUT', '/api/hosts/a', { ...(profile as object), name: 'renamed' }, { 'if-match': '"1"' });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get('etag'), '"2"');
      const stale = await put('PUT', '/api/hosts/a', profile, { 'if-match': '"1"' });
      assert.equal(stale.status, 412, 'a second operator working from version 1 cannot overwrite version 2');
      assert.equal(stale.json.code, 'VERSION_CONFLICT');
      const history = await put('GET', '/api/hosts/a/history');
      assert.deepEqual(history.json.items.map((h: { version: number }) => h.version), [1, 2]);
      const v1 = await put('GET', '/api/hosts/a/history/1');
      assert.equal(v1.json.profile.name, (profile as { name: string }).name);
      const del = await put('DELETE', '/api/hosts/a', undefined, { 'if-match': '"2"' });
      assert.equal(del.status, 204);
      assert.equal((await put('GET', '/api/hosts/a')).status, 404);
      assert.equal((await put('GET', '/api/hosts/a/history')).json.items.length, 3, 'the deletion is history too');
    } finally {
      await server.close();
      await d.drop();
    }
  });

  test(`${db.kind}: guests are read, pinned on their host and summarised`, { skip: db.skip }, async () => {
    const d = await db.open();
    const server = await testServer(d.url, tokens);
    try {
      const put = api(server.url, tokens.write);
      await loadFixtures(put);
      const list = (await put('GET', '/api/guests')).json.items as { name: string; pinnedMachine: string | null; flags: string[]; abiClass: string }[];
      const argv1 = list.find((g) => g.name === 'argv-1')!;
      assert.equal(argv1.pinnedMachine, 'pc-q35-7.2', 'q35 on a QEMU 7.2 host pins to pc-q35-7.2');
      assert.ok(argv1.flags.includes('machine-unpinned') && argv1.flags.includes('cpu-unpinned'));
      const one = await put('GET', '/api/guests/argv-1');
      assert.equal(one.json.pinned.machine.type, 'pc-q35-7.2');
      assert.match(one.json.pinned.cpu.model, /^Westmere-v\d+$/);
      const xml = await put('PUT', '/api/guests/raw', '<domain type="kvm"><name>raw</name><memory unit="MiB">512</memory><os><type arch="x86_64" machine="pc-q35-7.2">hvm</type></os></domain>');
      assert.equal(xml.status, 201, JSON.stringify(xml.json));
      assert.equal((await put('GET', '/api/guests/raw')).json.format, 'libvirt');
      const report = await put('GET', '/api/guests/argv-0/report');
      assert.equal(report.status, 200, JSON.stringify(report.json));
      assert.equal(report.json.destinations.length, 5);
      assert.ok(report.json.validation.findings.length > 0);
    } finally {
      await server.close();
      await d.drop();
    }
  });
}

test('the API and the CLI give the same document for the same question', async (t) => {
  const d = (await databaseKinds()[0]!.open());
  const server = await testServer(d.url, tokens);
  try {
    const put = api(server.url, tokens.write);
    for (const h of ['host-7.2-tcg', 'host-10.0-tcg']) await put('PUT', `/api/hosts/${h}`, hostFixture(h));
    const guestArgv = '-machine pc-q35-7.2 -cpu EPYC -m 2G -nodefaults -device virtio-net-pci';
    const checkApi = await put('POST', '/api/check', { definition: guestArgv, from: 'host-7.2-tcg', to: 'host-10.0-tcg', bothWays: true });
    const checkCli = cli(['check', '--guest-argv', guestArgv, '--from', join(HOSTS, 'host-7.2-tcg.json'), '--to', join(HOSTS, 'host-10.0-tcg.json'), '--both-ways', '--json']);
    assert.deepEqual(checkApi.json, JSON.parse(checkCli.stdout));
    if (!requireOsinfo(t)) return;
    const tierApi = await put('POST', '/api/tier', { os: 'rhel6.10', machine: 'pc-q35-10.0', today: '2026-11-21' });
    const tierCli = cli(['tier', '--os', 'rhel6.10', '--machine', 'pc-q35-10.0', '--today', '2026-11-21', '--json']);
    assert.deepEqual(tierApi.json, JSON.parse(tierCli.stdout));
    const valApi = await put('POST', '/api/validate', { definition: guestArgv, host: 'host-7.2-tcg', os: 'rhel9.0', today: '2026-11-21' });
    const valCli = cli(['validate', '--guest-argv', guestArgv, '--host', join(HOSTS, 'host-7.2-tcg.json'), '--os', 'rhel9.0', '--today', '2026-11-21', '--json']);
    assert.equal(valApi.status, 200, JSON.stringify(valApi.json));
    assert.deepEqual(valApi.json.findings, JSON.parse(valCli.stdout).findings);
    const runnable = '-machine q35 -cpu Westmere -m 2G -nodefaults';
    const resApi = await put('POST', '/api/resolve', { definition: runnable, hosts: ['host-7.2-tcg', 'host-10.0-tcg'] });
    const resCli = JSON.parse(cli(['resolve', '--guest-argv', runnable, '--cluster', join(HOSTS, 'cluster-7.2-10.0.yaml'), '--json']).stdout);
    assert.equal(resApi.status, 200, JSON.stringify(resApi.json));
    assert.equal(resApi.json.machine.type, resCli.machine.type);
    assert.deepEqual(resApi.json.cpu, resCli.cpu);
  } finally {
    await server.close();
    await d.drop();
  }
});

for (const db of databaseKinds()) {
  test(`${db.kind}: fleet plans over the store agree with a check of the same pair`, { skip: db.skip }, async () => {
    const d = await db.open();
    const server = await testServer(d.url, tokens);
    try {
      const put = api(server.url, tokens.write);
      await loadFixtures(put);
      const m = await put('POST', '/api/plans/matrix', {});
      assert.equal(m.status, 200, JSON.stringify(m.json));
      const guests = (await put('GET', '/api/guests')).json.items as { name: string; host: string }[];
      assert.equal(m.json.summary.guests, guests.length);
      assert.equal(m.json.cells.length, m.json.guestClasses.length * m.json.hostKinds.length);
      for (const c of m.json.cells as { guest: string; from: string; to: string; outcome: string; error?: string }[]) {
        const r = await put('POST', '/api/check', { guest: c.guest, from: c.from, to: c.to });
        const pair = `${c.guest} ${c.from} -> ${c.to}`;
        if (r.status === 200) assert.equal(r.json.outcome, c.outcome, pair);
        else assert.ok(c.outcome === 'unknown' && c.error === r.json.detail, `${pair}: the check says ${r.json.detail}; the cell ${c.outcome} ${c.error}`);
      }
      const u = await put('POST', '/api/plans/upgrade', { to: '10.0', waves: [['host-7.2-tcg']] });
      assert.equal(u.status, 200, JSON.stringify(u.json));
      const onWave = guests.filter((g) => g.host === 'host-7.2-tcg').map((g) => g.name).sort();
      assert.deepEqual(u.json.waves[0].guests.map((g: { guest: string }) => g.guest).sort(), onWave);
      const b = await put('POST', '/api/plans/baseline', { hosts: ['host-7.2-tcg', 'host-10.0-tcg'] });
      assert.equal(b.status, 200, JSON.stringify(b.json));
      assert.ok(b.json.candidates.length > 0);
      assert.equal((await put('POST', '/api/plans/matrix', { hosts: ['nosuch'] })).status, 404);
    } finally {
      await server.close();
      await d.drop();
    }
  });
}
