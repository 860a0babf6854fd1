import type { TSchema } from '@sinclair/typebox';
import { Catalog } from './catalog.js';
import { Baseline, FleetMatrix, UpgradePlan } from './fleet.js';
import { GuestSpec } from './guest.js';
import { HookConfig, HookDecision } from './hook.js';
import { HostProfile } from './host.js';
import { Inventory } from './inventory.js';
import { Cluster, PinnedAbi } from './pinned.js';
import { TierMatrix, TierPolicy, TierResult, ValidationReport, VulnerabilityMap } from './policy.js';
import { Reason } from './reason.js';
import { IdRegisterCheck, IdRegisterData, IdRegisterValues, RegisterCheck, RegisterData, RegisterMatrix, VmmPolicies } from './registers.js';
import { IommuHostFixtures, ViommuReport, ViommuRules } from './viommu.js';
import { CheckResult, MigrationRules } from './verdict.js';
import { VisibilityRules } from './visibility.js';

/** Every published document type, by the name its JSON Schema file carries. */
export const SCHEMAS: Record<string, TSchema> = {
  catalog: Catalog,
  'host-profile': HostProfile,
  guest: GuestSpec,
  'pinned-abi': PinnedAbi,
  cluster: Cluster,
  reason: Reason,
  verdict: CheckResult,
  'migration-rules': MigrationRules,
  'visibility-rules': VisibilityRules,
  tier: TierResult,
  'tier-matrix': TierMatrix,
  'tier-policy': TierPolicy,
  validation: ValidationReport,
  'vulnerability-map': VulnerabilityMap,
  'fleet-matrix': FleetMatrix,
  'fleet-upgrade': UpgradePlan,
  'fleet-baseline': Baseline,
  inventory: Inventory,
  'register-verdict': RegisterCheck,
  'register-matrix': RegisterMatrix,
  'register-data': RegisterData,
  'vmm-policies': VmmPolicies,
  'id-register-check': IdRegisterCheck,
  'id-register-data': IdRegisterData,
  'id-register-values': IdRegisterValues,
  viommu: ViommuReport,
  'viommu-rules': ViommuRules,
  'iommu-hosts': IommuHostFixtures,
  'hook-config': HookConfig,
  'hook-decision': HookDecision,
};
