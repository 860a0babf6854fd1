import { Type, type Static } from '@sinclair/typebox';
import { Outcome } from './verdict.js';
import { Reason } from './reason.js';

/**
 * Guest-ABI registers that a kernel holds for a VM and a VMM carries across a migration: the
 * KVM/arm64 firmware pseudo-registers (data/registers/arm64-kvm.yaml). Three kinds, each with the
 * write rule of the kernel that src/registers/kernel.ts simulates:
 *   exact   a write must be one of the release's values (stored);
 *   level   reads give the host's level, a write above it is refused (nothing stored);
 *   bitmap  defaults set at VM creation, unknown bits refused, frozen once the VM has run.
 */
export const REGISTERS_SCHEMA_ID = 'guestabi/registers@1';
export const REGISTER_VERDICT_SCHEMA_ID = 'guestabi/register-verdict@1';

const Cited = { source: Type.String({ description: 'Where it was read: tree key of sources, file and lines.' }) };

export const RegisterDef = Type.Object(
  {
    name: Type.String({ description: 'The uapi name, e.g. KVM_REG_ARM_STD_BMAP.' }),
    id: Type.String({ pattern: '^0x[0-9a-f]{16}$', description: 'The KVM_REG id; lists are sorted by it.' }),
    kind: Type.Union([Type.Literal('exact'), Type.Literal('level'), Type.Literal('bitmap')]),
    values: Type.Optional(Type.Array(Type.Object({ name: Type.String(), value: Type.Integer({ minimum: 0 }) }, { additionalProperties: false }), { description: 'exact: every value any release defines.' })),
    levels: Type.Optional(
      Type.Array(
        Type.Object({ name: Type.String(), value: Type.Integer({ minimum: 0, maximum: 15 }), narrowsTo: Type.Optional(Type.String({ description: 'The level the kernel stores this deprecated value as.' })) }, { additionalProperties: false }),
        { description: 'level: from lowest to highest.' },
      ),
    ),
    bits: Type.Optional(Type.Array(Type.Object({ name: Type.String(), bit: Type.Integer({ minimum: 0, maximum: 63 }), gates: Type.String({ description: 'The calls the bit lets the guest make.' }) }, { additionalProperties: false }))),
    ...Cited,
  },
  { additionalProperties: false },
);
export type RegisterDef = Static<typeof RegisterDef>;

/** What one release does with one register it lists. */
export const ReleaseRegister = Type.Object(
  {
    values: Type.Optional(Type.Array(Type.String(), { description: 'exact: the values a write may give (for a vCPU with PSCI 0.2: all but 0.1).' })),
    default: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'exact: the value read before any write; bitmap: the bits set at VM creation.' })),
    bits: Type.Optional(Type.Array(Type.String(), { description: 'bitmap: the bits this release supports.' })),
  },
  { additionalProperties: false },
);
export type ReleaseRegister = Static<typeof ReleaseRegister>;

export const Release = Type.Object(
  {
    release: Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+$' }),
    ...Cited,
    registers: Type.Record(Type.String(), ReleaseRegister, { description: 'Every firmware register the release lists.' }),
    implicit: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]), {
        description: 'For a register this release does not list: what the guest had anyway (a level, or the bits whose calls it answered). Absent: unknown.',
      }),
    ),
  },
  { additionalProperties: false },
);
export type Release = Static<typeof Release>;

export const RegisterData = Type.Object(
  {
    about: Type.Object({ title: Type.String(), docs: Type.String() }, { additionalProperties: false }),
    sources: Type.Record(Type.String(), Type.Object({ repo: Type.String(), commit: Type.String(), note: Type.Optional(Type.String()) }, { additionalProperties: false })),
    registers: Type.Array(RegisterDef, { minItems: 1 }),
    releases: Type.Array(Release, { minItems: 1 }),
    load: Type.Array(Type.Object({ rule: Type.String(), text: Type.String(), ...Cited }, { additionalProperties: false })),
  },
  { additionalProperties: false, $id: 'RegisterData' },
);
export type RegisterData = Static<typeof RegisterData>;

/**
 * What a VMM does with the registers before the guest first runs, on a fresh start and on the
 * destination of a migration. pin: the value it writes (exact: a value name; bitmap: the bits
 * kept). A register the kernel does not list is left alone.
 */
export const VmmPolicy = Type.Object(
  {
    description: Type.String(),
    pin: Type.Optional(Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String())]))),
    ...Cited,
  },
  { additionalProperties: false },
);
export type VmmPolicy = Static<typeof VmmPolicy>;

export const VmmPolicies = Type.Object({ vmms: Type.Record(Type.String({ pattern: '^[a-z0-9][a-z0-9._-]*$' }), VmmPolicy) }, { additionalProperties: false, $id: 'VmmPolicies' });
export type VmmPolicies = Static<typeof VmmPolicies>;

/** The host's mitigation level of each level register (host CPU and kernel), by level name. */
export const HostLevels = Type.Record(Type.String(), Type.String());
export type HostLevels = Static<typeof HostLevels>;

const RegisterSide = Type.Object(
  {
    kernel: Type.String({ description: 'The kernel release asked.' }),
    readFrom: Type.Union([Type.String(), Type.Null()], { description: 'The release row of the data this answer was read from.' }),
    vmm: Type.String(),
    levels: Type.Union([HostLevels, Type.Null()], { description: 'Host levels given (null: not given).' }),
  },
  { additionalProperties: false },
);

