/**
 * guestabi as a library: `import { ... } from 'guestabi'`. The same functions the CLI and the
 * HTTP service call, and the documents they return (src/model, with their JSON Schemas).
 * Everything not exported here is internal and may change in any release.
 */

// The documents: TypeBox schemas (a value) and their types (same name), SCHEMAS by file name.
export * from './model/catalog.js';
export * from './model/codes.js';
export * from './model/common.js';
export * from './model/fleet.js';
export * from './model/guest.js';
export * from './model/host.js';
export * from './model/pinned.js';
export * from './model/policy.js';
export * from './model/reason.js';
export * from './model/verdict.js';
export { SCHEMAS } from './model/index.js';
export { validate as validateDocument, isValid } from './model/validate.js';

// Errors: every one carries its exit code and a JSON form.
export { GuestabiError, UserError, RunError, HelpRequested, CatalogNotFound, type ErrorJson } from './util/errors.js';
export { ResolveError } from './resolve/target.js';
export { QmpCommandError, QmpTimeoutError, QmpClosedError } from './qmp/client.js';
export { ReplayMismatchError } from './qmp/transport.js';
export { HttpProblem } from './server/problem.js';
export { VersionConflict, PreconditionRequired, NotFound, SchemaTooNew } from './store/errors.js';

// Catalogs: the shipped ones, any other file, and how two builds differ.
export { CatalogIndex } from './catalog/catalog.js';
export { findCatalog, loadCatalogFile, shippedCatalogs } from './io/catalog-files.js';
export { diffCatalogs, type CatalogDiff, type MachineDiff } from './catalog/diff.js';

// Guests: libvirt domain XML, a QEMU command line or a GuestSpec in; a pinned ABI out as either.
export { parseGuestText } from './formats/guest-input.js';
export { parseLibvirtXml } from './formats/libvirt-in.js';
export { parseArgvText } from './formats/argv-in.js';
export { pinnedToArgv, argvToText } from './formats/argv-out.js';
export { pinnedToLibvirtXml } from './formats/libvirt-out.js';

// Hosts: a probed profile, indexed against the catalog of its QEMU build.
export { loadHostProfile, hostTarget, clusterTarget } from './io/host-files.js';
export { indexHost, groupHosts, type Target, type TargetHost } from './resolve/target.js';

// The questions: pin, check, tier, validate.
export { pinGuest, type PinOptions } from './resolve/pin.js';
export { pinnedSpec } from './resolve/pinned-spec.js';
export { checkMigration, newCheckCache, type CheckInput, type CheckCache } from './check/check.js';
export { guestVisibility, migrationRules } from './io/rules-files.js';
export type { Rules } from './check/rules.js';
export type { GuestVisibility } from './model/visibility.js';
export { guestOsTier, type TierInput } from './policy/tier.js';
export { validateGuest, validationPlatform, type ValidateInput } from './policy/validate.js';
export { answerTier, answerValidate, type TierQuestion, type ValidateQuestion } from './service/answers.js';

// Fleets: matrix, upgrade waves, baseline.
export { planMatrix, matrixFromClasses, planUpgrade, planBaseline, type MatrixInput, type ClassMatrixInput, type UpgradeInput, type BaselineInput } from './fleet/index.js';

// The store and the HTTP service, loaded when first called: the database drivers and Fastify
// cost an import of this module nothing until then.
import type { openStore as OpenStore } from './store/open-store.js';
import type { startServer as StartServer } from './server/index.js';
export type { Store } from './store/store.js';
export type { ServeOptions, RunningServer } from './server/index.js';
export const openStore: typeof OpenStore = async (url) => (await import('./store/open-store.js')).openStore(url);
export const startServer: typeof StartServer = async (opts) => (await import('./server/index.js')).startServer(opts);
