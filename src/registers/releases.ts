import { isDeepStrictEqual } from 'node:util';
import type { RegisterData, Release } from '../model/registers.js';
import { UserError } from '../util/errors.js';

/** A kernel release as asked ('6.1', '6.1.10', '6.1.0-27-arm64'), as three numbers. */
export function parseRelease(asked: string, where: string): [number, number, number] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?(?:[-+~_.].*)?$/.exec(asked.trim());
  if (!m) throw new UserError(`'${asked}' is not a kernel release (write 6.1 or 6.1.10)`, where);
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)];
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

export interface ReleaseLookup {
  asked: string;
  /** The release row read; undefined when the data does not reach this release. */
  row: Release | undefined;
  /** How the row was chosen, when it is not the release itself. */
  note: string | undefined;
  /** Registers whose facts differ between the rows around an unread release: unknown. */
  uncertain: Set<string>;
}

/**
 * The data row for a release. A release read is its row. One not read between two read rows takes
 * the lower row's facts for every register on which both rows agree, and is unknown for the others
 * (a stable point release may carry a backport: WORKAROUND_3 reached 5.10.y and 5.15.y). One newer
 * than every row takes the newest; one older than every row is not known.
 */
export function lookupRelease(data: RegisterData, asked: string, where = 'kernel'): ReleaseLookup {
  const v = parseRelease(asked, where);
  const rows = [...data.releases].sort((a, b) => compare(parseRelease(a.release, 'data'), parseRelease(b.release, 'data')));
  const exact = rows.find((r) => compare(parseRelease(r.release, 'data'), v) === 0);
  if (exact) return { asked, row: exact, note: undefined, uncertain: new Set() };
  const below = rows.filter((r) => compare(parseRelease(r.release, 'data'), v) < 0).at(-1);
  const above = rows.find((r) => compare(parseRelease(r.release, 'data'), v) > 0);
  if (!below) return { asked, row: undefined, note: `older than every release read (oldest: ${rows[0]!.release})`, uncertain: new Set() };
  if (!above) return { asked, row: below, note: `newer than every release read: read as ${below.release}, the newest`, uncertain: new Set() };
  const names = new Set([...Object.keys(below.registers), ...Object.keys(above.registers), ...Object.keys(below.implicit ?? {}), ...Object.keys(above.implicit ?? {})]);
  const uncertain = new Set([...names].filter((n) => !isDeepStrictEqual(below.registers[n], above.registers[n])));
  for (const n of names) if (!below.registers[n] && !isDeepStrictEqual(below.implicit?.[n], above.implicit?.[n]) && !uncertain.has(n)) uncertain.add(n);
  const agree = uncertain.size === 0 ? 'which agree' : `which differ on ${[...uncertain].join(', ')} (unknown here)`;
  return { asked, row: below, note: `not read: between ${below.release} and ${above.release}, ${agree}`, uncertain };
}

/** From which release on every release read lists all these registers, and the older ones
 *  (stable backports) that list them too: a fence's kernel half. */
export function listedFrom(data: RegisterData, names: readonly string[]): { from: string | undefined; also: string[] } {
  const rows = [...data.releases].sort((a, b) => compare(parseRelease(a.release, 'data'), parseRelease(b.release, 'data')));
  const lists = (r: Release) => names.every((n) => r.registers[n]);
  let i = rows.length;
  while (i > 0 && lists(rows[i - 1]!)) i--;
  return { from: rows[i]?.release, also: rows.slice(0, i).filter(lists).map((r) => r.release) };
}

/** Everything the releases name exists among the registers: each problem with its field. */
export function registerDataProblems(data: RegisterData): string[] {
  const defs = new Map(data.registers.map((d) => [d.name, d]));
  const problems: string[] = [];
  const named = (def: (typeof data.registers)[number], kind: 'bits' | 'levels' | 'values', n: string) => (def[kind] ?? []).some((x) => x.name === n);
  data.releases.forEach((rel, i) => {
    for (const [name, r] of Object.entries(rel.registers)) {
      const def = defs.get(name);
      const at = `releases[${i}] (${rel.release}).registers.${name}`;
      if (!def) {
        problems.push(`${at}: no such register in registers`);
        continue;
      }
      for (const b of [...(r.bits ?? []), ...(def.kind === 'bitmap' ? ((r.default as string[] | undefined) ?? []) : [])]) if (!named(def, 'bits', b)) problems.push(`${at}: no bit ${b}`);
      for (const v of [...(r.values ?? []), ...(def.kind === 'exact' && r.default !== undefined ? [String(r.default)] : [])]) if (!named(def, 'values', v)) problems.push(`${at}: no value ${v}`);
    }
    for (const [name, v] of Object.entries(rel.implicit ?? {})) {
      const def = defs.get(name);
      const at = `releases[${i}] (${rel.release}).implicit.${name}`;
      if (!def) problems.push(`${at}: no such register in registers`);
      else if (Array.isArray(v)) v.forEach((b) => named(def, 'bits', b) || problems.push(`${at}: no bit ${b}`));
      else if (!named(def, 'levels', v) && !named(def, 'values', v)) problems.push(`${at}: no level ${v}`);
    }
  });
  return problems;
}
