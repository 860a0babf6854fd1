import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isSystemError, RunError } from '../util/errors.js';
import { ignoreQmpFailure, QmpClient, type QmpTranscriptEntry } from './client.js';
import { COMPILED_IN_MODULE_DIR, type QemuBuild } from './build.js';
import { SocketTransport } from './transport.js';

/** A running QEMU that we started and will stop. */
export interface QemuInstance {
  readonly qmp: QmpClient;
  readonly pid: number | undefined;
  /** What QEMU printed on stderr so far (warnings, the reason it died). */
  stderr(): string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** quit over QMP, then SIGTERM, then SIGKILL; always removes the private folder. */
  stop(): Promise<void>;
}

export interface LaunchOptions {
  /** How long QEMU may take to open its monitor. */
  startTimeoutMs?: number;
  /** Default timeout per QMP command. */
  commandTimeoutMs?: number;
  /** Receives the argv (as given, without the monitor and -L arguments) and every QMP message. */
  record?: (argv: string[], entry: QmpTranscriptEntry) => void;
}

/** QEMU exited before it could be used. `exit` tells a refusal (an exit code, with QEMU's
 *  message) from a crash (a signal). */
export class QemuStartError extends RunError {
  constructor(
    message: string,
    readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined,
  ) {
    super(message);
    this.name = 'QemuStartError';
  }

  get crashed(): boolean {
    return this.exit?.signal != null;
  }
}

/** Every QEMU we started and have not yet seen exit; killed when guestabi exits or is interrupted. */
const live = new Set<ChildProcess>();
let handlersInstalled = false;

function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch (e) {
      // Already gone (ESRCH): nothing to kill.
      if (!isSystemError(e)) throw e;
    }
  }
}

function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', killAllNow);
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const) {
    process.on(signal, () => {
      killAllNow();
      // Reap them before leaving, so that none lingers even as a zombie.
      const started = Date.now();
      const poll = setInterval(() => {
        if (live.size === 0 || Date.now() - started > 2000) {
          clearInterval(poll);
          process.exit(code);
        }
      }, 10);
    });
  }
}

/** Number of QEMU processes this process started that are still running. */
export function liveQemuCount(): number {
  return live.size;
}

/** The argv to spawn: an extracted build runs in a private mount namespace in which its own
 *  module folder hides the system build's. unshare and sh both exec, so the pid is QEMU's. */
