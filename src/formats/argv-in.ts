import type { GuestDevice, GuestSpec } from '../model/guest.js';
import type { PropValue } from '../model/common.js';
import { UserError } from '../util/errors.js';
import { canonicalDeviceType, placementBehind, roleOf, ROOT_BUSES } from './device-types.js';
import { parseMemoryMiB, parseOnOff, parseOpts, QEMU_DEFAULT_RAM_MIB, shellSplit } from './qemuopts.js';

/** QEMU options that take no argument; every other option takes the next word. */
const FLAGS = new Set([
  '-S', '-s', '-nodefaults', '-no-user-config', '-enable-kvm', '-daemonize', '-nographic', '-no-hpet', '-no-reboot', '-no-shutdown',
  '-snapshot', '-usb', '-mem-prealloc', '-no-acpi', '-full-screen', '-no-fd-bootchk', '-win2k-hack', '-preconfig', '-only-migratable',
  '-enable-fips', '-version', '-h', '-help', '-no-quit', '-alt-grab', '-ctrl-grab', '-no-frame', '-old-param', '-semihosting',
]);

/** Flags that change nothing the guest sees. */
const HOST_SIDE_FLAGS = new Set(['-S', '-s', '-nodefaults', '-no-user-config', '-daemonize', '-nographic', '-no-reboot', '-no-shutdown', '-snapshot', '-mem-prealloc', '-full-screen', '-preconfig', '-only-migratable', '-enable-fips', '-version', '-h', '-help', '-no-quit', '-alt-grab', '-ctrl-grab', '-no-frame']);

/** Options whose argument is host-side: displays, monitors, backends, logging, process control. */
const HOST_SIDE_OPTIONS = new Set([
  '-display', '-vnc', '-spice', '-sdl', '-monitor', '-qmp', '-qmp-pretty', '-mon', '-chardev', '-netdev', '-blockdev', '-drive', '-serial',
  '-parallel', '-pidfile', '-D', '-d', '-trace', '-msg', '-sandbox', '-runas', '-chroot', '-incoming', '-loadvm', '-k', '-L', '-audiodev',
  '-iothread', '-overcommit', '-mem-path', '-fsdev', '-add-fd', '-action', '-watchdog-action', '-boot', '-uuid', '-debugcon',
  '-semihosting-config', '-compat', '-run-with', '-seed',
]);

/** CPU properties that are not features: the guest-visible identity and CPUID layout knobs. */
const CPU_VALUE_PROPERTIES = /^(family|model|stepping|model-id|vendor|level|xlevel|xlevel2|min-level|min-xlevel|phys-bits|host-phys-bits-limit|tsc-frequency|hv-spinlocks|hv-vendor-id|lbr-fmt|guest-phys-bits|ucode-rev|hv-version-id-.*|x-.*)$/;

/** Which -object types are confidential-guest launch security. */
const LAUNCH_SECURITY_OBJECTS: Record<string, string> = { 'sev-guest': 'sev', 'sev-snp-guest': 'sev-snp', 'tdx-guest': 'tdx', 's390-pv-guest': 's390-pv' };

export function parseArgvText(text: string, source: string): GuestSpec {
  let words: string[];
  try {
    words = shellSplit(text);
  } catch (e) {
    throw new UserError(`cannot split the command line: ${(e as Error).message}`, source);
  }
  return parseArgv(words, source);
}

/** What parsing a command line keeps between options. */
interface ArgvState {
  spec: GuestSpec;
  source: string;
  /** Every option given, as QEMU names it (-m, not --m). */
  seen: Set<string>;
  nodefaults: boolean;
  vga: string | undefined;
  /** Each -device with the bus it names, to place it once every device is known. */
  deviceBuses: Map<GuestDevice, string | undefined>;
  typeById: Map<string, string>;
}

/**
 * A QEMU command line as a GuestSpec. What QEMU would add by itself is made explicit where it is
 * guest-visible: without -nodefaults, the default VGA (and that a default NIC and serial exist).
 */
