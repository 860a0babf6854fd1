import { EventEmitter } from 'node:events';
import { GuestabiError } from '../util/errors.js';
import { parseQmpJson } from './json.js';

/** One line of a QMP conversation, as recorded for replay. */
export interface QmpTranscriptEntry {
  dir: 'send' | 'recv';
  msg: Record<string, unknown>;
}

/** A line-oriented, bidirectional channel to one QMP monitor. */
export interface QmpTransport {
  write(line: string): void;
  onLine(handler: (line: string) => void): void;
  onClose(handler: (reason?: Error) => void): void;
  close(): void;
}

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

export interface QmpGreeting {
  QMP: { version: { qemu: { major: number; minor: number; micro: number }; package: string }; capabilities: string[] };
}

/** QEMU answered a command with an error reply. A failure to run: exit 2. */
export class QmpCommandError extends GuestabiError {
  readonly exitCode = 2;
  constructor(
    readonly command: string,
    readonly errorClass: string,
    readonly desc: string,
  ) {
    super(`QMP ${command}: ${errorClass}: ${desc}`);
    this.name = 'QmpCommandError';
  }
}

export class QmpTimeoutError extends GuestabiError {
  readonly exitCode = 2;
  constructor(
    readonly command: string,
    readonly timeoutMs: number,
  ) {
    super(`QMP ${command}: no reply within ${timeoutMs} ms`);
    this.name = 'QmpTimeoutError';
  }
}

/** The monitor went away (QEMU exited or the socket closed) while a reply was awaited. */
export class QmpClosedError extends GuestabiError {
  readonly exitCode = 2;
  constructor(
    readonly command: string | undefined,
    detail: string,
  ) {
    super(command ? `QMP ${command}: connection closed (${detail})` : `QMP connection closed (${detail})`);
    this.name = 'QmpClosedError';
  }
}

/** Whether `e` is one of the ways a QMP command fails: an error reply, no reply in time, or the
 *  monitor gone. */
export function isQmpFailure(e: unknown): e is QmpCommandError | QmpTimeoutError | QmpClosedError {
  return e instanceof QmpCommandError || e instanceof QmpTimeoutError || e instanceof QmpClosedError;
}

/** For `quit` on the way out: QEMU exits on it, often before it replies, and is stopped anyway. */
export function ignoreQmpFailure(e: unknown): void {
  if (!isQmpFailure(e)) throw e;
}

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

export interface QmpClientOptions {
  /** Default timeout for each command; a command may give its own. */
  timeoutMs?: number;
  /** Receives every message sent and received, for `--record`. */
  recorder?: (entry: QmpTranscriptEntry) => void;
}

/**
 * A QMP client: reads the greeting, negotiates capabilities, sends commands with ids and
 * matches replies by id, so commands may be pipelined; events that arrive between replies are
 * emitted as 'event' and can be awaited.
 */
export class QmpClient {
  readonly greeting: QmpGreeting;
  private readonly transport: QmpTransport;
  private readonly pending = new Map<string, Pending>();
  private readonly events = new EventEmitter();
  private readonly options: QmpClientOptions;
  private nextId = 1;
  private closedReason: string | undefined;

  private constructor(transport: QmpTransport, greeting: QmpGreeting, options: QmpClientOptions) {
    this.transport = transport;
    this.greeting = greeting;
    this.options = options;
    this.events.setMaxListeners(0);
  }

