import { closeSync, openSync, statSync } from 'node:fs';
import type { Accel } from '../model/common.js';
import type { QemuBuild } from '../qmp/build.js';
import { qemuVersionLine } from '../qmp/launcher.js';
import { errorMessage, RunError, UserError } from '../util/errors.js';

/**
 * What a lab run needs before it can say anything about a migration: two QEMUs and the accelerator
 * the guest runs on. Without them the run fails (exit 2): an `impossible` from a binary that is not
 * QEMU, or from a missing /dev/kvm, would be a verdict about nothing.
 */

/** A guest's command line with the accelerator set: `accel`, when given, replaces whatever the
 *  guest names (-accel, -enable-kvm, -machine accel=; libvirt's domain type becomes -accel);
 *  otherwise the guest's own, or TCG when it names none. */
export function withAccel(args: string[], accel: Accel | undefined): { args: string[]; accel: string } {
  const own = guestAccel(args);
  if (!accel) return own ? { args, accel: own } : { args: [...args, '-accel', 'tcg'], accel: 'tcg' };
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const w = args[i]!;
    if (w === '-accel' || w === '--accel') {
      i++;
      continue;
    }
    if (w === '-enable-kvm' || w === '--enable-kvm') continue;
    if ((w === '-machine' || w === '-M') && i + 1 < args.length) {
      out.push(w, withoutAccelKey(args[++i]!));
      continue;
    }
    out.push(w);
  }
  return { args: [...out, '-accel', accel], accel };
}

/** The accelerator a command line asks for (the first QEMU would try), if any. */
export function guestAccel(args: string[]): string | undefined {
  let found: string | undefined;
  args.forEach((w, i) => {
    const next = args[i + 1] ?? '';
    if (found) return;
    if (w === '-accel' || w === '--accel') found = next.split(',')[0]!.replace(/^accel=/, '');
    else if (w === '-enable-kvm' || w === '--enable-kvm') found = 'kvm';
    else if ((w === '-machine' || w === '-M') && /(^|,)accel=/.test(next)) found = /(?:^|,)accel=([^,:]+)/.exec(next)![1];
  });
  return found;
}

function withoutAccelKey(machine: string): string {
  return machine
    .split(',')
    .filter((p) => !p.startsWith('accel='))
    .join(',');
}

/** Why KVM cannot be used here, or undefined when /dev/kvm is a device we can open. */
export function kvmUnusable(dev = '/dev/kvm'): string | undefined {
  try {
    if (!statSync(dev).isCharacterDevice()) return `${dev} is not a device`;
    closeSync(openSync(dev, 'r+'));
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `no ${dev}` : `${dev}: ${code ?? errorMessage(e)}`;
  }
}

/** Refuse a run whose accelerator is missing here, naming where the accelerator came from. */
export function checkAccel(accel: string, fromFlag: boolean): void {
  if (accel !== 'kvm') return;
  const why = kvmUnusable();
  if (!why) return;
  if (fromFlag) throw new UserError(`KVM is not usable here (${why}); use --accel tcg`, '--accel');
  throw new RunError(`the guest runs on KVM, which is not usable here (${why}); give --accel tcg to run it on TCG`);
}

/** Refuse a build that is not QEMU (or does not run) before any guest is started. */
export async function checkIsQemu(build: QemuBuild, flag: string): Promise<string> {
  try {
    return await qemuVersionLine(build);
  } catch (e) {
    if (e instanceof RunError) throw new UserError(e.message, flag);
    throw e;
  }
}

/** QEMU's words when an accelerator is missing or refused (accel/kvm/kvm-all.c, system/vl.c). */
const ACCEL_FAILURE = /Could not access KVM kernel module|failed to initialize (kvm|KVM)|invalid accelerator|no accelerator found|accelerator .* not (available|supported)/;

/** Whether a start failure is about the accelerator rather than the guest. */
export function isAccelFailure(message: string | undefined): boolean {
  return message !== undefined && ACCEL_FAILURE.test(message);
}
