import { fileURLToPath } from 'node:url';
import { compileRules, type Rules } from '../check/rules.js';
import { validate } from '../model/validate.js';
import { KvmDefaultsTable } from '../model/catalog.js';
import { MigrationRules } from '../model/verdict.js';
import { compileVisibility, VisibilityRules, type GuestVisibility } from '../model/visibility.js';
import { readDataFile } from './data-files.js';
import { idRegisterData, registerData, vmmPolicies } from './register-files.js';
import { viommuRules } from './viommu-files.js';
import { errorMessage, UserError } from '../util/errors.js';

export const MIGRATION_RULES_FILE = fileURLToPath(new URL('../../../data/rules/migration.yaml', import.meta.url));
export const KVM_DEFAULTS_FILE = fileURLToPath(new URL('../../../data/rules/kvm-defaults.yaml', import.meta.url));
export const VISIBILITY_FILE = fileURLToPath(new URL('../../../data/rules/visibility.yaml', import.meta.url));

let cachedVisibility: GuestVisibility | undefined;
let cachedRules: Rules | undefined;

/** What the guest cannot see (data/rules/visibility.yaml), validated and compiled once. */
export function guestVisibility(file = VISIBILITY_FILE): GuestVisibility {
  if (file === VISIBILITY_FILE && cachedVisibility) return cachedVisibility;
  const v = compileVisibility(validate(VisibilityRules, readDataFile(file, 'visibility rules'), file), file);
  if (file === VISIBILITY_FILE) cachedVisibility = v;
  return v;
}

/** The migration rules (data/rules/migration.yaml, or a site's --rules FILE) with the shipped
 *  visibility rules, validated and compiled once. */
export function migrationRules(file = MIGRATION_RULES_FILE): Rules {
  if (file === MIGRATION_RULES_FILE && cachedRules) return cachedRules;
  const data = validate(MigrationRules, readDataFile(file, 'migration rules'), file);
  checkPatterns(file, [...data.properties.map((r, i) => [`properties[${i}].match`, r.match] as const), ...data.knownBroken.map((k, i) => [`knownBroken[${i}].machines`, k.machines] as const), ...(data.modernOnly ? [['modernOnly.match', data.modernOnly.match] as const] : []), ...(data.conventionalPci ? [['conventionalPci.match', data.conventionalPci.match] as const] : [])]);
  const registers = registerData();
  const rules = compileRules(data, guestVisibility(), { data: registers, policies: vmmPolicies(registers), ids: idRegisterData() }, viommuRules());
  if (file === MIGRATION_RULES_FILE) cachedRules = rules;
  return rules;
}

/** Every pattern of a rules file compiles (a user's --rules FILE may not): said with its field. */
function checkPatterns(file: string, patterns: readonly (readonly [string, string])[]): void {
  for (const [where, pattern] of patterns) {
    try {
      new RegExp(pattern);
    } catch (e) {
      throw new UserError(`not a regular expression: ${errorMessage(e)}`, `${file}: ${where}`);
    }
  }
}

/** What QEMU's source says KVM sets on every CPU model (data/rules/kvm-defaults.yaml). */
export function kvmDefaultsTable(file = KVM_DEFAULTS_FILE): KvmDefaultsTable {
  return validate(KvmDefaultsTable, readDataFile(file, 'KVM defaults'), file);
}
