import { Type, type Static } from '@sinclair/typebox';
import { Arch, Props, PropsDelta, PropValue, QemuVersion } from './common.js';

export const CATALOG_SCHEMA_ID = 'guestabi/catalog@1';

/** The key of machineOptions' refused map for a vCPU topology with two threads per core. */
export const SMT = 'smp.threads=2';

export const CompatProp = Type.Object(
  {
    qomType: Type.String(),
    property: Type.String(),
    value: Type.String(),
  },
  { additionalProperties: false, description: 'One machine compat property as `query-machines compat-props` reports it (QEMU >= 9.1).' },
);
export type CompatProp = Static<typeof CompatProp>;

/** Properties of the migration object that change the stream's format (migration/options.c):
 *  both sides must agree (migration/savevm.c: the configuration section, section footers, the
 *  global state section). */
export const MIGRATION_STREAM_PROPERTIES = ['send-configuration', 'send-section-footer', 'store-global-state'] as const;
export type MigrationStreamProperty = (typeof MIGRATION_STREAM_PROPERTIES)[number];

export const MachineType = Type.Object(
  {
    name: Type.String({ description: 'Versioned name, e.g. pc-q35-7.2.' }),
    family: Type.String({ description: 'The name without its version, e.g. pc-q35, pc-i440fx, microvm.' }),
    version: Type.Union([Type.String(), Type.Null()], { description: 'The version part of the name, or null for unversioned types.' }),
    alias: Type.Optional(Type.String({ description: 'The alias QEMU gives this type (pc, q35).' })),
    isDefault: Type.Boolean(),
    deprecated: Type.Boolean(),
    defaultCpuType: Type.Optional(Type.String({ description: 'CPU model QEMU uses when -cpu is not given (model name, not QOM type).' })),
    cpuMax: Type.Integer(),
    hotpluggableCpus: Type.Boolean(),
    defaultRamId: Type.Optional(Type.String()),
    probe: Type.Union([Type.Literal('ok'), Type.Literal('failed'), Type.Literal('skipped')], {
      description: 'Whether an instance of this machine type was started to read its effective properties.',
    }),
    probeError: Type.Optional(Type.String()),
    refusedDevices: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: 'Probe devices QEMU refused on this machine type, with its reason (e.g. no PCI bus; virtio-blk scsi=on on old types).',
      }),
    ),
    legacyCpuModels: Type.Optional(
      Type.Boolean({ description: 'True when bare CPU model names are not aliases of a version on this type (pc-* <= 4.0).' }),
    ),
    cpuAliasOf: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Null()]), {
        description: 'Where this type resolves a bare CPU name differently from the catalog-wide alias-of.',
      }),
    ),
    cpuDelta: Type.Optional(Type.Record(Type.String(), Type.Union([PropValue, Type.Null()]), { description: 'Changes this type makes to every CPU model (compat properties on the x86 CPU base type).' })),
    cpuModelDeltas: Type.Optional(
      Type.Record(Type.String(), PropsDelta, {
        description: 'Per CPU model name, what this machine type changes beyond cpuDelta, relative to the catalog expansion of the model it resolves to.',
      }),
    ),
    deviceDeltas: Type.Optional(
      Type.Record(Type.String(), Type.Union([PropsDelta, Type.Null()]), {
        description: 'Per device key, the difference from the family baseline; null when the device is absent on this type.',
      }),
    ),
    devices: Type.Optional(
      Type.Record(Type.String(), Props, { description: 'Full device properties, only for the machine type that is its family baseline.' }),
    ),
    compatProps: Type.Optional(Type.Array(CompatProp)),
    tcgRequires: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: "-machine options this type needs to start under TCG (its defaults ask for what TCG cannot give), with QEMU's words without them; it was probed with them.",
      }),
    ),
    refusedOptions: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: 'Guest options this machine type refuses to start with (memory-hotplug: -m slots=,maxmem=), with QEMU\'s words (probed).',
      }),
    ),
    migrationStream: Type.Optional(
      Type.Record(Type.String(), Type.Boolean(), {
        description: `The migration object's stream-format properties (${MIGRATION_STREAM_PROPERTIES.join(', ')}) as this type sets them (HMP \`info migrate\` globals; hw_compat_2_2 and 2_3 turn them off), probed; absent: not probed.`,
      }),
    ),
    kvmCpuDeltas: Type.Optional(
      Type.Record(Type.String(), PropsDelta, {
        description: "Per CPU model, how what KVM sets on it differs on this machine type from the model's kvmDelta (compat properties of old machine types).",
      }),
    ),
  },
  { additionalProperties: false },
);
export type MachineType = Static<typeof MachineType>;