  /** Wait for the greeting on `transport`, then send qmp_capabilities. */
  static connect(transport: QmpTransport, options: QmpClientOptions = {}): Promise<QmpClient> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    return new Promise<QmpClient>((resolve, reject) => {
      let client: QmpClient | undefined;
      const timer = setTimeout(() => {
        transport.close();
        reject(new QmpTimeoutError('(greeting)', timeoutMs));
      }, timeoutMs);
      transport.onClose((reason) => {
        clearTimeout(timer);
        if (client) client.handleClose(reason?.message ?? 'peer closed');
        else reject(new QmpClosedError(undefined, reason?.message ?? 'closed before the greeting'));
      });
      transport.onLine((line) => {
        if (line.trim() === '') return;
        let msg: Record<string, unknown>;
        try {
          msg = parseQmpJson(line) as Record<string, unknown>;
        } catch (e) {
          // A line that is not JSON: before the greeting, this is not a QMP monitor; after it,
          // a stray line (QEMU's own messages) that no reply waits for.
          if (!(e instanceof SyntaxError)) throw e;
          if (!client) {
            clearTimeout(timer);
            transport.close();
            reject(new QmpClosedError(undefined, `not a QMP monitor: ${line.slice(0, 120)}`));
          }
          return;
        }
        options.recorder?.({ dir: 'recv', msg });
        if (client) {
          client.handleMessage(msg);
          return;
        }
        if (!('QMP' in msg)) {
          clearTimeout(timer);
          transport.close();
          reject(new QmpClosedError(undefined, `expected a QMP greeting, got ${line.slice(0, 120)}`));
          return;
        }
        clearTimeout(timer);
        client = new QmpClient(transport, msg as unknown as QmpGreeting, options);
        client.execute('qmp_capabilities').then(
          () => resolve(client!),
          (err: Error) => reject(err),
        );
      });
    });
  }

  get isClosed(): boolean {
    return this.closedReason !== undefined;
  }

  /** Run one command. Rejects with QmpCommandError on an error reply, QmpTimeoutError when no
   *  reply comes in time, QmpClosedError when the monitor goes away first. */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, opts: { timeoutMs?: number } = {}): Promise<T> {
    if (this.closedReason !== undefined) return Promise.reject(new QmpClosedError(command, this.closedReason));
    const id = `g${this.nextId++}`;
    const msg: Record<string, unknown> = { execute: command };
    if (args !== undefined) msg.arguments = args;
    msg.id = id;
    const timeoutMs = opts.timeoutMs ?? this.options.timeoutMs ?? 10_000;
    return new Promise<T>((resolve, reject) => {
      const timer =
        timeoutMs > 0
          ? setTimeout(() => {
              this.pending.delete(id);
              reject(new QmpTimeoutError(command, timeoutMs));
            }, timeoutMs)
          : undefined;
      this.pending.set(id, { command, resolve: resolve as (v: unknown) => void, reject, timer });
      this.options.recorder?.({ dir: 'send', msg });
      try {
        this.transport.write(JSON.stringify(msg));
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new QmpClosedError(command, (err as Error).message));
      }
    });
  }

  on(event: 'event', handler: (ev: QmpEvent) => void): void {
    this.events.on(event, handler);
  }

  off(event: 'event', handler: (ev: QmpEvent) => void): void {
    this.events.off(event, handler);
  }

  /** Resolve with the next event called `name` (for which `match` holds), or reject on timeout
   *  or when the monitor closes. */
  waitForEvent(name: string, opts: { timeoutMs?: number; match?: (ev: QmpEvent) => boolean } = {}): Promise<QmpEvent> {
    const timeoutMs = opts.timeoutMs ?? this.options.timeoutMs ?? 10_000;
    return new Promise<QmpEvent>((resolve, reject) => {
      if (this.closedReason !== undefined) {
        reject(new QmpClosedError(`(waiting for ${name})`, this.closedReason));
        return;
      }
      const cleanup = () => {
        clearTimeout(timer);
        this.events.off('event', onEvent);
        this.events.off('closed', onClosed);
      };
      const onEvent = (ev: QmpEvent) => {
        if (ev.event === name && (!opts.match || opts.match(ev))) {
          cleanup();
          resolve(ev);
        }
      };
      const onClosed = (reason: string) => {
        cleanup();
        reject(new QmpClosedError(`(waiting for ${name})`, reason));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new QmpTimeoutError(`(waiting for event ${name})`, timeoutMs));
      }, timeoutMs);
      this.events.on('event', onEvent);
      this.events.on('closed', onClosed);
    });
  }

  close(): void {
    this.transport.close();
    this.handleClose('closed by guestabi');
  }

  private handleMessage(msg: Record<string, unknown>): void {
    if (typeof msg.event === 'string') {
      this.events.emit('event', msg as unknown as QmpEvent);
      return;
    }
    if (!('return' in msg) && !('error' in msg)) return;
    let id = typeof msg.id === 'string' ? msg.id : undefined;
    // QEMU replies without an id only when it could not parse a request; that is the oldest one.
    if (id === undefined) id = this.pending.keys().next().value;
    if (id === undefined) return;
    const p = this.pending.get(id);
    if (!p) return; // a reply to a command that already timed out
    this.pending.delete(id);
    clearTimeout(p.timer);
    if ('error' in msg) {
      const e = (msg.error ?? {}) as { class?: string; desc?: string };
      p.reject(new QmpCommandError(p.command, e.class ?? 'GenericError', e.desc ?? 'unknown error'));
    } else {
      p.resolve(msg.return);
    }
  }

  private handleClose(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      this.pending.delete(id);
      p.reject(new QmpClosedError(p.command, reason));
    }
    this.events.emit('closed', reason);
  }
}
