import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface Exchange {
  execute: string;
  arguments: unknown;
  reply: unknown;
  error?: { class: string; desc: string };
}

export interface Recording {
  file: string;
  argv: string[];
  startError?: string;
  exchanges: Exchange[];
}

/** Read a recorded QEMU conversation as command/reply pairs: what QEMU itself said. */
export function readRecording(file: string): Recording {
  const raw = readFileSync(file);
  const text = file.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  const [head, ...rest] = text.split('\n').filter(Boolean);
  const header = JSON.parse(head!) as { argv: string[]; startError?: string };
  const sent = new Map<unknown, { execute: string; arguments: unknown }>();
  const exchanges: Exchange[] = [];
  for (const l of rest) {
    const e = JSON.parse(l) as { dir: string; msg: Record<string, unknown> };
    if (e.dir === 'send') sent.set(e.msg.id, { execute: e.msg.execute as string, arguments: e.msg.arguments });
    else if ('id' in e.msg && sent.has(e.msg.id)) {
      const cmd = sent.get(e.msg.id)!;
      exchanges.push({ ...cmd, reply: e.msg.return, ...(e.msg.error ? { error: e.msg.error as Exchange['error'] } : {}) });
    }
  }
  return { file, argv: header.argv, startError: header.startError, exchanges };
}

export function readRecordings(dir: string): Recording[] {
  return readdirSync(dir)
    .filter((f) => f.includes('.qmp.jsonl'))
    .sort()
    .map((f) => readRecording(join(dir, f)));
}

/** The reply to the first `execute` in a recording (optionally with matching arguments). */
export function replyTo<T>(rec: Recording, execute: string, match?: (args: unknown) => boolean): T {
  const x = rec.exchanges.find((e) => e.execute === execute && (!match || match(e.arguments)));
  if (!x) throw new Error(`${rec.file}: no ${execute} recorded`);
  return x.reply as T;
}

/** The machine type a recording's QEMU was started with. */
export function machineOf(rec: Recording): string {
  return rec.argv[rec.argv.indexOf('-machine') + 1]!;
}
