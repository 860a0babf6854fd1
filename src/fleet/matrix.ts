import { checkMigration, newCheckCache, type CheckCache } from '../check/check.js';
import type { Rules } from '../check/rules.js';
import { FLEET_MATRIX_SCHEMA_ID, type ByOutcome, type FleetMatrix, type HostKind, type MatrixCell } from '../model/fleet.js';
import type { Reason } from '../model/reason.js';
import type { CheckResult } from '../model/verdict.js';
import { ResolveError, type TargetHost } from '../resolve/target.js';
import { UserError } from '../util/errors.js';
import { groupGuests, mergeClasses, type ClassGroup, type FleetGuest, type PreGroupedClass } from './classes.js';
import { hostKinds, type HostKinds, type KindOptions } from './kinds.js';

/** Told how far a long plan has come (cells or guests done of all): a terminal shows it. */
export type Progress = (done: number, total: number) => void;

export interface MatrixInput {
  /** One TargetHost per host (indexHost), named. */
  hosts: TargetHost[];
  guests: FleetGuest[];
  rules: Rules;
  /** Host-kind ids the caller keeps per host (hostKindId): see KindOptions. */
  kindOf?: KindOptions['kindOf'];
  progress?: Progress;
}

export interface ClassMatrixInput {
  hosts: TargetHost[];
  classes: PreGroupedClass[];
  rules: Rules;
  kindOf?: KindOptions['kindOf'];
  progress?: Progress;
}

/** The codes of the reasons that have an effect, each once, in the order they came. */
export function effectCodes(reasons: Reason[]): string[] {
  const out: string[] = [];
  for (const r of reasons) if (r.effect && !out.includes(r.code)) out.push(r.code);
  return out;
}

export interface CellHosts {
  from: { name: string; host: TargetHost };
  to: { name: string; host: TargetHost };
}

/**
 * The two hosts a cell checks: the class's own host (a host of the source kind a guest of the
 * class runs on) and the first host of the target kind, or its second when the first is the
 * source itself (a migration between two hosts of one kind). A guest on no host is checked from
 * the destination to itself: whether it starts there as defined.
 */
export function cellHosts(c: ClassGroup, kind: HostKind, kinds: HostKinds): CellHosts {
  const members = kind.members;
  const hosts = kinds.hosts.get(kind.id)!;
  const i = members.length > 1 && members[0] === c.from?.name ? 1 : 0;
  const to = { name: members[i]!, host: hosts[i]! };
  return { from: c.from ?? to, to };
}

/** A check that could not be made is a cell with outcome unknown and the error that stopped it. */
export function failedCheck(e: unknown): { outcome: 'unknown'; codes: string[]; error: string } {
  if (e instanceof ResolveError) {
    const why = e.reasons.slice(0, 3).map((r) => r.message);
    return { outcome: 'unknown', codes: ['CHECK_FAILED', ...effectCodes(e.reasons.map((r) => ({ ...r, effect: 'unknown' as const })))], error: [e.message, ...why].join(': ') };
  }
  if (e instanceof UserError) return { outcome: 'unknown', codes: ['GUEST_DEFINITION_REJECTED'], error: e.message };
  throw e;
}

function checkCell(c: ClassGroup, kind: HostKind, kinds: HostKinds, rules: Rules, cache: CheckCache): MatrixCell {
  const { from, to } = cellHosts(c, kind, kinds);
  let v: { outcome: MatrixCell['outcome']; codes: string[]; error?: string };
  try {
    const r: CheckResult = checkMigration({ source: c.spec, from: from.host, to: to.host, rules, cache });
    v = { outcome: r.outcome, codes: effectCodes(r.forward.reasons) };
  } catch (e) {
    v = failedCheck(e);
  }
  const cell: MatrixCell = { guestClass: c.doc.id, hostKind: kind.id, outcome: v.outcome, codes: v.codes, guest: c.guest, from: from.name, to: to.name };
  if (v.error !== undefined) cell.error = v.error;
  return cell;
}

function buildMatrix(kinds: HostKinds, classes: ClassGroup[], rules: Rules, progress?: Progress): FleetMatrix {
  const cells: MatrixCell[] = [];
  const byOutcome: ByOutcome = { safe: 0, unsafe: 0, impossible: 0, unknown: 0 };
  const cache = newCheckCache();
  const total = classes.length * kinds.kinds.length;
  for (const c of classes) {
    for (const kind of kinds.kinds) {
      const cell = checkCell(c, kind, kinds, rules, cache);
      byOutcome[cell.outcome]++;
      cells.push(cell);
    }
    progress?.(cells.length, total);
  }
  return {
    schema: FLEET_MATRIX_SCHEMA_ID,
    hostKinds: kinds.kinds,
    guestClasses: classes.map((c) => c.doc),
    cells,
    summary: {
      guests: classes.reduce((n, c) => n + c.doc.count, 0),
      hosts: kinds.byName.size,
      guestClasses: classes.length,
      hostKinds: kinds.kinds.length,
      cells: cells.length,
      byOutcome,
    },
  };
}

/**
 * Where can each guest go? Guests are grouped into classes (same ABI, same source host kind) and
 * hosts into kinds; each cell is one checkMigration from a host of the class's kind to a host of
 * the target kind (the same kind included).
 */
export function planMatrix(input: MatrixInput): FleetMatrix {
  const kinds = hostKinds(input.hosts, { kindOf: input.kindOf });
  return buildMatrix(kinds, groupGuests(input.guests, kinds), input.rules, input.progress);
}

/** The matrix from classes the caller grouped already (the store: ABI, host, count, a sample), so
 *  that a large fleet is never materialised guest by guest. */
export function matrixFromClasses(input: ClassMatrixInput): FleetMatrix {
  const kinds = hostKinds(input.hosts, { kindOf: input.kindOf });
  return buildMatrix(kinds, mergeClasses(input.classes, kinds), input.rules, input.progress);
}
