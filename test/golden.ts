import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { sortKeysDeep } from '../src/catalog/props.js';

/** test/golden, found from the compiled test as from the source. */
export const GOLDEN = fileURLToPath(new URL('../../test/golden/', import.meta.url));

/** GUESTABI_REGENERATE=1 rewrites the expected files instead of comparing; review them as a diff. */
export const REGENERATE = process.env.GUESTABI_REGENERATE === '1';

/** Exact JSON, as --json prints it. */
export function jsonText(value: unknown): string {
  return JSON.stringify(sortKeysDeep(value), null, 2) + '\n';
}

/**
 * Compare an output with the expected file beside its input, libvirt style: a missing or different
 * file fails and names the switch that regenerates it.
 */
export function expectFile(path: string, actual: string): void {
  if (REGENERATE) {
    mkdirSync(dirname(path), { recursive: true });
    if (!existsSync(path) || readFileSync(path, 'utf8') !== actual) writeFileSync(path, actual);
    return;
  }
  assert.ok(existsSync(path), `${path} is missing: run the test with GUESTABI_REGENERATE=1 and review the new file`);
  const expected = readFileSync(path, 'utf8');
  if (expected !== actual) assert.equal(actual, expected, `${path} differs (GUESTABI_REGENERATE=1 rewrites it; review the diff)`);
}
