import { reason, type Reason } from '../model/reason.js';
import type { HostLevels, RegisterCheck, RegisterData, RegisterDef, RegisterVerdict, VmmPolicies } from '../model/registers.js';
import { REGISTER_VERDICT_SCHEMA_ID } from '../model/registers.js';
import { outcomeOf } from '../check/outcome.js';
import { bitsToMask, createVm, describeValue, getReg, levelValue, maskToBits, regList, runVm, setReg, valueOf, type KernelVm } from './kernel.js';
import { listedFrom, lookupRelease, type ReleaseLookup } from './releases.js';
import { UserError } from '../util/errors.js';

/** One host as the register question sees it: its kernel release, its VMM (a policy name) and,
 *  when known, the host's level of each workaround register. */
export interface RegisterHost {
  kernel: string;
  vmm: string;
  levels?: HostLevels;
}

interface Side {
  host: RegisterHost;
  lookup: ReleaseLookup;
  vm: KernelVm | undefined;
  notes: Reason[];
}

/**
 * A guest started on `from` (its VMM's policy applied before the first run) migrates to `to`: QEMU
 * sends every firmware register the source kernel lists and writes each on the destination
 * (data/registers/arm64-kvm.yaml, load:). Impossible when the destination lacks one or refuses a
 * value; unsafe when the guest reads another value after; unknown where the data does not reach.
 */
export function registerMigration(data: RegisterData, policies: VmmPolicies, from: RegisterHost, to: RegisterHost, direction: 'forward' | 'rollback'): RegisterVerdict {
  const src = start(data, policies, from, '--from');
  const dst = start(data, policies, to, '--to');
  const reasons = [...src.notes, ...dst.notes];
  if (src.vm && dst.vm) reasons.push(...carry(data, src, dst));
  const outcome = outcomeOf(reasons);
  return {
    outcome,
    direction,
    from: sideOf(from, src.lookup),
    to: sideOf(to, dst.lookup),
    reasons,
    fence: outcome === 'safe' ? [] : fence(data, src, dst, reasons),
  };
}

/** Forward and rollback of one pair. */
export function registerCheck(data: RegisterData, policies: VmmPolicies, a: RegisterHost, b: RegisterHost): RegisterCheck {
  const forward = registerMigration(data, policies, a, b, 'forward');
  const rollback = registerMigration(data, policies, b, a, 'rollback');
  return { schema: REGISTER_VERDICT_SCHEMA_ID, outcome: outcomeOf([...forward.reasons, ...rollback.reasons]), forward, rollback };
}

function sideOf(h: RegisterHost, l: ReleaseLookup): RegisterVerdict['from'] {
  return { kernel: h.kernel, readFrom: l.row?.release ?? null, vmm: h.vmm, levels: h.levels ?? null };
}

/** A VM on the host's kernel with its VMM's pins written before the first run. */
function start(data: RegisterData, policies: VmmPolicies, host: RegisterHost, where: string): Side {
  const policy = policies.vmms[host.vmm];
  if (!policy) throw new UserError(`no VMM policy '${host.vmm}' (known: ${Object.keys(policies.vmms).join(', ')})`, where);
  const lookup = lookupRelease(data, host.kernel, where);
  const notes: Reason[] = [];
  if (!lookup.row) {
    notes.push(reason('REGISTER_DATA_UNKNOWN', 'warn', `Linux ${host.kernel}`, `no register data for Linux ${host.kernel}: ${lookup.note}`, { effect: 'unknown', remedy: 'add the release to data/registers/arm64-kvm.yaml, read from its tree' }));
    return { host, lookup, vm: undefined, notes };
  }
  if (lookup.note) notes.push(reason('REGISTER_RELEASE_READ_AS', 'info', `Linux ${host.kernel}`, `Linux ${host.kernel} is ${lookup.note}`, { source: lookup.row.source }));
  const vm = createVm(data, lookup.row, { levels: host.levels });
  for (const [name, pinned] of Object.entries(policy.pin ?? {})) {
    const def = vm.defs.get(name);
    if (!def || !vm.release.registers[name]) continue; // a register this kernel does not list: left alone
    const value = Array.isArray(pinned) ? bitsToMask(def, pinned) : valueOf(def, pinned);
    const r = setReg(vm, name, value);
    if (r.ok === false) notes.push(reason('REGISTER_POLICY_REFUSED', 'error', name, `${host.vmm} pins ${name} to ${describeValue(def, value)}, which Linux ${host.kernel} refuses (${r.errno})`, { a: describeValue(def, value), effect: 'impossible', source: policy.source }));
  }
  runVm(vm);
  return { host, lookup, vm, notes };
}

