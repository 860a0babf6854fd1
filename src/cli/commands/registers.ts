import type { HostLevels, RegisterCheck, RegisterData, RegisterMatrix, RegisterVerdict } from '../../model/registers.js';
import { idRegisterData, idRegisterValues, registerData, vmmPolicies } from '../../io/register-files.js';
import { registerCheck, type RegisterHost } from '../../registers/migrate.js';
import { lookupRelease } from '../../registers/releases.js';
import { spaprCapRegisters } from '../../registers/spapr.js';
import { idRegisterCheck, idRelease } from '../../registers/id-regs.js';
import { findCatalog } from '../../io/catalog-files.js';
import { migrationRules } from '../../io/rules-files.js';
import { UserError } from '../../util/errors.js';
import { parseCommandArgs } from '../args.js';
import { print, printJson, table } from '../output.js';
import { formatReason } from './resolve.js';

const USAGE = `guestabi registers list [--kernel RELEASE] [--json]
       guestabi registers list --arch ppc64 [--qemu VERSION] [--machine TYPE] [--json]
       guestabi registers id --kernel RELEASE [--from-values V --to-values V] [--json]
       guestabi registers diff --from KERNEL[+VMM] --to KERNEL[+VMM] [--levels L | --from-levels L --to-levels L]
                               [--policy FILE] [--json]
       guestabi registers matrix --kernels R,R,... [--vmm VMM,VMM,...] [--levels L] [--policy FILE] [--json]
  VMM: a policy of data/registers/vmm-policies.yaml (qemu, pin-5.15) or of --policy FILE; default qemu.
  --arch ppc64: the pseries capabilities of a shipped build as ordered-level registers (default: 10.0, the newest pseries type).
  id: the writable ID registers of a kernel release; with values, whether that kernel (the destination's)
      takes the source vCPU's ID registers. V: a YAML file of REGISTER: 0xHEX, or REG=0xHEX,...
  L: the hosts' workaround levels, e.g. WORKAROUND_1=AVAIL,WORKAROUND_2=NOT_REQUIRED,WORKAROUND_3=AVAIL.`;

