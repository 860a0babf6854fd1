import { fileURLToPath } from 'node:url';
import { IdRegisterData, IdRegisterValues, RegisterData, VmmPolicies } from '../model/registers.js';
import { validate } from '../model/validate.js';
import { registerDataProblems } from '../registers/releases.js';
import { UserError } from '../util/errors.js';
import { readDataFile } from './data-files.js';

export const REGISTER_DATA_FILE = fileURLToPath(new URL('../../../data/registers/arm64-kvm.yaml', import.meta.url));
export const ID_REGISTER_DATA_FILE = fileURLToPath(new URL('../../../data/registers/arm64-id-regs.yaml', import.meta.url));
export const VMM_POLICIES_FILE = fileURLToPath(new URL('../../../data/registers/vmm-policies.yaml', import.meta.url));

/** The firmware register data (data/registers/arm64-kvm.yaml, or a file given), validated. */
export function registerData(file = REGISTER_DATA_FILE): RegisterData {
  const data = validate(RegisterData, readDataFile(file, 'register data'), file);
  const problems = registerDataProblems(data);
  if (problems.length) throw new UserError(problems.join('; '), file);
  return data;
}

/** The shipped VMM policies, and a site's (--policy FILE) over them. */
export function vmmPolicies(data: RegisterData, file?: string): VmmPolicies {
  const shipped = validate(VmmPolicies, readDataFile(VMM_POLICIES_FILE, 'VMM policies'), VMM_POLICIES_FILE);
  const site = file ? validate(VmmPolicies, readDataFile(file, 'VMM policies'), file) : { vmms: {} };
  for (const [f, policies] of [[VMM_POLICIES_FILE, shipped], [file, site]] as const) checkPins(data, policies, f ?? '');
  return { vmms: { ...shipped.vmms, ...site.vmms } };
}

/** Every pinned register, bit and value exists: each mistake named with its field. */
function checkPins(data: RegisterData, policies: VmmPolicies, file: string): void {
  for (const [name, p] of Object.entries(policies.vmms)) {
    for (const [reg, value] of Object.entries(p.pin ?? {})) {
      const def = data.registers.find((d) => d.name === reg);
      const where = `${file}: vmms.${name}.pin.${reg}`;
      if (!def) throw new UserError(`no such register (known: ${data.registers.map((d) => d.name).join(', ')})`, where);
      const names = Array.isArray(value) ? value : [value];
      const known = def.kind === 'bitmap' ? def.bits : def.kind === 'exact' ? def.values : [];
      if (def.kind === 'level') throw new UserError('a workaround level is the host\u2019s; a VMM cannot pin it', where);
      if (Array.isArray(value) !== (def.kind === 'bitmap')) throw new UserError(def.kind === 'bitmap' ? 'a bitmap takes a list of bits' : 'takes one value', where);
      for (const n of names) if (!known?.some((k) => k.name === n)) throw new UserError(`no ${def.kind === 'bitmap' ? 'bit' : 'value'} '${n}' (known: ${known?.map((k) => k.name).join(', ')})`, where);
    }
  }
}

/** The writable ID register data (data/registers/arm64-id-regs.yaml), validated. */
export function idRegisterData(file = ID_REGISTER_DATA_FILE): IdRegisterData {
  return validate(IdRegisterData, readDataFile(file, 'ID register data'), file);
}

/** A vCPU's ID register values: a YAML/JSON file of REGISTER: 0xHEX, or REG=0xHEX,... on the command line. */
export function idRegisterValues(spec: string, where: string): IdRegisterValues {
  if (!spec.includes('=')) return validate(IdRegisterValues, readDataFile(spec, 'ID register values'), spec);
  const out: Record<string, string> = {};
  for (const item of spec.split(',').map((x) => x.trim()).filter(Boolean)) {
    const [k, v, ...more] = item.split('=');
    if (!k || !v || more.length) throw new UserError(`'${item}' is not REGISTER=0xHEX`, where);
    out[k] = v;
  }
  return validate(IdRegisterValues, out, where);
}
