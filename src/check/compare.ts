import type { Props, PropValue } from '../model/common.js';
import { reason, type Reason } from '../model/reason.js';
import type { Outcome } from '../model/verdict.js';
import { guestVisibleDiff, type Rules } from './rules.js';
import type { RuntimeDevice, RuntimePlatform } from './runtime.js';

const show = (v: PropValue | undefined) => (v === undefined ? '(absent)' : typeof v === 'string' ? JSON.stringify(v) : String(v));

/** Pair the two sides' devices: by id where both name them, then by type and placement in order. */
export function pairDevices(a: RuntimeDevice[], b: RuntimeDevice[]): { pairs: [RuntimeDevice, RuntimeDevice][]; onlyA: RuntimeDevice[]; onlyB: RuntimeDevice[] } {
  const pairs: [RuntimeDevice, RuntimeDevice][] = [];
  const restB = [...b];
  const onlyA: RuntimeDevice[] = [];
  const take = (pred: (d: RuntimeDevice) => boolean) => {
    const i = restB.findIndex(pred);
    return i < 0 ? undefined : restB.splice(i, 1)[0];
  };
  const unpaired: RuntimeDevice[] = [];
  for (const d of a) {
    const same = d.id !== undefined ? take((x) => x.id === d.id) : undefined;
    if (same) pairs.push([d, same]);
    else unpaired.push(d);
  }
  for (const d of unpaired) {
    const same = take((x) => x.type === d.type && x.placement === d.placement) ?? take((x) => x.type === d.type);
    if (same) pairs.push([d, same]);
    else onlyA.push(d);
  }
  return { pairs, onlyA, onlyB: restB };
}

function effectOf(fails: boolean): Exclude<Outcome, 'safe'> {
  return fails ? 'impossible' : 'unsafe';
}

/** Whether a machine option value turns its part on ('auto' gives PC machines the part). */
const partOn = (v: PropValue | undefined) => v === true || v === 'on' || v === 'auto';

/** Property differences of one device (or board device), each with what it does to a migration. */
function propertyReasons(subject: string, a: Props, b: Props, rules: Rules, code: string): Reason[] {
  const out: Reason[] = [];
  const parts = rules.data.machineOptionsAddingParts;
  for (const d of guestVisibleDiff(a, b, rules)) {
    let rule = rules.propertyEffect(d.property);
    if (subject === 'board/machine' && parts.options.includes(d.property)) {
      const onSourceOnly = partOn(d.a) && !partOn(d.b);
      rule = { effect: onSourceOnly ? 'fails' : 'silent', why: `${parts.why}, ${onSourceOnly ? 'on the source only: its state has nowhere to go' : 'on the destination only: the guest finds a new part'}`, source: parts.evidence };
    }
    out.push(
      reason(code, rule.effect === 'fails' ? 'error' : 'warn', `${subject}.${d.property}`, `${subject}: ${d.property} is ${show(d.a)} on the source and ${show(d.b)} on the destination; ${rule.why}`, {
        a: d.a ?? null,
        b: d.b ?? null,
        effect: effectOf(rule.effect === 'fails'),
        source: rule.source,
        remedy: `set ${d.property}=${show(d.a)} explicitly on the destination, or pin a machine type whose default matches`,
      }),
    );
  }
  return out;
}

/**
 * Everything the guest would see differently, or that QEMU would refuse, when a guest running as
 * `src` migrates to a QEMU started as `dst`. Same build and same definition on both sides makes
 * unknown catalog entries comparable by identity; across builds they are unknown.
 */
