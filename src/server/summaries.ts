import type { CatalogIndex } from '../catalog/catalog.js';
import type { GuestSpec } from '../model/guest.js';
import type { HostProfile } from '../model/host.js';
import type { PinnedAbi } from '../model/pinned.js';
import { createHash } from 'node:crypto';
import { guestSpecKey, hostKindContent } from '../fleet/index.js';
import { pinnedSpec } from '../resolve/pinned-spec.js';
import { indexHost } from '../resolve/target.js';
import { hostFacts, type HostFacts } from '../store/index.js';

function sha256(text: string, hexDigits: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexDigits);
}

/**
 * The list columns the store keeps beside a host profile. `kind` is what fleet plans group hosts
 * by: SHA-256, not a fast hash, since two different hosts sharing an id would share verdicts, and
 * profiles come from users.
 */
export function hostColumns(p: HostProfile, catalog: CatalogIndex): HostFacts {
  return { ...hostFacts(p), kind: `hk-${sha256(hostKindContent(indexHost(p, catalog)), 24)}` };
}

const VERSIONED_CPU = /-v\d+$/;

/** What an operator should look at: names QEMU resolves at run time, deprecated types and models. */
export function guestFlags(spec: GuestSpec, pinned: PinnedAbi | null, catalog: CatalogIndex | undefined): string[] {
  const flags: string[] = [];
  const m = catalog?.machine(spec.machine.type);
  if (m && m.name !== spec.machine.type) flags.push('machine-unpinned');
  if (spec.cpu.mode === 'custom' && spec.cpu.model && !VERSIONED_CPU.test(spec.cpu.model)) flags.push('cpu-unpinned');
  if (spec.cpu.mode === 'host-passthrough' || spec.cpu.mode === 'maximum') flags.push('cpu-host-dependent');
  if (!pinned) flags.push('not-pinned');
  const machine = pinned?.machine.type ?? spec.machine.type;
  if (catalog?.machine(machine)?.deprecated) flags.push('machine-deprecated');
  const cpu = pinned?.cpu.model ?? spec.cpu.model;
  if (cpu && catalog?.cpuModel(cpu)?.deprecated) flags.push('cpu-deprecated');
  return flags;
}

/**
 * Guests share a class when every check sees the same input for them: the definition as pinned
 * (or as written, when it is not pinned), without its name. Equal input, equal verdicts.
 */
export function abiClass(spec: GuestSpec, pinned: PinnedAbi | null): string {
  const checked = pinned ? pinnedSpec(spec, pinned) : spec;
  // SHA-256 for the reason given at hostColumns.
  return `${pinned ? 'p' : 's'}-${sha256(guestSpecKey(checked), 32)}`;
}

export function cpuAsWritten(spec: GuestSpec): string {
  return spec.cpu.mode === 'custom' ? (spec.cpu.model ?? '(default)') : spec.cpu.mode;
}
