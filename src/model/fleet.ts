import { Type, type Static } from '@sinclair/typebox';
import { Accel } from './common.js';
import { Reason } from './reason.js';
import { Outcome } from './verdict.js';

export const FLEET_MATRIX_SCHEMA_ID = 'guestabi/fleet-matrix@1';
export const FLEET_UPGRADE_SCHEMA_ID = 'guestabi/fleet-upgrade@1';
export const FLEET_BASELINE_SCHEMA_ID = 'guestabi/fleet-baseline@1';

const Names = Type.Array(Type.String());
const Codes = Type.Array(Type.String(), { description: 'Codes of the reasons that have an effect (impossible, unsafe, unknown), each once.' });

/** Hosts that behave alike for every check: same QEMU build, accelerator, CPU models and host CPU. */
export const HostKind = Type.Object(
  {
    id: Type.String({ description: 'Short id of the host kind, derived from what checks read of a host: equal for hosts that check alike, in every document.' }),
    label: Type.String({ description: 'QEMU version, accelerator, host CPU model name and how many CPU models can run.' }),
    qemu: Type.String({ description: 'QEMU version, e.g. 7.2.22.' }),
    catalog: Type.String(),
    accel: Accel,
    cpu: Type.String({ description: 'Host CPU model name (/proc/cpuinfo).' }),
    members: Names,
  },
  { additionalProperties: false, $id: 'HostKind' },
);
export type HostKind = Static<typeof HostKind>;

export const GuestClass = Type.Object(
  {
    id: Type.String({ description: 'Short id of the class: its ABI and its source host kind.' }),
    label: Type.String(),
    abi: Type.String({ description: 'The ABI key the class was grouped by: the abiClass given, or a hash of the guest definition.' }),
    machine: Type.String({ description: 'The machine type as the guests write it.' }),
    cpu: Type.String({ description: 'The CPU model as written, or the CPU mode (host-passthrough, host-model, maximum).' }),
    source: Type.Union([Type.String(), Type.Null()], { description: 'The host kind the guests run on; null for guests on no host (each cell is then a start check on the target).' }),
    count: Type.Integer({ minimum: 1, description: 'How many guests the class stands for.' }),
    members: Type.Array(Type.String(), { description: 'Guest names, when known (classes given pre-grouped carry their sample only).' }),
  },
  { additionalProperties: false },
);
export type GuestClass = Static<typeof GuestClass>;

export const MatrixCell = Type.Object(
  {
    guestClass: Type.String(),
    hostKind: Type.String(),
    outcome: Outcome,
    codes: Codes,
    guest: Type.String({ description: 'The representative guest that was checked.' }),
    from: Type.String({ description: 'The source host checked (for a guest on no host: the destination itself).' }),
    to: Type.String({ description: 'The destination host checked.' }),
    error: Type.Optional(Type.String({ description: 'Why no verdict could be made (a definition this build rejects, a host-model with no host CPU expansion): the outcome is then unknown.' })),
  },
  { additionalProperties: false },
);
export type MatrixCell = Static<typeof MatrixCell>;

const ByOutcome = Type.Object(
  { safe: Type.Integer(), unsafe: Type.Integer(), impossible: Type.Integer(), unknown: Type.Integer() },
  { additionalProperties: false },
);
export type ByOutcome = Static<typeof ByOutcome>;

export const FleetMatrix = Type.Object(
  {
    schema: Type.Literal(FLEET_MATRIX_SCHEMA_ID),
    hostKinds: Type.Array(HostKind),
    guestClasses: Type.Array(GuestClass),
    cells: Type.Array(MatrixCell, { description: 'One per guest class and host kind: one check from a host of the source kind to a host of the target kind.' }),
    summary: Type.Object(
      {
        guests: Type.Integer(),
        hosts: Type.Integer(),
        guestClasses: Type.Integer(),
        hostKinds: Type.Integer(),
        cells: Type.Integer(),
        byOutcome: ByOutcome,
      },
      { additionalProperties: false, description: 'byOutcome counts cells.' },
    ),
  },
  { additionalProperties: false, $id: 'FleetMatrix' },
);
export type FleetMatrix = Static<typeof FleetMatrix>;

export const MachineStatus = Type.Union([Type.Literal('ok'), Type.Literal('deprecated'), Type.Literal('removed')]);