export const CpuModel = Type.Object(
  {
    name: Type.String(),
    base: Type.String({ description: 'The model name without version suffix, e.g. EPYC for EPYC-v3.' }),
    version: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()], { description: 'N of -vN, or null for names that are not versioned.' }),
    aliasOf: Type.Optional(Type.String({ description: 'The versioned model this name stands for on the current machine types.' })),
    deprecated: Type.Boolean(),
    migrationSafe: Type.Boolean(),
    static: Type.Boolean(),
    hostDependent: Type.Optional(Type.Boolean({ description: 'host and max: what they give depends on the host and accelerator.' })),
    typename: Type.Optional(Type.String()),
    props: Type.Optional(Props),
    deltaFrom: Type.Optional(Type.String({ description: 'The version this one is stored as a delta on.' })),
    delta: Type.Optional(PropsDelta),
    kvmDelta: Type.Optional(Props),
  },
  { additionalProperties: false },
);
export type CpuModel = Static<typeof CpuModel>;

export const ProbeDevice = Type.Object(
  {
    key: Type.String(),
    type: Type.String(),
    parent: Type.Optional(Type.String({ description: 'The probe device whose bus it plugs into.' })),
    options: Type.Optional(Type.String({ description: 'Extra -device options it needs.' })),
  },
  { additionalProperties: false },
);

/**
 * What this build sets on every CPU model under KVM beyond its TCG expansion (kvm_default_props
 * and friends): the build's fact, so that a check under KVM needs no KVM host profile to know it.
 * A model's KVM CPU is its expansion on the machine type, then its KVM delta: CpuModel.kvmDelta
 * (or `defaults` when it has none), changed by MachineType.kvmCpuDeltas; and the vendor is always
 * the host's (x86_cpu_load_model(): a host-CPUID accelerator takes the host's vendor).
 */
export const KvmCpuDefaults = Type.Object(
  {
    from: Type.Union([Type.Literal('probe'), Type.Literal('source')], {
      description: 'probe: every model expanded under KVM on every machine type and compared with its TCG expansion; source: the cited kvm_default_props table only (no KVM where the catalog was made).',
    }),
    source: Type.String({ description: 'Where the values come from: how they were probed, or the QEMU source lines.' }),
    defaults: Type.Record(Type.String(), PropValue, { description: 'The KVM delta most models get on the default machine type.' }),
  },
  { additionalProperties: false },
);
export type KvmCpuDefaults = Static<typeof KvmCpuDefaults>;

