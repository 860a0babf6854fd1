import { openStore, type Store } from '../src/store/index.js';
import { databaseKinds, type TestDatabase } from './databases.js';

/** SQLite, and PostgreSQL when GUESTABI_TEST_PG is set (test/databases.ts: under CI=true it must be). */
export type StoreTarget = ReturnType<typeof databaseKinds>[number];

/** The databases the store tests run on; a skipped one is announced. */
export function storeTargets(): StoreTarget[] {
  const targets = databaseKinds();
  for (const t of targets) if (t.skip) console.log(`NOTICE: ${t.kind} store tests skipped: ${t.skip}`);
  return targets;
}

/** Run `fn` on a store in a fresh database, then close the store and drop the database. */
export async function withStore(target: StoreTarget, fn: (store: Store, db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await target.open();
  try {
    const store = await openStore(db.url);
    try {
      await fn(store, db);
    } finally {
      await store.close();
    }
  } finally {
    await db.drop();
  }
}
