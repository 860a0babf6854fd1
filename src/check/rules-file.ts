import { fileURLToPath } from 'node:url';
import { MigrationRules } from '../model/verdict.js';
import { validate } from '../model/validate.js';
import { parseJsonOrYaml, readUserFile } from '../util/files.js';
import { compileRules, type Rules } from './rules.js';

export const MIGRATION_RULES_FILE = fileURLToPath(new URL('../../../data/rules/migration.yaml', import.meta.url));

let cached: Rules | undefined;

/** The shipped migration rules (data/rules/migration.yaml), validated and compiled once. */
export function migrationRules(file = MIGRATION_RULES_FILE): Rules {
  if (file === MIGRATION_RULES_FILE && cached) return cached;
  const rules = compileRules(validate(MigrationRules, parseJsonOrYaml(readUserFile(file, 'migration rules'), file), file));
  if (file === MIGRATION_RULES_FILE) cached = rules;
  return rules;
}
