import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startServer } from '../../src/server/index.js';
import { FIXTURES } from '../helpers.js';

// The web page (web/, built into dist/web/) in Debian's Chromium against the real server, on
// SQLite and on PostgreSQL: what the page shows is compared with what the API answers.

const ROOT = fileURLToPath(new URL('../../../', import.meta.url)); // from dist/test/live/
const SHOTS = join(ROOT, 'test-results', 'screenshots');
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

/** Guests given as QEMU command lines, beside the libvirt fixtures: aliases, an old machine type, one on no host. */
const ARGV_GUESTS: { name: string; definition: string; host?: string }[] = [
  { name: 'argv-q35-qemu64', definition: '-machine q35 -cpu qemu64 -m 1024', host: 'host-7.2-tcg' },
  { name: 'argv-old-i440fx', definition: '-machine pc-i440fx-2.4 -cpu Nehalem -m 2048', host: 'host-5.2-tcg' },
  { name: 'argv-epyc-10', definition: '-machine pc-q35-10.0 -cpu EPYC -m 4096 -smp 2', host: 'host-10.0-tcg' },
  { name: 'argv-no-host', definition: '-machine pc -cpu qemu64 -m 512' },
];
/** The libvirt fixtures come from a QEMU 7.2 host; westmere.xml is the one meant for TCG. */
const hostOfXml = (file: string): string => (file === 'westmere.xml' ? 'host-7.2-tcg' : 'host-7.2-kvm');

interface Api {
  <T>(method: string, path: string, body?: unknown): Promise<T>;
}

