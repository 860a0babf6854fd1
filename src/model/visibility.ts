import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { UserError } from '../util/errors.js';

/**
 * What the guest cannot see of its platform, and what names one device or vCPU rather than
 * describing the platform: data/rules/visibility.yaml. The catalog probe, the resolver, the
 * checker and the lab's fingerprint all read it, so that a prediction and a measurement leave
 * out the same things.
 */

const Cited = {
  why: Type.String({ description: 'Why the guest cannot see it (or why it is one instance, not the platform).' }),
  source: Type.String({ description: 'Where that comes from: a QEMU source path, or a lab scenario.' }),
};

const PropertyGroup = <K extends TSchema>(kind: K) =>
  Type.Object({ names: Type.Array(Type.String(), { minItems: 1 }), kind, ...Cited }, { additionalProperties: false });

export const VisibilityRules = Type.Object(
  {
    devices: Type.Object(
      {
        properties: Type.Array(
          PropertyGroup(
            Type.Union([Type.Literal('host'), Type.Literal('implementation'), Type.Literal('instance')], {
              description:
                'host: names a host-side or QOM object (backend, id, bus); implementation: how QEMU implements the device on the host; both unseen by the guest. instance: seen by the guest, but it places or names this one device.',
            }),
          ),
        ),
        hostEnd: Type.Optional(
          Type.Array(Type.Object({ types: Type.Array(Type.String(), { minItems: 1 }), ...Cited }, { additionalProperties: false }), {
            description:
              'Device types whose guest-visible state is what a host end gives them (nothing while none is attached): none of their properties is guest-visible, so where a catalog has no map of them they are compared by presence and place only.',
          }),
        ),
        catalogOmits: Type.Array(Type.String(), {
          description:
            'The device properties the catalog probe leaves out of every map, in order (recorded in each catalog as probe.instanceProperties): part of the catalog format, changed only with a catalog regen. Each is a host or instance property above.',
        }),
      },
      { additionalProperties: false },
    ),
    cpu: Type.Object(
      {
        properties: Type.Array(
          PropertyGroup(
            Type.Union([Type.Literal('unseen'), Type.Literal('instance')], {
              description: "unseen: the guest cannot see it; instance: the guest sees it, but it is one vCPU's (its topology ids), not the CPU model's.",
            }),
          ),
        ),
        hypervOnly: Type.Object({ match: Type.String({ description: 'A regular expression over CPU property names.' }), ...Cited }, { additionalProperties: false }),
        svmOnly: Type.Optional(Type.Object({ match: Type.String({ description: 'A regular expression over CPU property names.' }), ...Cited }, { additionalProperties: false })),
      },
      { additionalProperties: false },
    ),
    machine: Type.Object(
      {
        properties: Type.Array(PropertyGroup(Type.Literal('unseen', { description: 'unseen: the guest cannot see it.' }))),
        kvmForced: Type.Optional(
          Type.Array(
            Type.Object(
              {
                machines: Type.String({ description: 'A regular expression over machine type names.' }),
                option: Type.String(),
                value: Type.String({ description: 'What the guest gets under KVM, whatever -machine says.' }),
                ...Cited,
              },
              { additionalProperties: false },
            ),
            { description: 'Machine options QEMU sets at machine init under KVM on old machine types, over what the user asked (pc_compat_*_fn).' },
          ),
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false, $id: 'VisibilityRules' },
);
export type VisibilityRules = Static<typeof VisibilityRules>;

/** The visibility rules as the questions the probe, resolver, checker and lab ask them. */
export interface GuestVisibility {
  data: VisibilityRules;
  /** Device properties the guest cannot see (host-side names and implementation): never compared. */
  deviceUnseen: ReadonlySet<string>;
  /** Device properties that name a host-side object or place or name one device: a pinned device
   *  keeps them as written, outside its effective properties and its ABI. */
  deviceAsWritten: ReadonlySet<string>;
  /** What the catalog probe leaves out of every device map, in the catalog's order. */
  catalogOmits: readonly string[];
  /** Device types with no guest-visible property of their own (devices.hostEnd). */
  hostEndTypes: ReadonlySet<string>;
  /** vCPU properties the guest cannot see: left out of the lab's fingerprint and of catalogs. */
  cpuUnseen: ReadonlySet<string>;
  /** vCPU properties of one instance (topology ids): the lab compares them vCPU by vCPU. */
  cpuInstance: ReadonlySet<string>;
  /** What a CPU model expansion (catalogs, host profiles) leaves out: both of the above. */
  cpuExpansionOmits: ReadonlySet<string>;
  /** CPU properties the guest sees only with a Hyper-V enlightenment on. */
  hypervOnly: RegExp;
  /** CPUID 0x8000000A features: the guest sees them only with svm on. */
  svmOnly: RegExp | null;
  /** Machine (QOM /machine) properties the guest cannot see. */
  machineUnseen: ReadonlySet<string>;
  /** Under KVM, the -machine options this machine type gets whatever was asked (name -> value). */
  kvmForced(machine: string): Record<string, string>;
}

/** Compile the rules; a catalog omission that no property group explains is refused. */
export function compileVisibility(data: VisibilityRules, file = 'visibility rules'): GuestVisibility {
  const names = <K extends string>(groups: { names: string[]; kind: K }[], ...kinds: K[]) =>
    new Set(groups.filter((g) => kinds.includes(g.kind)).flatMap((g) => g.names));
  const deviceAsWritten = names(data.devices.properties, 'host', 'instance');
  const unexplained = data.devices.catalogOmits.filter((n) => !deviceAsWritten.has(n));
  if (unexplained.length) throw new UserError(`devices.catalogOmits names ${unexplained.join(', ')}, which no host or instance property group lists`, file);
  return {
    data,
    deviceUnseen: names(data.devices.properties, 'host', 'implementation'),
    deviceAsWritten,
    catalogOmits: [...data.devices.catalogOmits],
    hostEndTypes: new Set((data.devices.hostEnd ?? []).flatMap((g) => g.types)),
    cpuUnseen: names(data.cpu.properties, 'unseen'),
    cpuInstance: names(data.cpu.properties, 'instance'),
    cpuExpansionOmits: names(data.cpu.properties, 'unseen', 'instance'),
    hypervOnly: new RegExp(data.cpu.hypervOnly.match),
    svmOnly: data.cpu.svmOnly ? new RegExp(data.cpu.svmOnly.match) : null,
    machineUnseen: names(data.machine.properties, 'unseen'),
    kvmForced: (machine) => Object.fromEntries((data.machine.kvmForced ?? []).filter((f) => new RegExp(f.machines).test(machine)).map((f) => [f.option, f.value])),
  };
}