export const UpgradeRow = Type.Object(
  {
    guest: Type.String(),
    host: Type.String({ description: 'The host the guest runs on, before its wave.' }),
    forwardTo: Type.String({ description: 'The upgraded host checked as the destination (a host of the same kind on the new build).' }),
    rollbackTo: Type.String({ description: 'Where rollback is checked: a host still on the old build after this wave (same kind first), or, when none is left, the guest\'s own host with its upgrade rolled back.' }),
    forward: Outcome,
    rollback: Outcome,
    codes: Codes,
    fence: Type.Array(Reason, { description: 'For a safe rollback: the re-pinning after which there is no way back.' }),
    machine: Type.String({ description: 'The machine type the guest runs, as its host resolves it.' }),
    machineStatus: MachineStatus,
    state: Type.Union([Type.Literal('running'), Type.Literal('paused'), Type.Literal('shut-off'), Type.Literal('saved')], {
      description: 'running/paused: it migrates (forward, rollback); shut-off: it restarts from its definition on the new build, which forward answers; saved: its memory state is loaded there like a migration stream (forward).',
    }),
    memorySnapshots: Type.Integer({ minimum: 0, description: 'Snapshots with memory state: each loads like a migration stream, on the new build (forward) and, taken there, back on the old one (rollback).' }),
    suggestedMachine: Type.Optional(Type.String({ description: 'The newest type of its family in the new build, when it is not the one the guest runs (re-pinning to it is the fence).' })),
    error: Type.Optional(Type.String({ description: 'Why no verdict could be made: forward and rollback are then unknown.' })),
  },
  { additionalProperties: false },
);
export type UpgradeRow = Static<typeof UpgradeRow>;

export const UpgradePlan = Type.Object(
  {
    schema: Type.Literal(FLEET_UPGRADE_SCHEMA_ID),
    to: Type.String({ description: 'The catalog id of the new build.' }),
    summary: Type.Object(
      {
        guests: Type.Integer({ description: 'Guests on the hosts of the waves.' }),
        waves: Type.Integer(),
        loseForward: Type.Integer({ description: 'Guests that cannot move forward safely in their wave.' }),
        loseRollback: Type.Integer({ description: 'Guests whose rollback is not safe (or has nowhere to go).' }),
        deprecatedMachines: Type.Integer({ description: 'Guests whose machine type the new build deprecates.' }),
        removedMachines: Type.Integer({ description: 'Guests whose machine type the new build no longer has.' }),
        loseSavedState: Type.Integer({ description: 'Guests with a saved state or memory snapshots that the new build cannot load safely (forward not safe).' }),
      },
      { additionalProperties: false },
    ),
    notes: Type.Array(Reason, { description: 'What the plan assumes about the upgraded hosts (profiles derived from the old ones, CPU availability unknown).' }),
    waves: Type.Array(
      Type.Object(
        { index: Type.Integer({ minimum: 1 }), hosts: Names, guests: Type.Array(UpgradeRow) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: 'UpgradePlan' },
);
export type UpgradePlan = Static<typeof UpgradePlan>;

export const BaselineCandidate = Type.Object(
  {
    rank: Type.Integer({ minimum: 1 }),
    cpu: Type.String({ description: 'Versioned CPU model every host can run.' }),
    features: Type.Record(Type.String(), Type.Boolean(), { description: 'Features set on top of the model: those every host CPU has and the model lacks.' }),
    machine: Type.String({ description: 'The newest machine type of the family that every host build has.' }),
    cost: Type.Object(
      {
        featuresLost: Type.Integer({ description: 'Sum over hosts of the features each host could give and the baseline does not.' }),
        mitigationsLost: Type.Integer(),
        guestsToRestart: Type.Integer(),
      },
      {
        additionalProperties: false,
        description: 'What the ranking compares: features lost, then mitigations lost, then models of the hosts\' CPU vendor first, then guests to restart, then the fewer explicit features, then the newer model.',
      },
    ),
    featuresLost: Type.Record(Type.String(), Names, { description: 'Per host: CPU features its CPU could give the guest that the baseline does not.' }),
    mitigationsLost: Type.Array(
      Type.Object(
        {
          vulnerability: Type.String(),
          hosts: Names,
          needs: Type.Array(Names, { description: 'The feature sets that would let the guest mitigate it (one suffices).' }),
        },
        { additionalProperties: false },
      ),
      { description: 'Vulnerabilities a host reports affected that a guest could mitigate with features that host can give, but not with the baseline.' },
    ),
    guestsToRestart: Type.Array(Type.String(), { description: 'Guests whose machine type or CPU differ from the baseline: adopting it means a restart.' }),
  },
  { additionalProperties: false },
);
export type BaselineCandidate = Static<typeof BaselineCandidate>;

export const Baseline = Type.Object(
  {
    schema: Type.Literal(FLEET_BASELINE_SCHEMA_ID),
    hosts: Type.Integer(),
    notes: Type.Array(Reason, { description: 'Hosts whose profile lacks a host CPU expansion, and other limits of the answer.' }),
    candidates: Type.Array(BaselineCandidate, { description: 'Best first.' }),
  },
  { additionalProperties: false, $id: 'Baseline' },
);
export type Baseline = Static<typeof Baseline>;