/** Every register the source sends, written on the destination; every one it does not, kept. */
function carry(data: RegisterData, src: Side, dst: Side): Reason[] {
  const s = src.vm!;
  const d = dst.vm!;
  const out: Reason[] = [];
  const carried: string[] = [];
  const loadRule = (rule: string) => data.load.find((l) => l.rule === rule)!;
  // A register whose facts the data does not settle for an unread release is unknown, whichever
  // path below it would take: never read as the row below it.
  const unsettled = new Set([...src.lookup.uncertain, ...dst.lookup.uncertain]);
  for (const name of unsettled) out.push(unknownRelease(name, src.lookup.uncertain.has(name) ? src : dst));
  const sent = regList(s).filter((n) => !unsettled.has(n));
  for (const name of sent) {
    const def = s.defs.get(name)!;
    const value = getReg(s, name);
    if (value.ok === 'unknown') {
      out.push(levelUnknown(name, src.host, value.why));
      continue;
    }
    if (value.ok === false) continue; // listed, so never ENOENT
    const shown = describeValue(def, value.value);
    if (!d.release.registers[name]) {
      const rule = loadRule('missing');
      out.push(reason('REGISTER_MISSING', 'error', name, `Linux ${src.host.kernel} lists ${name} (${shown}) and Linux ${dst.host.kernel} does not: ${rule.text}`, { a: shown, b: null, effect: 'impossible', source: rule.source }));
      continue;
    }
    const w = setReg(d, name, value.value);
    if (w.ok === 'unknown') {
      out.push(levelUnknown(name, dst.host, w.why));
      continue;
    }
    if (w.ok === false) {
      const rule = loadRule('write');
      const now = getReg(d, name);
      out.push(reason('REGISTER_VALUE_REFUSED', 'error', name, `Linux ${dst.host.kernel} refuses ${name} = ${shown} (${w.errno}): ${rule.text}`, { a: shown, b: now.ok === true ? describeValue(def, now.value) : null, effect: 'impossible', source: `${def.source}; ${rule.source}` }));
      continue;
    }
    const after = getReg(d, name);
    if (after.ok === true && after.value !== value.value) out.push(differs(def, src, dst, shown, describeValue(def, after.value)));
    else carried.push(`${name} = ${shown}`);
  }
  for (const name of regList(d).filter((n) => !sent.includes(n) && !unsettled.has(n) && !s.release.registers[n])) {
    const def = d.defs.get(name)!;
    const kept = loadRule('kept');
    const had = src.lookup.row!.implicit?.[name];
    if (had === undefined) {
      out.push(reason('REGISTER_DATA_UNKNOWN', 'warn', name, `Linux ${src.host.kernel} does not list ${name}, and the data does not say what its guests had instead; on Linux ${dst.host.kernel} it keeps its own value`, { effect: 'unknown', source: kept.source }));
      continue;
    }
    const before = Array.isArray(had) ? bitsToMask(def, had) : levelValue(def, had);
    const after = getReg(d, name);
    if (after.ok === 'unknown') {
      out.push(levelUnknown(name, dst.host, after.why));
      continue;
    }
    if (after.ok !== true) continue;
    if (after.value === before) carried.push(`${name} = ${describeValue(def, before)} (not sent; the same as the guest had)`);
    else if (def.kind === 'bitmap') out.push(bitsDiffer(def, src, dst, before, after.value, kept.source));
    else out.push(differs(def, src, dst, describeValue(def, before), describeValue(def, after.value)));
  }
  out.push(...unlisted(s, d, src, dst, carried, unsettled));
  if (carried.length) out.push(reason('REGISTERS_CARRIED', 'info', 'firmware registers', `${carried.length} firmware register(s) the guest sees the same after the migration`, { details: carried, source: loadRule('sent').source }));
  return out;
}

