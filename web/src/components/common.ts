import type { ComponentChildren } from 'preact';
import { html } from '../html.js';
import { ApiError } from '../api.js';
import type { Loaded } from '../load.js';
import type { Outcome } from '../types.js';

/** An API error as a person reads it: title, detail, and each invalid field. */
export function ErrorBox({ error }: { error: Error }) {
  const p = error instanceof ApiError ? error.problem : undefined;
  return html`<div class="error" role="alert">
    <strong>${p ? p.title : 'Error'}</strong>${p?.status ? html` <span class="muted">(HTTP ${p.status}${p.code ? `, ${p.code}` : ''})</span>` : null}
    ${p?.detail ? html`<div>${p.detail}</div>` : p ? null : html`<div>${error.message}</div>`}
    ${p?.errors?.length
      ? html`<ul>
          ${p.errors.map((e) => html`<li><code>${e.path || '(body)'}</code>: ${e.message}</li>`)}
        </ul>`
      : null}
  </div>`;
}

/** Loading/error placeholder for a useLoad() state; null once data is there. */
export function pending<T>(l: Loaded<T>, what: string) {
  if (l.error) return html`<${ErrorBox} error=${l.error} />`;
  if (l.data === undefined) return html`<p class="muted">Loading ${what}…</p>`;
  return null;
}

const OUTCOME_MARK: Record<Outcome, string> = { safe: 'S', unsafe: 'U', impossible: 'X', unknown: '?' };
export const outcomeMark = (o: Outcome): string => OUTCOME_MARK[o] ?? '?';

export function OutcomeBadge({ outcome }: { outcome: Outcome }) {
  return html`<span class=${`badge o-${outcome}`}>${outcome}</span>`;
}

export function LevelBadge({ level }: { level: string }) {
  return html`<span class=${`badge l-${level}`}>${level.toUpperCase()}</span>`;
}

export function Flag({ flag }: { flag: string }) {
  const bad = /deprecated|removed|not-pinned/.test(flag);
  return html`<span class=${`flag ${bad ? 'flag-bad' : ''}`}>${flag}</span>`;
}

/** A property value for a table cell: absent and unset are shown as such, not as blanks. */
export function fmt(v: unknown): string {
  if (v === undefined) return '—';
  if (v === null) return 'absent';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function Section({ title, right, children }: { title: string; right?: ComponentChildren; children: ComponentChildren }) {
  return html`<section>
    <div class="section-head"><h2>${title}</h2>${right ?? null}</div>
    ${children}
  </section>`;
}

export const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;
