import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseQmpJson } from '../../src/qmp/json.js';

test('uint64 values beyond 2^53 stay exact decimal strings', () => {
  const v = parseQmpJson('{"return": {"lbr-fmt": 18446744073709551552, "small": 42, "neg": -1}}') as { return: Record<string, unknown> };
  assert.equal(v.return['lbr-fmt'], '18446744073709551552');
  assert.equal(v.return.small, 42);
  assert.equal(v.return.neg, -1);
});

test('long integers that fit a double come back as numbers', () => {
  const v = parseQmpJson('{"a": 1234567890123456}') as { a: unknown };
  assert.equal(v.a, 1234567890123456);
});

test('digits inside strings are left alone', () => {
  const v = parseQmpJson('{"model-id": "CPU 12345678901234567890", "x": "a\\"12345678901234567\\""}') as Record<string, unknown>;
  assert.equal(v['model-id'], 'CPU 12345678901234567890');
  assert.equal(v.x, 'a"12345678901234567"');
});

test('two different large values never compare equal after parsing', () => {
  const a = parseQmpJson('{"v": 18446744073709551552}') as { v: unknown };
  const b = parseQmpJson('{"v": 18446744073709551553}') as { v: unknown };
  assert.notEqual(a.v, b.v);
});
