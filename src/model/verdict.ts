import { Type, type Static } from '@sinclair/typebox';
import { Reason } from './reason.js';

export const VERDICT_SCHEMA_ID = 'guestabi/verdict@1';

export const Outcome = Type.Union([Type.Literal('safe'), Type.Literal('unsafe'), Type.Literal('impossible'), Type.Literal('unknown')], {
  description:
    'safe: it migrates and the guest sees exactly the same platform; unsafe: it migrates but what the guest sees changes; impossible: QEMU refuses to start or the stream fails; unknown: not enough data (never guessed as safe).',
});
export type Outcome = Static<typeof Outcome>;

const Side = Type.Object(
  {
    host: Type.String(),
    catalog: Type.String(),
    machine: Type.Union([Type.String(), Type.Null()]),
    cpu: Type.Union([Type.String(), Type.Null()]),
  },
  { additionalProperties: false },
);

export const Verdict = Type.Object(
  {
    outcome: Outcome,
    direction: Type.Union([Type.Literal('forward'), Type.Literal('rollback')]),
    from: Side,
    to: Side,
    reasons: Type.Array(Reason),
  },
  { additionalProperties: false, $id: 'Verdict' },
);
export type Verdict = Static<typeof Verdict>;

export const CheckResult = Type.Object(
  {
    schema: Type.Literal(VERDICT_SCHEMA_ID),
    outcome: Outcome,
    forward: Verdict,
    rollback: Type.Optional(Verdict),
    fence: Type.Optional(Type.Array(Reason, { description: 'For a safe rollback: the changes that would end it.' })),
  },
  { additionalProperties: false, $id: 'CheckResult' },
);
export type CheckResult = Static<typeof CheckResult>;