export const RegisterVerdict = Type.Object(
  {
    outcome: Outcome,
    direction: Type.Union([Type.Literal('forward'), Type.Literal('rollback')]),
    from: RegisterSide,
    to: RegisterSide,
    reasons: Type.Array(Reason),
    fence: Type.Array(Reason, { description: 'When not safe: what would make it safe (which component must reach which version, which VMM policy).' }),
  },
  { additionalProperties: false, $id: 'RegisterVerdict' },
);
export type RegisterVerdict = Static<typeof RegisterVerdict>;

export const RegisterCheck = Type.Object(
  { schema: Type.Literal(REGISTER_VERDICT_SCHEMA_ID), outcome: Outcome, forward: RegisterVerdict, rollback: RegisterVerdict },
  { additionalProperties: false, $id: 'RegisterCheck' },
);
export type RegisterCheck = Static<typeof RegisterCheck>;

export const RegisterMatrix = Type.Object(
  {
    schema: Type.Literal('guestabi/register-matrix@1'),
    kernels: Type.Array(Type.String()),
    vmms: Type.Array(Type.String()),
    results: Type.Array(RegisterCheck, { description: 'Per VMM, each pair of kernels (older first): forward and rollback.' }),
  },
  { additionalProperties: false, $id: 'RegisterMatrix' },
);
export type RegisterMatrix = Static<typeof RegisterMatrix>;

/**
 * The KVM/arm64 writable ID registers per Linux release (data/registers/arm64-id-regs.yaml): which
 * fields a write may change and the rule each is judged by (src/registers/id-regs.ts simulates it).
 */
export const ID_REGISTER_CHECK_SCHEMA_ID = 'guestabi/id-register-check@1';

const IdField = Type.Object(
  {
    bits: Type.String({ pattern: '^\\d+:\\d+$', description: 'hi:lo' }),
    rule: Type.Union([Type.Literal('LOWER_SAFE'), Type.Literal('HIGHER_SAFE'), Type.Literal('EXACT'), Type.Literal('HIGHER_OR_ZERO_SAFE')]),
    signed: Type.Boolean(),
    safe: Type.Integer({ minimum: 0, description: "EXACT: the one value besides the limit a write may give (arm64_ftr_bits' safe_val)." }),
    ...Cited,
  },
  { additionalProperties: false },
);

export const IdRegisterRelease = Type.Object(
  {
    release: Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+$' }),
    masksIoctl: Type.Boolean({ description: 'Whether the release has KVM_ARM_GET_REG_WRITABLE_MASKS.' }),
    source: Type.String(),
    implementationIds: Type.String({ description: 'What the release does with MIDR_EL1, REVIDR_EL1, AIDR_EL1 (cited).' }),
    registers: Type.Record(
      Type.String(),
      Type.Object(
        {
          mask: Type.String({ pattern: '^0x[0-9a-f]+$', description: 'What KVM_ARM_GET_REG_WRITABLE_MASKS reports (the descriptor\'s .val).' }),
          implementationId: Type.Optional(Type.Boolean()),
          fields: Type.Optional(Type.Record(Type.String(), IdField)),
          preCheck: Type.Optional(Type.Object({ fields: Type.Array(Type.String()), text: Type.String() }, { additionalProperties: false })),
          ...Cited,
        },
        { additionalProperties: false },
      ),
      { description: 'The ID registers with a writable mask; any other takes only its limit.' },
    ),
  },
  { additionalProperties: false },
);
export type IdRegisterRelease = Static<typeof IdRegisterRelease>;

export const IdRegisterData = Type.Object(
  {
    about: Type.Object(
      { title: Type.String(), docs: Type.String(), rule: Type.String(), ruleSource: Type.String(), errors: Type.String(), preCheckSource: Type.String(), qemu: Type.String(), qemuSource: Type.String(), notRead: Type.String() },
      { additionalProperties: false },
    ),
    sources: Type.Record(Type.String(), Type.Object({ repo: Type.String(), commit: Type.String() }, { additionalProperties: false })),
    releases: Type.Array(IdRegisterRelease, { minItems: 1 }),
  },
  { additionalProperties: false, $id: 'IdRegisterData' },
);
export type IdRegisterData = Static<typeof IdRegisterData>;

/** A vCPU's ID register values (KVM's sanitised values on a host), by register name, as hex. */
export const IdRegisterValues = Type.Record(Type.String({ pattern: '^[A-Z][A-Z0-9_]*_EL[01]$' }), Type.String({ pattern: '^0x[0-9a-fA-F]{1,16}$' }), { $id: 'IdRegisterValues' });
export type IdRegisterValues = Static<typeof IdRegisterValues>;

export const IdRegisterCheck = Type.Object(
  {
    schema: Type.Literal(ID_REGISTER_CHECK_SCHEMA_ID),
    outcome: Outcome,
    kernel: Type.String({ description: "The destination's kernel release asked." }),
    readFrom: Type.Union([Type.String(), Type.Null()], { description: 'The release row it was read from.' }),
    reasons: Type.Array(Reason),
  },
  { additionalProperties: false, $id: 'IdRegisterCheck' },
);
export type IdRegisterCheck = Static<typeof IdRegisterCheck>;
