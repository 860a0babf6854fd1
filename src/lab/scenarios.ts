import { Type, type Static } from '@sinclair/typebox';
import { Outcome } from '../model/verdict.js';

export const Scenario = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9.-]*$' }),
    from: Type.String({ description: 'QEMU build of the source: a version fetched by scripts/fetch-qemu.sh.' }),
    to: Type.String({ description: 'QEMU build of the destination.' }),
    guest: Type.String({ description: 'The guest as a QEMU command line (without the binary).' }),
    destGuest: Type.Optional(Type.String({ description: 'The destination started from another command line.' })),
    accel: Type.Optional(Type.Union([Type.Literal('tcg'), Type.Literal('kvm')])),
    arch: Type.Optional(Type.Union([Type.Literal('x86_64'), Type.Literal('ppc64'), Type.Literal('aarch64')], { description: 'The system emulator (x86_64 when not given).' })),
    why: Type.String({ description: 'What the scenario exercises.' }),
    expect: Type.Optional(Outcome),
  },
  { additionalProperties: false },
);
export type Scenario = Static<typeof Scenario>;

export const ScenarioFile = Type.Object(
  {
    scenarios: Type.Array(Scenario, { minItems: 1 }),
  },
  { additionalProperties: false, $id: 'ScenarioFile' },
);
export type ScenarioFile = Static<typeof ScenarioFile>;
