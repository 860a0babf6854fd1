import { fileURLToPath } from 'node:url';
import { IommuHostFixtures, ViommuRules } from '../model/viommu.js';
import type { HostProfile } from '../model/host.js';
import { validate } from '../model/validate.js';
import { decodeUnit } from '../probe/host-facts.js';
import { UserError } from '../util/errors.js';
import { readDataFile } from './data-files.js';

export const VIOMMU_RULES_FILE = fileURLToPath(new URL('../../../data/rules/viommu.yaml', import.meta.url));
export const IOMMU_HOSTS_FILE = fileURLToPath(new URL('../../../data/iommu/hosts.yaml', import.meta.url));

export function viommuRules(file = VIOMMU_RULES_FILE): ViommuRules {
  return validate(ViommuRules, readDataFile(file, 'vIOMMU rules'), file);
}

export function iommuHostFixtures(file = IOMMU_HOSTS_FILE): IommuHostFixtures {
  return validate(IommuHostFixtures, readDataFile(file, 'host IOMMU fixtures'), file);
}

/** A host's IOMMU from data/iommu/hosts.yaml, decoded as a probed one is. */
export function fixtureIommu(id: string, iommufd: boolean | undefined, where: string, arch?: string): { name: string; iommu: HostProfile['iommu']; source: string } {
  const all = iommuHostFixtures();
  const h = all.hosts.find((x) => x.id === id);
  if (!h) throw new UserError(`no host IOMMU '${id}' (known: ${all.hosts.map((x) => x.id).join(', ')})`, where);
  if (arch && h.arch !== 'any' && h.arch !== arch) throw new UserError(`'${id}' is an ${h.arch} host, and the guest is ${arch}`, where);
  const units = h.units.map(decodeUnit);
  return { name: h.id, iommu: { present: units.length > 0, groups: 0, units, ...(iommufd !== undefined ? { iommufd } : {}) }, source: h.source };
}
