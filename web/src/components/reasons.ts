import { html } from '../html.js';
import type { Reason } from '../types.js';
import { fmt } from './common.js';

function Extra({ r }: { r: Reason }) {
  return html`${r.details?.length ? html`<details><summary>${r.details.length} details</summary><ul class="details">${r.details.map((d) => html`<li>${d}</li>`)}</ul></details>` : null}
    ${r.source ? html`<div class="src">${r.source}</div>` : null}`;
}

/** Two columns for a narrow panel: the code, then subject, message, both values and the remedy. */
function CompactTable({ reasons, a, b }: { reasons: Reason[]; a: string; b: string }) {
  return html`<table class="grid reasons compact">
    <tbody>
      ${reasons.map(
        (r) => html`<tr class=${`lvl-${r.level}`}>
          <td><code>${r.code}</code>${r.effect ? html`<div class=${`eff o-${r.effect}`}>${r.effect}</div>` : null}</td>
          <td><div class="subject">${r.subject}</div><div class="msg">${r.message}</div>
            ${r.a !== undefined || r.b !== undefined ? html`<div class="ab"><span class="muted">${a}:</span> <span class="val">${fmt(r.a)}</span> · <span class="muted">${b}:</span> <span class="val">${fmt(r.b)}</span></div>` : null}
            ${r.remedy ? html`<div class="remedy"><span class="muted">Remedy:</span> ${r.remedy}</div>` : null}
            <${Extra} r=${r} /></td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** Every reason with its code, subject, the value on both sides and the remedy. */
export function ReasonTable({ reasons, a = 'Source', b = 'Destination', compact = false }: { reasons: Reason[]; a?: string; b?: string; compact?: boolean }) {
  if (!reasons.length) return html`<p class="muted">No reasons: nothing differs.</p>`;
  if (compact) return html`<${CompactTable} reasons=${reasons} a=${a} b=${b} />`;
  return html`<table class="grid reasons">
    <thead>
      <tr><th>Code</th><th>Subject</th><th>${a}</th><th>${b}</th><th>Remedy</th></tr>
    </thead>
    <tbody>
      ${reasons.map(
        (r) => html`<tr class=${`lvl-${r.level}`}>
          <td><code>${r.code}</code>${r.effect ? html`<div class=${`eff o-${r.effect}`}>${r.effect}</div>` : null}</td>
          <td><div class="subject">${r.subject}</div><div class="msg">${r.message}</div><${Extra} r=${r} /></td>
          <td class="val">${fmt(r.a)}</td>
          <td class="val">${fmt(r.b)}</td>
          <td class="remedy">${r.remedy ?? html`<span class="muted">—</span>`}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}
