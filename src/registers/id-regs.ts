import type { IdRegisterCheck, IdRegisterData, IdRegisterRelease, IdRegisterValues } from '../model/registers.js';
import { ID_REGISTER_CHECK_SCHEMA_ID } from '../model/registers.js';
import { reason, type Reason } from '../model/reason.js';
import { outcomeOf } from '../check/outcome.js';

/**
 * The kernel's side of a write to a KVM/arm64 ID register (KVM_SET_ONE_REG), as the release's row
 * of data/registers/arm64-id-regs.yaml says: after the first run only the same value (else EBUSY);
 * before it, the limit (KVM's sanitised host value) always, another value only where every differing
 * bit lies in a writable field whose rule takes it (else EINVAL). MIDR/REVIDR/AIDR need a capability
 * QEMU never enables. A differing field the register's own pre-check names is not modelled: unknown.
 */
export type IdWrite = { ok: true } | { ok: false; errno: 'EINVAL' | 'EBUSY'; field?: string; why: string } | { ok: 'unknown'; field: string; why: string };

type Field = NonNullable<IdRegisterRelease['registers'][string]['fields']>[string];

/** A field's value (sign-extended where the field is signed). */
export function fieldValue(f: Pick<Field, 'bits' | 'signed'>, reg: bigint): bigint {
  const [hi, lo] = f.bits.split(':').map(BigInt) as [bigint, bigint];
  const width = hi - lo + 1n;
  const raw = (reg >> lo) & ((1n << width) - 1n);
  return f.signed && raw >> (width - 1n) === 1n ? raw - (1n << width) : raw;
}

function fieldMask(f: Pick<Field, 'bits'>): bigint {
  const [hi, lo] = f.bits.split(':').map(BigInt) as [bigint, bigint];
  return ((1n << (hi - lo + 1n)) - 1n) << lo;
}

/** arm64_ftr_safe_value(): whether a field may take `value` where the limit is `limit`. */
export function fieldAccepts(f: Field, value: bigint, limit: bigint): boolean {
  if (value === limit) return true;
  switch (f.rule) {
    case 'LOWER_SAFE':
      return value < limit;
    case 'HIGHER_SAFE':
      return value > limit;
    case 'EXACT':
      return value === BigInt(f.safe);
    case 'HIGHER_OR_ZERO_SAFE':
      return value === 0n || (limit !== 0n && value > limit);
  }
}

export function setIdReg(row: IdRegisterRelease, reg: string, limit: bigint, current: bigint, value: bigint, ran: boolean): IdWrite {
  if (ran) return value === current ? { ok: true } : { ok: false, errno: 'EBUSY', why: 'the VM has run: an ID register keeps its value' };
  if (value === limit) return { ok: true };
  const r = row.registers[reg];
  if (!r) return { ok: false, errno: 'EINVAL', why: `Linux ${row.release} lets no field of ${reg} differ from the host's` };
  if (r.implementationId) return { ok: false, errno: 'EINVAL', why: `another ${reg} needs KVM_CAP_ARM_WRITABLE_IMP_ID_REGS, which QEMU does not enable` };
  let covered = 0n;
  let unknown: IdWrite | undefined;
  for (const [name, f] of Object.entries(r.fields ?? {})) {
    covered |= fieldMask(f);
    const [v, l] = [fieldValue(f, value), fieldValue(f, limit)];
    if (v === l) continue;
    if (!fieldAccepts(f, v, l)) return { ok: false, errno: 'EINVAL', field: name, why: `${reg}.${name} ${v} where the host has ${l}: ${f.rule} refuses it` };
    if (r.preCheck?.fields.includes(name)) unknown ??= { ok: 'unknown', field: name, why: `${reg} has its own checks on ${name} that guestabi does not model (${r.preCheck.text})` };
  }
  if (((value ^ limit) & ~covered) !== 0n) return { ok: false, errno: 'EINVAL', why: `${reg} differs from the host's outside the fields Linux ${row.release} lets a write change` };
  return unknown ?? { ok: true };
}

/** The release's own row, or its major.minor's (read as); none: unknown. */
export function idRelease(data: IdRegisterData, kernel: string): IdRegisterRelease | undefined {
  const mm = (v: string) => v.split('.').slice(0, 2).join('.');
  return data.releases.find((r) => r.release === kernel) ?? data.releases.find((r) => mm(r.release) === mm(kernel));
}

const hex = (v: bigint) => `0x${v.toString(16).padStart(16, '0')}`;

/**
 * A vCPU's ID registers carried to a destination (QEMU writes the source's values into the
 * destination's KVM before the guest runs there): each differing register is taken (the guest keeps
 * the CPU it had: the destination narrows to it) or refused (QEMU fails the load).
 */
export function idRegisterCheck(data: IdRegisterData, kernel: string, source: IdRegisterValues, destination: IdRegisterValues): IdRegisterCheck {
  const row = idRelease(data, kernel);
  const reasons: Reason[] = [];
  if (!row) {
    reasons.push(reason('REGISTER_DATA_UNKNOWN', 'warn', `Linux ${kernel}`, `the ID register data has no row for Linux ${kernel} (read: ${data.releases.map((r) => r.release).join(', ')})`, { effect: 'unknown' }));
  } else {
    if (row.release !== kernel) reasons.push(reason('REGISTER_RELEASE_READ_AS', 'info', `Linux ${kernel}`, `Linux ${kernel} is read as ${row.release}, the release of its line that was read`));
    for (const reg of [...new Set([...Object.keys(source), ...Object.keys(destination)])].sort()) reasons.push(...oneRegister(row, reg, source[reg], destination[reg]));
  }
  return { schema: ID_REGISTER_CHECK_SCHEMA_ID, outcome: outcomeOf(reasons), kernel, readFrom: row?.release ?? null, reasons };
}

function oneRegister(row: IdRegisterRelease, reg: string, a: string | undefined, b: string | undefined): Reason[] {
  if (a === undefined || b === undefined) {
    return [reason('ID_REGISTER_UNKNOWN', 'warn', reg, `${reg} is known on the ${a === undefined ? 'destination' : 'source'} only`, { a: a ?? null, b: b ?? null, effect: 'unknown' })];
  }
  const [va, vb] = [BigInt(a), BigInt(b)];
  if (va === vb) return [];
  const w = setIdReg(row, reg, vb, vb, va, false);
  const detail = { a: hex(va), b: hex(vb), source: row.registers[reg]?.source ?? row.source };
  if (w.ok === true) return [reason('ID_REGISTER_NARROWED', 'info', reg, `${reg}: Linux ${row.release} takes the source's ${hex(va)} below the host's ${hex(vb)}; the guest keeps the CPU it had`, detail)];
  if (w.ok === 'unknown') return [reason('ID_REGISTER_UNKNOWN', 'warn', `${reg}.${w.field}`, w.why, { ...detail, effect: 'unknown' })];
  return [
    reason('ID_REGISTER_REFUSED', 'error', w.field ? `${reg}.${w.field}` : reg, `${w.why}: QEMU fails the load ("Could not set register ... to ${hex(va)}")`, {
      ...detail,
      effect: 'impossible',
      remedy: row.masksIoctl ? 'a destination whose CPU has at least what the source gave the guest' : 'a destination kernel that lets a VMM narrow ID registers (6.12 or later), or a destination with the same CPU',
    }),
  ];
}