export function comparePlatforms(src: RuntimePlatform, dst: RuntimePlatform, rules: Rules): Reason[] {
  const out: Reason[] = [];
  const sameBuild = src.host.catalog.id === dst.host.catalog.id;
  const from = src.host.catalog.version;
  const to = dst.host.catalog.version;

  for (const p of src.problems) out.push({ ...p, code: p.code === 'MACHINE_TYPE_UNKNOWN' ? 'SOURCE_CANNOT_START' : p.code, message: `the guest cannot start on the source: ${p.message}` });
  out.push(...dst.problems);
  if (!src.machine || !dst.machine) return out;

  if (src.machine !== dst.machine) {
    out.push(
      reason('MACHINE_TYPE_DIFFERS', 'error', 'machine', `the source runs ${src.machine} and the destination ${dst.machine}: QEMU refuses the stream ("Machine type received is ...")`, {
        a: src.machine,
        b: dst.machine,
        effect: 'impossible',
        remedy: `start the destination with -machine ${src.machine} (pin the machine type: guestabi resolve)`,
      }),
    );
    return out;
  }
  const machine = src.machine;
  const broken = rules.knownBroken(from, to, machine);
  if (broken) out.push(reason('KNOWN_BROKEN_PAIR', 'error', machine, `QEMU ${from} to ${to} on ${machine} is known to fail: ${broken.why}`, { effect: 'impossible', source: broken.source }));
  if (dst.host.catalog.machine(machine)?.deprecated && !src.host.catalog.machine(machine)?.deprecated) {
    out.push(reason('MACHINE_TYPE_DEPRECATED', 'warn', machine, `${machine} is deprecated in QEMU ${to}: a later upgrade may remove it`, { remedy: 'plan a move to a current machine type' }));
  }
  const machineProps = src.board?.get('board/machine');
  for (const k of new Set([...Object.keys(src.machineOptions), ...Object.keys(dst.machineOptions)])) {
    if (machineProps && k in machineProps) continue; // compared with the machine's properties below
    if (src.machineOptions[k] !== dst.machineOptions[k]) {
      out.push(
        reason('MACHINE_OPTION_DIFFERS', 'warn', `machine.${k}`, `-machine ${k} is ${src.machineOptions[k] ?? '(default)'} on the source and ${dst.machineOptions[k] ?? '(default)'} on the destination`, {
          a: src.machineOptions[k] ?? null,
          b: dst.machineOptions[k] ?? null,
          effect: 'unknown',
        }),
      );
    }
  }

  // What the definitions say that guestabi does not model: compared as written.
  const text = (p: RuntimePlatform) => JSON.stringify([...(p.spec.unmodelled ?? [])].sort());
  if (text(src) !== text(dst)) {
    out.push(
      reason('UNMODELLED_OPTION_DIFFERS', 'warn', 'options', 'the two definitions differ in options guestabi does not model', {
        details: [...(src.spec.unmodelled ?? []).map((o) => `source: ${o}`), ...(dst.spec.unmodelled ?? []).map((o) => `destination: ${o}`)],
        effect: 'unknown',
      }),
    );
  } else if (src.spec.unmodelled?.length) {
    out.push(reason('UNMODELLED_OPTIONS', 'info', 'options', `both sides have ${src.spec.unmodelled.join(' ')}, which guestabi does not model`, { details: src.spec.unmodelled }));
  }
  const globals = (p: RuntimePlatform) => new Set((p.spec.globals ?? []).map((g) => `${g.driver}.${g.property}=${g.value}`));
  const ga = globals(src);
  const gb = globals(dst);
  for (const g of new Set([...ga, ...gb])) {
    if (ga.has(g) && gb.has(g)) continue;
    out.push(reason('GLOBAL_DIFFERS', 'warn', g, `-global ${g} is given ${ga.has(g) ? 'on the source only' : 'on the destination only'}`, { effect: 'unknown', remedy: 'give the same -global options on both sides' }));
  }
  const fw = (p: RuntimePlatform) => p.spec.firmware ?? 'bios';
  if (fw(src) !== fw(dst)) {
    out.push(reason('FIRMWARE_DIFFERS', 'warn', 'firmware', `the source boots ${fw(src)}, the destination ${fw(dst)}: their ROM and flash devices differ`, { a: fw(src), b: fw(dst), effect: 'unknown' }));
  }
  if (src.spec.memory.maxMiB !== dst.spec.memory.maxMiB || src.spec.memory.slots !== dst.spec.memory.slots) {
    out.push(
      reason('MEMORY_HOTPLUG_DIFFERS', 'warn', 'memory', `memory hotplug (maxmem ${src.spec.memory.maxMiB ?? '-'}/${dst.spec.memory.maxMiB ?? '-'} MiB, slots ${src.spec.memory.slots ?? '-'}/${dst.spec.memory.slots ?? '-'}) differs`, {
        effect: 'unknown',
      }),
    );
  }
  const kvm = src.host.profile.accel === 'kvm' || dst.host.profile.accel === 'kvm';
  if (kvm && !sameBuild && (!src.host.accelCpuDelta || !dst.host.accelCpuDelta) && !src.cpuHostDependent) {
    out.push(
      reason('CPU_KVM_DEFAULTS_UNKNOWN', 'warn', 'cpu', 'under KVM each build adds its own defaults to every CPU model, and a host profile here does not record them', {
        effect: 'unknown',
        remedy: 'probe the hosts again with guestabi probe --accel kvm (profiles record accelCpu)',
      }),
    );
  }

  // Memory and vCPUs
  if (src.memoryMiB !== dst.memoryMiB) {
    out.push(reason('MEMORY_DIFFERS', 'error', 'memory', `${src.memoryMiB} MiB on the source, ${dst.memoryMiB} MiB on the destination: the RAM block does not match ("Length mismatch")`, { a: src.memoryMiB, b: dst.memoryMiB, effect: 'impossible' }));
  }
  if (src.vcpus.count !== dst.vcpus.count) {
    const fewer = dst.vcpus.count < src.vcpus.count;
    const p = fewer ? rules.data.presence.sourceOnly : rules.data.presence.destinationOnly;
    out.push(reason('VCPU_COUNT_DIFFERS', fewer ? 'error' : 'warn', 'vcpus', `${src.vcpus.count} vCPUs on the source, ${dst.vcpus.count} on the destination: ${p.why}`, { a: src.vcpus.count, b: dst.vcpus.count, effect: effectOf(fewer), source: p.evidence }));
  } else {
    for (const k of ['sockets', 'dies', 'cores', 'threads', 'max'] as const) {
      const a = src.vcpus[k] ?? (k === 'max' ? src.vcpus.count : undefined);
      const b = dst.vcpus[k] ?? (k === 'max' ? dst.vcpus.count : undefined);
      if (a !== b) out.push(reason('VCPU_TOPOLOGY_DIFFERS', 'warn', `vcpus.${k}`, `vCPU ${k} is ${a ?? 'QEMU default'} on the source and ${b ?? 'QEMU default'} on the destination: the CPUID topology changes`, { a: a ?? null, b: b ?? null, effect: 'unsafe' }));
    }
  }

  // CPU
  const sameCpuDefinition = src.cpuName === dst.cpuName && !src.cpuHostDependent;
  if (!src.cpu || !dst.cpu) {
    if (!(sameBuild && sameCpuDefinition && src.host === dst.host)) {
      out.push(reason('CPU_UNKNOWN', 'warn', src.cpuName ?? 'cpu', `the catalogs or host profiles do not give the CPU ${!src.cpu ? 'on the source' : 'on the destination'}`, { effect: 'unknown' }));
    }
  } else {
    if (src.cpuHostDependent || dst.cpuHostDependent) {
      out.push(reason('HOST_DEPENDENT_CPU', 'info', src.cpuName ?? 'cpu', `-cpu ${src.cpuName} takes each host's CPU: compared as the two hosts' profiles give it`));
    }
    if (src.cpuName !== dst.cpuName) {
      // Names are for people: what matters is whether the two give the same CPU (compared below).
      out.push(reason('CPU_MODEL_DIFFERS', 'info', 'cpu', `the source runs -cpu ${src.cpuName} and the destination -cpu ${dst.cpuName}; QEMU migrates without comparing them`, { a: src.cpuName, b: dst.cpuName }));
    }
    const cpuFeatures = featureUnion(src.host.catalog.cpuFeatures(), dst.host.catalog.cpuFeatures());
    const diffs = guestVisibleDiff(src.cpu, dst.cpu, rules, { cpu: true, cpuFeatures });
    const filteredHere = diffs.filter((d) => dst.filtered.includes(d.property));
    if (filteredHere.length) {
      out.push(
        reason('CPU_FEATURE_FILTERED', 'warn', filteredHere.map((d) => d.property).join(' '), `without enforce the destination silently drops ${filteredHere.map((d) => d.property).join(' ')}, which ${dst.host.name} cannot give`, {
          effect: 'unsafe',
          host: dst.host.name,
          remedy: 'add enforce so the destination refuses to start instead, or pin a CPU every host can run (guestabi resolve --cluster)',
        }),
      );
    }
    const rest = diffs.filter((d) => !dst.filtered.includes(d.property));
    if (rest.length) {
      const subject = src.cpuName === dst.cpuName ? `${src.cpuName}` : 'cpu';
      out.push(
        reason(
          'CPU_DEFINITION_DIFFERS',
          'warn',
          subject,
          `the guest's CPU changes: ${rest.slice(0, 8).map((d) => `${d.property} ${show(d.a)} -> ${show(d.b)}`).join(', ')}${rest.length > 8 ? ` and ${rest.length - 8} more` : ''}`,
          {
            effect: 'unsafe',
            details: rest.map((d) => `${d.property}: ${show(d.a)} -> ${show(d.b)}`),
            remedy: src.cpuName === dst.cpuName ? `on QEMU ${from} and ${to}, ${src.cpuName} on ${machine} is not the same CPU: pin it on both sides with explicit features` : `start the destination with -cpu ${src.cpuName}`,
          },
        ),
      );
    }
  }

  // Devices
  const { pairs, onlyA, onlyB } = pairDevices(src.devices, dst.devices);
  for (const d of onlyA) {
    const p = rules.data.presence.sourceOnly;
    out.push(reason('DEVICE_ONLY_ON_SOURCE', 'error', d.type, `${d.type}${d.id ? ` (${d.id})` : ''} is on the source only: ${p.why}`, { effect: 'impossible', source: p.evidence }));
  }
  for (const d of onlyB) {
    const p = rules.data.presence.destinationOnly;
    out.push(reason('DEVICE_ONLY_ON_DESTINATION', 'warn', d.type, `${d.type}${d.id ? ` (${d.id})` : ''} is on the destination only: ${p.why}`, { effect: 'unsafe', source: p.evidence }));
  }
  for (const [a, b] of pairs) {
    const subject = a.id ? `${a.type} ${a.id}` : a.type;
    if (a.type !== b.type) {
      out.push(reason('DEVICE_TYPE_DIFFERS', 'error', subject, `${a.type} on the source is ${b.type} on the destination: its state does not load`, { a: a.type, b: b.type, effect: 'impossible' }));
      continue;
    }
    if (a.placement !== b.placement) {
      out.push(reason('DEVICE_PLACEMENT_DIFFERS', 'error', subject, `${a.type} sits ${a.placement} on the source and ${b.placement} on the destination: its state is filed under another bus`, { a: a.placement, b: b.placement, effect: 'impossible' }));
      continue;
    }
    if (!a.props || !b.props) {
      const identical = sameBuild && JSON.stringify(a.settings) === JSON.stringify(b.settings);
      if (!identical) {
        out.push(
          reason('DEVICE_NOT_IN_CATALOG', 'warn', subject, `${a.type}${a.placement !== 'root' ? ` (${a.placement})` : ''} is not among the probed devices of ${!a.props ? `QEMU ${from}` : `QEMU ${to}`}: its properties cannot be compared`, {
            effect: 'unknown',
          }),
        );
      }
      continue;
    }
    out.push(...propertyReasons(subject, a.props, b.props, rules, 'DEVICE_PROPERTY_DIFFERS'));
    // Something set on one side only, which the catalog has no default for to compare with.
    for (const k of new Set([...Object.keys(a.settings), ...Object.keys(b.settings)])) {
      if (k in a.props && k in b.props) continue;
      if (a.settings[k] === b.settings[k]) continue;
      out.push(
        reason('DEVICE_SETTING_ONE_SIDED', 'warn', `${subject}.${k}`, `${subject}: ${k} is ${a.settings[k] ?? "QEMU's default"} on the source and ${b.settings[k] ?? "QEMU's default"} on the destination, and the catalog does not give the default`, {
          a: a.settings[k] ?? null,
          b: b.settings[k] ?? null,
          effect: 'unknown',
          remedy: `set ${k} to the same value on both sides`,
        }),
      );
    }
  }

  // The machine type's own devices, as each build gives them.
  if (src.board && dst.board) {
    const sa = canonicalBoard(src.board, rules);
    const sb = canonicalBoard(dst.board, rules);
    for (const k of new Set([...sa.keys(), ...sb.keys()])) {
      const a = sa.get(k);
      const b = sb.get(k);
      const type = k.slice(6).replace(/#\d+$/, '');
      if (!a || !b) {
        if (rules.qtreeOnly.has(type)) continue;
        out.push(reason('BOARD_DEVICE_DIFFERS', !a ? 'warn' : 'error', k, `${machine} has ${type} ${!a ? 'on the destination only' : 'on the source only'}`, { effect: effectOf(!b) }));
        continue;
      }
      out.push(...propertyReasons(k, a, b, rules, 'BOARD_PROPERTY_DIFFERS'));
    }
  } else if (!sameBuild) {
    out.push(reason('MACHINE_NOT_PROBED', 'warn', machine, `the catalog of QEMU ${!src.board ? from : to} has no probe of ${machine}: its devices cannot be compared`, { effect: 'unknown' }));
  }
  return out;
}

const unions = new WeakMap<ReadonlySet<string>, WeakMap<ReadonlySet<string>, ReadonlySet<string>>>();
function featureUnion(a: ReadonlySet<string>, b: ReadonlySet<string>): ReadonlySet<string> {
  if (a === b) return a;
  let m = unions.get(a);
  if (!m) unions.set(a, (m = new WeakMap()));
  let u = m.get(b);
  if (!u) m.set(b, (u = new Set([...a, ...b])));
  return u;
}

const boards = new WeakMap<Map<string, Props>, Map<string, Props>>();
/** Board devices keyed by canonical type names (renamed QOM types compare as one). */
function canonicalBoard(board: Map<string, Props>, rules: Rules): Map<string, Props> {
  let c = boards.get(board);
  if (!c) {
    c = new Map([...board].map(([k, v]) => [`board/${rules.canonicalType(k.slice(6).replace(/#\d+$/, ''))}${/#\d+$/.exec(k)?.[0] ?? ''}`, v]));
    boards.set(board, c);
  }
  return c;
}

/** The outcome the reasons add up to: impossible over unsafe over unknown over safe. */
export function outcomeOf(reasons: Reason[]): Outcome {
  const effects = new Set(reasons.map((r) => r.effect));
  if (effects.has('impossible')) return 'impossible';
  if (effects.has('unsafe')) return 'unsafe';
  if (effects.has('unknown')) return 'unknown';
  return 'safe';
}
