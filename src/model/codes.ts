import { Type, type TLiteral, type TUnion } from '@sinclair/typebox';

/**
 * Every code guestabi emits, as a closed vocabulary (as QEMU's QAPI enums are): a reason or
 * finding code in its documents, or an HTTP problem code of the service. A code is part of
 * guestabi's interface: it keeps its meaning for ever; a new meaning gets a new code, and a new
 * code gets an entry here (reason() takes only registered codes, and test/unit/codes.test.ts fails
 * when a test sees an unregistered one).
 */

/** How bad: the most severe level the code is reported at. A validation finding's fail counts
 *  as error and its pass as info. */
export type CodeLevel = 'error' | 'warn' | 'info';

/** For a migration verdict, the most severe outcome this code alone implies; none: it never
 *  decides one (a decision, a note, a finding, an HTTP answer). */
export type CodeEffect = 'impossible' | 'unsafe' | 'unknown' | 'none';

/** The documents a code appears in: the verdict of check, the pinned ABI of resolve (and its
 *  refusal), a tier result, a validation report, a fleet plan, an HTTP problem. */
export type CodeDocument = 'verdict' | 'pinned-abi' | 'tier' | 'validation' | 'fleet' | 'registers' | 'viommu' | 'hook' | 'http';

export interface CodeInfo {
  level: CodeLevel;
  effect: CodeEffect;
  /** One line: what it means when you see it. */
  meaning: string;
  documents: readonly CodeDocument[];
  /** The guestabi version that first emitted it. */
  since: string;
}

const V = '0.1.0';
const VERDICT = ['verdict', 'fleet'] as const;
const STARTS = ['verdict', 'pinned-abi', 'validation', 'fleet'] as const;
const TIER = ['tier', 'validation'] as const;
const PINNED = ['pinned-abi'] as const;
/** host-model that cannot be made a named model: resolve, and check (which expands it first), refuse. */
const HOST_MODEL = ['verdict', 'pinned-abi', 'fleet'] as const;
const VALIDATION = ['validation'] as const;
const FLEET = ['fleet'] as const;
const HTTP = ['http'] as const;
/** guestabi registers diff|matrix: a register verdict over (kernel, VMM) pairs. */
const REGISTERS = ['registers', 'verdict', 'fleet'] as const;
/** guestabi viommu: the rung each assigned device gets. */
const VIOMMU = ['viommu', 'verdict', 'fleet', 'validation'] as const;
/** The libvirt hook's decisions (they also carry the verdict's codes and validation's findings). */
const HOOK = ['hook'] as const;

function code(level: CodeLevel, effect: CodeEffect, documents: readonly CodeDocument[], meaning: string, since = V): CodeInfo {
  return { level, effect, meaning, documents, since };
}

