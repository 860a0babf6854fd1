import { Type, type Static } from '@sinclair/typebox';

/** Request and response shapes of the HTTP API that are not guestabi documents themselves. */

const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9][A-Za-z0-9._:@+-]*$', description: 'A host or guest name: letters, digits and . _ : @ + -' });
export const NameParams = Type.Object({ name: Name }, { additionalProperties: false });
export const VersionParams = Type.Object({ name: Name, version: Type.String({ pattern: '^[1-9][0-9]{0,14}$', description: 'A version number, as the ETag gave it.' }) }, { additionalProperties: false });

const Format = Type.Union([Type.Literal('libvirt'), Type.Literal('argv'), Type.Literal('spec')]);
const Policy = Type.Union([Type.Literal('highest-runnable'), Type.Literal('machine-default'), Type.Literal('keep')]);
const Definition = Type.String({ minLength: 1, description: 'libvirt domain XML, a QEMU command line, or a GuestSpec in JSON/YAML.' });

export const GuestPut = Type.Object(
  {
    definition: Definition,
    format: Type.Optional(Format),
    host: Type.Optional(Type.Union([Name, Type.Null()], { description: 'The host the guest runs on; its pinned ABI is resolved there.' })),
    policy: Type.Optional(Policy),
  },
  { additionalProperties: false },
);
export type GuestPut = Static<typeof GuestPut>;

const GuestRef = {
  guest: Type.Optional(Name),
  definition: Type.Optional(Definition),
  format: Type.Optional(Format),
};

export const CheckRequest = Type.Object(
  { ...GuestRef, from: Name, to: Name, destDefinition: Type.Optional(Definition), bothWays: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
export type CheckRequest = Static<typeof CheckRequest>;

export const ResolveRequest = Type.Object({ ...GuestRef, hosts: Type.Array(Name, { minItems: 1, maxItems: 10000 }), policy: Type.Optional(Policy) }, { additionalProperties: false });
export type ResolveRequest = Static<typeof ResolveRequest>;

const Today = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'The date the policy is applied on (default: today).' });

export const TierRequest = Type.Object(
  {
    os: Type.String({ minLength: 1, maxLength: 100 }),
    machine: Type.String({ minLength: 1, maxLength: 100 }),
    qemu: Type.Optional(Type.String({ maxLength: 100 })),
    arch: Type.Optional(Type.String({ maxLength: 20 })),
    today: Type.Optional(Today),
    confidential: Type.Optional(Type.Boolean()),
    iommuPlatform: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type TierRequest = Static<typeof TierRequest>;

export const ValidateRequest = Type.Object({ ...GuestRef, host: Name, os: Type.Optional(Type.String({ maxLength: 100 })), today: Type.Optional(Today) }, { additionalProperties: false });
export type ValidateRequest = Static<typeof ValidateRequest>;

const Names = Type.Array(Name, { maxItems: 200000 });
export const MatrixRequest = Type.Object({ hosts: Type.Optional(Names), guests: Type.Optional(Names) }, { additionalProperties: false });
export type MatrixRequest = Static<typeof MatrixRequest>;
export const UpgradeRequest = Type.Object(
  { to: Type.String({ minLength: 1, maxLength: 100, description: 'The new build: a catalog id or a QEMU version (10.0).' }), waves: Type.Array(Type.Array(Name, { minItems: 1 }), { minItems: 1, maxItems: 100 }) },
  { additionalProperties: false },
);
export type UpgradeRequest = Static<typeof UpgradeRequest>;
export const BaselineRequest = Type.Object({ hosts: Type.Optional(Names) }, { additionalProperties: false });
export type BaselineRequest = Static<typeof BaselineRequest>;

export const ProblemSchema = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'A guestabi reason code or an HTTP-level code (UNAUTHORIZED, VERSION_CONFLICT, ...).' }),
    instance: Type.Optional(Type.String()),
  },
  { additionalProperties: true, $id: 'Problem', description: 'RFC 9457 problem details, as application/problem+json.' },
);

export const Written = Type.Object(
  { name: Type.String(), version: Type.Integer(), pinned: Type.Optional(Type.Boolean()), pinError: Type.Optional(Type.Unknown()) },
  { additionalProperties: false },
);
export const HistoryList = Type.Object({ items: Type.Array(Type.Object({ version: Type.Integer(), at: Type.String(), source: Type.String(), deleted: Type.Optional(Type.Boolean()) })) });
