import { Component } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import type { GuestClass, HostKind, MatrixCell } from '../types.js';
import { outcomeMark } from '../components/common.js';

/** Row height in px; must match `.heat td, .heat th.row` in style.css. */
export const ROW_H = 22;
const OVERSCAN = 6;
/** Widths in px of the row header and of a cell; must match style.css. */
const HEAD_W = 290;
const CELL_W = 19;

export type Grid = Map<string, MatrixCell>;
export const kindShort = (k: HostKind): string => `${k.qemu} ${k.accel} · ${k.cpu}`;
export const cellKey = (gc: string, hk: string): string => `${gc}\n${hk}`;

interface Props {
  rows: GuestClass[];
  kinds: HostKind[];
  grid: Grid;
  selected: MatrixCell | undefined;
  onPick: (cell: MatrixCell) => void;
}

/** Which rows are on screen: only those (plus some overscan) are rendered, so 500 x 50 stays fast. */
function useWindow(rows: unknown[]) {
  const count = rows.length;
  const ref = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 800 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    let frame = 0;
    const measure = () => {
      frame = 0;
      setView((v) => (v.top === el.scrollTop && v.height === el.clientHeight ? v : { top: el.scrollTop, height: el.clientHeight }));
    };
    const later = () => (frame ||= requestAnimationFrame(measure));
    measure();
    el.addEventListener('scroll', later, { passive: true });
    addEventListener('resize', later);
    return () => {
      el.removeEventListener('scroll', later);
      removeEventListener('resize', later);
      cancelAnimationFrame(frame);
    };
  }, []);
  // Other rows (a filter): back to the top, or the window could point past the end.
  useEffect(() => {
    const el = ref.current;
    if (!el || el.scrollTop === 0) return;
    el.scrollTop = 0;
    setView({ top: 0, height: el.clientHeight });
  }, [rows]);
  const first = Math.max(0, Math.floor(view.top / ROW_H) - OVERSCAN);
  const last = Math.min(count, Math.ceil((view.top + view.height) / ROW_H) + OVERSCAN);
  return { ref, first, last };
}

function Head({ kinds }: { kinds: HostKind[] }) {
  return html`<thead>
    <tr>
      <th class="corner">Guest class <span class="muted">(guests)</span> ↓ · host kind →</th>
      ${kinds.map(
        (k) => html`<th class="col" title=${`${k.label}\n${k.id}\n${k.members.length} hosts: ${k.members.join(', ')}`}>
          <span>${kindShort(k)}</span>
        </th>`,
      )}
    </tr>
  </thead>`;
}

interface RowProps {
  gc: GuestClass;
  kinds: HostKind[];
  grid: Grid;
  selected: MatrixCell | undefined;
}

/** One guest class; re-rendered only when its own data or its selected cell changes. */
class Row extends Component<RowProps> {
  override shouldComponentUpdate(next: RowProps): boolean {
    const p = this.props;
    const mine = (s: MatrixCell | undefined) => (s?.guestClass === p.gc.id ? s : undefined);
    return next.gc !== p.gc || next.kinds !== p.kinds || next.grid !== p.grid || mine(next.selected) !== mine(p.selected);
  }

  override render({ gc, kinds, grid, selected }: RowProps) {
    const from = gc.source ? kinds.find((k) => k.id === gc.source) : undefined;
    return html`<tr>
      <th class="row" title=${`${gc.label}\n${gc.id}\n${gc.count} guests, e.g. ${gc.members.slice(0, 20).join(', ')}`}>
        <span class="n">${gc.count}</span>${gc.machine} ${gc.cpu} <span class="muted">${from ? `on ${from.qemu} ${from.accel}` : gc.source ? '' : 'no host'}</span>
      </th>
      ${kinds.map((k) => {
        const c = grid.get(cellKey(gc.id, k.id));
        if (!c) return html`<td class="c o-none" title="not computed">·</td>`;
        const sel = selected === c ? ' sel' : '';
        return html`<td class=${`c o-${c.outcome}${sel}`} data-gc=${gc.id} data-hk=${k.id}
          title=${`${gc.id} on ${k.id}: ${c.outcome}${c.codes.length ? `\n${c.codes.join(', ')}` : ''}`}>${outcomeMark(c.outcome)}</td>`;
      })}
    </tr>`;
  }
}

export function Heatmap({ rows, kinds, grid, selected, onPick }: Props) {
  const { ref, first, last } = useWindow(rows);
  const visible = useMemo(() => rows.slice(first, last), [rows, first, last]);
  const click = (e: MouseEvent) => {
    const td = (e.target as HTMLElement).closest('td[data-gc]') as HTMLElement | null;
    const c = td && grid.get(cellKey(td.dataset.gc ?? '', td.dataset.hk ?? ''));
    if (c) onPick(c);
  };
  const span = kinds.length + 1;
  return html`<div class="heat-scroll" ref=${ref} data-testid="heatmap">
    <table class="heat" style=${`width:${HEAD_W + CELL_W * kinds.length}px`} onClick=${click}>
      <${Head} kinds=${kinds} />
      <tbody>
        ${first > 0 ? html`<tr class="spacer" style=${`height:${first * ROW_H}px`}><td colspan=${span}></td></tr>` : null}
        ${visible.map((gc) => html`<${Row} key=${gc.id} gc=${gc} kinds=${kinds} grid=${grid} selected=${selected} />`)}
        ${last < rows.length ? html`<tr class="spacer" style=${`height:${(rows.length - last) * ROW_H}px`}><td colspan=${span}></td></tr>` : null}
      </tbody>
    </table>
  </div>`;
}
