import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { openStore } from '../../src/store/index.js';
import { content, guestInput } from '../store-fixtures.js';
import { storeTargets, type StoreTarget } from '../store-targets.js';

const CHILD = fileURLToPath(new URL('../store-child.js', import.meta.url));
/** Acknowledged writes to see before the kill. */
const ACKS = 300;
const RACERS = 4;

type Child = ChildProcessByStdio<Writable, Readable, Readable>;

/** A child writing to the store; onLine sees each complete line; resolves with every line when it ends. */
function child(args: string[], onLine: (line: string, c: Child) => void): { proc: Child; done: Promise<{ lines: string[]; signal: string | null; code: number | null; err: string }> } {
  const proc = spawn(process.execPath, [CHILD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const l of parts) {
      lines.push(l);
      onLine(l, proc);
    }
  });
  proc.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const done = new Promise<{ lines: string[]; signal: string | null; code: number | null; err: string }>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('close', (code, signal) => resolve({ lines, code, signal, err }));
  });
  return { proc, done };
}

async function checkAcknowledged(url: string, acked: string[]): Promise<void> {
  const store = await openStore(url);
  try {
    for (const line of acked) {
      const [name, v] = line.split(' ') as [string, string];
      const got = await store.guestAt(name, Number(v));
      assert.ok(got, `${name} version ${v} was acknowledged, and is lost`);
      assert.deepEqual(content(got), content(guestInput(name, Number(v))));
      assert.ok((await store.getGuest(name))!.version >= Number(v));
    }
  } finally {
    await store.close();
  }
}

/** RACERS children replace guest g with If-Match 1 at once (released together); what each answered. */
async function race(url: string): Promise<string[]> {
  let ready = 0;
  const racers: ReturnType<typeof child>[] = [];
  const go = () => racers.forEach((r) => r.proc.stdin.write('go\n'));
  for (let k = 0; k < RACERS; k++) racers.push(child(['race', url, 'g', String(k)], (l) => l === 'ready' && ++ready === RACERS && go()));
  const results = await Promise.all(racers.map((r) => r.done));
  for (const r of results) assert.equal(r.code, 0, r.err);
  return results.map((r) => r.lines[1] ?? '');
}

function processTests(target: StoreTarget): void {
  test('every write acknowledged before SIGKILL is there after reopening, with its content', async () => {
    const db = await target.open();
    try {
      let seen = 0;
      const { done } = child(['write', db.url], (_l, c) => {
        if (++seen === ACKS + 1) c.kill('SIGKILL');
      });
      const { lines, signal, code, err } = await done;
      assert.equal(signal, 'SIGKILL', `the writer stopped by itself (exit ${code}): ${err}`);
      assert.equal(lines[0], 'open');
      assert.ok(lines.length > ACKS);
      await checkAcknowledged(db.url, lines.slice(1));
    } finally {
      await db.drop();
    }
  });

  test('writers in separate processes with the same If-Match: exactly one wins', async () => {
    const db = await target.open();
    try {
      const store = await openStore(db.url);
      try {
        await store.putGuest('g', guestInput('g'), { source: 'test' });
        const answers = await race(db.url);
        assert.equal(answers.filter((a) => a === 'won 2').length, 1, String(answers));
        assert.equal(answers.filter((a) => a === 'lost VersionConflict 2').length, RACERS - 1, String(answers));
        const winner = answers.indexOf('won 2');
        assert.deepEqual(content((await store.getGuest('g'))!), content(guestInput('g', 10 + winner)));
      } finally {
        await store.close();
      }
    } finally {
      await db.drop();
    }
  });
}

for (const target of storeTargets()) {
  describe(`store across processes on ${target.kind}`, { skip: target.skip }, () => processTests(target));
}
