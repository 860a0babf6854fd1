import type { Props, PropsDelta, PropValue } from '../model/common.js';

/** What must be applied to `from` to get `to`; absent properties become null. */
export function diffProps(from: Props, to: Props): PropsDelta {
  const delta: PropsDelta = {};
  for (const [k, v] of Object.entries(to)) if (from[k] !== v) delta[k] = v;
  for (const k of Object.keys(from)) if (!(k in to)) delta[k] = null;
  return delta;
}

/** `base` with `delta` applied; returns a new object. */
export function applyDelta(base: Props, delta: PropsDelta | undefined): Props {
  if (!delta) return { ...base };
  const out: Props = { ...base };
  for (const [k, v] of Object.entries(delta)) {
    if (v === null) delete out[k];
    else out[k] = v;
  }
  return out;
}

export function isEmpty(o: object | undefined): boolean {
  return !o || Object.keys(o).length === 0;
}

export interface PropDifference {
  property: string;
  a: PropValue | undefined;
  b: PropValue | undefined;
}

/** Every property whose value differs between two maps, sorted by name. */
export function compareProps(a: Props, b: Props): PropDifference[] {
  const out: PropDifference[] = [];
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    if (a[k] !== b[k]) out.push({ property: k, a: a[k], b: b[k] });
  }
  return out.sort((x, y) => x.property.localeCompare(y.property));
}

/** Deep copy of `value` with object keys sorted, so that written JSON is stable under regeneration. */
export function sortKeysDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeysDeep) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeysDeep((value as Record<string, unknown>)[k]);
    return out as T;
  }
  return value;
}

/** Whether two property maps hold the same values (null and undefined: only equal to themselves). */
export function sameProps(a: Props | null | undefined, b: Props | null | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  return n === Object.keys(b).length;
}
