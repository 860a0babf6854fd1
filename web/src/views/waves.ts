import { useMemo } from 'preact/hooks';
import { html } from '../html.js';
import type { HostSummary } from '../types.js';

interface Props {
  hosts: HostSummary[];
  waves: string[][];
  active: number;
  target: string;
  onChange: (waves: string[][]) => void;
}

/** Hosts grouped by kind, each a checkbox for the active wave; a host sits in one wave at most. */
export function WavePicker({ hosts, waves, active, target, onChange }: Props) {
  const kinds = useMemo(() => {
    const m = new Map<string, HostSummary[]>();
    for (const h of hosts) m.set(h.kind, [...(m.get(h.kind) ?? []), h]);
    return [...m.entries()];
  }, [hosts]);
  const waveOf = new Map<string, number>();
  waves.forEach((w, i) => w.forEach((h) => waveOf.set(h, i)));
  const set = (names: string[], on: boolean) => {
    const next = waves.map((w, i) => (i === active ? w.filter((h) => !names.includes(h)) : w));
    if (on) next[active] = [...(next[active] ?? []), ...names.filter((n) => waveOf.get(n) === undefined || waveOf.get(n) === active)];
    onChange(next);
  };
  return html`<div class="picker" data-testid="host-picker">
    ${kinds.map(([kind, hs]) => {
      const free = hs.filter((h) => (waveOf.get(h.name) ?? active) === active).map((h) => h.name);
      const inWave = free.filter((n) => waveOf.get(n) === active).length;
      const h0 = hs[0];
      return html`<fieldset data-kind=${kind}>
        <legend>
          <label><input type="checkbox" checked=${free.length > 0 && inWave === free.length} disabled=${!free.length}
            ref=${(el: HTMLInputElement | null) => el && (el.indeterminate = inWave > 0 && inWave < free.length)}
            onChange=${(e: Event) => set(free, (e.target as HTMLInputElement).checked)} />
            QEMU ${h0?.qemu} ${h0?.accel} · ${h0?.cpu} <span class="muted">· kernel ${h0?.kernel} · kind ${kind} · ${hs.length}</span></label>
        </legend>
        ${hs.map((h) => {
          const w = waveOf.get(h.name);
          const other = w !== undefined && w !== active;
          return html`<label class=${`host ${other ? 'muted' : ''}`} title=${`${h.name}: QEMU ${h.qemu} (${h.catalog})`}>
            <input type="checkbox" data-host=${h.name} checked=${w === active} disabled=${other}
              onChange=${(e: Event) => set([h.name], (e.target as HTMLInputElement).checked)} />
            ${h.name}${other ? html` <span class="tag">wave ${w + 1}</span>` : null}${h.catalog === target ? html` <span class="tag">on target</span>` : null}
          </label>`;
        })}
      </fieldset>`;
    })}
  </div>`;
}
