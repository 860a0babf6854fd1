import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
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

/** Once per process, at the first QEMU: kill and clean up on every way out, and remove what a
 *  SIGKILLed guestabi before us could not. */
function installExitHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  removeStaleTempDirs();
  process.on('exit', () => {
    killAllNow();
    removeAllTempDirs();
  });
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

/** Where the private socket folders live, and what they are called: `guestabi-qemu-<pid>-XXXXXX`,
 *  so that a folder whose guestabi was killed (SIGKILL runs no handler) can be told from a live one. */
const TEMP_PREFIX = 'guestabi-qemu-';

/** Remove the socket folders of guestabi processes that are gone: a SIGKILLed guestabi cannot remove
 *  its own, so the next one does. Folders of live processes, and those of the old form without a
 *  pid, are left alone. Returns how many were removed. */
export function removeStaleTempDirs(root = tmpdir()): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(root);
  } catch (e) {
    if (!isSystemError(e)) throw e;
    return 0;
  }
  for (const name of names) {
    const m = new RegExp(`^${TEMP_PREFIX}(\\d+)-`).exec(name);
    if (!m || Number(m[1]) === process.pid || processExists(Number(m[1]))) continue;
    rmSync(join(root, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // ESRCH: no such process; EPERM: it exists but is not ours.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every private folder this process made and has not removed yet: removed on exit, whatever the path. */
const tempDirs = new Set<string>();

function makeTempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), `${TEMP_PREFIX}${process.pid}-`));
  tempDirs.add(dir);
  return dir;
}

function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

function removeAllTempDirs(): void {
  for (const dir of tempDirs) removeTempDir(dir);
}

/** util-linux's setpriv, when installed: it sets the parent-death signal and execs. */
let setprivPath: string | null | undefined;
function setpriv(): string | null {
  setprivPath ??= ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p)) ?? null;
  return setprivPath;
}

/**
 * The argv to spawn. QEMU gets SIGKILL from the kernel when guestabi dies, however it dies (SIGKILL
 * runs none of our handlers): setpriv --pdeathsig KILL sets PR_SET_PDEATHSIG, which survives exec
 * (unshare, sh and QEMU are not setuid, the one case where exec clears it) and fires when the thread
 * that forked exits (Node spawns from its main thread). An extracted build runs in a private mount
 * namespace in which its own module folder hides the system build's. setpriv, unshare and sh all
 * exec, so the pid is QEMU's.
 */
export function commandLine(build: QemuBuild, qemuArgs: string[]): { file: string; args: string[] } {
  const args = [...build.dataDirs.flatMap((d) => ['-L', d]), ...qemuArgs];
  let argv = [build.binary, ...args];
  if (build.moduleDir && existsSync(COMPILED_IN_MODULE_DIR)) {
    const ns = process.getuid?.() === 0 ? ['-m', '--propagation', 'private'] : ['-r', '-m', '--propagation', 'private'];
    argv = ['unshare', ...ns, 'sh', '-c', 'mount --bind "$1" "$2" && shift 2 && exec "$@"', 'sh', build.moduleDir, COMPILED_IN_MODULE_DIR, ...argv];
  }
  const sp = setpriv();
  if (sp) argv = [sp, '--pdeathsig', 'KILL', ...argv];
  return { file: argv[0]!, args: argv.slice(1) };
}

function qemuEnv(build: QemuBuild): NodeJS.ProcessEnv {
  const env = { ...process.env };
  if (build.libraryPath) env.LD_LIBRARY_PATH = build.libraryPath + (env.LD_LIBRARY_PATH ? `:${env.LD_LIBRARY_PATH}` : '');
  return env;
}

type ExitInfo = { code: number | null; signal: NodeJS.Signals | null };

/** A spawned QEMU and what we know of it so far. */
interface Spawned {
  child: ChildProcess;
  exited: Promise<ExitInfo>;
  exitInfo(): ExitInfo | undefined;
  stderr(): string;
  /** Why it is gone, with the first lines it printed. */
  describeExit(): string;
  /** SIGKILL unless gone, wait for the exit, remove the private folder. */
  kill(): Promise<void>;
}