/** A register neither kernel lists: the guest had what the source answered anyway, and gets what
 *  the destination answers anyway (services added with the kernel, before a register gated them). */
function unlisted(s: KernelVm, d: KernelVm, src: Side, dst: Side, carried: string[], unsettled: ReadonlySet<string>): Reason[] {
  const out: Reason[] = [];
  for (const def of s.defs.values()) {
    if (s.release.registers[def.name] || d.release.registers[def.name] || unsettled.has(def.name)) continue;
    const a = src.lookup.row!.implicit?.[def.name];
    const b = dst.lookup.row!.implicit?.[def.name];
    if (a === undefined || b === undefined) {
      out.push(reason('REGISTER_DATA_UNKNOWN', 'warn', def.name, `neither kernel lists ${def.name}, and the data does not say what Linux ${a === undefined ? src.host.kernel : dst.host.kernel} answered in its place`, { effect: 'unknown' }));
      continue;
    }
    const va = Array.isArray(a) ? bitsToMask(def, a) : levelValue(def, a);
    const vb = Array.isArray(b) ? bitsToMask(def, b) : levelValue(def, b);
    if (va === vb) carried.push(`${def.name} = ${describeValue(def, va)} (neither kernel lists it; the same services)`);
    else if (def.kind === 'bitmap') out.push(bitsDiffer(def, src, dst, va, vb, `${dst.lookup.row!.source}`, false));
    else out.push(differs(def, src, dst, describeValue(def, va), describeValue(def, vb)));
  }
  return out;
}

function differs(def: RegisterDef, src: Side, dst: Side, a: string, b: string): Reason {
  return reason('REGISTER_VALUE_DIFFERS', 'warn', def.name, `${def.name} reads ${a} on Linux ${src.host.kernel} and ${b} after the migration to Linux ${dst.host.kernel}: the guest sees it change`, { a, b, effect: 'unsafe', source: def.source });
}

function bitsDiffer(def: RegisterDef, src: Side, dst: Side, before: number, after: number, source: string, destinationLists = true): Reason {
  const gained = maskToBits(def, after & ~before);
  const lost = maskToBits(def, before & ~after);
  const what = [gained.length ? `gains ${gained.join(', ')}` : '', lost.length ? `loses ${lost.join(', ')}` : ''].filter(Boolean).join(' and ');
  const detail = [...gained, ...lost].map((b) => `${b}: ${def.bits!.find((x) => x.name === b)!.gates}`);
  const why = destinationLists ? `${def.name} is not sent from Linux ${src.host.kernel}, which has no such register, and keeps the destination's bits` : `neither kernel has ${def.name}; each answers the calls it implements`;
  return reason('REGISTER_BITS_DIFFER', 'warn', def.name, `the guest ${what} on Linux ${dst.host.kernel} (${why})`, {
    a: describeValue(def, before),
    b: describeValue(def, after),
    effect: 'unsafe',
    details: detail,
    remedy: destinationLists ? `a VMM policy on the destination that pins ${def.name} to [${maskToBits(def, before).join(', ')}] before the first run` : undefined,
    source: `${src.lookup.row!.source}; ${source}`,
  });
}

function levelUnknown(name: string, host: RegisterHost, why: string): Reason {
  return reason('REGISTER_LEVEL_UNKNOWN', 'warn', name, `${why} on the host with Linux ${host.kernel}`, {
    effect: 'unknown',
    remedy: 'give the hosts\u2019 levels (--levels, read with KVM_GET_ONE_REG on the host, or from /sys/devices/system/cpu/vulnerabilities)',
  });
}

function unknownRelease(name: string, side: Side): Reason {
  return reason('REGISTER_DATA_UNKNOWN', 'warn', name, `${name} on Linux ${side.host.kernel}: ${side.lookup.note}`, { effect: 'unknown', remedy: `read Linux ${side.host.kernel}'s tree into data/registers/arm64-kvm.yaml` });
}

