import { createConnection, type Socket } from 'node:net';
import { isDeepStrictEqual } from 'node:util';
import { GuestabiError } from '../util/errors.js';
import type { QmpTranscriptEntry, QmpTransport } from './client.js';

/** QMP over a connected stream socket: one JSON document per line. */
export class SocketTransport implements QmpTransport {
  private buffer = '';
  private lineHandler: ((line: string) => void) | undefined;
  private closeHandler: ((reason?: Error) => void) | undefined;
  private closed = false;

  constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.lineHandler?.(line);
      }
    });
    const onEnd = (err?: Error) => {
      if (this.closed) return;
      this.closed = true;
      this.closeHandler?.(err);
    };
    socket.on('error', (err) => onEnd(err));
    socket.on('close', () => onEnd());
  }

  /** Connect to a unix socket; rejects if nothing listens there. */
  static connect(path: string): Promise<SocketTransport> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path });
      const onError = (err: Error) => {
        socket.destroy();
        reject(err);
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        socket.off('error', onError);
        resolve(new SocketTransport(socket));
      });
    });
  }

  write(line: string): void {
    if (this.closed) throw new Error('socket closed');
    this.socket.write(line + '\n');
  }
  onLine(handler: (line: string) => void): void {
    this.lineHandler = handler;
  }
  onClose(handler: (reason?: Error) => void): void {
    this.closeHandler = handler;
  }
  close(): void {
    this.socket.destroy();
  }
}

/** A mismatch between what the code under test sent and what was recorded. */
export class ReplayMismatchError extends GuestabiError {
  readonly exitCode = 2;
  override name = 'ReplayMismatchError';
}

/**
 * Replays a recorded conversation, as libvirt's capabilities tests do: each command the client
 * sends must equal (ids aside) the next recorded one, and the recorded replies and events are
 * then delivered, with ids mapped to the live ones.
 */
export class ReplayTransport implements QmpTransport {
  private lineHandler: ((line: string) => void) | undefined;
  private closeHandler: ((reason?: Error) => void) | undefined;
  private cursor = 0;
  private readonly idMap = new Map<unknown, unknown>();
  private readonly sentRecordedIds = new Set<unknown>();
  private closed = false;

  constructor(
    private readonly entries: QmpTranscriptEntry[],
    private readonly label = 'recording',
  ) {}

  write(line: string): void {
    const live = JSON.parse(line) as Record<string, unknown>;
    const idx = this.entries.findIndex((e, i) => i >= this.cursor && e.dir === 'send');
    const rec = idx >= 0 ? this.entries[idx]! : undefined;
    if (!rec || rec.msg.execute !== live.execute || !isDeepStrictEqual(rec.msg.arguments, live.arguments)) {
      throw new ReplayMismatchError(
        `${this.label}: sent ${JSON.stringify({ execute: live.execute, arguments: live.arguments })}, ` +
          `recorded ${rec ? JSON.stringify({ execute: rec.msg.execute, arguments: rec.msg.arguments }) : 'nothing more'}`,
      );
    }
    this.idMap.set(rec.msg.id, live.id);
    this.sentRecordedIds.add(rec.msg.id);
    this.cursor = idx + 1;
    setImmediate(() => this.release());
  }

  onLine(handler: (line: string) => void): void {
    this.lineHandler = handler;
    setImmediate(() => this.release());
  }
  onClose(handler: (reason?: Error) => void): void {
    this.closeHandler = handler;
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.closeHandler?.();
  }

  private released = 0;
  /** Deliver recorded messages in order, up to the first reply whose command has not been sent. */
  private release(): void {
    while (!this.closed && this.released < this.entries.length) {
      const e = this.entries[this.released]!;
      if (e.dir === 'send') {
        if (!this.sentRecordedIds.has(e.msg.id)) return;
        this.released++;
        continue;
      }
      if ('id' in e.msg && !this.sentRecordedIds.has(e.msg.id)) return;
      this.released++;
      const msg = 'id' in e.msg ? { ...e.msg, id: this.idMap.get(e.msg.id) } : e.msg;
      this.lineHandler?.(JSON.stringify(msg));
    }
    if (!this.closed && this.released >= this.entries.length && this.cursor >= this.entries.length) this.close();
  }
}
