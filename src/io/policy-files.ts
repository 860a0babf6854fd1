import { fileURLToPath } from 'node:url';
import { TierPolicy, VulnerabilityMap } from '../model/policy.js';
import { validate } from '../model/validate.js';
import { readDataFile } from './data-files.js';

export const TIER_POLICY_FILE = fileURLToPath(new URL('../../../data/policy/tiers.yaml', import.meta.url));
export const VULNERABILITY_FILE = fileURLToPath(new URL('../../../data/policy/vulnerabilities.yaml', import.meta.url));

/** The tier policy: guestabi's own, or a site's (--policy FILE), checked against its schema. */
export function loadTierPolicy(file = TIER_POLICY_FILE): TierPolicy {
  return validate(TierPolicy, readDataFile(file, 'tier policy'), file);
}

export function loadVulnerabilityMap(file = VULNERABILITY_FILE): VulnerabilityMap {
  return validate(VulnerabilityMap, readDataFile(file, 'vulnerability map'), file);
}