export const MigrationRules = Type.Object(
  {
    equivalences: Type.Array(
      Type.Object({ property: Type.String(), values: Type.Array(Type.Union([Type.Number(), Type.String(), Type.Boolean()])), why: Type.String(), evidence: Type.String() }, { additionalProperties: false }),
    ),
    renamedTypes: Type.Array(Type.Object({ names: Type.Array(Type.String()), why: Type.String(), evidence: Type.String() }, { additionalProperties: false })),
    qtreeOnlyIn: Type.Array(Type.Object({ types: Type.Array(Type.String()), why: Type.String(), evidence: Type.String() }, { additionalProperties: false })),
    properties: Type.Array(
      Type.Object(
        {
          match: Type.String(),
          types: Type.Optional(Type.String({ description: 'A regular expression of the device types the row is about; without it, every type.' })),
          effect: Type.Union([Type.Literal('fails'), Type.Literal('silent')]),
          why: Type.String(),
          source: Type.Optional(Type.String()),
          evidence: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    machineOptionsAddingParts: Type.Object({ options: Type.Array(Type.String()), why: Type.String(), evidence: Type.String() }, { additionalProperties: false }),
    brokenWithoutApic: Type.Optional(
      Type.Array(
        Type.Object(
          {
            types: Type.Array(Type.String()),
            destinationFrom: Type.String({ description: 'The first QEMU version (major.minor) known to fail loading it.' }),
            why: Type.String(),
            evidence: Type.String(),
          },
          { additionalProperties: false },
        ),
        { description: 'Devices whose state a destination cannot load when the vCPU has no local APIC (no MSI-X vectors in use).' },
      ),
    ),
    spaprCaps: Type.Optional(
      Type.Object(
        {
          alwaysSentFrom: Type.Record(Type.String(), Type.String(), { description: 'Capabilities sent in every stream from this pseries version on, whatever their value.' }),
          absentMeans: Type.Record(Type.String(), Type.String(), { description: 'What a build without the capability gives the guest, where it is not the lowest level.' }),
          why: Type.String(),
          source: Type.String(),
        },
        { additionalProperties: false, description: 'The pseries capabilities (-machine cap-*): ordered levels a destination accepts up to its own.' },
      ),
    ),
    modernOnly: Type.Optional(
      Type.Object(
        {
          match: Type.String({ description: 'virtio-pci properties that shape only the modern (virtio 1.0) interface.' }),
          why: Type.String(),
          source: Type.String(),
        },
        { additionalProperties: false, description: 'On a legacy-only virtio device (disable-modern on both sides) these are compared as guest-visible values, never as a layout the destination checks.' },
      ),
    ),
    lackingKnobs: Type.Optional(
      Type.Array(
        Type.Object(
          {
            qemu: Type.String({ description: 'The build that lacks the property (a version prefix: 5.2 is 5.2.x).' }),
            property: Type.String({ description: 'The device property the other build has.' }),
            value: Type.Union([Type.Boolean(), Type.Number(), Type.String()], { description: 'What the lacking build does, as that property would say it.' }),
            when: Type.Optional(Type.Record(Type.String(), Type.Array(Type.Union([Type.Boolean(), Type.Number(), Type.String()])), { description: "Only where the lacking build's device has one of these values (ats: [true])." })),
            placements: Type.Optional(Type.Array(Type.String(), { description: 'Only for a device in one of these placements (pcie-port: behind a PCI Express port; unknown).' })),
            why: Type.String(),
            source: Type.String(),
          },
          { additionalProperties: false },
        ),
        {
          description:
            "A property one build lacks is normally a knob whose compat value (hw/core/machine.c) reproduces the lacking build's behaviour, so it is not compared. These rows are the exceptions: the lacking build behaves as 'value', which is compared with the other build's value.",
        },
      ),
    ),
    conventionalPci: Type.Optional(
      Type.Object(
        {
          families: Type.Array(Type.String(), { description: 'Machine type families with no PCI Express bus: their board devices are conventional PCI.' }),
          match: Type.String({ description: 'Properties that act only on a PCI Express device.' }),
          why: Type.String(),
          source: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
    presence: Type.Object(
      {
        sourceOnly: Type.Object({ effect: Type.Literal('fails'), why: Type.String(), evidence: Type.String() }, { additionalProperties: false }),
        stateInController: Type.Optional(
          Type.Object(
            { types: Type.Array(Type.String()), why: Type.String(), evidence: Type.String() },
            { additionalProperties: false, description: 'Devices with no migration section of their own (their state is their controller\'s): on the source only, the migration completes and the guest loses them.' },
          ),
        ),
        destinationOnly: Type.Object({ effect: Type.Literal('silent'), why: Type.String(), evidence: Type.String() }, { additionalProperties: false }),
      },
      { additionalProperties: false },
    ),
    knownBroken: Type.Array(
      Type.Object(
        {
          from: Type.String(),
          to: Type.String(),
          machines: Type.String(),
          when: Type.Optional(Type.Record(Type.String(), Type.Array(Type.String()), { description: "Only when the source's machine property has one of these values (ic-mode: [xics, dual])." })),
          why: Type.String(),
          source: Type.String(),
        },
        { additionalProperties: false },
      ),
    ),
    blockers: Type.Object(
      {
        launchSecurity: Type.Object(
          { why: Type.String({ description: 'The message; {type} stands for the launch security type.' }), source: Type.String() },
          { additionalProperties: false, description: 'The blocker of every confidential guest (SEV, TDX ...).' },
        ),
        devices: Type.Array(
          Type.Object(
            {
              type: Type.String({ description: 'The device type QEMU blocks migration for.' }),
              why: Type.String({ description: 'The message; {device} stands for the device id (or "a <type> device").' }),
              remedy: Type.String(),
              source: Type.String(),
            },
            { additionalProperties: false },
          ),
        ),
      },
      { additionalProperties: false, description: 'Migration blockers QEMU installs whatever the two sides are.' },
    ),
  },
  { additionalProperties: false, $id: 'MigrationRules' },
);
export type MigrationRules = Static<typeof MigrationRules>;
