import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ignoreQmpFailure, QmpClient, type QmpTranscriptEntry } from '../qmp/client.js';
import type { QemuBuild } from '../qmp/build.js';
import { launchQemu, qemuHelp, QemuStartError } from '../qmp/launcher.js';
import { ReplayTransport } from '../qmp/transport.js';
import { RunError } from '../util/errors.js';

/** What the probe needs of a running QEMU: its monitor, and a way to stop it. */
export interface QemuSession {
  qmp: Pick<QmpClient, 'execute' | 'greeting'>;
  stop(): Promise<void>;
}

/**
 * Starts QEMU instances for the probe. The live starter runs the real binary (and may record
 * every conversation); the replay starter serves recorded conversations instead, so the probe's
 * logic is tested on real QEMU replies without running QEMU.
 */
export interface QemuStarter {
  readonly description: string;
  /** The build's `-help` text (its command-line options). */
  help(): Promise<string>;
  /** `label` names the recording file: keep it stable and unique per set of args. */
  start(args: string[], label: string): Promise<QemuSession>;
}

interface RecordingHeader {
  argv: string[];
  /** Set when QEMU did not start: replay fails the same way. */
  startError?: string;
  startExit?: { code: number | null; signal: NodeJS.Signals | null };
}

function recordingFile(dir: string, label: string): string {
  return join(dir, `${label.replace(/[^A-Za-z0-9._-]/g, '_')}.qmp.jsonl`);
}

export function liveStarter(build: QemuBuild, opts: { recordDir?: string; commandTimeoutMs?: number } = {}): QemuStarter {
  if (opts.recordDir) mkdirSync(opts.recordDir, { recursive: true });
  return {
    description: build.binary,
    async help() {
      const text = await qemuHelp(build);
      if (opts.recordDir) writeFileSync(join(opts.recordDir, 'help.txt'), text);
      return text;
    },
    async start(args, label) {
      const lines: string[] = [JSON.stringify({ argv: args } satisfies RecordingHeader)];
      const record = opts.recordDir ? (_argv: string[], e: QmpTranscriptEntry) => void lines.push(JSON.stringify(e)) : undefined;
      let q;
      try {
        q = await launchQemu(build, args, { record, commandTimeoutMs: opts.commandTimeoutMs });
      } catch (err) {
        if (opts.recordDir) {
          const header: RecordingHeader = { argv: args, startError: (err as Error).message };
          if (err instanceof QemuStartError && err.exit) header.startExit = err.exit;
          writeFileSync(recordingFile(opts.recordDir, label), JSON.stringify(header) + '\n');
        }
        throw err;
      }
      return {
        qmp: q.qmp,
        async stop() {
          await q.stop();
          if (opts.recordDir) writeFileSync(recordingFile(opts.recordDir, label), lines.join('\n') + '\n');
        },
      };
    },
  };
}

/** Serve recordings made with `--record DIR` (plain or gzipped); the args must match what was recorded. */
export function replayStarter(dir: string): QemuStarter {
  if (!existsSync(dir)) throw new RunError(`no recordings in ${dir}`);
  const byArgs = new Map<string, { file: string; entries: QmpTranscriptEntry[]; startError?: string; startExit?: RecordingHeader['startExit'] }>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.qmp.jsonl') || n.endsWith('.qmp.jsonl.gz'))) {
    const file = join(dir, name);
    const raw = readFileSync(file);
    const text = name.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
    const [head, ...rest] = text.split('\n').filter(Boolean);
    const header = JSON.parse(head!) as RecordingHeader;
    byArgs.set(JSON.stringify(header.argv), {
      file,
      entries: rest.map((l) => JSON.parse(l) as QmpTranscriptEntry),
      startError: header.startError,
      startExit: header.startExit,
    });
  }
  return {
    description: `recordings in ${dir}`,
    async help() {
      const file = join(dir, 'help.txt');
      if (!existsSync(file)) throw new RunError(`no help.txt in ${dir}`);
      return readFileSync(file, 'utf8');
    },
    async start(args) {
      const rec = byArgs.get(JSON.stringify(args));
      if (!rec) throw new RunError(`no recording in ${dir} for QEMU ${args.join(' ')}`);
      if (rec.startError !== undefined) throw new QemuStartError(rec.startError, rec.startExit ?? { code: 1, signal: null });
      const qmp = await QmpClient.connect(new ReplayTransport(rec.entries, rec.file));
      return {
        qmp,
        async stop() {
          await qmp.execute('quit').catch(ignoreQmpFailure);
          qmp.close();
        },
      };
    },
  };
}
