import { Type, type Static } from '@sinclair/typebox';
import { Props } from './common.js';
import { Reason } from './reason.js';

export const VIOMMU_SCHEMA_ID = 'guestabi/viommu@1';

/** data/rules/viommu.yaml: what QEMU does with an assigned device behind a vIOMMU, per build. */
export const ViommuRules = Type.Object(
  {
    rules: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          device: Type.String(),
          text: Type.String({ description: "QEMU's words (printf format)." }),
          checkedIn: Type.Optional(Type.Array(Type.String(), { description: 'The builds that check it (their binary has the words).' })),
          notCheckedIn: Type.Optional(Type.Array(Type.String(), { description: 'The builds that do not check it at start.' })),
          unchecked: Type.Optional(Type.String({ description: 'What happens in a build that does not check it.' })),
          older: Type.Optional(Type.Object({ text: Type.String(), checkedIn: Type.Array(Type.String()) }, { additionalProperties: false })),
          source: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: 'ViommuRules' },
);
export type ViommuRules = Static<typeof ViommuRules>;

/** data/iommu/hosts.yaml: host IOMMUs from real machines, with the registers as printed. */
export const IommuHostFixtures = Type.Object(
  {
    hosts: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          arch: Type.Union([Type.Literal('x86_64'), Type.Literal('aarch64'), Type.Literal('ppc64'), Type.Literal('any')], { description: 'The host architecture (any: a host without an IOMMU stands for every one).' }),
          machine: Type.String(),
          units: Type.Array(
            Type.Object(
              { name: Type.String(), kind: Type.Union([Type.Literal('intel-vtd'), Type.Literal('amd-vi'), Type.Literal('arm-smmu-v3')]), registers: Type.Record(Type.String(), Type.String()) },
              { additionalProperties: false },
            ),
          ),
          source: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: 'IommuHostFixtures' },
);
export type IommuHostFixtures = Static<typeof IommuHostFixtures>;

export const Rung = Type.Union([Type.Literal('exact'), Type.Literal('shadowed'), Type.Literal('refused'), Type.Literal('none'), Type.Literal('unknown')], {
  description:
    'exact: the host IOMMU walks the guest vIOMMU\u2019s tables (nesting); shadowed: QEMU mirrors the guest\u2019s mappings into a host address space; refused: QEMU or the host cannot give it; none: no vIOMMU; unknown: the data does not say.',
});
export type Rung = Static<typeof Rung>;

const DeviceAnswer = Type.Object(
  { device: Type.String(), hostAddress: Type.Union([Type.String(), Type.Null()]), rung: Rung, reasons: Type.Array(Reason) },
  { additionalProperties: false },
);
export type ViommuDeviceAnswer = Static<typeof DeviceAnswer>;

export const ViommuReport = Type.Object(
  {
    schema: Type.Literal(VIOMMU_SCHEMA_ID),
    qemu: Type.String(),
    machine: Type.String(),
    host: Type.Object(
      {
        name: Type.String(),
        units: Type.Array(Type.Object({ name: Type.String(), kind: Type.String(), addressWidth: Type.Union([Type.Integer(), Type.Null()]), pageSizes: Type.Array(Type.String()), features: Type.Array(Type.String()) }, { additionalProperties: false })),
        iommufd: Type.Union([Type.Boolean(), Type.Null()]),
      },
      { additionalProperties: false },
    ),
    viommu: Type.Union([Type.Object({ type: Type.String(), props: Props }, { additionalProperties: false }), Type.Null()]),
    start: Type.Array(Reason, { description: 'Whether QEMU starts the vIOMMU as configured (probed refusals).' }),
    devices: Type.Array(DeviceAnswer),
    hotplug: Type.Optional(DeviceAnswer),
  },
  { additionalProperties: false, $id: 'ViommuReport' },
);
export type ViommuReport = Static<typeof ViommuReport>;
