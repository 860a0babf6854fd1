import { Type, type Static } from '@sinclair/typebox';
import { reasonCodeSchema, type ReasonCode } from './codes.js';
import { PropValue } from './common.js';

/**
 * One explained fact behind an answer: a stable code, what it is about, the values on both sides
 * where there are two, and what to do about it. Codes are part of guestabi's interface: never
 * reuse one for another meaning. Every code is registered in ./codes.ts (guestabi codes).
 */
export const Reason = Type.Object(
  {
    code: reasonCodeSchema('Stable reason code, e.g. MACHINE_TYPE_UNKNOWN, CPU_VERSION_PASSED_OVER.'),
    level: Type.Union([Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')]),
    subject: Type.String({ description: 'What the reason is about: a machine type, CPU model, feature, device or property.' }),
    message: Type.String(),
    a: Type.Optional(Type.Union([PropValue, Type.Null()], { description: 'The value on the first side (asked, source).' })),
    b: Type.Optional(Type.Union([PropValue, Type.Null()], { description: 'The value on the second side (resolved, destination).' })),
    host: Type.Optional(Type.String({ description: 'The host this reason concerns, in a cluster.' })),
    remedy: Type.Optional(Type.String()),
    details: Type.Optional(Type.Array(Type.String())),
    effect: Type.Optional(
      Type.Union([Type.Literal('impossible'), Type.Literal('unsafe'), Type.Literal('unknown')], {
        description: 'For a migration verdict: the outcome this reason alone implies.',
      }),
    ),
    source: Type.Optional(Type.String({ description: 'Where the rule behind this reason comes from (QEMU source, a measurement).' })),
  },
  { additionalProperties: false, $id: 'Reason' },
);
export type Reason = Static<typeof Reason>;

/** A reason; `code` must be registered in ./codes.ts (an unregistered one does not compile). */
export function reason(
  code: ReasonCode,
  level: Reason['level'],
  subject: string,
  message: string,
  extra: Partial<Omit<Reason, 'code' | 'level' | 'subject' | 'message'>> = {},
): Reason {
  const r: Reason = { code, level, subject, message };
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) (r as Record<string, unknown>)[k] = v;
  return r;
}
