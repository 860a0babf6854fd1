import type { GuestSpec } from '../model/guest.js';
import { reason, type Reason } from '../model/reason.js';
import type { Outcome } from '../model/verdict.js';
import type { TargetHost } from '../resolve/target.js';
import { checkMigration, concreteHostModel, newCheckCache } from './check.js';
import { outcomeOf } from './outcome.js';
import type { Rules } from './rules.js';
import { runtimePlatform } from './runtime.js';

/**
 * A guest arriving on this host, as libvirt's hook sees it (issue 15): an incoming migration, or a
 * start. Whose platform the guest is held to decides what can be said:
 * - the source host's profile (from the inventory): check's verdict, source to here;
 * - without it, what the domain XML writes, taken as what the source gives: this host must give
 *   exactly that (start here, every CPU feature the XML asks for, nothing dropped), and whether the
 *   source's QEMU build agrees is not known, so a move that passes is `unknown`, never `safe`;
 * - a start: this host must give exactly what the XML writes.
 */
export interface ArrivalInput {
  spec: GuestSpec;
  here: TargetHost;
  /** The source host's profile, when the inventory gives it (migrations only). */
  source?: TargetHost;
  kind: 'migrate' | 'start';
  rules: Rules;
}

export interface Arrival {
  outcome: Outcome;
  source: 'inventory' | 'xml' | 'this-host';
  reasons: Reason[];
}

export function arrival(input: ArrivalInput): Arrival {
  const { spec, here, rules } = input;
  if (input.kind === 'migrate' && input.source) {
    const r = checkMigration({ source: spec, from: input.source, to: here, rules });
    const note = reason('ARRIVAL_SOURCE_INVENTORY', 'info', input.source.name, `the source host's facts are its profile in the inventory (QEMU ${input.source.catalog.version})`);
    return { outcome: r.outcome, source: 'inventory', reasons: [note, ...r.forward.reasons] };
  }
  // This host against itself: what it cannot start, and what it would start differently.
  const concrete = concreteHostModel(spec, here).spec;
  // The platform check works out for this host is the one whose dropped features matter: shared.
  const cache = newCheckCache();
  const r = checkMigration({ source: concrete, from: here, to: here, rules, cache });
  const reasons = r.forward.reasons.filter((x) => x.code !== 'MIGRATION_SAFE');
  const platform = cache.platforms.get(concrete)?.get(here) ?? runtimePlatform(concrete, here, rules.visibility, 'guest');
  if (platform.filtered.length) {
    const names = platform.filtered.join(' ');
    reasons.push(
      reason('CPU_FEATURE_FILTERED', 'warn', names, `the domain asks for ${names}, which ${here.name} cannot give: without enforce QEMU drops ${platform.filtered.length > 1 ? 'them' : 'it'} silently and the guest's CPU is not the one its definition writes`, {
        effect: 'unsafe',
        host: here.name,
        remedy: "add enforce (libvirt <cpu check='full'>) so a host that cannot give them refuses, or pin a CPU every host can run (guestabi resolve --cluster)",
      }),
    );
  }
  if (!reasons.some((x) => x.effect)) {
    reasons.push(reason('PLATFORM_GIVEN', 'info', platform.machine ?? 'guest', `${here.name} (QEMU ${here.catalog.version}) gives the platform the domain writes: ${platform.machine}, -cpu ${platform.cpuName ?? 'none'}, ${platform.devices.length} devices`));
  }
  if (input.kind === 'start') return { outcome: outcomeOf(reasons), source: 'this-host', reasons };
  reasons.push(
    reason('ARRIVAL_SOURCE_XML', 'warn', 'source host', "the source host is not known (no inventory, or the inventory does not know it): the guest is held to what its XML writes, and whether the source's QEMU build gives the same is not known", {
      effect: 'unknown',
      remedy: 'configure the inventory (guestabi hook install --inventory URL) with every host profile (guestabi probe --push URL) and the guest (PUT /api/guests/NAME)',
    }),
  );
  return { outcome: outcomeOf(reasons), source: 'xml', reasons };
}
