import type { Static, TSchema } from '@sinclair/typebox';
import { FormatRegistry } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { UserError } from '../util/errors.js';

// The string formats the schemas use (TypeBox checks only registered ones).
if (!FormatRegistry.Has('date-time')) FormatRegistry.Set('date-time', (v) => !Number.isNaN(Date.parse(v)) && /^\d{4}-\d{2}-\d{2}T/.test(v));
if (!FormatRegistry.Has('date')) FormatRegistry.Set('date', (v) => /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v)));

const compiled = new WeakMap<TSchema, TypeCheck<TSchema>>();

function checker<T extends TSchema>(schema: T): TypeCheck<T> {
  let c = compiled.get(schema);
  if (!c) {
    c = TypeCompiler.Compile(schema);
    compiled.set(schema, c);
  }
  return c as TypeCheck<T>;
}

/** Validate `value` against a model schema; on failure throw a UserError naming `source`
 *  (a file name or "--flag") and the JSON path of the first few offending fields. */
export function validate<T extends TSchema>(schema: T, value: unknown, source: string): Static<T> {
  const c = checker(schema);
  if (c.Check(value)) return value;
  const problems: string[] = [];
  for (const err of c.Errors(value)) {
    const path = err.path === '' ? '(top level)' : err.path.slice(1).replace(/\//g, '.');
    problems.push(`${path}: ${err.message}`);
    if (problems.length >= 5) break;
  }
  const kind = typeof schema.$id === 'string' ? ` as a ${schema.$id}` : '';
  throw new UserError(`not valid${kind}:\n  ${problems.join('\n  ')}`, source);
}

export function isValid<T extends TSchema>(schema: T, value: unknown): value is Static<T> {
  return checker(schema).Check(value);
}
