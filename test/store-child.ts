/**
 * Child process of test/unit/store-processes.test.ts, on the store at argv[3]:
 *   write URL            writes until it is killed, printing "NAME VERSION" for each write once its
 *                        await has returned (acknowledged): creates, If-Match replacements, batches.
 *   race URL NAME K      prints "ready", waits for a line on stdin, then replaces NAME (If-Match 1)
 *                        with content version 10+K and prints "won VERSION" or "lost ERROR CURRENT".
 */
import { createInterface } from 'node:readline';
import { openStore, VersionConflict, type Store } from '../src/store/index.js';
import { guestInput } from './store-fixtures.js';

const ack = (name: string, version: number) => process.stdout.write(`${name} ${version}\n`);

async function step(store: Store, i: number): Promise<void> {
  const name = `k${i}`;
  ack(name, (await store.putGuest(name, guestInput(name, 1), { source: 'kill-test' })).version);
  if (i % 3 === 2) {
    const prev = `k${i - 1}`;
    ack(prev, (await store.putGuest(prev, guestInput(prev, 2), { source: 'kill-test', ifMatch: 1 })).version);
  }
  if (i % 10 === 9) {
    const batch = Array.from({ length: 5 }, (_, j) => `b${i}-${j}`);
    const written = await store.putGuests(
      batch.map((n) => ({ name: n, guest: guestInput(n, 1) })),
      { source: 'kill-test' },
    );
    written.forEach((w, j) => ack(batch[j]!, w.version));
  }
}

async function writeForever(store: Store): Promise<never> {
  process.stdout.write('open\n');
  for (let i = 0; ; i++) await step(store, i);
}

async function race(store: Store, name: string, k: number): Promise<void> {
  process.stdout.write('ready\n');
  await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
  try {
    const w = await store.putGuest(name, guestInput(name, 10 + k), { source: `racer-${k}`, ifMatch: 1 });
    process.stdout.write(`won ${w.version}\n`);
  } catch (e) {
    if (!(e instanceof VersionConflict)) throw e;
    process.stdout.write(`lost ${e.name} ${e.current}\n`);
  }
  await store.close();
  process.exit(0);
}

const [mode, url, name, k] = process.argv.slice(2);
const store = await openStore(url!);
if (mode === 'race') await race(store, name!, Number(k));
else await writeForever(store);
