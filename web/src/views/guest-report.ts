import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, post, seg } from '../api.js';
import { useLoad } from '../load.js';
import type { CheckResult, Destination, GuestDoc, HistoryEntry, Items, TierResult, ValidationReport } from '../types.js';
import { LevelBadge, OutcomeBadge, fmt, pending } from '../components/common.js';
import { CheckView } from '../components/check.js';
import { ReasonTable } from '../components/reasons.js';

function Why({ guest, from, to }: { guest: string; from: string; to: string }) {
  const check = useLoad((s) => post<CheckResult>('/check', { guest, from, to, bothWays: true }, s), [guest, from, to]);
  return pending(check, 'the check') ?? html`<${CheckView} result=${check.data} compact />`;
}

/** Where the guest can go from its host: one row per host, each check opened on demand. */
export function Destinations({ guest, from, rows }: { guest: string; from: string | null; rows: Destination[] }) {
  const [open, setOpen] = useState<string>();
  if (!rows.length) return html`<p class="muted">No hosts to go to.</p>`;
  return html`<table class="grid" data-testid="destinations">
    <thead><tr><th>Host</th><th>Outcome</th><th>Codes</th><th></th></tr></thead>
    <tbody>
      ${rows.map(
        (d) => html`<tr data-host=${d.host}>
            <td class="nw">${d.host}${d.host === from ? html` <span class="tag">its host</span>` : null}</td>
            <td><${OutcomeBadge} outcome=${d.outcome} /></td>
            <td>${d.codes.map((c) => html`<code>${c}</code> `)}</td>
            <td>${from ? html`<button type="button" onClick=${() => setOpen(open === d.host ? undefined : d.host)}>${open === d.host ? 'Hide' : 'Why'}</button>` : null}</td>
          </tr>
          ${open === d.host && from ? html`<tr class="expanded"><td colspan="4"><${Why} guest=${guest} from=${from} to=${d.host} /></td></tr>` : null}`,
      )}
    </tbody>
  </table>`;
}

/** Problems first; the facts behind a good tier (each device the OS drives...) folded away. */
function TierReasons({ tier }: { tier: TierResult }) {
  const notes = tier.reasons.filter((r) => r.level !== 'info');
  const facts = tier.reasons.filter((r) => r.level === 'info');
  return html`${notes.length ? html`<${ReasonTable} reasons=${notes} a="OS" b="Machine" compact />` : null}
    ${facts.length ? html`<details><summary>${facts.length} facts behind the tier</summary><${ReasonTable} reasons=${facts} a="OS" b="Machine" compact /></details>` : null}`;
}

export function TierView({ tier }: { tier: TierResult }) {
  return html`<div data-testid="tier">
    <p><span class=${`badge t-${tier.tier}`}>${tier.tier}</span> ${tier.os.name} <span class="muted">(${tier.os.shortId})</span> on <code>${tier.machine.name}</code> <span class="muted">QEMU ${tier.machine.qemu}, as of ${tier.today}</span></p>
    <${TierReasons} tier=${tier} />
    ${tier.settings.length
      ? html`<h3>Settings that make it work</h3>
          <table class="grid"><thead><tr><th>For</th><th>Why</th><th>libvirt</th><th>QEMU</th></tr></thead><tbody>
            ${tier.settings.map((s) => html`<tr><td>${s.subject}</td><td>${s.why}</td><td><pre>${s.libvirt.join('\n')}</pre></td><td><pre>${s.qemu.join(' ')}</pre></td></tr>`)}
          </tbody></table>`
      : null}
    ${tier.alternatives.length
      ? html`<p>Does better on: ${tier.alternatives.map((a) => html`<code>${a.machine}</code> (${a.tier}) `)}</p>`
      : null}
  </div>`;
}

export function Findings({ report }: { report: ValidationReport }) {
  const order = { fail: 0, warn: 1, pass: 2 } as const;
  const findings = [...report.findings].sort((a, b) => order[a.level] - order[b.level]);
  return html`<div data-testid="validation">
    <p>Result <${LevelBadge} level=${report.result} /> on host <b>${report.host.name}</b> <span class="muted">(QEMU ${report.host.qemu}, ${report.host.cpu})</span></p>
    <table class="grid">
      <thead><tr><th></th><th>Check</th><th>Code</th><th>Subject</th><th>Finding</th><th>Guest</th><th>Host / expected</th><th>Remedy</th></tr></thead>
      <tbody>
        ${findings.map(
          (f) => html`<tr>
            <td><${LevelBadge} level=${f.level} /></td><td>${f.check}</td><td><code>${f.code}</code></td><td>${f.subject}</td>
            <td>${f.message}${f.source ? html`<div class="src">${f.source}</div>` : null}</td>
            <td class="val">${fmt(f.a)}</td><td class="val">${fmt(f.b)}</td><td class="remedy">${f.remedy ?? ''}</td>
          </tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

function OldVersion({ name, version }: { name: string; version: number }) {
  const doc = useLoad((s) => get<GuestDoc>(`/guests/${seg(name)}/history/${version}`, s), [name, version]);
  return pending(doc, `version ${version}`) ?? html`<pre class="definition">${doc.data?.definition}</pre>`;
}

export function History({ name, current }: { name: string; current: number }) {
  const hist = useLoad((s) => get<Items<HistoryEntry>>(`/guests/${seg(name)}/history`, s), [name, current]);
  const [open, setOpen] = useState<number>();
  const wait = pending(hist, 'history');
  if (wait || !hist.data) return wait;
  const items = [...hist.data.items].sort((a, b) => b.version - a.version);
  return html`<table class="grid" data-testid="history">
    <thead><tr><th>Version</th><th>At</th><th>Source</th><th></th></tr></thead>
    <tbody>
      ${items.map(
        (h) => html`<tr>
            <td>${h.version}${h.version === current ? html` <span class="tag">current</span>` : null}</td><td>${h.at}</td><td>${h.source}</td>
            <td><button type="button" onClick=${() => setOpen(open === h.version ? undefined : h.version)}>${open === h.version ? 'Hide' : 'Definition'}</button></td>
          </tr>
          ${open === h.version ? html`<tr class="expanded"><td colspan="4"><${OldVersion} name=${name} version=${h.version} /></td></tr>` : null}`,
      )}
    </tbody>
  </table>`;
}
