import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { openStore, type Store } from '../store/index.js';
import { RunError, UserError } from '../util/errors.js';
import { buildApp, type App } from './app.js';
import { loadTokens, type TokensFile } from './tokens.js';

export { buildApp } from './app.js';
export { addToken, hashToken, loadTokens } from './tokens.js';

export interface ServeOptions {
  /** A SQLite file path (the embedded default) or a postgres:// URL. */
  db: string;
  /** HOST:PORT; port 0 picks a free one. Loopback by default. */
  listen?: string;
  tokensFile?: string;
  bodyLimit?: number;
  rateLimit?: number;
  quiet?: boolean;
}

export interface RunningServer {
  url: string;
  app: App;
  store: Store;
  close(): Promise<void>;
}

export function dbKind(db: string): 'sqlite' | 'postgres' {
  return /^postgres(ql)?:\/\//.test(db) ? 'postgres' : 'sqlite';
}

export function parseListen(listen: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port > 65535) throw new UserError(`expected HOST:PORT, e.g. 127.0.0.1:8080, not '${listen}'`, '--listen');
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}

function tokensOf(file: string | undefined): TokensFile {
  if (file === undefined) return { tokens: [] };
  if (!existsSync(file)) throw new UserError('no such file (create one with guestabi serve token add NAME --tokens FILE)', file);
  return loadTokens(file);
}

/** Open the store, build the app and listen: what `guestabi serve` runs, and what tests start. */
export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  const tokens = tokensOf(opts.tokensFile);
  const { host, port } = parseListen(opts.listen ?? '127.0.0.1:8080');
  const store = await openStore(opts.db);
  let app: App;
  try {
    app = await buildApp({ store, dbKind: dbKind(opts.db), tokens, bodyLimit: opts.bodyLimit, rateLimit: opts.rateLimit, logger: false });
    await app.listen({ host, port }).catch((e: NodeJS.ErrnoException) => {
      const why: Record<string, string> = { EADDRINUSE: 'the address is in use (another guestabi serve?)', EACCES: 'permission denied', EADDRNOTAVAIL: 'no such address on this machine' };
      throw e.code && why[e.code] ? new RunError(`cannot listen on ${host}:${port}: ${why[e.code]}; choose another with --listen HOST:PORT`) : e;
    });
  } catch (e) {
    await store.close();
    throw e;
  }
  const addr = app.server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}`,
    app,
    store,
    close: async () => {
      await app.close();
      await store.close();
    },
  };
}
