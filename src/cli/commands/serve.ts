import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import type { HostProfile } from '../../model/host.js';
import { errorMessage, UserError } from '../../util/errors.js';
import { oneOf, parseCommandArgs } from '../args.js';
import { print } from '../output.js';

const USAGE = `guestabi serve [--db PATH | --db postgres://...] [--listen HOST:PORT] [--tokens FILE] [--no-probe]
                      [--max-body BYTES] [--rate-limit PER_MINUTE]
       guestabi serve token add NAME [--role read|write] [--tokens FILE]`;

const DEFAULT_DB = 'guestabi.db';
const DEFAULT_TOKENS = 'guestabi-tokens.yaml';

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,12}$/.test(value)) throw new UserError(`expected a whole number, not '${value}'`, flag);
  return Number(value);
}

async function tokenCommand(positionals: string[], values: { role?: string; tokens?: string }): Promise<number> {
  const [verb, name] = positionals;
  if (verb !== 'add' || !name || positionals.length > 2) throw new UserError(`usage: ${USAGE}`);
  const role = oneOf(values.role, ['read', 'write'] as const, '--role') ?? 'read';
  const { addToken } = await import('../../server/tokens.js');
  const file = values.tokens ?? DEFAULT_TOKENS;
  const token = addToken(file, name, role);
  print(`${role} token '${name}' (shown once; only its SHA-256 is kept in ${file}):`);
  print(token);
  return 0;
}

/** The embedded default: a tokens file beside the database, made with one read-write token the first time. */
async function defaultTokens(): Promise<string> {
  if (!existsSync(DEFAULT_TOKENS)) {
    const { addToken } = await import('../../server/tokens.js');
    const token = addToken(DEFAULT_TOKENS, 'admin', 'write');
    print(`Created ${DEFAULT_TOKENS} with a read-write token (shown once; give it to the web page or as Authorization: Bearer):`);
    print(`  ${token}`);
  }
  return DEFAULT_TOKENS;
}

/** Probe this host with its QEMU and store the profile, as `guestabi probe --push` would. */
async function probeIntoStore(put: (name: string, profile: HostProfile) => Promise<void>): Promise<void> {
  const { runProbe } = await import('./probe.js');
  const { findQemuBuild } = await import('../../qmp/build.js');
  try {
    findQemuBuild(undefined);
  } catch (e) {
    // findQemuBuild's UserError: no QEMU on this machine, which serve runs without.
    if (!(e instanceof UserError)) throw e;
    print('No QEMU on this machine: no host probed (apt-get install qemu-system-x86, then guestabi probe --push URL).');
    return;
  }
  print(`Probing this host (${hostname()}) with its QEMU...`);
  try {
    const { host } = await runProbe({ hostOnly: true });
    await put(host.name, host);
    print(`Host '${host.name}' stored: QEMU ${host.qemu.catalog.replace(/^qemu-/, '')}, ${host.accel.toUpperCase()}, ${host.cpu.modelName}`);
  } catch (e) {
    print(`Could not probe this host: ${errorMessage(e)}`);
  }
}

export async function serveCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    argv,
    { db: { type: 'string' }, listen: { type: 'string' }, tokens: { type: 'string' }, 'no-probe': { type: 'boolean' }, 'max-body': { type: 'string' }, 'rate-limit': { type: 'string' }, role: { type: 'string' } },
    USAGE,
  );
  if (positionals[0] === 'token') return tokenCommand(positionals.slice(1), values);
  if (positionals.length) throw new UserError(`unexpected argument '${positionals[0]}'\nusage: ${USAGE}`);
  const bodyLimit = positiveInt(values['max-body'], '--max-body');
  const rateLimit = positiveInt(values['rate-limit'], '--rate-limit');
  const tokensFile = values.tokens ?? (values.db === undefined ? await defaultTokens() : undefined);
  const { startServer } = await import('../../server/index.js');
  const server = await startServer({ db: values.db ?? DEFAULT_DB, listen: values.listen, tokensFile, bodyLimit, rateLimit });
  print(`guestabi serve: ${values.db?.replace(/\/\/[^@/]*@/, '//***@') ?? DEFAULT_DB} (${server.store.db}), ${tokensFile ? `tokens from ${tokensFile}` : 'no tokens: read-only'}`);
  const catalogs = (await import('../../io/catalog-files.js')).shippedCatalogs().map((c) => c.version);
  print(`Catalogs: QEMU ${catalogs.join(', ')}`);
  if (!values['no-probe']) {
    const { hostColumns } = await import('../../server/summaries.js');
    const { findCatalog } = await import('../../io/catalog-files.js');
    await probeIntoStore(async (name, profile) => void (await server.store.putHost(name, { profile, ...hostColumns(profile, findCatalog(profile.qemu.catalog)) }, { source: 'probe', ifMatch: '*' })));
  }
  print(`Open ${server.url}/  (API: ${server.url}/api, reference: ${server.url}/docs)`);
  return new Promise((resolve) => {
    const stop = (code: number) => () => void server.close().then(() => resolve(code));
    process.once('SIGINT', stop(130));
    process.once('SIGTERM', stop(143));
  });
}