export function parseArgv(words: string[], source: string): GuestSpec {
  const st: ArgvState = {
    spec: { machine: { type: 'pc' }, cpu: { mode: 'custom' }, memory: { sizeMiB: 128 }, vcpus: { count: 1 }, devices: [] },
    source,
    seen: new Set(),
    nodefaults: false,
    vga: undefined,
    deviceBuses: new Map(),
    typeById: new Map(),
  };
  const at = (n: number) => `${source}: argument ${n + 1} '${words[n]}'`;
  // The system emulator named first gives the architecture (qemu-system-ppc64, -aarch64).
  const binary = words[0] !== undefined && !words[0].startsWith('-') ? /qemu-system-(x86_64|ppc64|aarch64|s390x)$/.exec(words[0]) : null;
  if (binary && binary[1] !== 'x86_64') {
    st.spec.arch = binary[1] as NonNullable<GuestSpec['arch']>;
    st.spec.machine.type = DEFAULT_MACHINE[st.spec.arch] ?? 'none';
  }
  for (let i = words[0] !== undefined && !words[0].startsWith('-') ? 1 : 0; i < words.length; i++) {
    const opt = words[i]!;
    if (!opt.startsWith('-')) throw new UserError(`expected an option, got '${opt}'`, `${source}: argument ${i + 1}`);
    const name = opt.startsWith('--') ? opt.slice(1) : opt;
    st.seen.add(name);
    if (FLAGS.has(name)) {
      applyFlag(st, name);
      continue;
    }
    const arg = words[i + 1];
    if (arg === undefined) throw new UserError(`${opt} needs an argument`, at(i));
    applyOption(st, name, arg, at(i));
    i++;
  }
  placeByBus(st);
  return finish(st, words.includes('-nographic'));
}

/** A flag (an option without an argument): the few that change the guest, or unmodelled. */
function applyFlag(st: ArgvState, name: string): void {
  const spec = st.spec;
  if (name === '-nodefaults') st.nodefaults = true;
  else if (name === '-enable-kvm') spec.accel = 'kvm';
  else if (name === '-no-hpet') spec.machine.options = { ...(spec.machine.options ?? {}), hpet: 'off' };
  else if (name === '-no-acpi') spec.machine.options = { ...(spec.machine.options ?? {}), acpi: 'off' };
  else if (name === '-usb') spec.machine.options = { ...(spec.machine.options ?? {}), usb: 'on' };
  else if (!HOST_SIDE_FLAGS.has(name)) spec.unmodelled = [...(spec.unmodelled ?? []), name];
}

type OptionReader = (st: ArgvState, arg: string, where: string) => void;

/** The options that say something about the guest, each with its reader. */
const OPTION_READERS = new Map<string, OptionReader>([
  ['-machine', (st, arg, where) => parseMachine(st.spec, arg, where)],
  ['-M', (st, arg, where) => parseMachine(st.spec, arg, where)],
  ['-accel', (st, arg) => parseAccel(st.spec, arg)],
  ['-cpu', (st, arg, where) => parseCpu(st.spec, arg, where)],
  ['-m', (st, arg, where) => parseMemory(st.spec, arg, where)],
  ['-smp', (st, arg, where) => parseSmp(st.spec, arg, where)],
  ['-device', (st, arg, where) => addDevice(st, arg, where)],
  ['-global', (st, arg, where) => {
    st.spec.globals = [...(st.spec.globals ?? []), parseGlobal(arg, where)];
  }],
  ['-vga', (st, arg) => {
    st.vga = arg;
  }],
  ['-object', (st, arg) => parseObject(st.spec, arg)],
  ['-name', (st, arg) => parseName(st.spec, arg)],
  ['-bios', (st, arg) => {
    if (/ovmf|edk2|OVMF/i.test(arg)) st.spec.firmware = 'efi';
  }],
  ['-drive', (st, arg, where) => parseDrive(st.spec, arg, where)],
  ['-nic', (st, arg, where) => parseNic(st.spec, arg, where)],
  ['-net', (st, arg, where) => parseNet(st.spec, arg, where)],
]);

