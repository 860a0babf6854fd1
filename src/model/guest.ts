import { Type, type Static } from '@sinclair/typebox';
import { Arch, Accel, PropValue } from './common.js';

export const GUEST_SPEC_SCHEMA_ID = 'guestabi/guest@1';

export const CpuMode = Type.Union([Type.Literal('custom'), Type.Literal('host-model'), Type.Literal('host-passthrough'), Type.Literal('maximum')]);
export type CpuMode = Static<typeof CpuMode>;

export const FeaturePolicy = Type.Union([Type.Literal('require'), Type.Literal('force'), Type.Literal('disable'), Type.Literal('forbid'), Type.Literal('optional')], {
  description: "libvirt's feature policies; -cpu +f / f=on is require, -f / f=off is disable.",
});

export const Placement = Type.Union([Type.Literal('root'), Type.Literal('pcie-port'), Type.Literal('pci-bridge'), Type.Literal('unknown')], {
  description: 'Where a PCI device sits: on the root bus, behind a PCI Express port, behind a PCI bridge.',
});
export type GuestPlacement = Static<typeof Placement>;

export const GuestDevice = Type.Object(
  {
    type: Type.String({ description: 'QEMU device type, e.g. virtio-net-pci, virtio-blk-pci-transitional, e1000e.' }),
    id: Type.Optional(Type.String()),
    role: Type.Optional(Type.String({ description: 'What it is for: net, disk, controller, balloon, rng, video, input, serial, bridge, iommu, other.' })),
    placement: Type.Optional(Placement),
    properties: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Properties as written (-device type,prop=value).' })),
    source: Type.Optional(Type.String({ description: 'Where in the input it came from (element or argument, with line).' })),
  },
  { additionalProperties: false },
);
export type GuestDevice = Static<typeof GuestDevice>;

/** What a user asked for, as written: from libvirt domain XML, a QEMU command line, or JSON/YAML. */
export const GuestSpec = Type.Object(
  {
    schema: Type.Optional(Type.Literal(GUEST_SPEC_SCHEMA_ID)),
    name: Type.Optional(Type.String()),
    arch: Type.Optional(Arch),
    accel: Type.Optional(Accel),
    machine: Type.Object(
      {
        type: Type.String({ description: 'An alias (pc, q35) or a versioned machine type (pc-q35-7.2).' }),
        options: Type.Optional(Type.Record(Type.String(), Type.String(), { description: '-machine options other than the type.' })),
      },
      { additionalProperties: false },
    ),
    cpu: Type.Object(
      {
        mode: CpuMode,
        model: Type.Optional(Type.String({ description: 'Bare (EPYC), versioned (EPYC-v4) or alias (EPYC-IBPB) name; for custom mode.' })),
        fallback: Type.Optional(Type.Union([Type.Literal('allow'), Type.Literal('forbid')])),
        enforce: Type.Optional(Type.Boolean({ description: 'QEMU refuses to start when a feature is missing (-cpu ...,enforce; libvirt check=full).' })),
        features: Type.Optional(
          Type.Array(Type.Object({ name: Type.String(), policy: FeaturePolicy }, { additionalProperties: false }), {
            description: 'Features turned on or off beyond the model.',
          }),
        ),
        properties: Type.Optional(
          Type.Record(Type.String(), PropValue, { description: 'Other -cpu properties (family=6, l3-cache=off, model-id=...).' }),
        ),
      },
      { additionalProperties: false },
    ),
    memory: Type.Object(
      {
        sizeMiB: Type.Integer({ minimum: 1 }),
        maxMiB: Type.Optional(Type.Integer({ minimum: 1, description: 'Memory hotplug: the most memory the guest can have.' })),
        slots: Type.Optional(Type.Integer({ minimum: 0, description: 'Memory hotplug: DIMM slots.' })),
      },
      { additionalProperties: false },
    ),
    vcpus: Type.Object(
      {
        count: Type.Integer({ minimum: 1 }),
        max: Type.Optional(Type.Integer({ minimum: 1 })),
        sockets: Type.Optional(Type.Integer({ minimum: 1 })),
        dies: Type.Optional(Type.Integer({ minimum: 1 })),
        cores: Type.Optional(Type.Integer({ minimum: 1 })),
        threads: Type.Optional(Type.Integer({ minimum: 1 })),
      },
      { additionalProperties: false },
    ),
    devices: Type.Array(GuestDevice),
    globals: Type.Optional(
      Type.Array(Type.Object({ driver: Type.String(), property: Type.String(), value: Type.String() }, { additionalProperties: false }), {
        description: '-global driver.property=value',
      }),
    ),
    iommu: Type.Optional(
      Type.Object(
        { model: Type.String({ description: 'intel, amd, smmuv3, virtio' }), options: Type.Optional(Type.Record(Type.String(), Type.String())) },
        { additionalProperties: false },
      ),
    ),
    launchSecurity: Type.Optional(
      Type.Object(
        { type: Type.String({ description: 'sev, sev-snp, tdx, s390-pv' }), options: Type.Optional(Type.Record(Type.String(), Type.String())) },
        { additionalProperties: false },
      ),
    ),
    os: Type.Optional(
      Type.Object(
        {
          id: Type.Optional(Type.String({ description: 'libosinfo id URL, e.g. http://redhat.com/rhel/6.10' })),
          shortId: Type.Optional(Type.String({ description: 'osinfo short-id, e.g. rhel6.10' })),
        },
        { additionalProperties: false },
      ),
    ),
    firmware: Type.Optional(Type.Union([Type.Literal('bios'), Type.Literal('efi')])),
    featureRegisters: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'Guest-ABI feature registers (e.g. KVM/arm64 hypercall bitmaps), hex.' })),
    commandLineOptions: Type.Optional(
      Type.Array(Type.String(), { description: 'The QEMU options a command line uses (for argv input): a build that lacks one refuses to start.' }),
    ),
    unmodelled: Type.Optional(
      Type.Array(Type.String(), {
        description: 'Options that may change what the guest sees and that guestabi does not model (-numa, -smbios, -fw_cfg...), as written. Checks compare them as text.',
      }),
    ),
  },
  { additionalProperties: false, $id: 'GuestSpec' },
);
export type GuestSpec = Static<typeof GuestSpec>;
