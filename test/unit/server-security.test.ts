import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sqliteDatabase } from '../databases.js';
import { startServer } from '../../src/server/index.js';
import { RunError } from '../../src/util/errors.js';
import { api, hostFixture, testServer, testTokens } from '../server-helpers.js';

const tokens = testTokens();

async function withServer(opts: { rateLimit?: number; bodyLimit?: number }, f: (url: string) => Promise<void>): Promise<void> {
  const d = sqliteDatabase();
  const server = await testServer(d.url, tokens, opts);
  try {
    await f(server.url);
  } finally {
    await server.close();
    await d.drop();
  }
}

function assertProblem(r: { status: number; headers: Headers; json: { status: number; detail: string; code: string } }, status: number, detail: RegExp): void {
  assert.equal(r.status, status, JSON.stringify(r.json));
  assert.match(r.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(r.json.status, status);
  assert.match(r.json.detail, detail);
  assert.doesNotMatch(JSON.stringify(r.json), /\n\s+at |node_modules/, 'no stack trace');
}

test('no write without a read-write token; reads are open unless the tokens file says otherwise', async () => {
  await withServer({}, async (url) => {
    const profile = hostFixture('host-7.2-tcg');
    assertProblem(await api(url)('PUT', '/api/hosts/a', profile), 401, /read-write token/);
    assertProblem(await api(url, tokens.read)('PUT', '/api/hosts/a', profile), 403, /'viewer' is read-only/);
    assertProblem(await api(url, 'not-a-token')('GET', '/api/hosts'), 401, /not one this server knows/);
    assert.equal((await api(url, tokens.write)('PUT', '/api/hosts/a', profile)).status, 201);
    assert.equal((await api(url)('GET', '/api/hosts')).status, 200);
    assert.equal((await api(url, tokens.read)('GET', '/api/hosts/a')).status, 200);
    assertProblem(await api(url, tokens.read)('DELETE', '/api/hosts/a', undefined, { 'if-match': '*' }), 403, /read-only/);
  });
});

test('bodies over the limit are refused before they are read', async () => {
  await withServer({ bodyLimit: 1024 * 1024 }, async (url) => {
    const big = `<domain>${'<x/>'.repeat(13 * 1024 * 1024)}</domain>`; // 52 MB
    const r = await api(url, tokens.write)('PUT', '/api/guests/big', big);
    assertProblem(r, 413, /too large|exceeds/i);
    assert.equal((await api(url)('GET', '/api/guests/big')).status, 404, 'nothing stored');
  });
});

test('an XML entity bomb and an external entity are refused; nothing is stored, no file is read', async () => {
  await withServer({}, async (url) => {
    const put = api(url, tokens.write);
    const lol = ['<!ENTITY a "lollollollollollollollollollol">'];
    for (let i = 1; i < 10; i++) lol.push(`<!ENTITY ${String.fromCharCode(97 + i)} "${`&${String.fromCharCode(96 + i)};`.repeat(10)}">`);
    const bomb = `<?xml version="1.0"?><!DOCTYPE domain [${lol.join('')}]><domain type="kvm"><name>&j;</name></domain>`;
    assertProblem(await put('PUT', '/api/guests/bomb', bomb), 400, /./);
    const xxe = `<?xml version="1.0"?><!DOCTYPE domain [<!ENTITY x SYSTEM "file:///etc/passwd">]><domain type="kvm"><name>&x;</name><memory>1024</memory><os><type arch="x86_64" machine="q35">hvm</type></os></domain>`;
    const r = await put('PUT', '/api/guests/xxe', xxe);
    assert.notEqual(r.status, 201, 'an external entity is never resolved into a guest');
    assert.doesNotMatch(JSON.stringify(r.json), /root:/);
    assert.equal((await api(url)('GET', '/api/guests')).json.items.length, 0);
  });
});

test('each token has its own rate limit, answered with 429 and a problem document', async () => {
  await withServer({ rateLimit: 5 }, async (url) => {
    const a = api(url, tokens.read);
    for (let i = 0; i < 5; i++) assert.equal((await a('GET', '/api/catalogs')).status, 200);
    const over = await a('GET', '/api/catalogs');
    assertProblem(over, 429, /more than 5 requests a minute/);
    assert.equal((await api(url, tokens.write)('GET', '/api/catalogs')).status, 200, 'another token is not slowed down');
  });
});

test('bad requests name the field; unknown routes and resources are problem documents', async () => {
  await withServer({}, async (url) => {
    const put = api(url, tokens.write);
    assertProblem(await put('POST', '/api/check', { from: 'a' }), 400, /to/);
    assertProblem(await put('POST', '/api/check', { definition: '-machine q35', from: 'nohost', to: 'nohost' }), 404, /from: no host called 'nohost'/);
    assertProblem(await put('PUT', '/api/hosts/a', { schema: 'guestabi/host-profile@1' }), 400, /request body/);
    assertProblem(await put('PUT', '/api/hosts/a', '{"not json'), 400, /./);
    assertProblem(await put('GET', '/api/nosuch'), 404, /no such resource/);
    assertProblem(await put('PUT', '/api/hosts/a', hostFixture('host-7.2-tcg'), { 'if-match': 'yesterday' }), 400, /If-Match/);
  });
});

test('the OpenAPI document describes every resource, and the reference page is served', async () => {
  await withServer({}, async (url) => {
    const doc = (await api(url)('GET', '/openapi.json')).json as { openapi: string; paths: Record<string, unknown> };
    assert.match(doc.openapi, /^3\./);
    for (const p of ['/api/hosts/{name}', '/api/guests/{name}', '/api/check', '/api/resolve', '/api/tier', '/api/validate', '/api/catalogs']) assert.ok(doc.paths[p], p);
    const page = await fetch(`${url}/docs/`);
    assert.equal(page.status, 200);
  });
});

test('a port in use is a clear failure to run, not a stack trace', async () => {
  const d = sqliteDatabase();
  const first = await testServer(d.url, tokens);
  try {
    const port = new URL(first.url).port;
    await assert.rejects(startServer({ db: sqliteDatabase().url, listen: `127.0.0.1:${port}`, tokensFile: tokens.file }), (e: Error) => e instanceof RunError && /cannot listen on 127\.0\.0\.1:\d+: the address is in use/.test(e.message));
  } finally {
    await first.close();
    await d.drop();
  }
});