function applyOption(st: ArgvState, name: string, arg: string, where: string): void {
  const read = OPTION_READERS.get(name);
  if (read) read(st, arg, where);
  // Host-side options (-display, -vnc, -chardev, -netdev, -blockdev...) do not change what
  // the guest sees; the others are kept as written, so that checks can at least compare them.
  else if (!HOST_SIDE_OPTIONS.has(name)) st.spec.unmodelled = [...(st.spec.unmodelled ?? []), `${name} ${arg}`];
}

function parseAccel(spec: GuestSpec, arg: string): void {
  const accel = parseOpts(arg)[0]?.key;
  if (accel === 'kvm' || accel === 'tcg') spec.accel = accel;
}

/**
 * -m as QEMU reads it (system/vl.c parse_memory_options): `-m N`, `-m size=N,maxmem=M,slots=S`;
 * sizes through qemu_strtosz (memoryBytes); 0 or no size is the machine's default_ram_size, 128 MiB
 * (hw/core/machine.c machine_class_init: "backward compatibility behaviour for case -m 0").
 */
function parseMemory(spec: GuestSpec, arg: string, where: string): void {
  const opts = parseOpts(arg);
  for (const [idx, o] of opts.entries()) {
    if (!(idx === 0 && o.value === undefined) && !['size', 'maxmem', 'slots'].includes(o.key)) throw new UserError(`-m has no parameter '${o.key}' (size, maxmem, slots)`, where);
  }
  const size = opts[0]?.value === undefined ? opts[0]?.key : opts.find((o) => o.key === 'size')?.value;
  if (size === '') throw new UserError("missing 'size' option value", where);
  const mib = size === undefined ? 0 : parseMemoryMiB(size);
  if (mib === undefined) throw new UserError(`not a memory size: '${arg}' (a number of MiB, or with a suffix B, K, M, G, T, P, E)`, where);
  spec.memory = { sizeMiB: mib === 0 ? QEMU_DEFAULT_RAM_MIB : mib };
  const max = opts.find((o) => o.key === 'maxmem')?.value;
  const slots = opts.find((o) => o.key === 'slots')?.value;
  if (max !== undefined) {
    const m = parseMemoryMiB(max);
    if (m === undefined || m === 0) throw new UserError(`not a memory size: maxmem=${max}`, where);
    spec.memory.maxMiB = m;
  }
  if (slots !== undefined) {
    if (!/^\d+$/.test(slots)) throw new UserError(`slots must be a number, not '${slots}'`, where);
    spec.memory.slots = Number(slots);
  }
}

function addDevice(st: ArgvState, arg: string, where: string): void {
  const d = parseDevice(arg, where);
  st.deviceBuses.set(d, d.properties?.bus);
  if (d.id) st.typeById.set(d.id, d.type);
  if (d.type === 'intel-iommu' || d.type === 'amd-iommu' || d.type === 'virtio-iommu-pci') {
    const { id: _id, ...options } = d.properties ?? {};
    st.spec.iommu = { model: d.type.replace(/-iommu(-pci)?$/, ''), options };
  }
  st.spec.devices.push(d);
}

function parseObject(spec: GuestSpec, arg: string): void {
  const opts = parseOpts(arg);
  const type = opts[0]?.value === undefined ? opts[0]?.key : opts.find((o) => o.key === 'qom-type')?.value;
  if (type && LAUNCH_SECURITY_OBJECTS[type]) {
    const options = Object.fromEntries(opts.slice(1).filter((o) => o.value !== undefined).map((o) => [o.key, o.value!]));
    spec.launchSecurity = { type: LAUNCH_SECURITY_OBJECTS[type]!, options };
  }
}

function parseName(spec: GuestSpec, arg: string): void {
  const opts = parseOpts(arg);
  spec.name = opts[0]?.value === undefined ? opts[0]?.key : opts.find((o) => o.key === 'guest')?.value;
}

function parseDrive(spec: GuestSpec, arg: string, where: string): void {
  const iface = parseOpts(arg).find((o) => o.key === 'if')?.value ?? 'ide';
  if (iface === 'pflash') spec.firmware = 'efi';
  else if (iface === 'virtio') spec.devices.push({ type: 'virtio-blk-pci', role: 'disk', properties: {}, source: `${where} (-drive if=virtio)` });
  else if (iface !== 'none') spec.unmodelled = [...(spec.unmodelled ?? []), `-drive if=${iface}`]; // a disk on the board's controller
}