/** The codes of guestabi's documents: Reason.code and Finding.code. */
const DOCUMENT_CODES = {
  // Whether the guest can start at all: a QEMU build or host refuses it.
  MACHINE_TYPE_UNKNOWN: code('error', 'impossible', STARTS, "a host's QEMU build does not offer the machine type"),
  SOURCE_CANNOT_START: code('error', 'impossible', VERDICT, "the source's QEMU build does not offer the guest's machine type: it cannot run there now"),
  OPTION_UNKNOWN: code('error', 'impossible', ['verdict', 'validation', 'fleet'], 'the QEMU build has no such command-line option: it refuses to start'),
  CPU_MODEL_UNKNOWN: code('error', 'impossible', STARTS, "a host's QEMU build has no such CPU model"),
  CPU_MODEL_NEEDS_ACCELERATOR: code('error', 'impossible', ['verdict', 'fleet', 'validation'], 'the CPU model needs an accelerator the host does not run guests with (-cpu host without KVM)', '0.2.0'),
  CPU_FEATURE_UNKNOWN: code('error', 'impossible', STARTS, 'the QEMU build has no such CPU feature: it refuses to start', '0.2.0'),
  CPU_FEATURE_MISSING: code('error', 'impossible', STARTS, 'the host cannot give a CPU feature the guest needs: with enforce QEMU refuses to start'),
  CPU_AVAILABILITY_UNKNOWN: code('error', 'unknown', ['verdict', 'validation', 'fleet'], "the host profile does not say whether the CPU model can run there (probed with another build)"),
  DEVICE_REFUSED: code('error', 'impossible', STARTS, 'QEMU refuses the device on this machine type'),
  VCPUS_OVER_MACHINE_LIMIT: code('error', 'impossible', ['verdict', 'validation', 'fleet'], 'the guest asks more vCPUs than the machine type takes'),

  // Migration verdicts: machine type, options, memory and vCPUs.
  MACHINE_TYPE_DIFFERS: code('error', 'impossible', VERDICT, 'the two sides run different machine types: QEMU refuses the stream'),
  KNOWN_BROKEN_PAIR: code('error', 'impossible', VERDICT, 'this pair of QEMU versions is known to fail on this machine type (data/rules/migration.yaml)'),
  MACHINE_TYPE_DEPRECATED: code('warn', 'none', ['verdict', 'pinned-abi', 'tier', 'validation'], 'the machine type is deprecated in a QEMU build: a later one may remove it'),
  MACHINE_OPTION_DIFFERS: code('warn', 'unknown', VERDICT, 'a -machine option differs between the two definitions'),
  MACHINE_NOT_PROBED: code('warn', 'unknown', ['verdict', 'pinned-abi', 'fleet'], "a catalog has no probe of the machine type: its properties and devices are unknown"),
  UNMODELLED_OPTION_DIFFERS: code('warn', 'unknown', VERDICT, 'the definitions differ in options guestabi does not model'),
  UNMODELLED_OPTIONS: code('info', 'none', VERDICT, 'both sides have the same options that guestabi does not model, on the same QEMU build'),
  UNMODELLED_OPTIONS_ACROSS_BUILDS: code('warn', 'unknown', VERDICT, 'both sides have the same options that guestabi does not model, on two QEMU builds that may give them differently', '0.2.0'),
  GLOBAL_DIFFERS: code('warn', 'unknown', VERDICT, 'a -global is given on one side only'),
  FIRMWARE_DIFFERS: code('warn', 'unknown', VERDICT, 'the two sides boot different firmware: their ROM and flash devices differ'),
  MEMORY_DIFFERS: code('error', 'impossible', VERDICT, 'the RAM size differs: the RAM block does not load'),
  MEMORY_HOTPLUG_DIFFERS: code('warn', 'unknown', VERDICT, 'memory hotplug (maxmem, slots) differs'),
  MIGRATION_BLOCKED_INVTSC: code('error', 'impossible', VERDICT, 'under KVM the source CPU has invtsc and no tsc-frequency: QEMU refuses to migrate it', '0.2.0'),
  MIGRATION_BLOCKER_UNKNOWN: code('warn', 'unknown', VERDICT, 'a host-dependent CPU with migratable=off passes the host non-migratable features through, and the host profile does not say whether it has them', '0.2.0'),
  ADDRESS_SPACE_TOO_SMALL: code('error', 'impossible', STARTS, "a vCPU without lm cannot reach the highest address the board uses (hotplug memory above 4 GiB): QEMU 8.2 and later refuse it", '0.5.0'),
  MEMORY_SIZE_REFUSED: code('error', 'impossible', STARTS, 'the machine type takes guest memory only in whole blocks (pseries: 256 MiB) and the memory size or maxmem is not one: QEMU does not start (probed per type)', '0.7.0'),
  MEMORY_HOTPLUG_REFUSED: code('error', 'impossible', STARTS, 'the machine type of this build refuses memory hotplug (-m slots=,maxmem=): QEMU does not start', '0.2.0'),
  MACHINE_TYPE_CHECK_OFF: code('warn', 'none', VERDICT, 'the machine types differ and send-configuration=off on both sides turns off QEMU\'s check: the platforms are compared as each type gives them', '0.2.0'),
  MIGRATION_STREAM_FORMAT_DIFFERS: code('error', 'impossible', VERDICT, 'a migration property that shapes the stream (send-configuration, send-section-footer, store-global-state) differs: the destination cannot read it', '0.2.0'),
  DEVICE_MIGRATION_BROKEN: code('error', 'impossible', VERDICT, 'a device whose state the destination build cannot load in this configuration (lab evidence in the rules file)', '0.2.0'),
  HYPERV_FEATURE_REFUSED: code('error', 'impossible', STARTS, "the host's KVM does not give a Hyper-V enlightenment the guest asks: QEMU refuses to start (probed per host)", '0.2.0'),
  KVM_MSR_FEATURE_REFUSED: code('error', 'impossible', STARTS, "the host's KVM reports a CPU feature kept in a model-specific register but refuses that register's value: QEMU aborts (probed per host)", '0.7.0'),
  KVM_MSR_FEATURE_UNKNOWN: code('warn', 'unknown', STARTS, "the host profile does not record whether its KVM takes the CPU features kept in model-specific registers the guest has", '0.7.0'),
  HYPERV_SUPPORT_UNKNOWN: code('warn', 'unknown', STARTS, "the host profile does not record which Hyper-V enlightenments its KVM gives", '0.2.0'),
  DEVICE_SETTING_REFUSED: code('error', 'impossible', STARTS, 'a device setting or -global the build refuses: a property the device type does not have, or a value it refuses when the device realizes (probed)', '0.2.0'),
  MACHINE_OPTION_UNKNOWN: code('error', 'impossible', VERDICT, 'a -machine option the other build has and this one does not: QEMU refuses to start', '0.2.0'),
  MCE_BANKS_DIFFER: code('error', 'impossible', VERDICT, "under KVM the source's vCPU has machine-check banks and the destination's none: the destination aborts on load", '0.7.0'),
  LOCAL_APIC_DIFFERS: code('error', 'impossible', VERDICT, 'the vCPU has a local APIC on one side only (a model without apic and one vCPU): the interrupt state does not load', '0.2.0'),
  DEVICE_SETTING_UNVERIFIED: code('warn', 'unknown', STARTS, "a setting QEMU refuses on the newest machine type of the family, on a type whose compat properties change the device: whether it refuses here was not probed", '0.2.0'),
  KVM_OPTION_REFUSED: code('error', 'impossible', STARTS, "the host's KVM refuses a -machine option or a CPU feature QEMU does not filter (smm=on, kernel-irqchip=split, lmce): QEMU does not start", '0.2.0'),
  SPAPR_CAP_REFUSED: code('error', 'impossible', VERDICT, 'a pseries capability sent at a higher level than the destination runs, or one its build lacks: the load fails', '0.3.0'),
  SPAPR_CAP_DIFFERS: code('warn', 'unsafe', VERDICT, 'a pseries capability at another level on the destination that QEMU loads (lower, or not sent): the guest sees it change', '0.3.0'),
  CPU_MODEL_REFUSED: code('error', 'impossible', VERDICT, 'on ppc64 and aarch64 another CPU model on the destination: the vCPU state does not load (PVR, ID registers)', '0.3.0'),
  ARCH_DIFFERS: code('error', 'impossible', VERDICT, 'the host runs QEMU for another architecture than the guest', '0.3.0'),
  MACHINE_OPTIONS_UNKNOWN: code('warn', 'unknown', STARTS, 'what this CPU model does to the guest-ABI machine options (pseries capabilities, virt parts) of this type was not probed', '0.3.0'),
  MACHINE_OPTION_REFUSED: code('error', 'impossible', STARTS, 'a -machine option value QEMU refuses under TCG with this CPU, or one a machine type needs under TCG and lacks (probed)', '0.3.0'),
  CPU_REGISTERS_UNKNOWN: code('warn', 'unknown', VERDICT, "an Arm vCPU across two builds (TCG) or two kernels (KVM) whose system register lists no data records", '0.3.0'),
  // vIOMMU rungs for assigned devices: data/rules/viommu.yaml and the catalog's viommu facts.
  VIOMMU_NONE: code('info', 'none', VIOMMU, 'no vIOMMU: an assigned device needs nothing of the host beyond its IOMMU group', '0.4.0'),
  VIOMMU_SHADOWED: code('info', 'none', VIOMMU, "QEMU mirrors the guest's mappings into a host address space that holds every IOVA the vIOMMU presents", '0.4.0'),
  VIOMMU_REFUSED: code('error', 'impossible', VIOMMU, 'QEMU or the host cannot give the vIOMMU to an assigned device (its words where it checks)', '0.4.0'),
  VIOMMU_SETTING_REFUSED: code('error', 'impossible', VIOMMU, 'QEMU refuses to start the vIOMMU with these settings (probed)', '0.4.0'),
  VIOMMU_UNKNOWN: code('warn', 'unknown', VIOMMU, 'the catalog, the rules or the host record does not say which rung', '0.4.0'),
  // Firmware pseudo-registers (KVM/arm64) across (kernel, VMM) pairs: data/registers/arm64-kvm.yaml.
  REGISTER_MISSING: code('error', 'impossible', REGISTERS, 'the source kernel lists a register the destination kernel does not: QEMU fails the load (cpreg list)', '0.4.0'),
  REGISTER_VALUE_REFUSED: code('error', 'impossible', REGISTERS, "the destination kernel refuses the source's value of a register (EINVAL): QEMU fails the load", '0.4.0'),
  REGISTER_POLICY_REFUSED: code('error', 'impossible', REGISTERS, "the kernel refuses the value a VMM policy pins before the first run: that VMM cannot start the guest there", '0.4.0'),
  REGISTER_VALUE_DIFFERS: code('warn', 'unsafe', REGISTERS, 'a register loads but reads another value on the destination (a level, a version): the guest sees it change', '0.4.0'),
  REGISTER_BITS_DIFFER: code('warn', 'unsafe', REGISTERS, 'a hypercall bitmap the source did not send (its kernel lacks it) keeps the destination\'s bits, other services than the guest had', '0.4.0'),
  REGISTER_LEVEL_UNKNOWN: code('warn', 'unknown', REGISTERS, "a host's mitigation level for a workaround register is not given (it comes from the host CPU)", '0.4.0'),
  REGISTER_DATA_UNKNOWN: code('warn', 'unknown', REGISTERS, 'the register data does not reach this kernel release, or what its guest had before a register existed', '0.4.0'),
  REGISTERS_CARRIED: code('info', 'none', REGISTERS, 'the registers carried across unchanged, each with its value', '0.4.0'),
  REGISTER_RELEASE_READ_AS: code('info', 'none', REGISTERS, 'a kernel release the data has no row for, read from the rows around it', '0.4.0'),
  ID_REGISTER_NARROWED: code('info', 'none', REGISTERS, "the destination kernel takes the source's lower ID register value (a writable field, Linux 6.12 and later): the guest keeps the CPU it had", '0.5.0'),
  ID_REGISTER_REFUSED: code('error', 'impossible', REGISTERS, "the destination kernel refuses the source's ID register value (a field it does not let a write change, or above the host's): QEMU fails the load", '0.5.0'),
  ID_REGISTER_UNKNOWN: code('warn', 'unknown', REGISTERS, 'an ID register known on one side only, or a field whose kernel pre-check guestabi does not model', '0.5.0'),
  REGISTER_FENCE: code('info', 'none', REGISTERS, 'what would make a register migration safe: which component must reach which version, which VMM policy', '0.4.0'),
  MEMORY_SLOTS_DIFFERS: code('error', 'impossible', VERDICT, 'the number of memory hotplug slots differs (or hotplug is on one side only): the ACPI memory hotplug state does not load', '0.2.0'),
  MEMORY_MAXMEM_DIFFERS: code('warn', 'unsafe', VERDICT, 'maxmem differs with the same slots: the hotplug memory range the guest sees changes', '0.2.0'),
  VCPU_COUNT_DIFFERS: code('error', 'impossible', VERDICT, 'the vCPU count differs (fewer: the stream fails; more: the guest finds new CPUs)'),
  VCPU_TOPOLOGY_DIFFERS: code('warn', 'unsafe', VERDICT, 'the vCPU topology (sockets, dies, cores, threads, max) differs: the CPUID topology changes'),
  MIGRATION_BLOCKED: code('error', 'impossible', VERDICT, 'QEMU blocks migration of this guest (confidential guest, VFIO device)'),
  MIGRATION_SAFE: code('info', 'none', VERDICT, 'the guest keeps its platform: same machine type, CPU and devices'),
  PLATFORM_GIVEN: code('info', 'none', HOOK, 'this host gives the platform the domain XML writes: it starts here, nothing asked for is dropped', '0.6.0'),
  ARRIVAL_SOURCE_INVENTORY: code('info', 'none', HOOK, "an incoming guest is checked against its source host's profile from the inventory", '0.6.0'),
  ARRIVAL_SOURCE_XML: code('warn', 'unknown', HOOK, "the source host is not known: the guest is held to its XML, the source build's agreement unknown", '0.6.0'),
  HOOK_NO_PROFILE: code('warn', 'unknown', HOOK, "the hook has no current profile of this host for the domain's architecture, accelerator or emulator", '0.6.0'),
  HOOK_INVENTORY_UNANSWERED: code('warn', 'none', HOOK, 'the inventory did not give the source host (unreachable, slow, or the guest or host unknown there)', '0.6.0'),
  ROLLBACK_NEEDS_FORWARD: code('error', 'impossible', VERDICT, 'the forward migration cannot happen, so there is nothing to roll back'),
  ROLLBACK_FENCE: code('info', 'none', VERDICT, 'a re-pinning (newer machine type, CPU version) after which the guest cannot roll back'),

  // Migration verdicts: the CPU.
  CPU_UNKNOWN: code('warn', 'unknown', VERDICT, 'the catalogs or host profiles do not give the CPU of one side'),
  CPU_KVM_DEFAULTS: code('info', 'none', VERDICT, "what each build adds to the CPU model under KVM (its catalog's KVM facts, or the host profile's sample), shown; compared as part of the CPU", '0.2.0'),
  CPU_KVM_DEFAULTS_UNKNOWN: code('warn', 'unknown', VERDICT, "a host profile does not record the CPU defaults its build adds under KVM"),
  CPU_MODEL_DIFFERS: code('info', 'none', VERDICT, 'the two sides name different CPU models (what they give is compared apart)'),
  CPU_DEFINITION_DIFFERS: code('warn', 'unsafe', VERDICT, "the CPU the guest sees changes: another model, or the same one defined otherwise"),
  CPU_FEATURE_FILTERED: code('warn', 'unsafe', VERDICT, 'without enforce the destination silently drops CPU features its host lacks'),
  HOST_DEPENDENT_CPU: code('warn', 'none', ['verdict', 'pinned-abi', 'validation'], 'host-passthrough or maximum: the guest gets whatever the host has'),
  HOST_MODEL_EXPANDED: code('info', 'none', VERDICT, 'host-model on the source host, as the named model and features libvirt migrates'),

  // Migration verdicts: devices and the board.
  DEVICE_ONLY_ON_SOURCE: code('error', 'impossible', VERDICT, 'a device is on the source only: its state has nowhere to go'),
  DEVICE_ONLY_ON_DESTINATION: code('warn', 'unsafe', VERDICT, 'a device is on the destination only: the guest finds a new device'),
  DEVICE_TYPE_DIFFERS: code('error', 'impossible', VERDICT, 'a device is another type on the destination: its state does not load'),
  DEVICE_PLACEMENT_DIFFERS: code('error', 'impossible', VERDICT, 'a device sits on another bus on the destination: its state is filed elsewhere'),
  DEVICE_PROPERTY_DIFFERS: code('error', 'impossible', VERDICT, "an effective device property differs (the rules file says whether QEMU refuses or the guest sees it)"),
  DEVICE_SETTING_ONE_SIDED: code('warn', 'unknown', VERDICT, 'a device setting is given on one side only and the catalog has no default to compare it with'),
  DEVICE_NOT_IN_CATALOG: code('warn', 'unknown', ['verdict', 'pinned-abi', 'fleet'], "the device is not among the probed devices: its properties are unknown"),
  BOARD_DEVICE_DIFFERS: code('error', 'impossible', VERDICT, 'a built-in device of the machine type is on one side only'),
  BOARD_PROPERTY_DIFFERS: code('error', 'impossible', VERDICT, 'a property of the machine or a built-in device differs'),

  // Pinning (resolve): the machine type.
  MACHINE_ALIAS_RESOLVED: code('info', 'none', PINNED, 'a machine alias (pc, q35) became the newest versioned type every host offers'),
  MACHINE_HELD_BACK: code('info', 'none', PINNED, 'a newer machine type is not offered by every host: the hosts that hold it back are named'),
  MACHINE_ALREADY_VERSIONED: code('info', 'none', PINNED, 'the machine type is already versioned'),
  MACHINE_NO_COMMON_VERSION: code('error', 'none', PINNED, 'no version of the machine family is offered by every host'),
  HOST_PROFILE_ACCEL_DIFFERS: code('warn', 'none', PINNED, 'the guest runs with another accelerator than the host profile was probed with'),

  // Pinning (resolve): the CPU.
  CPU_MACHINE_DEFAULT: code('info', 'none', PINNED, "no CPU model given: the machine type's default is used"),
  CPU_FEATURE_UNVERIFIED: code('warn', 'none', PINNED, "host profiles cannot tell whether the hosts' KVM supports these features (hyperv)"),
  CPU_FEATURE_OPTIONAL: code('warn', 'none', PINNED, 'an optional CPU feature: whether the guest gets it depends on the host'),
  CPU_MODEL_DEPRECATED: code('warn', 'none', ['pinned-abi', 'validation'], 'the CPU model is deprecated in a QEMU build'),
  CPU_ALREADY_VERSIONED: code('info', 'none', PINNED, 'the CPU model is already versioned'),
  CPU_NOT_VERSIONED: code('info', 'none', PINNED, 'the CPU model has no versions in this QEMU build'),
  CPU_VARIANT_ALIAS: code('info', 'none', PINNED, 'the CPU name is an alias of one version'),
  CPU_ALIAS_DIFFERS: code('error', 'none', ['pinned-abi', 'fleet'], "the bare CPU name resolves to different models on the hosts' builds"),
  CPU_LEGACY_DEFINITION: code('info', 'none', PINNED, 'on this machine type the bare CPU name is the legacy, unversioned definition, kept by the pinned type'),
  CPU_MACHINE_DEFAULT_ALIAS: code('info', 'none', PINNED, 'the version QEMU itself resolves the bare CPU name to on this machine type'),
  CPU_VERSION_CHOSEN: code('info', 'none', PINNED, 'the CPU model as pinned'),
  CPU_ENFORCE_ADDED: code('info', 'none', PINNED, 'enforce added: QEMU refuses to start rather than drop a feature'),
  CPU_VERSION_RUNNABLE: code('info', 'none', PINNED, 'the highest CPU version every host can run'),
  CPU_VERSION_PASSED_OVER: code('info', 'none', PINNED, 'a CPU version passed over: a host lacks features it needs'),
  CPU_NO_RUNNABLE_VERSION: code('error', 'none', ['pinned-abi', 'fleet'], 'no version of the CPU model can run on every host'),
  CPU_VERSIONS_DIFFER: code('info', 'none', ['pinned-abi', 'fleet'], "the hosts' QEMU builds offer different versions of the CPU model"),
  CPU_BARE_NAME_KEPT: code('info', 'none', PINNED, 'the bare CPU name is kept: a versioned name would change the guest; the pinned machine type holds it'),
  CPU_VERSION_KEEPS_ABI: code('info', 'none', PINNED, 'this versioned name gives the guest the same CPU it has now'),
  CPU_EXPLICIT_FEATURES_ADDED: code('info', 'none', PINNED, 'features set explicitly so that the versioned name gives the same CPU'),
  CPU_HOST_MODEL_UNKNOWN: code('error', 'none', HOST_MODEL, 'host-model needs the host CPU expansion, which a profile lacks'),
  CPU_VENDOR_DIFFERS: code('error', 'none', HOST_MODEL, 'host-model across hosts with CPUs of different vendors'),
  CPU_HOST_MODEL_NO_BASE: code('error', 'none', HOST_MODEL, "no named model runs on every host with only the features they share"),
  CPU_HOST_MODEL_RESOLVED: code('info', 'none', PINNED, 'host-model as a named model plus the features the hosts share'),
  LIBVIRT_VERSIONED_MODEL: code('warn', 'none', PINNED, "the installed libvirt's CPU map lacks the versioned model written into the domain XML"),

  // Pinning (resolve): devices.
  DEVICE_PROPERTY_NOT_IN_CATALOG: code('warn', 'none', PINNED, 'a device sets a property the catalog does not list: kept as written, unchecked'),

  // Guest OS support tier (also inside validation reports).
  ARCH_NOT_RUNNABLE: code('error', 'none', TIER, 'the machine type does not run guests of this architecture'),
  OS_ARCH_UNSUPPORTED: code('error', 'none', TIER, 'the OS is not built for an architecture the machine type runs'),
  OS_ARCH_UNKNOWN: code('warn', 'none', TIER, 'osinfo-db names no architecture for the OS'),
  GUEST_ARCH: code('info', 'none', TIER, 'the architecture the OS runs as'),
  FIRMWARE_UNSUPPORTED: code('error', 'none', TIER, "the OS does not boot the machine type's default firmware, and no firmware it boots can be set"),
  FIRMWARE_SETTING_NEEDED: code('warn', 'none', TIER, "the OS needs another firmware than the machine type's default"),
  CHIPSET_SUPPORTED: code('info', 'none', TIER, 'osinfo-db records that the OS runs on this chipset'),
  CHIPSET_UNSUPPORTED: code('error', 'none', TIER, 'osinfo-db does not record the OS on this chipset, and the policy treats that as unsupported'),
  CHIPSET_UNRECORDED: code('warn', 'none', TIER, 'osinfo-db does not record the OS on this chipset, and the policy lets it be supported'),
  VIRTIO_DRIVERS_INSTALLABLE: code('info', 'none', TIER, 'the OS has no virtio driver of its own; osinfo-db lists installable ones'),
  VIRTIO1_REQUIRED: code('error', 'none', TIER, 'the platform needs virtio 1.0 (secure guests), which the OS does not drive'),
  DEVICE_SETTING_NEEDED: code('warn', 'none', TIER, 'a device needs a setting (transitional, modern) for the OS to drive it'),
  DEVICE_DEFAULT_WORKS: code('info', 'none', TIER, "the OS drives the device as the machine type places it by default"),
  DEVICE_NO_USABLE_FORM: code('warn', 'none', TIER, 'the OS drives a form of the device that the machine type does not offer where it can be placed'),
  DEVICE_EMULATED: code('info', 'none', TIER, 'the OS uses an emulated device of this class'),
  NO_DRIVABLE_DEVICE: code('error', 'none', TIER, 'the OS cannot drive any device of a class the machine type offers'),
  OS_DRIVERS_UNKNOWN: code('warn', 'none', TIER, 'osinfo-db lists no device of the class that the OS drives'),
  OS_PRERELEASE: code('warn', 'none', TIER, 'the OS is a prerelease in osinfo-db'),
  OS_PAST_EOL: code('warn', 'none', TIER, 'the OS is past its vendor end-of-life'),
  OS_IN_VENDOR_SUPPORT: code('info', 'none', TIER, 'the OS is supported by its vendor until a date'),
  OS_ROLLING: code('info', 'none', TIER, 'the OS is a rolling release: no end-of-life, no age limit'),
  RELEASE_DATE_UNKNOWN: code('warn', 'none', TIER, 'osinfo-db gives no release date for the OS'),
  OS_TOO_OLD: code('warn', 'none', TIER, 'the OS was released longer ago than the policy window'),
  OS_IN_AGE_WINDOW: code('info', 'none', TIER, 'the OS was released within the policy window'),

  // Validation findings (PASS/WARN/FAIL).
  VULNERABILITY_EMULATED: code('info', 'none', VALIDATION, "the guest's CPU is emulated for another architecture (TCG): the host CPU's vulnerabilities are the QEMU process's", '0.3.0'),
  SPAPR_CAP_UNMITIGATED: code('warn', 'none', VALIDATION, 'a pseries capability tells the guest that the platform has no mitigation (broken): its kernel cannot protect itself', '0.3.0'),
  VULNERABILITY_NOT_MAPPED: code('warn', 'none', VALIDATION, 'the host reports a vulnerability the vulnerability file has no row for'),
  HOST_NOT_AFFECTED: code('info', 'none', VALIDATION, 'the host CPU is not affected by these vulnerabilities'),
  HOST_VULNERABLE: code('warn', 'none', VALIDATION, 'only the host can mitigate the vulnerability, and it reports being vulnerable (or unknown)'),
  HOST_MITIGATED: code('info', 'none', VALIDATION, 'only the host can mitigate the vulnerability, and it does'),
  VULNERABILITY_MITIGATED: code('info', 'none', VALIDATION, 'the guest can mitigate the vulnerability'),
  GUEST_CPU_UNKNOWN: code('warn', 'none', VALIDATION, "the guest's CPU features are not known, so its exposure cannot be told"),
  VULNERABILITY_UNMITIGATED: code('error', 'none', VALIDATION, 'the host is affected and the guest CPU lacks the features to mitigate it'),
  VULNERABILITY_FEATURE_RECOMMENDED: code('warn', 'none', VALIDATION, "a CPU feature would make the guest's mitigation stronger or cheaper"),
  VULNERABILITY_MISREPORTED: code('error', 'none', VALIDATION, 'the guest CPU tells the guest it is not affected while the host is: it skips its mitigation'),
  GUEST_OS_UNKNOWN: code('warn', 'none', VALIDATION, 'the guest names no OS: its devices and tier cannot be checked'),
  GUEST_OS_TIER: code('error', 'none', VALIDATION, "the guest OS's support tier on its machine type"),
  I440FX_FOR_Q35_OS: code('warn', 'none', VALIDATION, 'the OS is recommended on q35 but the guest uses i440fx'),
  MACHINE_NOT_PINNED: code('warn', 'none', VALIDATION, 'the machine type is an alias: another build makes it another type'),
  MACHINE_PINNED: code('info', 'none', VALIDATION, 'the machine type is versioned'),
  HOST_DEPENDENT_CPU_NOT_MIGRATED: code('info', 'none', VALIDATION, 'a host-dependent CPU with migratable=off: the guest is not meant to migrate'),
  CPU_NOT_PINNED: code('warn', 'none', VALIDATION, 'the CPU model is a bare name or host-model: it means different CPUs on other builds or hosts'),
  CPU_PINNED: code('info', 'none', VALIDATION, 'the CPU model is versioned'),
  CPU_NOT_ENFORCED: code('warn', 'none', VALIDATION, 'without enforce QEMU silently drops CPU features a host lacks'),
  CPU_ENFORCED: code('info', 'none', VALIDATION, 'enforce: QEMU refuses to start rather than drop a feature'),
  DEVICE_NOT_DRIVABLE: code('error', 'none', VALIDATION, 'the OS cannot drive the virtio device in the form it has where it is placed'),
  VIRTIO_LEGACY_FOR_MODERN_OS: code('warn', 'none', VALIDATION, 'a legacy or transitional virtio device for an OS that drives virtio 1.0'),
  DEVICE_DRIVABLE: code('info', 'none', VALIDATION, 'the OS drives the device'),

  // Fleet plans.
  UPGRADE_PROFILE_PLANNED: code('info', 'none', FLEET, 'an upgraded host kind is planned from its profile on the old build, not probed'),
  CHECK_FAILED: code('error', 'unknown', FLEET, 'the check of a matrix or plan cell could not be answered (the guest could not be pinned there)'),
  GUEST_DEFINITION_REJECTED: code('error', 'unknown', FLEET, "the guest's definition was rejected as bad input"),
  BASELINE_GUEST_PLATFORM_UNKNOWN: code('warn', 'none', FLEET, 'what some guests run now cannot be told: they are counted as guests to restart'),
  BASELINE_HOST_CPU_UNKNOWN: code('warn', 'none', FLEET, 'host profiles without a host CPU expansion: what they lose is not counted'),
  BASELINE_NO_COMMON_MACHINE: code('warn', 'none', FLEET, "no versioned machine type of the family is in every host's QEMU"),
  BASELINE_MACHINE_DEPRECATED: code('warn', 'none', FLEET, "the baseline machine type is deprecated in some hosts' QEMU"),
  BASELINE_NO_RUNNABLE_MODEL: code('warn', 'none', FLEET, 'no versioned CPU model is in every host and runs on every host'),
} as const satisfies Record<string, CodeInfo>;

