import type { HostLevels, RegisterData, RegisterDef, Release } from '../model/registers.js';
import { levelAccepted } from './levels.js';

/**
 * A pure simulator of the kernel side of the KVM/arm64 firmware pseudo-registers for one VM: what
 * KVM_GET_REG_LIST lists, and what KVM_GET_ONE_REG / KVM_SET_ONE_REG answer before and after the
 * first KVM_RUN. The rules are the kernel's (arch/arm64/kvm/hypercalls.c, psci.c before 5.19; the
 * lines are in data/registers/arm64-kvm.yaml); the release row says which registers and values.
 * Its tests replay the kernel's own selftests (test/fixtures/registers/selftests.yaml).
 */
export type Errno = 'EINVAL' | 'EBUSY' | 'ENOENT';
export type RegResult = { ok: true; value: number } | { ok: false; errno: Errno } | { ok: 'unknown'; why: string };

export interface KernelVm {
  readonly release: Release;
  readonly defs: ReadonlyMap<string, RegisterDef>;
  /** The vCPU was created with KVM_ARM_VCPU_PSCI_0_2 (QEMU asks for it whenever KVM has it). */
  readonly psci02: boolean;
  readonly levels: HostLevels | undefined;
  ran: boolean;
  readonly stored: Map<string, number>;
}

export function registerDefs(data: RegisterData): Map<string, RegisterDef> {
  return new Map(data.registers.map((d) => [d.name, d]));
}

/** A new VM on a kernel of this release: bitmaps at the release's defaults, nothing written. */
export function createVm(data: RegisterData, release: Release, opts: { psci02?: boolean; levels?: HostLevels } = {}): KernelVm {
  const defs = registerDefs(data);
  const vm: KernelVm = { release, defs, psci02: opts.psci02 ?? true, levels: opts.levels, ran: false, stored: new Map() };
  for (const [name, r] of Object.entries(release.registers)) {
    const def = defs.get(name);
    if (def?.kind === 'bitmap') vm.stored.set(name, bitsToMask(def, (r.default as string[] | undefined) ?? []));
  }
  return vm;
}

/** The firmware registers KVM_GET_REG_LIST gives, in id order (the order QEMU sends them in). */
export function regList(vm: KernelVm): string[] {
  return Object.keys(vm.release.registers).sort((a, b) => idOf(vm, a) - idOf(vm, b) || a.localeCompare(b));
}

function idOf(vm: KernelVm, name: string): number {
  return Number(BigInt(vm.defs.get(name)?.id ?? '0xffffffffffffffff') & 0xffffffn);
}

export function runVm(vm: KernelVm): void {
  vm.ran = true;
}

export function getReg(vm: KernelVm, name: string): RegResult {
  const r = vm.release.registers[name];
  const def = vm.defs.get(name);
  if (!r || !def) return { ok: false, errno: 'ENOENT' };
  if (def.kind === 'exact') {
    const stored = vm.stored.get(name);
    if (stored !== undefined) return { ok: true, value: stored };
    return { ok: true, value: valueOf(def, vm.psci02 ? String(r.default) : '0.1') };
  }
  if (def.kind === 'level') {
    const level = vm.levels?.[name];
    if (level === undefined) return { ok: 'unknown', why: `the host's ${name} level is not known (it comes from the host CPU's mitigation state)` };
    return { ok: true, value: levelValue(def, level) };
  }
  return { ok: true, value: vm.stored.get(name) ?? 0 };
}

export function setReg(vm: KernelVm, name: string, value: number): RegResult {
  const r = vm.release.registers[name];
  const def = vm.defs.get(name);
  if (!r || !def) return { ok: false, errno: 'ENOENT' };
  if (def.kind === 'exact') {
    // 0.1 only for a vCPU without PSCI 0.2, the release's other values only with it (no EBUSY).
    const v = def.values?.find((x) => x.value === value)?.name;
    const allowed = v === '0.1' ? !vm.psci02 : v !== undefined && vm.psci02 && (r.values ?? []).includes(v);
    if (!allowed) return { ok: false, errno: 'EINVAL' };
    vm.stored.set(name, value);
    return { ok: true, value };
  }
  if (def.kind === 'level') {
    // Bits beyond 3:0 are refused (WORKAROUND_2's ENABLED flag, accepted with AVAIL, is not
    // modelled: no VMM writes it back, since no kernel from 5.10 on reads it out).
    const level = def.levels?.find((l) => l.value === value);
    if (!level) return { ok: false, errno: 'EINVAL' };
    const host = getReg(vm, name);
    if (host.ok !== true) return host;
    const narrowed = level.narrowsTo ? levelValue(def, level.narrowsTo) : value;
    if (!levelAccepted(narrowed, host.value)) return { ok: false, errno: 'EINVAL' };
    return { ok: true, value: host.value };
  }
  const supported = bitsToMask(def, r.bits ?? []);
  if ((value & ~supported) !== 0) return { ok: false, errno: 'EINVAL' };
  if (vm.ran && value !== vm.stored.get(name)) return { ok: false, errno: 'EBUSY' };
  vm.stored.set(name, value);
  return { ok: true, value };
}

export function bitsToMask(def: RegisterDef, bits: readonly string[]): number {
  let mask = 0;
  for (const b of bits) {
    const bit = def.bits?.find((x) => x.name === b);
    if (!bit) throw new Error(`${def.name} has no bit ${b}`);
    mask |= 2 ** bit.bit;
  }
  return mask;
}

export function maskToBits(def: RegisterDef, mask: number): string[] {
  return (def.bits ?? []).filter((b) => (mask & 2 ** b.bit) !== 0).map((b) => b.name);
}

export function levelValue(def: RegisterDef, name: string): number {
  const l = def.levels?.find((x) => x.name === name);
  if (!l) throw new Error(`${def.name} has no level ${name}`);
  return l.value;
}

export function valueOf(def: RegisterDef, name: string): number {
  const v = def.values?.find((x) => x.name === name);
  if (!v) throw new Error(`${def.name} has no value ${name}`);
  return v.value;
}

/** A register's value as the data names it: a level or value name, or the list of bits. */
export function describeValue(def: RegisterDef, value: number): string {
  if (def.kind === 'bitmap') return `0x${value.toString(16)} [${maskToBits(def, value).join(', ')}]`;
  const list = def.kind === 'level' ? def.levels : def.values;
  const n = list?.find((x) => x.value === value)?.name;
  return n ? `${n} (0x${value.toString(16)})` : `0x${value.toString(16)}`;
}