function apiClient(base: string, token: string): Api {
  return async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(`${base}/api${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${method} ${path}: HTTP ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  };
}

async function loadFixtures(api: Api): Promise<void> {
  const hostDir = join(FIXTURES, 'hosts');
  for (const f of readdirSync(hostDir).filter((n) => n.endsWith('.json')).sort()) {
    await api('PUT', `/hosts/${basename(f, '.json')}`, JSON.parse(readFileSync(join(hostDir, f), 'utf8')));
  }
  const xmlDir = join(FIXTURES, 'libvirt');
  for (const f of readdirSync(xmlDir).filter((n) => n.endsWith('.xml')).sort()) {
    await api('PUT', `/guests/${basename(f, '.xml')}`, { definition: readFileSync(join(xmlDir, f), 'utf8'), format: 'libvirt', host: hostOfXml(f) });
  }
  for (const g of ARGV_GUESTS) await api('PUT', `/guests/${g.name}`, { definition: g.definition, format: 'argv', ...(g.host ? { host: g.host } : {}) });
}

function writeTokens(dir: string, token: string): string {
  const file = join(dir, 'tokens.yaml');
  const sha = createHash('sha256').update(token, 'utf8').digest('hex');
  writeFileSync(file, `tokens:\n  - name: web-test\n    role: write\n    sha256: ${sha}\n`);
  return file;
}

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const path = join(SHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage });
  console.log(`screenshot: ${path}`);
}

const countIn = (text: string | null): number => Number(/(\d+)/.exec(text ?? '')?.[1] ?? NaN);

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const it of items) m.set(key(it), [...(m.get(key(it)) ?? []), it]);
  return m;
}

async function checkOverview(page: Page, base: string, api: Api, tag: string) {
  const hosts = (await api<{ items: { name: string; kind: string }[] }>('GET', '/hosts')).items;
  const guests = (await api<{ items: { name: string; abiClass: string | null; flags: string[] }[] }>('GET', '/guests')).items;
  await page.goto(`${base}/#/`);
  await page.getByTestId('totals').waitFor();
  assert.equal(countIn(await page.getByTestId('host-total').textContent()), hosts.length, 'hosts shown');
  assert.equal(countIn(await page.getByTestId('guest-total').textContent()), guests.length, 'guests shown');
  const kinds = groupBy(hosts, (h) => h.kind);
  assert.equal(await page.locator('[data-testid=host-kinds] tbody tr').count(), kinds.size, 'one row per host kind');
  for (const [kind, members] of kinds) {
    assert.equal(Number(await page.locator(`tr[data-kind="${kind}"] [data-testid=kind-count]`).textContent()), members.length, `hosts of kind ${kind}`);
  }
  const classes = groupBy(guests, (g) => g.abiClass ?? '');
  for (const [cls, members] of classes) {
    assert.equal(Number(await page.locator(`tr[data-class="${cls}"] [data-testid=class-count]`).textContent()), members.length, `guests of class ${cls}`);
  }
  const flagged = guests.filter((g) => g.flags.length);
  assert.ok(flagged.length > 0, 'the fixtures have unpinned guests (aliases, bare CPU names)');
  assert.equal(await page.locator('[data-testid=flagged] tbody tr').count(), flagged.length, 'one row per unpinned or deprecated guest');
  for (const g of flagged) assert.equal(await page.locator(`[data-testid=flagged] a[href="#/guests/${encodeURIComponent(g.name)}"]`).count(), 1, `${g.name} links to its page`);
  await shot(page, `overview${tag}`, true);
}

interface Cell {
  guestClass: string;
  hostKind: string;
  outcome: string;
  guest: string;
  from: string;
  to: string;
}
interface Reasonish {
  code: string;
}
interface Check {
  outcome: string;
  forward: { reasons: Reasonish[] };
  rollback?: { reasons: Reasonish[] };
  fence?: Reasonish[];
}

async function checkMatrix(page: Page, base: string, api: Api, tag: string) {
  const m = await api<{ cells: Cell[]; summary: { cells: number } }>('POST', '/plans/matrix', {});
  assert.ok(m.cells.length > 1, 'the fixture fleet gives a matrix');
  await page.goto(`${base}/#/matrix`);
  await page.locator('[data-testid=heatmap] td[data-gc]').first().waitFor();
  assert.equal(countIn(await page.getByTestId('cell-total').textContent()), m.summary.cells, 'cell count in the legend');
  assert.equal(await page.locator('[data-testid=heatmap] td[data-gc]').count(), m.cells.length, 'one heatmap cell per matrix cell');
  const mark = { safe: 'S', unsafe: 'U', impossible: 'X', unknown: '?' } as Record<string, string>;
  const sample = [...m.cells.slice(0, 3), ...['unsafe', 'impossible', 'unknown'].flatMap((o) => m.cells.filter((c) => c.outcome === o).slice(0, 1))];
  for (const c of sample) {
    const td = page.locator(`td[data-gc="${c.guestClass}"][data-hk="${c.hostKind}"]`);
    assert.match((await td.getAttribute('class')) ?? '', new RegExp(`\\bo-${c.outcome}\\b`), `${c.guestClass}/${c.hostKind} colour`);
    assert.equal(await td.textContent(), mark[c.outcome], `${c.guestClass}/${c.hostKind} text label`);
  }
  await shot(page, `matrix${tag}`);
  const pick = m.cells.find((c) => c.outcome === 'unsafe') ?? m.cells.find((c) => c.outcome !== 'safe') ?? m.cells[0]!;
  await page.locator(`td[data-gc="${pick.guestClass}"][data-hk="${pick.hostKind}"]`).click();
  const result = page.getByTestId('check-result');
  await result.waitFor();
  const check = await api<Check>('POST', '/check', { guest: pick.guest, from: pick.from, to: pick.to, bothWays: true });
  const expected = [...check.forward.reasons, ...(check.rollback?.reasons ?? []), ...(check.fence ?? [])].map((r) => r.code).sort();
  const shown = (await result.locator('table.reasons tbody tr > td:first-child code').allTextContents()).sort();
  assert.deepEqual(shown, expected, 'every reason of the check is shown');
  assert.ok(expected.length > 0 || pick.outcome === 'safe', 'a cell that is not safe has reasons');
  await shot(page, `matrix-cell${tag}`);
}

async function checkUpgrade(page: Page, base: string, api: Api, tag: string) {
  const catalogs = (await api<{ items: { id: string; version: string }[] }>('GET', '/catalogs')).items;
  const to = catalogs.find((c) => c.version.startsWith('10.0'))!.id;
  const hosts = (await api<{ items: { name: string; qemu: string }[] }>('GET', '/hosts')).items;
  const wave = hosts.filter((h) => h.qemu.startsWith('7.2')).map((h) => h.name);
  assert.ok(wave.length > 0, 'the fixtures have QEMU 7.2 hosts');
  await page.goto(`${base}/#/upgrade`);
  await page.getByTestId('host-picker').waitFor();
  await page.getByTestId('target').selectOption(to);
  for (const h of wave) await page.locator(`input[data-host="${h}"]`).check();
  await page.locator('button[type=submit].primary').click();
  await page.getByTestId('plan-summary').waitFor();
  const plan = await api<{ summary: Record<string, number>; waves: { guests: unknown[] }[] }>('POST', '/plans/upgrade', { to, waves: [wave] });
  for (const [k, v] of Object.entries(plan.summary)) {
    assert.equal(Number(await page.locator(`[data-testid=plan-summary] td[data-field="${k}"] .big`).textContent()), v, `summary ${k}`);
  }
  assert.equal(await page.getByTestId('plan-wave').count(), plan.waves.length, 'one section per wave');
  const dl = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download CSV' }).click();
  const csv = readFileSync((await (await dl).path())!, 'utf8').trim().split(/\r\n/);
  assert.match(csv[0]!, /^wave,guest,host,/);
  assert.equal(csv.length - 1, plan.waves.reduce((n, w) => n + w.guests.length, 0), 'one CSV line per guest and wave');
  await shot(page, `upgrade${tag}`, true);
}

/** The guest page of a guest that is pinned on its host; returns its name. */
async function checkGuest(page: Page, base: string, api: Api, tag: string): Promise<string> {
  const pinned = (await api<{ items: { name: string; host: string | null; pinnedMachine: string | null }[] }>('GET', '/guests')).items.filter((g) => g.host && g.pinnedMachine);
  const name = (pinned.find((g) => g.name === 'westmere') ?? pinned[0])?.name;
  assert.ok(name, 'some fixture guest is pinned on its host');
  const guest = await api<{ version: number; pinned: { machine: { type: string } } | null }>('GET', `/guests/${name}`);
  const report = await api<{ destinations: unknown[]; validation: unknown }>('GET', `/guests/${name}/report`);
  assert.ok(guest.pinned, `${name} is pinned on its host`);
  await page.goto(`${base}/#/guests/${name}`);
  await page.getByTestId('pinned-machine').waitFor();
  assert.equal(await page.getByTestId('pinned-machine').textContent(), guest.pinned.machine.type);
  await page.getByTestId('destinations').waitFor();
  assert.equal(await page.locator('[data-testid=destinations] tbody tr').count(), report.destinations.length, 'one row per destination');
  if (report.validation) assert.ok((await page.locator('[data-testid=validation] tbody tr').count()) > 0, 'validation findings shown');
  await page.getByTestId('history').waitFor();
  await shot(page, `guest${tag}`, true);
  // A write without a token is refused, and the refusal reads as a sentence; with the token it is saved.
  await page.getByRole('button', { name: 'Pin again' }).click();
  await assert.doesNotReject(page.locator('.repin [role=alert]').filter({ hasText: '401' }).waitFor());
  return name;
}

async function writeWithToken(page: Page, base: string, api: Api, token: string, name: string) {
  await page.locator('header input[type=password]').fill(token);
  await page.locator('header button[type=submit]').click();
  await page.getByRole('button', { name: 'Pin again' }).click();
  await page.locator('.repin .ok-note').filter({ hasText: 'version 2' }).waitFor();
  assert.equal((await api<{ items: unknown[] }>('GET', `/guests/${name}/history`)).items.length, 2, 'the write made version 2');
  await page.goto(`${base}/#/guests/no-such-guest`);
  const err = page.locator('main [role=alert]');
  await err.waitFor();
  assert.match((await err.textContent()) ?? '', /404/, 'a missing guest reads as an error naming it');
  assert.match((await err.textContent()) ?? '', /no-such-guest/);
}

async function runAgainst(db: string, tag: string): Promise<void> {
  assert.ok(existsSync(join(ROOT, 'dist/web/index.html')), 'dist/web/index.html is missing: run npm run web:build');
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-web-'));
  const token = `web-${randomBytes(12).toString('hex')}`;
  let browser: Browser | undefined;
  const server = await startServer({ db: db || join(dir, 'guestabi.sqlite'), listen: '127.0.0.1:0', tokensFile: writeTokens(dir, token), quiet: true });
  try {
    const api = apiClient(server.url, token);
    await loadFixtures(api);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.setDefaultTimeout(60_000);
    await checkOverview(page, server.url, api, tag);
    await checkMatrix(page, server.url, api, tag);
    await checkUpgrade(page, server.url, api, tag);
    const guest = await checkGuest(page, server.url, api, tag);
    await writeWithToken(page, server.url, api, token, guest);
    assert.deepEqual(pageErrors, [], 'no script errors in the page');
  } finally {
    await browser?.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function requireChromium(t: TestContext): boolean {
  if (existsSync(CHROMIUM)) return true;
  const why = `${CHROMIUM} is missing (apt-get install chromium)`;
  if (process.env.CI === 'true') throw new Error(`${why}; under CI every test must run`);
  t.skip(why);
  return false;
}

test('web: overview, matrix, upgrade simulator and guest page in Chromium, against the server on SQLite', async (t) => {
  if (!requireChromium(t)) return;
  await runAgainst('', '');
});

test('web: the same pages against the server on PostgreSQL', async (t) => {
  const url = process.env.GUESTABI_TEST_PG;
  if (!url) {
    if (process.env.CI === 'true') throw new Error('GUESTABI_TEST_PG is not set: under CI=true the web test on PostgreSQL must run');
    const why = 'GUESTABI_TEST_PG is not set: the web test on PostgreSQL is skipped';
    console.log(`notice: ${why}`);
    t.skip(why);
    return;
  }
  if (!requireChromium(t)) return;
  const name = `guestabi_web_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const db = new URL(url);
    db.pathname = `/${name}`;
    await runAgainst(db.toString(), '-postgres');
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
});
