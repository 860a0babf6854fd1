import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES } from './helpers.js';
import { addToken } from '../src/server/tokens.js';
import { startServer, type RunningServer } from '../src/server/index.js';

export interface TestTokens {
  file: string;
  write: string;
  read: string;
}

export function testTokens(): TestTokens {
  const file = join(mkdtempSync(join(tmpdir(), 'guestabi-tokens-')), 'tokens.yaml');
  return { file, write: addToken(file, 'ops', 'write'), read: addToken(file, 'viewer', 'read') };
}

/** A real server on a free loopback port over `db`. */
export async function testServer(db: string, tokens: TestTokens, opts: { rateLimit?: number; bodyLimit?: number } = {}): Promise<RunningServer> {
  return startServer({ db, listen: '127.0.0.1:0', tokensFile: tokens.file, rateLimit: opts.rateLimit ?? 0, bodyLimit: opts.bodyLimit, quiet: true });
}

export interface Api {
  (method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; headers: Headers; json: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** A small client: JSON in and out, the token in the Authorization header. */
export function api(base: string, token?: string): Api {
  return async (method, path, body, headers = {}) => {
    const isText = typeof body === 'string';
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': isText ? 'application/xml' : 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: isText ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };
}

export const HOST_FIXTURES = ['host-5.2-tcg', 'host-7.2-tcg', 'host-10.0-tcg', 'host-7.2-kvm', 'host-10.0-kvm'];

export function hostFixture(name: string): unknown {
  return JSON.parse(readFileSync(join(FIXTURES, 'hosts', `${name}.json`), 'utf8'));
}

export function libvirtFixtures(): { name: string; xml: string }[] {
  const dir = join(FIXTURES, 'libvirt');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .map((f) => ({ name: f.replace(/\.xml$/, ''), xml: readFileSync(join(dir, f), 'utf8') }));
}

/** Load the fixture hosts (each under its file name) and guests into a server. */
export async function loadFixtures(put: Api): Promise<void> {
  for (const h of HOST_FIXTURES) {
    const r = await put('PUT', `/api/hosts/${h}`, hostFixture(h));
    if (r.status !== 201) throw new Error(`PUT host ${h}: ${r.status} ${JSON.stringify(r.json)}`);
  }
  const guests = libvirtFixtures();
  for (const [i, g] of guests.entries()) {
    const host = i % 2 ? 'host-7.2-tcg' : 'host-10.0-tcg';
    const r = await put('PUT', `/api/guests/${g.name}`, { definition: g.xml, host });
    if (r.status !== 201) throw new Error(`PUT guest ${g.name}: ${r.status} ${JSON.stringify(r.json)}`);
  }
  const argv = ['-machine pc-q35-7.2 -cpu EPYC -m 2G -nodefaults', '-machine q35 -cpu Westmere -m 1G -nodefaults', '-machine pc-i440fx-5.2 -cpu qemu64 -m 512 -nodefaults'];
  for (const [i, a] of argv.entries()) {
    const r = await put('PUT', `/api/guests/argv-${i}`, { definition: a, host: i === 2 ? 'host-5.2-tcg' : 'host-7.2-tcg' });
    if (r.status !== 201) throw new Error(`PUT guest argv-${i}: ${r.status} ${JSON.stringify(r.json)}`);
  }
}

const BIN = fileURLToPath(new URL('../../bin/guestabi.js', import.meta.url));

/** `guestabi serve ARGS` in its own process, as an operator runs it: resolves with its address once it prints it. */
export function spawnServe(args: string[], opts: { cwd?: string; stderr?: 'pipe' | 'inherit' } = {}): Promise<{ child: ChildProcess; url: string; output: string }> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { cwd: opts.cwd, stdio: ['ignore', 'pipe', opts.stderr ?? 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /Open (http:\/\/\S+?)\/ /.exec(out);
      if (m) resolve({ child, url: m[1]!, output: out });
    });
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    child.on('exit', (code) => reject(new Error(`guestabi serve exited ${code}: ${out}`)));
  });
}

/** Stop a spawned server and wait until it is gone. */
export async function stopServe(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
