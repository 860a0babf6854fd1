// The documents of the HTTP API the page reads. Documents that have a published schema come from
// src/model (type-only imports: nothing of it is bundled); the API's own envelopes follow the contract.
import type { CheckResult, Outcome, Verdict } from '../../src/model/verdict.js';
import type { PinnedAbi, PinnedDevice } from '../../src/model/pinned.js';
import type { Finding, TierResult, ValidationReport } from '../../src/model/policy.js';
import type { Reason } from '../../src/model/reason.js';
import type { GuestSpec } from '../../src/model/guest.js';

export type { CheckResult, Outcome, Verdict, PinnedAbi, PinnedDevice, Finding, TierResult, ValidationReport, Reason, GuestSpec };

export const OUTCOMES: readonly Outcome[] = ['safe', 'unsafe', 'impossible', 'unknown'];

export interface Items<T> {
  items: T[];
}

export interface Health {
  ok: boolean;
  db: string;
  version: string;
}

export interface CatalogSummary {
  id: string;
  version: string;
  arch: string;
  machines: number | string[];
  cpuModels: number | string[];
  deprecatedMachines: number | string[];
}

// The list envelopes are the store's own summaries (type-only: nothing of the store is bundled).
import type { GuestSummary, HostSummary } from '../../src/store/store.js';
export type { GuestSummary, HostSummary };

export interface GuestDoc {
  name: string;
  version: number;
  updatedAt: string;
  source: string;
  host: string | null;
  format: GuestSummary['format'];
  definition: string;
  spec: GuestSpec;
  pinned: PinnedAbi | null;
  pinError?: { message: string; reasons?: Reason[] };
}

export interface Destination {
  host: string;
  outcome: Outcome;
  codes: string[];
}

export interface GuestReport {
  guest: GuestSummary;
  pinned: PinnedAbi | null;
  validation: ValidationReport | null;
  tier: TierResult | null;
  destinations: Destination[];
}

export interface HistoryEntry {
  version: number;
  at: string;
  source: string;
}

export type { FleetMatrix, GuestClass, HostKind, MatrixCell, UpgradePlan, UpgradeRow } from '../../src/model/fleet.js';