export function commandLine(build: QemuBuild, qemuArgs: string[]): { file: string; args: string[] } {
  const args = [...build.dataDirs.flatMap((d) => ['-L', d]), ...qemuArgs];
  if (build.moduleDir && existsSync(COMPILED_IN_MODULE_DIR)) {
    const ns = process.getuid?.() === 0 ? ['-m', '--propagation', 'private'] : ['-r', '-m', '--propagation', 'private'];
    return {
      file: 'unshare',
      args: [...ns, 'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'sh', build.moduleDir, COMPILED_IN_MODULE_DIR, build.binary, ...args],
    };
  }
  return { file: build.binary, args };
}

/**
 * Start QEMU with a private QMP socket and connect to it. `args` are QEMU's arguments without
 * the monitor (added here). On any failure the process is killed before the error is thrown.
 */
export async function launchQemu(build: QemuBuild, args: string[], opts: LaunchOptions = {}): Promise<QemuInstance> {
  installExitHandlers();
  const dir = mkdtempSync(join(tmpdir(), 'guestabi-qemu-'));
  const socketPath = join(dir, 'qmp.sock');
  const { file, args: argv } = commandLine(build, [...args, '-qmp', `unix:${socketPath},server=on,wait=off`]);
  const env = { ...process.env };
  if (build.libraryPath) env.LD_LIBRARY_PATH = build.libraryPath + (env.LD_LIBRARY_PATH ? `:${env.LD_LIBRARY_PATH}` : '');

  let stderr = '';
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  const child = spawn(file, argv, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  live.add(child);
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => {
    if (stderr.length < 64 * 1024) stderr += c;
  });
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      spawnError = err;
      live.delete(child);
      exitInfo = { code: null, signal: null };
      resolve(exitInfo);
    });
    child.on('exit', (code, signal) => {
      live.delete(child);
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  const cleanupDir = () => rmSync(dir, { recursive: true, force: true });
  const kill = async () => {
    if (!exitInfo) {
      child.kill('SIGKILL');
      await exited;
    }
    cleanupDir();
  };
  const describeExit = () => {
    const how = exitInfo?.signal ? `killed by ${exitInfo.signal}` : `exit code ${exitInfo?.code}`;
    const text = stderr.trim();
    return `${build.binary} ${spawnError ? `could not be started (${spawnError.message})` : `exited (${how})`}${text ? `: ${text.split('\n').slice(0, 5).join(' | ')}` : ''}`;
  };

  const startTimeoutMs = opts.startTimeoutMs ?? 15_000;
  const deadline = Date.now() + startTimeoutMs;
  let transport: SocketTransport | undefined;
  while (!transport) {
    if (exitInfo) {
      await kill();
      throw new QemuStartError(`QEMU did not start: ${describeExit()}`, exitInfo);
    }
    if (Date.now() > deadline) {
      await kill();
      throw new RunError(`QEMU did not open its QMP monitor within ${startTimeoutMs} ms (${build.binary}); it was killed`);
    }
    if (existsSync(socketPath)) {
      try {
        transport = await SocketTransport.connect(socketPath);
        break;
      } catch (e) {
        // Not listening yet (ECONNREFUSED, or the socket file not there yet): try again until
        // QEMU exits or the deadline passes.
        if (!isSystemError(e)) throw e;
      }
    }
    await sleep(5);
  }

  const record = opts.record;
  let qmp: QmpClient;
  try {
    qmp = await QmpClient.connect(transport, {
      timeoutMs: opts.commandTimeoutMs ?? 10_000,
      recorder: record ? (entry) => record(args, entry) : undefined,
    });
  } catch (err) {
    // QEMU opens its monitor before it parses -device; a bad argument makes it exit right after.
    await within(exited, 2000);
    const died = exitInfo !== undefined;
    await kill();
    if (died) throw new QemuStartError(`QEMU did not start: ${describeExit()}`, exitInfo);
    throw new RunError(`QEMU's monitor did not answer: ${(err as Error).message}`);
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (!exitInfo && !qmp.isClosed) {
        await qmp.execute('quit', undefined, { timeoutMs: 2000 }).catch(ignoreQmpFailure);
      }
      qmp.close();
      const waitExit = (ms: number) => within(exited, ms);
      if (!exitInfo && !(await waitExit(3000))) {
        child.kill('SIGTERM');
        if (!(await waitExit(2000))) {
          child.kill('SIGKILL');
          await exited;
        }
      }
      cleanupDir();
    })();
    return stopping;
  };

  return {
    qmp,
    pid: child.pid,
    stderr: () => stderr,
    alive: () => exitInfo === undefined,
    exited,
    stop,
  };
}

/** Whether `p` settles within `ms`; the timer is cleared either way so it keeps no process alive. */
function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    p.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

/** Run `body` with a QEMU started from `args`, and stop that QEMU whatever happens. */
export async function withQemu<T>(build: QemuBuild, args: string[], opts: LaunchOptions, body: (q: QemuInstance) => Promise<T>): Promise<T> {
  const q = await launchQemu(build, args, opts);
  try {
    return await body(q);
  } finally {
    await q.stop();
  }
}

/** What `qemu -help` prints: the build's command-line options. Run like QEMU itself (namespace,
 *  libraries), and killed if it takes more than a few seconds. */
export function qemuHelp(build: QemuBuild): Promise<string> {
  const { file, args } = commandLine(build, ['-help']);
  const env = { ...process.env };
  if (build.libraryPath) env.LD_LIBRARY_PATH = build.libraryPath + (env.LD_LIBRARY_PATH ? `:${env.LD_LIBRARY_PATH}` : '');
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => (out += c));
    child.stderr!.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new RunError(`cannot run ${build.binary} -help: ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new RunError(`${build.binary} -help exited with ${code}`));
    });
  });
}