/** The codes of HTTP problem answers (application/problem+json) that are not document codes. */
const HTTP_CODES = {
  BAD_INPUT: code('error', 'none', HTTP, 'the request is not valid input (400, or the status of the store error)'),
  BAD_REQUEST: code('error', 'none', HTTP, 'the request was refused before guestabi saw it, without a code of its own'),
  NO_ANSWER: code('error', 'none', HTTP, 'no answer as asked (422): the reasons say why (no runnable CPU version, a device QEMU refuses, ...)'),
  CATALOG_UNKNOWN: code('error', 'none', HTTP, 'no catalog of that QEMU build is known to the service'),
  HOST_UNKNOWN: code('error', 'none', HTTP, 'no host of that name is stored'),
  GUEST_UNKNOWN: code('error', 'none', HTTP, 'no guest of that name is stored'),
  VERSION_UNKNOWN: code('error', 'none', HTTP, 'the stored resource has no such version'),
  VERSION_CONFLICT: code('error', 'none', HTTP, 'If-Match names a version that is not the current one (412)'),
  PRECONDITION_REQUIRED: code('error', 'none', HTTP, 'replacing or deleting needs If-Match (428)'),
  UNAUTHORIZED: code('error', 'none', HTTP, 'no token, or not one this server knows, or a read-only token for a write (401)'),
  FORBIDDEN: code('error', 'none', HTTP, 'the token may not do this (403)'),
  NOT_FOUND: code('error', 'none', HTTP, 'no such resource (404)'),
  RATE_LIMITED: code('error', 'none', HTTP, 'too many requests a minute (429)'),
  RUN_ERROR: code('error', 'none', HTTP, 'something outside guestabi failed (502)'),
  INTERNAL_ERROR: code('error', 'none', HTTP, 'a bug: the server logged it (500)'),
  // Fastify's own codes for requests it refuses before a route runs, passed through as they are.
  FST_ERR_VALIDATION: code('error', 'none', HTTP, 'the request body, parameters or query do not match the schema (400)'),
  FST_ERR_CTP_BODY_TOO_LARGE: code('error', 'none', HTTP, 'the request body is over the size limit (413)'),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: code('error', 'none', HTTP, 'the request body is of a media type the API does not take (415)'),
  FST_ERR_CTP_EMPTY_JSON_BODY: code('error', 'none', HTTP, 'a JSON request with an empty body (400)'),
  FST_ERR_CTP_INVALID_JSON_BODY: code('error', 'none', HTTP, 'the JSON request body does not parse (400)'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: code('error', 'none', HTTP, 'Content-Length does not match the body (400)'),
  FST_ERR_BAD_URL: code('error', 'none', HTTP, 'the URL does not parse (400)'),
} as const satisfies Record<string, CodeInfo>;

/** A code of guestabi's documents (Reason.code, Finding.code). */
export type ReasonCode = keyof typeof DOCUMENT_CODES;
/** A code of an HTTP problem answer that is not a document code. */
export type HttpCode = keyof typeof HTTP_CODES;
export type Code = ReasonCode | HttpCode;

/** The registry: every code, with its level, effect, meaning, documents and first version. */
export const CODES: Readonly<Record<Code, CodeInfo>> = { ...DOCUMENT_CODES, ...HTTP_CODES };

export const REASON_CODES = Object.keys(DOCUMENT_CODES).sort() as ReasonCode[];
export const HTTP_PROBLEM_CODES = Object.keys(HTTP_CODES).sort() as HttpCode[];

export function isCode(s: string): s is Code {
  return Object.hasOwn(CODES, s);
}

/** Reason.code and Finding.code in the JSON Schema: the closed list, one literal each (still
 *  of type string, for readers that look no further). */
export function reasonCodeSchema(description: string): TUnion<TLiteral<ReasonCode>[]> {
  return Type.Union(
    REASON_CODES.map((c) => Type.Literal(c)),
    { description, type: 'string' },
  ) as TUnion<TLiteral<ReasonCode>[]>;
}
