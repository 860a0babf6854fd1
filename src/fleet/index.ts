/**
 * Fleet planning: where can each guest go (matrix), what does a QEMU upgrade do to the guests
 * (upgrade), which CPU and machine type can every host run (baseline). Pure: hosts, guests,
 * catalogs and rules in, documents (src/model/fleet.ts) out.
 */
export { hostKinds, hostKindContent, hostKindId, sameKind, type HostKinds, type KindOptions } from './kinds.js';
export { guestSpecKey, type FleetGuest, type PreGroupedClass } from './classes.js';
export { planMatrix, matrixFromClasses, effectCodes, type MatrixInput, type ClassMatrixInput, type Progress } from './matrix.js';
export { planUpgrade, type UpgradeInput } from './upgrade.js';
export { plannedHost, type PlannedHost } from './upgraded.js';
export { planBaseline, type BaselineInput } from './baseline.js';
