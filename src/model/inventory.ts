import { Type, type Static } from '@sinclair/typebox';
import { Accel, Arch } from './common.js';
import { HostLevels, IdRegisterValues } from './registers.js';

export const INVENTORY_SCHEMA_ID = 'guestabi/inventory@1';

/**
 * A host that is not there yet (or cannot be probed from here), described for planning: its QEMU
 * build (a catalog), accelerator and the newest CPU model it can run. What it can run is derived
 * from that model's features in the catalog; every verdict that needs more (the host CPU expansion,
 * what KVM adds to each model) is unknown for it.
 */
export const DescribedHost = Type.Object(
  {
    arch: Type.Optional(Arch),
    qemu: Type.String({ description: 'The QEMU build: a shipped catalog id or version (10.0), or a catalog file.' }),
    accel: Type.Optional(Accel),
    kernel: Type.Optional(Type.String({ description: 'Kernel release, as uname -r prints it.' })),
    cpu: Type.String({ description: 'The newest CPU model (versioned) the host can run with this build; lower models run if their features are a subset.' }),
    firmwareLevels: Type.Optional(HostLevels),
    idRegisters: Type.Optional(IdRegisterValues),
  },
  { additionalProperties: false },
);
export type DescribedHost = Static<typeof DescribedHost>;

const GuestState = Type.Union([Type.Literal('running'), Type.Literal('paused'), Type.Literal('shut-off'), Type.Literal('saved')], {
  description: 'running/paused: it must migrate; shut-off: it restarts from its definition; saved: its memory state is restored (a migration stream) on whichever host starts it.',
});

export const InventoryHost = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    profile: Type.Optional(Type.String({ description: 'A host profile from guestabi probe, by path relative to the inventory.' })),
    describe: Type.Optional(DescribedHost),
  },
  { additionalProperties: false },
);

export const InventoryGuest = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 1, description: 'Default: the file name, or the name in the definition.' })),
    file: Type.Optional(Type.String({ description: 'libvirt domain XML (virsh dumpxml), a QEMU command line or a GuestSpec, relative to the inventory.' })),
    argv: Type.Optional(Type.String({ description: 'The guest as a QEMU command line.' })),
    host: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'The host it runs on (or is defined on).' })),
    state: Type.Optional(GuestState),
    snapshots: Type.Optional(
      Type.Array(Type.Object({ name: Type.String(), memory: Type.Boolean({ description: 'A snapshot with memory state loads like a migration stream.' }) }, { additionalProperties: false })),
    ),
  },
  { additionalProperties: false },
);

export const Inventory = Type.Object(
  {
    schema: Type.Optional(Type.Literal(INVENTORY_SCHEMA_ID)),
    name: Type.Optional(Type.String()),
    hosts: Type.Array(InventoryHost, { minItems: 1 }),
    guests: Type.Array(InventoryGuest),
  },
  { additionalProperties: false, $id: 'Inventory' },
);
export type Inventory = Static<typeof Inventory>;
export type InventoryGuest = Static<typeof InventoryGuest>;
