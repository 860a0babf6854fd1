import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** A property value as QEMU reports it (qom-get, query-cpu-model-expansion, info qtree).
 *  Integers beyond 2^53 arrive as decimal strings so that no precision is lost. */
export const PropValue = Type.Union([Type.Boolean(), Type.Number(), Type.String()], {
  $id: 'PropValue',
  description: 'A QOM property value. Integers that do not fit a double are kept as decimal strings.',
});
export type PropValue = Static<typeof PropValue>;

export const Props = Type.Record(Type.String(), PropValue, {
  description: 'Property name to value.',
});
export type Props = Static<typeof Props>;

/** A delta on a property map: changed or added values; `null` marks a property that is absent. */
export const PropsDelta = Type.Record(Type.String(), Type.Union([PropValue, Type.Null()]));
export type PropsDelta = Static<typeof PropsDelta>;

export const Arch = Type.Union([Type.Literal('x86_64'), Type.Literal('aarch64'), Type.Literal('ppc64'), Type.Literal('s390x')], {
  description: 'Guest/host architecture, spelled as QEMU spells its system emulator.',
});
export type Arch = Static<typeof Arch>;

export const Accel = Type.Union([Type.Literal('kvm'), Type.Literal('tcg')]);
export type Accel = Static<typeof Accel>;

export const QemuVersion = Type.Object(
  {
    major: Type.Integer({ minimum: 0 }),
    minor: Type.Integer({ minimum: 0 }),
    micro: Type.Integer({ minimum: 0 }),
    package: Type.String({ description: 'The package string QEMU reports, e.g. "Debian 1:7.2+dfsg-7+deb12u18+b3".' }),
  },
  { additionalProperties: false },
);
export type QemuVersion = Static<typeof QemuVersion>;

export function versionString(v: { major: number; minor: number; micro: number }): string {
  return `${v.major}.${v.minor}.${v.micro}`;
}

export function optional<T extends TSchema>(schema: T) {
  return Type.Optional(schema);
}
