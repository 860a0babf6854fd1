import { Type, type Static } from '@sinclair/typebox';
import { reasonCodeSchema } from './codes.js';
import { PropValue } from './common.js';
import { Reason } from './reason.js';

export const TIER_SCHEMA_ID = 'guestabi/tier@1';
export const VALIDATION_SCHEMA_ID = 'guestabi/validation@1';

const Why = Type.String({ description: 'Why the rule is what it is.' });
const Source = Type.String({ description: 'Where it comes from: a document, a file in a project, a measurement.' });

const DeviceClassRule = Type.Object(
  {
    class: Type.String({ description: 'What the guest needs the device for: disk, net, balloon, ...' }),
    required: Type.Boolean({ description: 'A guest that cannot drive any device of this class cannot work (disk, net).' }),
    paravirtual: Type.Array(Type.String(), { description: 'Catalog device keys of the paravirtual device (virtio), used when the OS has a driver for it.' }),
    emulated: Type.Array(Type.String(), {
      description: "Catalog device keys of emulated devices, the machine family's default first; 'board' is the board's own controller (boardControllers).",
    }),
    libvirt: Type.Object(
      {
        transitional: Type.String({ description: 'The libvirt element that asks for a transitional device of this class.' }),
        modern: Type.String({ description: 'The libvirt element that asks for a modern-only device.' }),
        emulated: Type.Optional(Type.String({ description: 'The libvirt element of an emulated device, {model} replaced by its model.' })),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);

const BoardController = Type.Object(
  {
    name: Type.String(),
    class: Type.String(),
    coveredBy: Type.Union([Type.Literal('chipset'), Type.Literal('assumed')], {
      description: "chipset: an OS that supports the machine family's chipset drives it; assumed: every OS of the architecture does.",
    }),
    why: Why,
    source: Source,
  },
  { additionalProperties: false },
);

/** The documented rules of the tiers, with the numbers a policy file can change. */
export const TierPolicy = Type.Object(
  {
    ageYears: Type.Number({ minimum: 0, description: 'An OS released more than this many years before today is capped at supported.' }),
    capAtVendorEol: Type.Boolean({ description: 'An OS past its vendor end-of-life (osinfo eol-date) is capped at supported.' }),
    capPrerelease: Type.Boolean({ description: 'A prerelease or snapshot OS is capped at supported.' }),
    architectures: Type.Record(Type.String(), Type.Array(Type.String()), { description: 'Guest architectures each QEMU target architecture runs.' }),
    defaultPlacement: Type.Record(Type.String(), Type.Union([Type.Literal('root'), Type.Literal('pcie-port'), Type.Literal('pci-bridge')]), {
      description: 'Where management layers put a PCI device by default, per machine family.',
    }),
    chipsets: Type.Record(
      Type.String(),
      Type.Object(
        {
          osinfoDevice: Type.Optional(Type.String({ description: 'The osinfo-db device id an OS lists when it supports this chipset.' })),
          unrecorded: Type.Optional(
            Type.Union([Type.Literal('unsupported'), Type.Literal('supported')], {
              description: 'The tier of an OS that osinfo-db does not record on this chipset (default unsupported, as virt-install treats it).',
            }),
          ),
          assumed: Type.Optional(Type.Boolean({ description: 'Every OS of the architecture supports it.' })),
          why: Why,
          source: Source,
        },
        { additionalProperties: false },
      ),
    ),
    defaultFirmware: Type.String({ description: 'The firmware a machine type boots when none is asked for.' }),
    firmwareSettings: Type.Record(Type.String(), Type.Object({ libvirt: Type.String(), qemu: Type.String() }, { additionalProperties: false })),
    boardControllers: Type.Record(Type.String(), Type.Array(BoardController)),
    deviceClasses: Type.Array(DeviceClassRule, { minItems: 1 }),
    secureVirtio: Type.Object(
      {
        why: Why,
        source: Source,
      },
      { additionalProperties: false, description: 'Why a confidential guest or iommu_platform=on needs virtio 1.0.' },
    ),
  },
  { additionalProperties: false, $id: 'TierPolicy' },
);
export type TierPolicy = Static<typeof TierPolicy>;

export const TierName = Type.Union([Type.Literal('recommended'), Type.Literal('supported'), Type.Literal('unsupported')], {
  description: 'recommended: works with the machine type defaults, in vendor support and the age window; supported: works with the named settings; unsupported: cannot work whatever the settings.',
});
export type TierName = Static<typeof TierName>;

export const TierSetting = Type.Object(
  {
    class: Type.String(),
    subject: Type.String({ description: 'The device, firmware or machine option the setting is about.' }),
    why: Type.String(),
    libvirt: Type.Array(Type.String()),
    qemu: Type.Array(Type.String()),
  },
  { additionalProperties: false },
);
export type TierSetting = Static<typeof TierSetting>;

export const GuestOsSummary = Type.Object(
  {
    shortId: Type.String(),
    id: Type.String(),
    name: Type.String(),
    vendor: Type.Optional(Type.String()),
    releaseDate: Type.Optional(Type.String()),
    eolDate: Type.Optional(Type.String()),
    releaseStatus: Type.Optional(Type.String()),
    architectures: Type.Array(Type.String()),
    osinfo: Type.Optional(Type.String({ description: 'The osinfo-db version the facts come from.' })),
  },
  { additionalProperties: false },
);

export const TierResult = Type.Object(
  {
    schema: Type.Literal(TIER_SCHEMA_ID),
    os: GuestOsSummary,
    machine: Type.Object({ asked: Type.String(), name: Type.String(), family: Type.String(), qemu: Type.String() }, { additionalProperties: false }),
    arch: Type.String(),
    today: Type.String({ format: 'date' }),
    tier: TierName,
    reasons: Type.Array(Reason),
    settings: Type.Array(TierSetting, { description: 'For supported: what makes it work, as libvirt XML and QEMU options.' }),
    alternatives: Type.Array(
      Type.Object({ machine: Type.String(), tier: TierName, why: Type.String() }, { additionalProperties: false }),
      { description: 'Another machine type of the same build on which this OS does better.' },
    ),
  },
  { additionalProperties: false, $id: 'TierResult' },
);
export type TierResult = Static<typeof TierResult>;

export const TierMatrix = Type.Object(
  {
    schema: Type.Literal('guestabi/tier-matrix@1'),
    today: Type.String({ format: 'date' }),
    oses: Type.Array(Type.String()),
    machines: Type.Array(Type.String()),
    results: Type.Array(TierResult, { description: 'One per OS and machine type, OS by OS.' }),
  },
  { additionalProperties: false, $id: 'TierMatrix' },
);
export type TierMatrix = Static<typeof TierMatrix>;

export const FindingLevel = Type.Union([Type.Literal('pass'), Type.Literal('warn'), Type.Literal('fail')]);
export type FindingLevel = Static<typeof FindingLevel>;

/** One result of validating a guest, printed as virt-host-validate prints its checks. */
export const Finding = Type.Object(
  {
    level: FindingLevel,
    check: Type.Union([Type.Literal('vulnerability'), Type.Literal('best-practice'), Type.Literal('guest-os'), Type.Literal('viommu')]),
    code: reasonCodeSchema('Stable code, e.g. VULNERABILITY_UNMITIGATED, CPU_NOT_PINNED.'),
    subject: Type.String(),
    message: Type.String(),
    a: Type.Optional(Type.Union([PropValue, Type.Null()], { description: 'What the guest has.' })),
    b: Type.Optional(Type.Union([PropValue, Type.Null()], { description: 'What the host has, or what is expected.' })),
    remedy: Type.Optional(Type.String()),
    source: Type.Optional(Type.String({ description: 'For a vulnerability: the row of the data file and its cited source.' })),
  },
  { additionalProperties: false, $id: 'Finding' },
);
export type Finding = Static<typeof Finding>;

export const ValidationReport = Type.Object(
  {
    schema: Type.Literal(VALIDATION_SCHEMA_ID),
    guest: Type.Object(
      {
        machine: Type.Union([Type.String(), Type.Null()]),
        cpu: Type.Union([Type.String(), Type.Null()]),
        os: Type.Union([Type.String(), Type.Null()]),
      },
      { additionalProperties: false },
    ),
    host: Type.Object({ name: Type.String(), qemu: Type.String(), cpu: Type.String() }, { additionalProperties: false }),
    result: FindingLevel,
    findings: Type.Array(Finding),
    tier: Type.Optional(TierResult),
  },
  { additionalProperties: false, $id: 'ValidationReport' },
);
export type ValidationReport = Static<typeof ValidationReport>;

const FeatureList = Type.Array(Type.String());

/** How a host CPU vulnerability maps to the guest CPU features that mitigate it. */
export const VulnerabilityRow = Type.Object(
  {
    vulnerability: Type.String({ description: 'The file name in /sys/devices/system/cpu/vulnerabilities.' }),
    title: Type.String(),
    cves: Type.Array(Type.String()),
    vendor: Type.Optional(Type.Union([Type.Literal('GenuineIntel'), Type.Literal('AuthenticAMD'), Type.Literal('HygonGenuine')], { description: 'The host CPU vendor this row is for; absent: any.' })),
    guestMitigates: Type.Boolean({ description: 'false: only the host can mitigate it (microcode, KVM); the guest CPU has no say.' }),
    needs: Type.Optional(Type.Array(FeatureList, { description: 'Alternatives: the guest can mitigate when its CPU has every feature of one of them.' })),
    recommended: Type.Optional(FeatureList),
    mustNotClaim: Type.Optional(Type.Array(Type.String(), { description: 'Features that tell the guest it is not affected: wrong, and a FAIL, when the host is affected.' })),
    note: Type.Optional(Type.String()),
    source: Source,
  },
  { additionalProperties: false },
);
export type VulnerabilityRow = Static<typeof VulnerabilityRow>;

export const VulnerabilityMap = Type.Object(
  {
    rows: Type.Array(VulnerabilityRow, { minItems: 1 }),
  },
  { additionalProperties: false, $id: 'VulnerabilityMap' },
);
export type VulnerabilityMap = Static<typeof VulnerabilityMap>;