function parseNic(spec: GuestSpec, arg: string, where: string): void {
  const model = parseOpts(arg).find((o) => o.key === 'model')?.value;
  if (model && model !== 'none') spec.devices.push(nicDevice(model, where));
}

function parseNet(spec: GuestSpec, arg: string, where: string): void {
  const opts = parseOpts(arg);
  if (opts[0]?.key === 'nic') spec.devices.push(nicDevice(opts.find((o) => o.key === 'model')?.value, where));
}

/**
 * Placement: a device's bus is a root bus, a PCIe port or a bridge given earlier. Every -device is
 * placed by the bus it names; whether it is a PCI device at all, and so has a placement class, is
 * QEMU's to say (the catalog's pciDeviceTypes, device-types.ts placementOn).
 */
function placeByBus(st: ArgvState): void {
  for (const [d, bus] of st.deviceBuses) {
    if (bus === undefined || ROOT_BUSES.has(bus)) d.placement = 'root';
    else {
      const parent = st.typeById.get(bus) ?? st.typeById.get(bus.replace(/\.0$/, ''));
      d.placement = parent === undefined ? 'unknown' : placementBehind(parent);
    }
  }
}

/** What -machine defaults to without one (qemu-system-aarch64 has no default machine type). */
const DEFAULT_MACHINE: Partial<Record<NonNullable<GuestSpec['arch']>, string>> = { ppc64: 'pseries', aarch64: 'none' };

function finish(st: ArgvState, nographic: boolean): GuestSpec {
  const { spec, source, vga } = st;
  spec.commandLineOptions = [...st.seen].sort();
  // Without -accel or -enable-kvm QEMU runs the guest under TCG.
  spec.accel ??= 'tcg';
  if (vga !== undefined && vga !== 'none') spec.devices.push(vgaDevice(vga, `${source}: -vga ${vga}`));
  // The default devices modelled are the PC's; other boards' must be written out (-nodefaults).
  if (!st.nodefaults && (spec.arch ?? 'x86_64') !== 'x86_64') throw new UserError(`a ${spec.arch} guest's default devices are not modelled: give -nodefaults and write its devices out`, source);
  if (!st.nodefaults) addQemuDefaults(spec, { vga, nographic, seen: st.seen, source });
  return spec;
}

function vgaDevice(vga: string, source: string): GuestDevice {
  const type = { std: 'VGA', cirrus: 'cirrus-vga', qxl: 'qxl-vga', virtio: 'virtio-vga', vmware: 'vmware-svga' }[vga] ?? vga;
  return { type, role: 'video', placement: 'root', properties: {}, source };
}

/**
 * The devices QEMU adds by itself when -nodefaults is not given (system/vl.c: default_vga,
 * default_serial, default_parallel, default_cdrom, default_net), made explicit so that the guest
 * is the same when written with -nodefaults or as libvirt XML. Each default is dropped when the
 * command line configures that kind of device itself, as QEMU does.
 */
/** The devices that stand in for the default VGA (system/vl.c default_list[]: bochs-display,
 *  secondary-vga and ramfb do not; lab: fuzz seed 20261211, -device bochs-display on pc-q35-4.1
 *  kept the default VGA, whose EDID mode is 1024x768 on 5.2 and 1280x800 on 7.2). */
const DEFAULT_VGA_OFF = /^(VGA|isa-vga|cirrus-vga|isa-cirrus-vga|vmware-svga|qxl-vga|virtio-vga|ati-vga|vhost-user-vga|virtio-vga-gl|virtio-vga-rutabaga)$/;

