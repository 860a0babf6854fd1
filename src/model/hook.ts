import { Type, type Static } from '@sinclair/typebox';
import { Accel, Arch } from './common.js';
import { Finding } from './policy.js';
import { Reason } from './reason.js';

export const HOOK_CONFIG_SCHEMA_ID = 'guestabi/hook-config@1';
export const HOOK_DECISION_SCHEMA_ID = 'guestabi/hook-decision@1';

/** The emulator a cached host profile was made for, as the file system last saw it: a profile is
 *  stale once the binary is replaced (a QEMU upgrade), and then the hook no longer speaks for it. */
export const HookEmulator = Type.Object(
  {
    path: Type.String(),
    size: Type.Integer(),
    mtimeMs: Type.Number(),
  },
  { additionalProperties: false },
);
export type HookEmulator = Static<typeof HookEmulator>;

export const HookProfile = Type.Object(
  {
    arch: Arch,
    accel: Accel,
    file: Type.String({ description: 'The host profile, beside the configuration.' }),
    qemu: Type.String({ description: 'The QEMU version libvirt runs (virsh version).' }),
    catalog: Type.Union([Type.String(), Type.Null()], { description: 'The shipped catalog of that build; null: none (every verdict is unknown).' }),
    emulator: HookEmulator,
    from: Type.Union([Type.Literal('libvirt'), Type.Literal('probe')], { description: "libvirt: made by probe --libvirt at install; probe: a profile of guestabi's own probe given with --host." }),
  },
  { additionalProperties: false },
);
export type HookProfile = Static<typeof HookProfile>;

/**
 * What `guestabi hook install` wrote and the hook reads on every call (STATE/config.json): the
 * host's profiles (made once, at install: the hook never calls back into libvirt), how it decides,
 * and where the source host's facts come from.
 */
export const HookConfig = Type.Object(
  {
    schema: Type.Literal(HOOK_CONFIG_SCHEMA_ID),
    installedAt: Type.String(),
    uri: Type.String({ description: 'The libvirt the profiles were asked of.' }),
    script: Type.String({ description: 'The installed hook script (under /etc/libvirt/hooks/qemu.d/).' }),
    createdHooksDir: Type.Boolean({ description: 'Whether install made the qemu.d folder (uninstall then removes it when empty).' }),
    host: Type.String({ description: "This host's name in the profiles and the inventory." }),
    profiles: Type.Array(HookProfile),
    starts: Type.Union([Type.Literal('log'), Type.Literal('refuse')], { description: "A start this host cannot give exactly: log it (default), or refuse it." }),
    unknown: Type.Union([Type.Literal('allow'), Type.Literal('refuse')], { description: 'An incoming migration guestabi cannot decide (unknown): let it through (default, logged), or refuse it.' }),
    timeoutSeconds: Type.Number({ exclusiveMinimum: 0 }),
    inventory: Type.Optional(
      Type.Object(
        {
          url: Type.String({ description: 'A guestabi service (guestabi serve): the guest, its host and that host profile are asked of it.' }),
          token: Type.Optional(Type.String({ description: 'A read token (the file is 0600).' })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: 'HookConfig' },
);
export type HookConfig = Static<typeof HookConfig>;

/**
 * One call of the hook, as its log keeps it (STATE/hook.log, a JSON document per line): what libvirt
 * asked, where the source's facts came from, the outcome, whether libvirt was let through, and why.
 */
export const HookDecision = Type.Object(
  {
    schema: Type.Literal(HOOK_DECISION_SCHEMA_ID),
    at: Type.String(),
    domain: Type.String(),
    operation: Type.String({ description: "libvirt's operation and sub-operation: migrate begin, prepare begin." }),
    action: Type.Union([Type.Literal('allow'), Type.Literal('refuse')]),
    outcome: Type.Union([Type.Literal('safe'), Type.Literal('unsafe'), Type.Literal('impossible'), Type.Literal('unknown')]),
    source: Type.Union([Type.Literal('inventory'), Type.Literal('xml'), Type.Literal('this-host')], {
      description: "Whose platform the guest is held to: the source host's profile from the inventory, what the domain XML writes, or (a start) this host.",
    }),
    from: Type.Optional(Type.String({ description: 'The source host, when the inventory names it.' })),
    to: Type.String(),
    reasons: Type.Array(Reason),
    findings: Type.Optional(Type.Array(Finding, { description: "On a start: validate's findings that are not a pass." })),
    ms: Type.Optional(Type.Number({ description: 'How long the decision took.' })),
  },
  { additionalProperties: false, $id: 'HookDecision' },
);
export type HookDecision = Static<typeof HookDecision>;
