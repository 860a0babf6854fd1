import { compareVersions } from '../util/versions.js';

/** Split a machine type name into family and version: pc-q35-7.2 -> pc-q35, 7.2;
 *  pc-q35-4.0.1 -> pc-q35, 4.0.1; microvm -> microvm, null. */
export function parseMachineName(name: string): { family: string; version: string | null } {
  const m = /^(.*?)-(\d+\.\d+(?:\.\d+)?)$/.exec(name);
  return m ? { family: m[1]!, version: m[2]! } : { family: name, version: null };
}

export function compareMachineNames(a: string, b: string): number {
  const pa = parseMachineName(a);
  const pb = parseMachineName(b);
  if (pa.family !== pb.family) return pa.family.localeCompare(pb.family);
  if (pa.version === null || pb.version === null) return (pa.version ?? '').localeCompare(pb.version ?? '');
  return compareVersions(pa.version, pb.version);
}

/** Split a CPU model name into base and version: EPYC-v3 -> EPYC, 3; EPYC -> EPYC, null. */
export function parseCpuModelName(name: string): { base: string; version: number | null } {
  const m = /^(.*)-v(\d+)$/.exec(name);
  return m ? { base: m[1]!, version: Number(m[2]) } : { base: name, version: null };
}
