import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { QemuBuild } from '../qmp/build.js';
import { isQmpFailure } from '../qmp/client.js';
import { launchQemu, type QemuInstance } from '../qmp/launcher.js';
import { errorMessage } from '../util/errors.js';
import type { Rules } from '../check/rules.js';
import { diffFingerprints, fingerprint, type Fingerprint, type FingerprintDifference } from './fingerprint.js';

export type Observed = 'safe' | 'unsafe' | 'impossible';

/** What happened when a guest was migrated between two real QEMUs. */
export interface LabRun {
  observed: Observed;
  /** Where it ended: source start, destination start, migration, destination load, compared. */
  stage: 'source-start' | 'destination-start' | 'migration' | 'destination-load' | 'compared';
  destinationStarted: boolean;
  migration: 'completed' | 'failed' | 'timeout' | 'not-started';
  destinationRunning: boolean;
  error?: string;
  differences: FingerprintDifference[];
  durationMs: number;
}

export interface LabOptions {
  from: QemuBuild;
  to: QemuBuild;
  /** QEMU arguments of the guest on each side (no monitor, no -incoming: added here). */
  sourceArgs: string[];
  destinationArgs: string[];
  migrationTimeoutMs?: number;
  rules: Rules;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function waitStatus(q: QemuInstance, want: string[], timeoutMs: number): Promise<string | undefined> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end && q.alive()) {
    try {
      const s = await q.qmp.execute<{ status: string }>('query-status', undefined, { timeoutMs: 2000 });
      if (want.includes(s.status)) return s.status;
    } catch (e) {
      // QEMU died, hung or refused the command: it has no status to wait for.
      if (isQmpFailure(e)) return undefined;
      throw e;
    }
    await sleep(20);
  }
  return undefined;
}

function lastLines(text: string): string {
  return text.trim().split('\n').slice(-3).join(' | ');
}

/** Migrate over loopback TCP and wait for the source to say how it ended (or the destination to
 *  die, or the time to run out): 'refused' when the source would not start it. */
async function migrateOver(src: QemuInstance, dest: QemuInstance, timeoutMs: number): Promise<{ status: string; error?: string }> {
  const uri = `tcp:127.0.0.1:${await freePort()}`;
  await dest.qmp.execute('migrate-incoming', { uri });
  try {
    await src.qmp.execute('migrate', { uri });
  } catch (e) {
    return { status: 'refused', error: errorMessage(e) };
  }
  const deadline = Date.now() + timeoutMs;
  let status = 'active';
  while (Date.now() < deadline) {
    const m = await src.qmp.execute<{ status: string; 'error-desc'?: string }>('query-migrate');
    status = m.status;
    if (status === 'completed' || status === 'failed' || status === 'cancelled') return { status, error: m['error-desc'] };
    if (!dest.alive()) break;
    await sleep(25);
  }
  return { status };
}

/**
 * Start the destination waiting for a migration, start the source and let the guest run (idle in
 * its firmware), migrate over loopback TCP, and look at both sides: did the destination start, did
 * the migration complete, is the destination still running (the source may say completed while the
 * destination died loading the stream), and is the guest's platform the same. Both QEMUs are
 * stopped whatever happens.
 */
export async function labMigrate(o: LabOptions): Promise<LabRun> {
  const started = Date.now();
  const run = (r: Omit<LabRun, 'durationMs'>): LabRun => ({ ...r, durationMs: Date.now() - started });
  const host = ['-display', 'none'];
  let dest: QemuInstance | undefined;
  let src: QemuInstance | undefined;
  try {
    try {
      dest = await launchQemu(o.to, [...o.destinationArgs, ...host, '-S', '-incoming', 'defer']);
    } catch (e) {
      return run({ observed: 'impossible', stage: 'destination-start', destinationStarted: false, migration: 'not-started', destinationRunning: false, error: errorMessage(e), differences: [] });
    }
    try {
      src = await launchQemu(o.from, [...o.sourceArgs, ...host]);
    } catch (e) {
      return run({ observed: 'impossible', stage: 'source-start', destinationStarted: true, migration: 'not-started', destinationRunning: false, error: errorMessage(e), differences: [] });
    }
    await waitStatus(src, ['running'], 10_000);
    // Let the firmware get going, so that the devices and CPU hold state worth moving.
    await sleep(300);
    const { status, error } = await migrateOver(src, dest, o.migrationTimeoutMs ?? 60_000);
    if (status === 'refused') {
      // The source refuses to start the migration (a migration blocker: invtsc, migratable=off,
      // a device that cannot migrate): QEMU's own answer, observed like any other refusal.
      return run({ observed: 'impossible', stage: 'migration', destinationStarted: true, migration: 'failed', destinationRunning: false, error: `source refused to migrate: ${error}`, differences: [] });
    }
    if (status !== 'completed') {
      await sleep(200);
      const destSaid = lastLines(dest.stderr());
      const why = [destSaid && `destination: ${destSaid}`, error].filter(Boolean).join('; ');
      return run({
        observed: 'impossible',
        stage: 'migration',
        destinationStarted: true,
        migration: status === 'failed' || status === 'cancelled' ? 'failed' : dest.alive() ? 'timeout' : 'failed',
        destinationRunning: false,
        error: why || `migration ${status}`,
        differences: [],
      });
    }
    // Both sides are looked at paused at the same moment of the guest: the source as it sent its
    // state (postmigrate), the destination as it loaded it (-S keeps it paused). Looked at while
    // the firmware ran on, what the firmware programs in between (PIIX4 smb_io_base under load,
    // KVM fuzz seed 20261216) showed as a change the migration did not make.
    const before: Fingerprint = await fingerprint(src.qmp, o.rules.visibility);
    const loaded = await waitStatus(dest, ['paused'], 10_000);
    const after = loaded && dest.alive() ? await fingerprint(dest.qmp, o.rules.visibility) : undefined;
    // Then it must run: the destination may still die loading what it received, or when it
    // first puts the vCPU state into KVM.
    if (after) await dest.qmp.execute('cont').catch(() => undefined);
    const running = after && (await waitStatus(dest, ['running'], 10_000));
    await sleep(300);
    if (!running || !dest.alive() || !after) {
      return run({
        observed: 'impossible',
        stage: 'destination-load',
        destinationStarted: true,
        migration: 'completed',
        destinationRunning: false,
        error: `source reported completed, but the destination ${dest.alive() ? 'did not run' : 'died'}: ${lastLines(dest.stderr())}`,
        differences: [],
      });
    }
    const differences = diffFingerprints(before, after, o.rules);
    return run({ observed: differences.length ? 'unsafe' : 'safe', stage: 'compared', destinationStarted: true, migration: 'completed', destinationRunning: true, differences });
  } finally {
    await Promise.all([src?.stop(), dest?.stop()]);
  }
}