function addQemuDefaults(spec: GuestSpec, o: { vga: string | undefined; nographic: boolean; seen: Set<string>; source: string }): void {
  const has = (re: RegExp) => spec.devices.some((d) => re.test(d.type));
  const why = `${o.source}: QEMU default (no -nodefaults)`;
  const add = (type: string, role: string, properties: Record<string, string> = {}) => spec.devices.push({ type, role, placement: 'root', properties, source: why });
  if (o.vga === undefined && !o.nographic && !has(DEFAULT_VGA_OFF)) add('VGA', 'video');
  if (!o.seen.has('-serial') && !has(/^isa-serial$/)) add('isa-serial', 'serial');
  if (!o.seen.has('-parallel') && !has(/^isa-parallel$/)) add('isa-parallel', 'other');
  // The default CD-ROM is -drive if=ide,index=2,media=cdrom: the third IDE position, bus 1 unit 0
  // on the PIIX (two units a bus), port 2 of the ICH9 AHCI (one unit a port) (system/vl.c, blockdev.c).
  // With the q35 AHCI turned off (sata=off) nothing claims it, and QEMU drops an unclaimed default
  // drive without a word (blockdev.c drive_check_orphaned(): "Ignore default drives"; hw/i386/pc_q35.c
  // ide_drive_get() only if sata_enabled). Lab: fuzz seed 20261214 (pc-q35-3.0,sata=off started).
  const q35 = /q35/.test(spec.machine.type);
  const noIde = q35 && /^(off|false|no)$/.test(spec.machine.options?.sata ?? '');
  if (!o.seen.has('-cdrom') && !noIde && !has(/^(ide-cd|ide-hd|scsi-cd|scsi-hd)$/)) add('ide-cd', 'disk', { bus: q35 ? 'ide.2' : 'ide.1', unit: '0' });
  if (!o.seen.has('-net') && !o.seen.has('-nic') && !o.seen.has('-netdev')) add(/q35/.test(spec.machine.type) ? 'e1000e' : 'e1000', 'net');
}

function nicDevice(model: string | undefined, where: string): GuestDevice {
  const type = model === undefined ? 'unknown-default-nic' : model === 'virtio' ? 'virtio-net-pci' : model;
  return { type, role: 'net', placement: 'root', properties: {}, source: where };
}

function parseMachine(spec: GuestSpec, arg: string, where: string): void {
  const opts = parseOpts(arg);
  const options: Record<string, string> = { ...(spec.machine.options ?? {}) };
  let type = spec.machine.type;
  opts.forEach((o, idx) => {
    if (idx === 0 && o.value === undefined) type = o.key;
    else if (o.key === 'type') type = o.value ?? type;
    else if (o.key === 'accel') {
      const a = o.value?.split(':')[0];
      if (a === 'kvm' || a === 'tcg') spec.accel = a;
    } else options[o.key] = o.value ?? 'on';
  });
  if (!type) throw new UserError('no machine type', where);
  spec.machine = Object.keys(options).length ? { type, options } : { type };
}

function parseCpu(spec: GuestSpec, arg: string, where: string): void {
  const opts = parseOpts(arg);
  const model = opts[0];
  if (!model || model.value !== undefined) throw new UserError('-cpu must start with a model name', where);
  const features: NonNullable<GuestSpec['cpu']['features']> = [];
  const properties: Record<string, PropValue> = {};
  let enforce: boolean | undefined;
  const modes: Record<string, GuestSpec['cpu']['mode']> = { host: 'host-passthrough', max: 'maximum' };
  for (const o of opts.slice(1)) {
    if (o.value === undefined && (o.key.startsWith('+') || o.key.startsWith('-'))) {
      features.push({ name: o.key.slice(1), policy: o.key.startsWith('+') ? 'require' : 'disable' });
      continue;
    }
    if (o.key === 'enforce') {
      enforce = parseOnOff(o.value) ?? true;
      continue;
    }
    if (o.key === 'check') continue; // warns only; the outcome is the same as without it
    if (CPU_VALUE_PROPERTIES.test(o.key)) {
      const n = Number(o.value);
      properties[o.key] = o.value !== undefined && o.value !== '' && Number.isFinite(n) && /^(0x[0-9a-f]+|-?\d+)$/i.test(o.value) ? n : (o.value ?? '');
      continue;
    }
    const on = parseOnOff(o.value);
    if (on === undefined) throw new UserError(`CPU property '${o.key}' wants on or off, not '${o.value}'`, where);
    features.push({ name: o.key, policy: on ? 'require' : 'disable' });
  }
  const mode = modes[model.key] ?? 'custom';
  spec.cpu = { mode, ...(mode === 'custom' ? { model: model.key } : {}) };
  if (features.length) spec.cpu.features = features;
  if (Object.keys(properties).length) spec.cpu.properties = properties;
  if (enforce !== undefined) spec.cpu.enforce = enforce;
}

