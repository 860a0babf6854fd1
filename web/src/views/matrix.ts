import { useMemo, useState } from 'preact/hooks';
import { html } from '../html.js';
import { post } from '../api.js';
import { useLoad } from '../load.js';
import { guestHref } from '../route.js';
import { OUTCOMES, type CheckResult, type FleetMatrix, type GuestClass, type HostKind, type MatrixCell } from '../types.js';
import { OutcomeBadge, outcomeMark, pending, plural } from '../components/common.js';
import { CheckView } from '../components/check.js';
import { Heatmap, cellKey, kindShort, type Grid } from './heatmap.js';

function Legend({ m }: { m: FleetMatrix }) {
  return html`<div class="legend" data-testid="matrix-summary">
    <span data-testid="cell-total">${plural(m.summary.cells, 'cell')}</span>
    (${plural(m.guestClasses.length, 'guest class', 'guest classes')} × ${plural(m.hostKinds.length, 'host kind')})
    ${OUTCOMES.map(
      (o) => html`<span class="key" data-outcome=${o}><span class=${`swatch o-${o}`}>${outcomeMark(o)}</span> ${o} <b>${m.summary.byOutcome[o] ?? 0}</b></span>`,
    )}
  </div>`;
}

/** The representative check behind one cell: POST /api/check, both ways, every reason. */
function CellDetail({ cell, gc, kind, onClose }: { cell: MatrixCell; gc?: GuestClass; kind?: HostKind; onClose: () => void }) {
  const check = useLoad(
    (s) => post<CheckResult>('/check', { guest: cell.guest, from: cell.from, to: cell.to, bothWays: true }, s),
    [cell.guest, cell.from, cell.to],
  );
  return html`<aside class="detail" data-testid="cell-detail">
    <div class="section-head">
      <h2 title=${`${cell.guestClass} on ${cell.hostKind}`}>${gc ? `${gc.machine} ${gc.cpu}` : cell.guestClass} → ${kind ? kindShort(kind) : cell.hostKind} <${OutcomeBadge} outcome=${cell.outcome} /></h2>
      <button type="button" onClick=${onClose} title="Close">×</button>
    </div>
    <p>
      Guest <a href=${guestHref(cell.guest)}>${cell.guest}</a>${' '}
      ${cell.from === cell.to ? html`starting on <b>${cell.to}</b> (it has no host)` : html`from <b>${cell.from}</b> to <b>${cell.to}</b>`}${' '}
      <span class="muted">(representatives of the class and the kind)</span>
    </p>
    ${pending(check, 'the check') ?? html`<${CheckView} result=${check.data} compact />`}
  </aside>`;
}

export function MatrixView() {
  const matrix = useLoad((s) => post<FleetMatrix>('/plans/matrix', {}, s), []);
  const [selected, setSelected] = useState<MatrixCell>();
  const [filter, setFilter] = useState('');
  const [onlyProblems, setOnlyProblems] = useState(false);
  const m = matrix.data;
  const grid: Grid = useMemo(() => new Map((m?.cells ?? []).map((c) => [cellKey(c.guestClass, c.hostKind), c])), [m]);
  const problemRows = useMemo(() => new Set((m?.cells ?? []).filter((c) => c.outcome !== 'safe').map((c) => c.guestClass)), [m]);
  const rows = useMemo(() => {
    const f = filter.trim().toLowerCase();
    return (m?.guestClasses ?? []).filter(
      (gc) =>
        (!onlyProblems || problemRows.has(gc.id)) &&
        (!f || `${gc.id} ${gc.label} ${gc.machine} ${gc.cpu} ${gc.members.join(' ')}`.toLowerCase().includes(f)),
    );
  }, [m, filter, onlyProblems, problemRows]);
  const wait = pending(matrix, 'the migration matrix (every guest class against every host kind)');
  if (wait || !m) return wait;
  if (!m.cells.length) return html`<p class="muted">No guests or no hosts yet: the matrix is empty.</p>`;
  return html`<div class=${`matrix ${selected ? 'with-detail' : ''}`}>
    <div class="toolbar"><${Legend} m=${m} /></div>
    <div class="toolbar">
      <input type="search" placeholder="Filter: machine, CPU, guest, id" title="Show guest classes whose machine type, CPU, members or id contain this" value=${filter}
        onInput=${(e: Event) => setFilter((e.target as HTMLInputElement).value)} />
      <label><input type="checkbox" checked=${onlyProblems} onChange=${(e: Event) => setOnlyProblems((e.target as HTMLInputElement).checked)} />${' '}
        only rows with a problem</label>
      <button type="button" onClick=${matrix.reload} disabled=${matrix.loading}>${matrix.loading ? 'Computing…' : 'Recompute'}</button>
      <span class="muted">
        ${rows.length < m.guestClasses.length ? `Showing ${rows.length} of ${m.guestClasses.length} classes. ` : ''}Each cell: the class's representative guest
        from its host to a host of that kind; click it for every reason.
      </span>
    </div>
    <div class="matrix-body">
      <${Heatmap} rows=${rows} kinds=${m.hostKinds} grid=${grid} selected=${selected} onPick=${setSelected} />
      ${selected
        ? html`<${CellDetail} key=${cellKey(selected.guestClass, selected.hostKind)} cell=${selected} onClose=${() => setSelected(undefined)}
            gc=${m.guestClasses.find((g) => g.id === selected.guestClass)} kind=${m.hostKinds.find((k) => k.id === selected.hostKind)} />`
        : null}
    </div>
  </div>`;
}
