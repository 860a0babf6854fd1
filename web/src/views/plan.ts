import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { guestHref } from '../route.js';
import type { UpgradePlan, UpgradeRow } from '../types.js';
import { OutcomeBadge, Section, plural } from '../components/common.js';
import { ReasonTable } from '../components/reasons.js';
import { exportPlan, fenceText } from './plan-export.js';

const SUMMARY: [keyof UpgradePlan['summary'], string, string][] = [
  ['guests', 'Guests', 'on the hosts of the waves'],
  ['waves', 'Waves', ''],
  ['loseForward', 'Lose forward', 'cannot move forward safely in some wave'],
  ['loseRollback', 'Lose rollback', 'cannot go back once moved'],
  ['loseSavedState', 'Lose saved state', 'a saved state or memory snapshot the new build cannot load safely'],
  ['deprecatedMachines', 'Deprecated machines', 'machine types the target deprecates'],
  ['removedMachines', 'Removed machines', 'machine types the target no longer has'],
];

const loses = (g: UpgradeRow): boolean => g.forward !== 'safe' || g.rollback !== 'safe';

function Summary({ plan }: { plan: UpgradePlan }) {
  return html`<table class="grid summary" data-testid="plan-summary">
    <tbody><tr>
      ${SUMMARY.map(
        ([k, label, why]) => html`<td data-field=${k} title=${why} class=${k !== 'guests' && k !== 'waves' && plan.summary[k] ? 'bad' : ''}>
          <div class="big">${plan.summary[k]}</div><div class="muted">${label}</div></td>`,
      )}
    </tr></tbody>
  </table>`;
}

function GuestRow({ g }: { g: UpgradeRow }) {
  return html`<tr>
    <td class="nw"><a href=${guestHref(g.guest)}>${g.guest}</a></td>
    <td class="nw">${g.host}</td>
    <td class="nw">${g.machine} ${g.machineStatus !== 'ok' ? html`<span class="flag flag-bad">${g.machineStatus}</span>` : null}
      ${g.suggestedMachine ? html`<span class="muted"> → ${g.suggestedMachine}</span>` : null}</td>
    <td class="nw" title=${`checked against ${g.forwardTo}`}><${OutcomeBadge} outcome=${g.forward} /> <span class="muted">${g.forwardTo}</span></td>
    <td class="nw" title=${g.rollbackTo === g.host ? 'no other host is left on the old build: its own host, rolled back' : `checked against ${g.rollbackTo}`}><${OutcomeBadge} outcome=${g.rollback} />${' '}
      <span class="muted">${g.rollbackTo === g.host ? 'own host, rolled back' : g.rollbackTo}</span></td>
    <td>${g.codes.map((c) => html`<code>${c}</code> `)}</td>
    <td>${g.fence.map((f) => html`<div title=${f.message}>${fenceText(f)}</div>`)}</td>
  </tr>`;
}

function Wave({ wave, all }: { wave: UpgradePlan['waves'][number]; all: boolean }) {
  const losing = wave.guests.filter(loses);
  const shown = all ? wave.guests : losing;
  return html`<div class="wave" data-testid="plan-wave" data-wave=${wave.index}>
    <h3>Wave ${wave.index} <span class="muted">· ${plural(wave.hosts.length, 'host')}: ${wave.hosts.join(', ')}</span></h3>
    <p>${plural(wave.guests.length, 'guest')}; <b class=${losing.length ? 'bad' : ''}>${losing.length}</b> lose a forward or rollback path.</p>
    ${shown.length
      ? html`<table class="grid">
          <thead><tr><th>Guest</th><th>Host</th><th>Machine</th><th>Forward</th><th>Rollback</th><th>Codes</th><th>Fence</th></tr></thead>
          <tbody>${shown.map((g) => html`<${GuestRow} key=${g.guest} g=${g} />`)}</tbody>
        </table>`
      : null}
  </div>`;
}

export function PlanView({ plan }: { plan: UpgradePlan }) {
  const [all, setAll] = useState(false);
  const right = html`<span class="actions">
    <label><input type="checkbox" checked=${all} onChange=${(e: Event) => setAll((e.target as HTMLInputElement).checked)} /> show every guest</label>
    <button type="button" onClick=${() => exportPlan(plan, 'json')}>Download JSON</button>
    <button type="button" onClick=${() => exportPlan(plan, 'csv')}>Download CSV</button>
  </span>`;
  return html`<${Section} title=${`Plan: upgrade to ${plan.to}`} right=${right}>
    <${Summary} plan=${plan} />
    ${plan.notes.length ? html`<details><summary>Assumptions (${plan.notes.length})</summary><${ReasonTable} reasons=${plan.notes} a="Old" b="New" /></details>` : null}
    ${plan.waves.map((w) => html`<${Wave} key=${w.index} wave=${w} all=${all} />`)}
  <//>`;
}