/** Members of -smp that x86 machine types do not model (QEMU refuses them > 1 on most boards). */
const SMP_UNMODELLED = new Set(['clusters', 'modules', 'books', 'drawers']);

/**
 * -smp as QEMU reads it (hw/core/machine-smp.c): `-smp N` or cpus=, maxcpus=, sockets, dies,
 * cores, threads, each a positive integer. Without cpus the count is maxcpus, or the product of
 * the members given. How missing members are computed depends on the machine type
 * (src/resolve/limits.ts qemuSmp); whether they fit is checked after parsing.
 */
function parseSmp(spec: GuestSpec, arg: string, where: string): void {
  const opts = parseOpts(arg);
  const v: GuestSpec['vcpus'] = { count: 1 };
  const num = (s: string | undefined, k: string) => {
    const n = Number(s);
    if (s === undefined || !/^\d+$/.test(s) || !Number.isSafeInteger(n) || n < 1) throw new UserError(`-smp ${k} must be a positive integer, not '${s}'`, where);
    return n;
  };
  let cpus: number | undefined;
  for (const [idx, o] of opts.entries()) {
    if (idx === 0 && o.value === undefined) cpus = num(o.key, 'cpus');
    else if (o.key === 'cpus') cpus = num(o.value, 'cpus');
    else if (o.key === 'maxcpus') v.max = num(o.value, 'maxcpus');
    else if (o.key === 'sockets' || o.key === 'dies' || o.key === 'cores' || o.key === 'threads') v[o.key] = num(o.value, o.key);
    else if (SMP_UNMODELLED.has(o.key)) {
      if (num(o.value, o.key) > 1) spec.unmodelled = [...(spec.unmodelled ?? []), `-smp ${o.key}=${o.value}`];
    } else throw new UserError(`-smp has no parameter '${o.key}' (cpus, maxcpus, sockets, dies, cores, threads)`, where);
  }
  v.count = cpus ?? v.max ?? (v.sockets ?? 1) * (v.dies ?? 1) * (v.cores ?? 1) * (v.threads ?? 1);
  spec.vcpus = v;
}

export function parseDevice(arg: string, where: string): GuestDevice {
  let driver: string | undefined;
  const properties: Record<string, string> = {};
  if (arg.trimStart().startsWith('{')) {
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(arg) as Record<string, unknown>;
    } catch (e) {
      throw new UserError(`malformed JSON -device: ${(e as Error).message}`, where);
    }
    driver = typeof json.driver === 'string' ? json.driver : undefined;
    for (const [k, v] of Object.entries(json)) if (k !== 'driver') properties[k] = typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v);
  } else {
    parseOpts(arg).forEach((o, idx) => {
      if (idx === 0 && o.value === undefined) driver = o.key;
      else if (o.key === 'driver') driver = o.value;
      else properties[o.key] = o.value ?? 'on';
    });
  }
  if (!driver) throw new UserError('-device without a driver', where);
  driver = canonicalDeviceType(driver);
  const { id, ...rest } = properties;
  const d: GuestDevice = { type: driver, role: roleOf(driver), properties: rest, source: where };
  if (id !== undefined) d.id = id;
  return d;
}

function parseGlobal(arg: string, where: string): { driver: string; property: string; value: string } {
  const opts = parseOpts(arg);
  if (opts.length === 1) {
    const m = /^([^.=]+)\.([^=]+)=(.*)$/.exec(arg);
    if (!m) throw new UserError(`-global wants driver.property=value, not '${arg}'`, where);
    return { driver: m[1]!, property: m[2]!, value: m[3]! };
  }
  const get = (k: string) => opts.find((o) => o.key === k)?.value;
  const driver = get('driver');
  const property = get('property');
  const value = get('value');
  if (!driver || !property || value === undefined) throw new UserError('-global wants driver=,property=,value=', where);
  return { driver, property, value };
}
