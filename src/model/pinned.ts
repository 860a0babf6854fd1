import { Type, type Static } from '@sinclair/typebox';
import { Accel, Arch, Props, PropValue } from './common.js';
import { CpuMode, GuestSpec, Placement } from './guest.js';
import { Reason } from './reason.js';

export const PINNED_ABI_SCHEMA_ID = 'guestabi/pinned-abi@1';

export const ResolutionPolicy = Type.Union([Type.Literal('highest-runnable'), Type.Literal('machine-default'), Type.Literal('keep')], {
  description:
    'highest-runnable: the highest CPU model version that runs everywhere; machine-default: what QEMU itself picks (alias-of); keep: the platform the guest has now, named so that it stays.',
});
export type ResolutionPolicy = Static<typeof ResolutionPolicy>;

export const PinnedDevice = Type.Object(
  {
    type: Type.String(),
    id: Type.Optional(Type.String()),
    role: Type.Optional(Type.String()),
    placement: Placement,
    catalogKey: Type.Union([Type.String(), Type.Null()], { description: 'The probe device it was resolved from, or null when the catalogs do not know it.' }),
    explicit: Type.Record(Type.String(), PropValue, { description: 'Properties the guest sets itself, typed.' }),
  },
  { additionalProperties: false },
);
export type PinnedDevice = Static<typeof PinnedDevice>;

/** The effective platform on one QEMU build: what the guest sees there. */
export const EffectivePlatform = Type.Object(
  {
    catalog: Type.String(),
    hosts: Type.Array(Type.String()),
    cpu: Type.Union([Props, Type.Null()], { description: 'Every CPU property; null when host-dependent or unknown.' }),
    devices: Type.Array(Type.Union([Props, Type.Null()]), { description: 'Effective properties of each device, in the order of devices; null when unknown.' }),
  },
  { additionalProperties: false },
);
export type EffectivePlatform = Static<typeof EffectivePlatform>;

export const PinnedAbi = Type.Object(
  {
    schema: Type.Literal(PINNED_ABI_SCHEMA_ID),
    name: Type.Optional(Type.String()),
    arch: Arch,
    accel: Type.Optional(Accel),
    machine: Type.Object(
      {
        type: Type.String({ description: 'Versioned machine type.' }),
        family: Type.String(),
        options: Type.Record(Type.String(), Type.String()),
      },
      { additionalProperties: false },
    ),
    cpu: Type.Object(
      {
        mode: CpuMode,
        model: Type.Union([Type.String(), Type.Null()], { description: 'The name to pass to QEMU (versioned where that keeps the ABI); null when host-dependent.' }),
        hostDependent: Type.Boolean(),
        enforce: Type.Boolean(),
        features: Type.Record(Type.String(), Type.Boolean(), { description: 'Features set explicitly on top of the model (canonical QEMU names).' }),
        properties: Type.Record(Type.String(), PropValue, { description: 'Other properties set explicitly (family, model-id, ...).' }),
        identity: Type.Union([
          Type.Object(
            {
              vendor: Type.String(),
              family: Type.Integer(),
              model: Type.Integer(),
              stepping: Type.Integer(),
              modelId: Type.String(),
              level: Type.Integer(),
              xlevel: Type.Integer(),
            },
            { additionalProperties: false },
          ),
          Type.Null(),
        ]),
      },
      { additionalProperties: false },
    ),
    memory: GuestSpec.properties.memory,
    vcpus: GuestSpec.properties.vcpus,
    devices: Type.Array(PinnedDevice),
    globals: Type.Array(Type.Object({ driver: Type.String(), property: Type.String(), value: Type.String() }, { additionalProperties: false })),
    iommu: Type.Optional(GuestSpec.properties.iommu),
    launchSecurity: Type.Optional(GuestSpec.properties.launchSecurity),
    os: Type.Optional(GuestSpec.properties.os),
    firmware: Type.Optional(GuestSpec.properties.firmware),
    featureRegisters: Type.Optional(GuestSpec.properties.featureRegisters),
    unmodelled: Type.Optional(GuestSpec.properties.unmodelled),
    commandLineOptions: Type.Optional(GuestSpec.properties.commandLineOptions),
    effective: Type.Array(EffectivePlatform, { description: 'The platform on each QEMU build it was resolved against.' }),
    provenance: Type.Object(
      {
        asked: Type.Object(
          {
            machine: Type.String(),
            cpuMode: CpuMode,
            cpuModel: Type.Optional(Type.String()),
            features: Type.Array(Type.String()),
          },
          { additionalProperties: false },
        ),
        against: Type.Object(
          {
            kind: Type.Union([Type.Literal('host'), Type.Literal('cluster')]),
            name: Type.String(),
            hosts: Type.Array(Type.Object({ name: Type.String(), catalog: Type.String(), accel: Accel }, { additionalProperties: false })),
          },
          { additionalProperties: false },
        ),
        policy: ResolutionPolicy,
        resolvedAt: Type.String({ format: 'date-time' }),
        tool: Type.String(),
        decisions: Type.Array(Reason, { description: 'Why each choice was made, and what was passed over.' }),
      },
      { additionalProperties: false },
    ),
    warnings: Type.Array(Reason),
  },
  { additionalProperties: false, $id: 'PinnedAbi' },
);
export type PinnedAbi = Static<typeof PinnedAbi>;

export const Cluster = Type.Object(
  {
    name: Type.Optional(Type.String()),
    hosts: Type.Array(
      Type.Union([Type.String({ description: 'Path to a host profile, relative to the cluster file.' }), Type.Object({ profile: Type.String(), name: Type.Optional(Type.String()) }, { additionalProperties: false })]),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false, $id: 'Cluster' },
);
export type Cluster = Static<typeof Cluster>;
