import type { Reason } from '../model/reason.js';
import type { Outcome } from '../model/verdict.js';

/** The outcome the reasons add up to: impossible over unsafe over unknown over safe. */
export function outcomeOf(reasons: Reason[]): Outcome {
  const effects = new Set(reasons.map((r) => r.effect));
  if (effects.has('impossible')) return 'impossible';
  if (effects.has('unsafe')) return 'unsafe';
  if (effects.has('unknown')) return 'unknown';
  return 'safe';
}