/** What would make it safe, for each reason that keeps it from being safe. */
function fence(data: RegisterData, src: Side, dst: Side, reasons: readonly Reason[]): Reason[] {
  const out: Reason[] = [];
  const missing = reasons.filter((r) => r.code === 'REGISTER_MISSING').map((r) => r.subject);
  if (missing.length) {
    const { from, also } = listedFrom(data, missing);
    const kernels = from ? `Linux ${from} or newer${also.length ? ` (or the stable releases read that list them: ${also.join(', ')})` : ''}` : 'no release read lists them all';
    out.push(reason('REGISTER_FENCE', 'info', missing.join(', '), `kernel: the destination must list ${missing.join(', ')}: ${kernels}; no VMM policy helps (QEMU sends every register its kernel lists)`, { a: src.host.kernel, b: dst.host.kernel, remedy: from ? `kernel >= ${from}` : 'no kernel read' }));
  }
  for (const r of reasons) {
    const def = data.registers.find((d) => d.name === r.subject);
    const at = (text: string, extra: Partial<Reason> = {}) => out.push(reason('REGISTER_FENCE', 'info', r.subject, text, extra));
    if (r.code === 'REGISTER_VALUE_REFUSED' && def?.kind === 'exact') {
      const common = (src.lookup.row!.registers[r.subject]?.values ?? []).filter((v) => (dst.lookup.row!.registers[r.subject]?.values ?? []).includes(v) && v !== '0.1');
      at(common.length ? `VMM: a VMM on the source (Linux ${src.host.kernel}) that pins ${r.subject} to ${common.at(-1)} before the first run (both kernels accept ${common.join(', ')})` : `no value of ${r.subject} both kernels accept`, { remedy: common.length ? `source VMM pins ${short(r.subject)}=${common.at(-1)}` : undefined });
    } else if (r.code === 'REGISTER_VALUE_REFUSED' && def?.kind === 'bitmap') {
      const keep = dst.lookup.row!.registers[r.subject]?.bits ?? [];
      at(`VMM: a VMM on the source (Linux ${src.host.kernel}) that pins ${r.subject} to bits the destination supports [${keep.join(', ')}] before the first run`, { remedy: `source VMM pins ${short(r.subject)}=[${keep.join(',')}]` });
    } else if (r.code === 'REGISTER_VALUE_REFUSED') {
      at(`host: the destination host's ${r.subject} level must be at least the source's: a host CPU and kernel question, no VMM policy changes it`, { remedy: `host level ${short(r.subject)}` });
    } else if (r.code === 'REGISTER_BITS_DIFFER' && r.remedy) {
      at(`VMM: ${r.remedy}`, { remedy: `destination VMM pins ${short(r.subject)}=${r.a}` });
    } else if (r.code === 'REGISTER_BITS_DIFFER') {
      const { from } = listedFrom(data, [r.subject]);
      at(`kernel: neither kernel has ${r.subject}, and they answer different calls: no VMM policy helps; from Linux ${from ?? '(none read)'} on, a VMM can pin it`, { remedy: `kernel >= ${from ?? '?'}` });
    } else if (r.code === 'REGISTER_VALUE_DIFFERS') {
      at(`host: ${r.subject} reads another level or version on the destination: the same mitigation state (host CPU, kernel) on both hosts`, { remedy: `same ${short(r.subject)}` });
    } else if (r.code === 'REGISTER_LEVEL_UNKNOWN' || r.code === 'REGISTER_DATA_UNKNOWN') {
      at(`facts: ${r.remedy ?? 'the facts this depends on'}`, { remedy: 'facts' });
    }
  }
  return out;
}


/** KVM_REG_ARM_SMCCC_ARCH_WORKAROUND_3 -> WORKAROUND_3, KVM_REG_ARM_STD_BMAP -> STD_BMAP. */
function short(name: string): string {
  return name.replace(/^KVM_REG_ARM_(SMCCC_ARCH_)?/, '');
}