const OPTIONS = {
  kernel: { type: 'string' },
  kernels: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  vmm: { type: 'string' },
  levels: { type: 'string' },
  'from-levels': { type: 'string' },
  'to-levels': { type: 'string' },
  policy: { type: 'string' },
  arch: { type: 'string' },
  'from-values': { type: 'string' },
  'to-values': { type: 'string' },
  qemu: { type: 'string' },
  machine: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** guestabi registers: the KVM/arm64 firmware pseudo-registers across (kernel, VMM) pairs. */
export function registersCommand(argv: string[]): number {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseCommandArgs(rest, OPTIONS, USAGE);
  if (positionals.length) throw new UserError(`unexpected argument '${positionals[0]}'\nusage: ${USAGE}`);
  if (sub === 'list' && values.arch !== undefined) return listSpapr(values.arch, values.qemu, values.machine, values.json);
  if (sub === 'id') return idCommand(values.kernel, values['from-values'], values['to-values'], values.json);
  const data = registerData();
  if (sub === 'list') return list(data, values.kernel, values.json);
  const policies = vmmPolicies(data, values.policy);
  if (sub === 'diff') {
    if (!values.from || !values.to) throw new UserError(`give --from KERNEL[+VMM] and --to KERNEL[+VMM]\nusage: ${USAGE}`);
    const from = host(data, values.from, levelsOf(values['from-levels'], '--from-levels', values.levels), '--from');
    const to = host(data, values.to, levelsOf(values['to-levels'], '--to-levels', values.levels), '--to');
    const r = registerCheck(data, policies, from, to);
    if (values.json) printJson(r);
    else printRegisterCheck(r);
    return r.outcome === 'safe' ? 0 : 1;
  }
  if (sub === 'matrix') {
    const kernels = (values.kernels ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    if (kernels.length < 2) throw new UserError(`give at least two kernel releases\nusage: ${USAGE}`, '--kernels');
    const vmms = (values.vmm ?? 'qemu').split(',').map((s) => s.trim()).filter(Boolean);
    const results: RegisterCheck[] = [];
    for (const vmm of vmms) {
      for (let i = 0; i < kernels.length; i++) {
        for (let j = i + 1; j < kernels.length; j++) {
          results.push(registerCheck(data, policies, host(data, `${kernels[i]}+${vmm}`, levelsOf(undefined, '', values.levels), '--kernels'), host(data, `${kernels[j]}+${vmm}`, levelsOf(undefined, '', values.levels), '--kernels')));
        }
      }
    }
    const matrix: RegisterMatrix = { schema: 'guestabi/register-matrix@1', kernels, vmms, results };
    if (values.json) printJson(matrix);
    else printMatrix(results);
    return 0;
  }
  throw new UserError(`unknown subcommand '${sub ?? ''}'\nusage: ${USAGE}`);
}

/** The levels of one side: its own flag, else --levels for both. */
function levelsOf(own: string | undefined, flag: string, both: string | undefined): [string, string] | undefined {
  if (own !== undefined) return [own, flag];
  return both !== undefined ? [both, '--levels'] : undefined;
}

/** KERNEL[+VMM] and the host levels L (with the flag they came from). */
function host(data: RegisterData, spec: string, levels: [string, string] | undefined, where: string): RegisterHost {
  const [kernel, vmm = 'qemu', ...more] = spec.split('+');
  if (!kernel || more.length) throw new UserError(`'${spec}' is not KERNEL[+VMM] (e.g. 6.1.10+qemu)`, where);
  lookupRelease(data, kernel, where); // a bad release is an error here, not an unknown later
  return { kernel, vmm, ...(levels !== undefined ? { levels: parseLevels(data, levels[0], levels[1]) } : {}) };
}

function parseLevels(data: RegisterData, text: string, where: string): HostLevels {
  const out: HostLevels = {};
  for (const item of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [key, level] = item.split('=');
    const def = data.registers.find((d) => d.kind === 'level' && (d.name === key || d.name.endsWith(`_${key}`)));
    if (!def || !level) throw new UserError(`'${item}' is not REGISTER=LEVEL (registers: ${data.registers.filter((d) => d.kind === 'level').map((d) => d.name.replace('KVM_REG_ARM_SMCCC_ARCH_', '')).join(', ')})`, where);
    if (!def.levels!.some((l) => l.name === level && !l.narrowsTo)) throw new UserError(`${def.name} has no level '${level}' a host reports (${def.levels!.filter((l) => !l.narrowsTo).map((l) => l.name).join(', ')})`, where);
    out[def.name] = level;
  }
  return out;
}

function list(data: RegisterData, kernel: string | undefined, json: boolean | undefined): number {
  if (kernel) {
    const l = lookupRelease(data, kernel, '--kernel');
    if (json) printJson({ asked: kernel, note: l.note ?? null, uncertain: [...l.uncertain], release: l.row ?? null });
    else if (!l.row) print(`Linux ${kernel}: no data (${l.note})`);
    else {
      print(`Linux ${kernel}${l.note ? ` (${l.note})` : ''}: ${l.row.source}`);
      print(table(Object.entries(l.row.registers).map(([n, r]) => [n + (l.uncertain.has(n) ? ' (unknown here)' : ''), describeRow(r)]), ['register', 'values / bits (default)']));
      for (const [n, v] of Object.entries(l.row.implicit ?? {})) print(`  not listed: ${n}; its guests had ${Array.isArray(v) ? `[${v.join(', ')}]` : v}`);
    }
    return 0;
  }
  if (json) {
    printJson(data);
    return 0;
  }
  const releases = data.releases.map((r) => r.release);
  print(data.about.title);
  print(table(data.registers.map((d) => [d.name, d.id, d.kind, releases.filter((rel) => data.releases.find((r) => r.release === rel)!.registers[d.name]).join(' ') || '-']), ['register', 'id', 'kind', 'listed by the releases read']));
  return 0;
}

/** guestabi registers id: a release's writable ID register fields, or a vCPU's ID registers carried there. */
function idCommand(kernel: string | undefined, from: string | undefined, to: string | undefined, json: boolean | undefined): number {
  if (!kernel) throw new UserError(`give --kernel RELEASE (the destination's)\nusage: ${USAGE}`, '--kernel');
  const data = idRegisterData();
  if (from !== undefined || to !== undefined) {
    if (!from || !to) throw new UserError('give both --from-values and --to-values', from ? '--to-values' : '--from-values');
    const r = idRegisterCheck(data, kernel, idRegisterValues(from, '--from-values'), idRegisterValues(to, '--to-values'));
    if (json) printJson(r);
    else {
      print(`ID registers carried to Linux ${kernel}${r.readFrom && r.readFrom !== kernel ? ` (read as ${r.readFrom})` : ''}: ${r.outcome.toUpperCase()}`);
      for (const x of r.reasons) print(formatReason(x));
      if (!r.reasons.length) print('  every ID register the same on both sides');
    }
    return r.outcome === 'safe' ? 0 : 1;
  }
  const row = idRelease(data, kernel);
  if (json) printJson({ kernel, readFrom: row?.release ?? null, release: row ?? null });
  else if (!row) print(`Linux ${kernel}: no data (read: ${data.releases.map((r) => r.release).join(', ')})`);
  else {
    print(`Linux ${kernel}${row.release !== kernel ? ` (read as ${row.release})` : ''}: KVM_ARM_GET_REG_WRITABLE_MASKS ${row.masksIoctl ? 'present' : 'absent'}; any ID register not listed takes only the host's value`);
    print(table(Object.entries(row.registers).map(([n, r]) => [n, r.implementationId ? '(with KVM_CAP_ARM_WRITABLE_IMP_ID_REGS only)' : Object.entries(r.fields ?? {}).map(([f, x]) => `${f}${x.rule === 'LOWER_SAFE' ? '' : `(${x.rule})`}`).join(' ') || '-']), ['register', 'fields a write may lower (other rules named)']));
  }
  return 0;
}

/** The pseries capabilities of one build and machine type, as level registers. */
function listSpapr(arch: string, qemu: string | undefined, machine: string | undefined, json: boolean | undefined): number {
  if (arch !== 'ppc64') throw new UserError(`--arch ${arch}: only ppc64 has capability registers here (aarch64: registers list --kernel)`, '--arch');
  const catalog = findCatalog(qemu ?? '10.0', [], 'ppc64');
  const rules = migrationRules().data.spaprCaps;
  const type = catalog.resolveMachineAlias(machine ?? 'pseries');
  if (!type || !catalog.machine(type)?.family.startsWith('pseries')) throw new UserError(`QEMU ${catalog.version} (ppc64) has no pseries machine type '${machine ?? ''}'`, '--machine');
  const regs = rules ? spaprCapRegisters(catalog, type, rules) : [];
  if (json) printJson({ qemu: catalog.version, machine: type, probed: true, registers: regs });
  else {
    print(`pseries capabilities of ${type}, QEMU ${catalog.version} (probed), as ordered-level registers: the destination takes a level no higher than its own`);
    print(table(regs.map((r) => [r.name, r.levels.join(' < '), r.default, r.sent]), ['register', 'levels (low to high)', 'default', 'in the stream']));
    if (rules) print(`source: ${rules.source}`);
  }
  return 0;
}

function describeRow(r: RegisterData['releases'][number]['registers'][string]): string {
  if (r.bits) return `[${r.bits.join(', ')}] (default [${((r.default as string[] | undefined) ?? []).join(', ')}])`;
  if (r.values) return `${r.values.join(', ')} (default ${String(r.default)})`;
  return "the host's level";
}

function side(s: RegisterVerdict['from']): string {
  return `Linux ${s.kernel}${s.readFrom && s.readFrom !== s.kernel ? ` (read as ${s.readFrom})` : ''} + ${s.vmm}`;
}

function printVerdict(v: RegisterVerdict): void {
  print(`${v.direction.padEnd(8)} ${side(v.from)} -> ${side(v.to)}: ${v.outcome.toUpperCase()}`);
  const order = { error: 0, warn: 1, info: 2 } as const;
  for (const r of [...v.reasons].sort((a, b) => order[a.level] - order[b.level])) print(formatReason(r));
  if (v.fence.length) {
    print('  fence (what would make it safe):');
    for (const f of v.fence) print(`    ${f.subject}: ${f.message}`);
  }
}

export function printRegisterCheck(r: RegisterCheck): void {
  printVerdict(r.forward);
  print();
  printVerdict(r.rollback);
}

function printMatrix(results: RegisterCheck[]): void {
  const fenceOf = (v: RegisterVerdict) => [...new Set(v.fence.map((f) => f.remedy ?? f.message))].join('; ');
  print(table(results.map((r) => [`${r.forward.from.kernel} <-> ${r.forward.to.kernel}`, r.forward.from.vmm, r.forward.outcome, r.rollback.outcome, fenceOf(r.rollback) || '-']), ['pair (N, N+1)', 'VMM', 'forward', 'rollback', 'rollback fence']));
}