function spawnQemu(build: QemuBuild, args: string[], dir: string): Spawned {
  const { file, args: argv } = commandLine(build, args);
  let stderr = '';
  let exitInfo: ExitInfo | undefined;
  let spawnError: Error | undefined;
  const child = spawn(file, argv, { env: qemuEnv(build), stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  live.add(child);
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (c: string) => {
    if (stderr.length < 64 * 1024) stderr += c;
  });
  child.stdout!.resume();
  const exited = new Promise<ExitInfo>((resolve) => {
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
  return {
    child,
    exited,
    exitInfo: () => exitInfo,
    stderr: () => stderr,
    describeExit() {
      const how = exitInfo?.signal ? `killed by ${exitInfo.signal}` : `exit code ${exitInfo?.code}`;
      const text = stderr.trim();
      return `${build.binary} ${spawnError ? `could not be started (${spawnError.message})` : `exited (${how})`}${text ? `: ${text.split('\n').slice(0, 5).join(' | ')}` : ''}`;
    },
    async kill() {
      if (!exitInfo) {
        child.kill('SIGKILL');
        await exited;
      }
      removeTempDir(dir);
    },
  };
}

/** Wait until QEMU listens on its monitor socket; kill it if it exits first or takes too long. */
async function connectSocket(p: Spawned, build: QemuBuild, socketPath: string, startTimeoutMs: number): Promise<SocketTransport> {
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    if (p.exitInfo()) {
      await p.kill();
      throw new QemuStartError(`QEMU did not start: ${p.describeExit()}`, p.exitInfo());
    }
    if (Date.now() > deadline) {
      await p.kill();
      throw new RunError(`QEMU did not open its QMP monitor within ${startTimeoutMs} ms (${build.binary}); it was killed`);
    }
    if (existsSync(socketPath)) {
      try {
        return await SocketTransport.connect(socketPath);
      } catch (e) {
        // Not listening yet (ECONNREFUSED, or the socket file not there yet): try again until
        // QEMU exits or the deadline passes.
        if (!isSystemError(e)) throw e;
      }
    }
    await sleep(5);
  }
}

/** The QMP handshake; a QEMU that dies meanwhile is a start error with its own message. */
async function handshake(p: Spawned, transport: SocketTransport, args: string[], opts: LaunchOptions): Promise<QmpClient> {
  const record = opts.record;
  try {
    return await QmpClient.connect(transport, {
      timeoutMs: opts.commandTimeoutMs ?? 10_000,
      recorder: record ? (entry) => record(args, entry) : undefined,
    });
  } catch (err) {
    // QEMU opens its monitor before it parses -device; a bad argument makes it exit right after.
    await within(p.exited, 2000);
    const died = p.exitInfo() !== undefined;
    await p.kill();
    if (died) throw new QemuStartError(`QEMU did not start: ${p.describeExit()}`, p.exitInfo());
    throw new RunError(`QEMU's monitor did not answer: ${(err as Error).message}`);
  }
}

/** quit over QMP, then SIGTERM, then SIGKILL; then the private folder goes. Once only. */
function stopper(p: Spawned, qmp: QmpClient, dir: string): () => Promise<void> {
  let stopping: Promise<void> | undefined;
  return () => {
    stopping ??= (async () => {
      if (!p.exitInfo() && !qmp.isClosed) {
        await qmp.execute('quit', undefined, { timeoutMs: 2000 }).catch(ignoreQmpFailure);
      }
      qmp.close();
      const waitExit = (ms: number) => within(p.exited, ms);
      if (!p.exitInfo() && !(await waitExit(3000))) {
        p.child.kill('SIGTERM');
        if (!(await waitExit(2000))) {
          p.child.kill('SIGKILL');
          await p.exited;
        }
      }
      removeTempDir(dir);
    })();
    return stopping;
  };
}

/**
 * Start QEMU with a private QMP socket and connect to it. `args` are QEMU's arguments without
 * the monitor (added here). On any failure the process is killed before the error is thrown.
 */
export async function launchQemu(build: QemuBuild, args: string[], opts: LaunchOptions = {}): Promise<QemuInstance> {
  installExitHandlers();
  const dir = makeTempDir();
  const socketPath = join(dir, 'qmp.sock');
  const p = spawnQemu(build, [...args, '-qmp', `unix:${socketPath},server=on,wait=off`], dir);
  const transport = await connectSocket(p, build, socketPath, opts.startTimeoutMs ?? 15_000);
  const qmp = await handshake(p, transport, args, opts);
  return {
    qmp,
    pid: p.child.pid,
    stderr: p.stderr,
    alive: () => p.exitInfo() === undefined,
    exited: p.exited,
    stop: stopper(p, qmp, dir),
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
  return runOnce(build, ['-help']);
}

/** The first line of `qemu -version` ("QEMU emulator version 7.2.22 (Debian ...)"); a RunError
 *  when the binary does not run or is not QEMU, so that a wrong --qemu is said before any work. */
export async function qemuVersionLine(build: QemuBuild): Promise<string> {
  const out = await runOnce(build, ['-version']);
  const first = out.split('\n')[0]!.trim();
  if (!/^QEMU emulator version \d/.test(first)) throw new RunError(`${build.binary} is not QEMU: -version printed ${first ? `'${first.slice(0, 120)}'` : 'nothing'}`);
  return first;
}

/** Run the build once with `args` and give its stdout; killed after a few seconds. */
function runOnce(build: QemuBuild, qemuArgs: string[]): Promise<string> {
  const { file, args } = commandLine(build, qemuArgs);
  const env = qemuEnv(build);
  const what = `${build.binary} ${qemuArgs.join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (c: string) => (out += c));
    child.stderr!.resume();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new RunError(`cannot run ${what}: ${e.message}`));
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new RunError(`${what} exited with ${code}`));
    });
  });
}
