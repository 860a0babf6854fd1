import { html } from '../html.js';
import type { CheckResult, Reason, Verdict } from '../types.js';
import { OutcomeBadge } from './common.js';
import { ReasonTable } from './reasons.js';

function side(s: Verdict['from']) {
  return html`<span><b>${s.host}</b> <span class="muted">(${s.catalog})</span> ${s.machine ?? '?'} / ${s.cpu ?? 'host CPU'}</span>`;
}

function VerdictBlock({ v, compact }: { v: Verdict; compact: boolean }) {
  return html`<div class="verdict">
    <h3>${v.direction === 'forward' ? 'Forward' : 'Rollback'} <${OutcomeBadge} outcome=${v.outcome} /></h3>
    <p class="sides">${side(v.from)} → ${side(v.to)}</p>
    <${ReasonTable} reasons=${v.reasons} compact=${compact} />
  </div>`;
}

function Fence({ fence, compact }: { fence: Reason[]; compact: boolean }) {
  if (!fence.length) return null;
  return html`<div class="verdict">
    <h3>Fence</h3>
    <p class="muted">Rollback is safe until one of these changes is made; after it there is no way back.</p>
    <${ReasonTable} reasons=${fence} a="Now" b="After" compact=${compact} />
  </div>`;
}

/** A POST /api/check answer: the overall outcome, each direction with every reason, the fence. */
export function CheckView({ result, compact = false }: { result: CheckResult; compact?: boolean }) {
  return html`<div class="check" data-testid="check-result">
    <p>Overall: <${OutcomeBadge} outcome=${result.outcome} /></p>
    <${VerdictBlock} v=${result.forward} compact=${compact} />
    ${result.rollback ? html`<${VerdictBlock} v=${result.rollback} compact=${compact} />` : null}
    ${result.fence ? html`<${Fence} fence=${result.fence} compact=${compact} />` : null}
  </div>`;
}