export const Catalog = Type.Object(
  {
    schema: Type.Literal(CATALOG_SCHEMA_ID),
    id: Type.String({ description: 'qemu-<version>-<arch>, e.g. qemu-7.2.22-x86_64.' }),
    arch: Arch,
    qemu: QemuVersion,
    probe: Type.Object(
      {
        tool: Type.String({ description: 'guestabi version that probed it.' }),
        accel: Type.Literal('tcg', { description: 'Catalogs are probed under TCG so that no host fact leaks into them.' }),
        devices: Type.Array(ProbeDevice, { description: 'The fixed device set instantiated on every machine type.' }),
        placements: Type.Array(Type.String(), {
          description: 'Placement classes the devices are also probed in where the root bus is PCI Express; their keys are <key>@<placement>.',
        }),
        instanceProperties: Type.Array(Type.String(), { description: 'Per-instance properties left out of every property map.' }),
      },
      { additionalProperties: false },
    ),
    machines: Type.Array(MachineType),
    families: Type.Record(
      Type.String(),
      Type.Object({ baseline: Type.String({ description: 'The machine type whose full device properties are stored.' }) }, { additionalProperties: false }),
    ),
    cpuModels: Type.Array(CpuModel),
    cpuFeatureAliases: Type.Record(Type.String(), Type.String(), {
      description: 'Alternative spellings of CPU feature properties and the canonical name each stands for (probed).',
    }),
    cpuFeatures: Type.Array(Type.String(), {
      description: 'The CPU properties that are CPUID feature bits (the booleans of a static expansion); other boolean CPU properties are knobs.',
    }),
    deviceTypes: Type.Array(Type.String(), { description: 'Every non-abstract device type of the build.' }),
    pciDeviceTypes: Type.Array(Type.String(), {
      description:
        'The non-abstract device types that are PCI devices (`qom-list-types implements=pci-device`): they plug into a PCI bus and so have a placement class (root bus, behind a PCIe port, behind a PCI bridge); the others sit on ISA, USB, SCSI, virtio-serial or the system bus.',
    }),
    commandLineOptions: Type.Array(Type.String(), { description: 'The options `qemu -help` lists.' }),
    kvm: Type.Optional(KvmCpuDefaults),
    deviceTypeProperties: Type.Optional(
      Type.Record(Type.String(), Type.Array(Type.String()), {
        description: "Per probe device type, every property it has (device-list-properties): another name in a setting or -global makes QEMU refuse to start.",
      }),
    ),
    refusedSettings: Type.Optional(
      Type.Record(Type.String(), Type.Record(Type.String(), Type.String()), {
        description: "Per probe device key, the single settings (property=value) QEMU refuses when the device realizes, with its words (probed on the newest q35 and i440fx types).",
      }),
    ),
    refusedSettingsByType: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object({
          families: Type.Array(Type.String(), { description: 'The machine-type families on which every setting of the table was asked.' }),
          allowedOn: Type.Record(Type.String(), Type.Array(Type.String()), {
            description: 'Per refused setting, the machine types of those families on which QEMU does not refuse it (compat properties that lift the refusal); a type not listed refuses it.',
          }),
        }),
        {
          description:
            "Per refusedSettings table, each refused setting asked again on one machine type of every group of types that give the device the same properties (its compat properties): which types refuse it is then known for the whole family.",
        },
      ),
    ),
    machineOptions: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          {
            probedOn: Type.String({ description: 'The machine type (the family baseline) they were asked on.' }),
            cpus: Type.Array(Type.String(), { description: 'The CPU models (versioned names) they were asked with.' }),
            values: Type.Record(Type.String(), Type.Array(Type.String()), { description: 'Per option, the values QEMU takes, lowest level first (the level is the index; empty for sizes).' }),
            cpuDeltas: Type.Record(Type.String(), PropsDelta, { description: 'Per server CPU model (versioned name), what it does to the options (a capability the CPU lacks is forced off or broken).' }),
            refused: Type.Record(Type.String(), Type.Record(Type.String(), Type.String()), { description: "Per server CPU model, each option=value (and smp.threads=2: two threads per core) QEMU refuses to start with under TCG, with its words." }),
            typeDefaults: Type.Record(Type.String(), Props, { description: "Per machine type whose own default CPU is not the newest type's, the options read with the newest type's CPU: the type's defaults before an older CPU forces some off." }),
          },
          { additionalProperties: false },
        ),
        { description: 'Per family, the -machine options that are guest-ABI levels (pseries capabilities), asked one by one on its newest type (probed).' },
      ),
    ),
    viommu: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          {
            probedOn: Type.String({ description: 'The machine type the settings were asked on (the newest of the family that takes the device).' }),
            defaults: Props,
            refused: Type.Record(Type.String(), Type.String(), { description: 'Per setting combination (a,b,...), what QEMU says when it refuses to start with it.' }),
            starts: Type.Array(Type.String(), { description: 'The combinations asked that QEMU starts with.' }),
          },
          { additionalProperties: false },
        ),
        { description: 'Per vIOMMU device type (intel-iommu, virtio-iommu-pci): its property defaults (device-list-properties) and the combinations of settings QEMU refuses to start with, each asked once (probed).' },
      ),
    ),
    devicesNeedingApic: Type.Optional(
      Type.Record(Type.String(), Type.String(), {
        description: 'Device types QEMU refuses when the vCPU has no local APIC (no MSI delivery), with its words (probed with -cpu 486).',
      }),
    ),
    memoryBlocks: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Object(
          { mib: Type.Integer({ minimum: 1 }), words: Type.String() },
          { additionalProperties: false },
        ),
        {
          description:
            "Per machine type that takes guest memory (-m, maxmem) only in whole blocks, the block in MiB and QEMU's words for another size (pseries: 256 MiB, spapr_validate_node_memory()). Probed by starting each type with -m 1025 and, when refused, 1024 + 2^k MiB; a type absent from a catalog that has this record takes any size.",
        },
      ),
    ),
    tcgXsaveComponents: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'The XSAVE state components (CPUID leaf 0xD EAX: x87, sse, avx, bndregs, bndcsr, opmask, zmm_hi256, hi16_zmm, pkru, xtilecfg, xtiledata) TCG keeps when a vCPU asks every one (probed: the FEAT_XSAVE_XCR0_LO feature word of a CPU started with all of them on). x86 only.',
      }),
    ),
    cpuFeatureLevels: Type.Optional(
      Type.Record(Type.String(), Type.Object({ level: Type.Optional(Type.Integer()), xlevel: Type.Optional(Type.Integer()), xlevel2: Type.Optional(Type.Integer()), func7: Type.Optional(Type.Integer()) }, { additionalProperties: false }), {
        description:
          'Per CPUID feature, the basic, extended and Centaur leaf it needs (probed: the base model expanded with the feature on). With full-cpuid-auto-level QEMU raises min-level/min-xlevel/min-xlevel2 to it, even when the host then filters the feature away.',
      }),
    ),
  },
  { additionalProperties: false, $id: 'Catalog' },
);
export type Catalog = Static<typeof Catalog>;

/** data/rules/kvm-defaults.yaml: what QEMU's source says KVM sets on every CPU model. */
export const KvmDefaultsTable = Type.Object(
  {
    rows: Type.Array(
      Type.Object(
        {
          from: Type.String({ description: 'First QEMU version (major.minor) the row holds for.' }),
          to: Type.String({ description: 'Last QEMU version (major.minor) the row holds for.' }),
          property: Type.String(),
          value: PropValue,
          source: Type.String({ description: 'The QEMU source lines.' }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false, $id: 'KvmDefaultsTable' },
);
export type KvmDefaultsTable = Static<typeof KvmDefaultsTable>;
