import { useMemo } from 'preact/hooks';
import { html } from '../html.js';
import { get } from '../api.js';
import { useLoad } from '../load.js';
import { guestHref } from '../route.js';
import type { GuestSummary, HostSummary, Items } from '../types.js';
import { Flag, Section, pending, plural } from '../components/common.js';

/** Distinct values, in first-seen order, joined: hosts of one kind normally agree. */
const distinct = (xs: string[]): string => [...new Set(xs)].join(', ');

function groupBy<T>(items: T[], key: (t: T) => string): [string, T[]][] {
  const m = new Map<string, T[]>();
  for (const it of items) {
    const k = key(it);
    const list = m.get(k);
    if (list) list.push(it);
    else m.set(k, [it]);
  }
  return [...m.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
}

function Names({ names, max = 8, href }: { names: string[]; max?: number; href?: (n: string) => string }) {
  const shown = names.slice(0, max);
  return html`<span class="names">
    ${shown.map((n, i) => html`${i ? ', ' : ''}${href ? html`<a href=${href(n)}>${n}</a>` : n}`)}
    ${names.length > max ? html` <span class="muted">and ${names.length - max} more</span>` : null}
  </span>`;
}

function HostKinds({ hosts }: { hosts: HostSummary[] }) {
  const kinds = useMemo(() => groupBy(hosts, (h) => h.kind), [hosts]);
  return html`<table class="grid nowrap" data-testid="host-kinds">
    <thead><tr><th>Kind</th><th>QEMU</th><th>CPU</th><th>Kernel</th><th>Accel</th><th class="num">Hosts</th><th>Members</th></tr></thead>
    <tbody>
      ${kinds.map(
        ([kind, hs]) => html`<tr data-kind=${kind}>
          <td><code>${kind}</code></td>
          <td>${distinct(hs.map((h) => h.qemu))} <span class="muted">${distinct(hs.map((h) => h.catalog))}</span></td>
          <td>${distinct(hs.map((h) => h.cpu))}</td>
          <td>${distinct(hs.map((h) => h.kernel))}</td>
          <td>${distinct(hs.map((h) => h.accel))}</td>
          <td class="num" data-testid="kind-count">${hs.length}</td>
          <td><${Names} names=${hs.map((h) => h.name)} /></td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function GuestClasses({ guests }: { guests: GuestSummary[] }) {
  const classes = useMemo(() => groupBy(guests, (g) => g.abiClass ?? ''), [guests]);
  return html`<table class="grid nowrap" data-testid="guest-classes">
    <thead><tr><th>ABI class</th><th>Machine (pinned)</th><th>CPU (pinned)</th><th class="num">Guests</th><th>Members</th></tr></thead>
    <tbody>
      ${classes.map(
        ([cls, gs]) => html`<tr data-class=${cls}>
          <td>${cls ? html`<code>${cls}</code>` : html`<span class="bad">not pinned</span>`}</td>
          <td>${distinct(gs.map((g) => g.pinnedMachine ?? `${g.machine} (as written)`))}</td>
          <td>${distinct(gs.map((g) => g.pinnedCpu ?? `${g.cpu} (as written)`))}</td>
          <td class="num" data-testid="class-count">${gs.length}</td>
          <td><${Names} names=${gs.map((g) => g.name)} href=${guestHref} /></td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

function Flagged({ guests }: { guests: GuestSummary[] }) {
  const flagged = guests.filter((g) => g.flags.length).sort((a, b) => b.flags.length - a.flags.length || a.name.localeCompare(b.name));
  if (!flagged.length) return html`<p class="ok-note">Every guest has a pinned, current machine type and CPU model.</p>`;
  return html`<table class="grid" data-testid="flagged">
    <thead><tr><th>Guest</th><th>Host</th><th>Machine (as written)</th><th>CPU (as written)</th><th>Flags</th></tr></thead>
    <tbody>
      ${flagged.map(
        (g) => html`<tr>
          <td><a href=${guestHref(g.name)}>${g.name}</a></td>
          <td>${g.host ?? html`<span class="muted">none</span>`}</td>
          <td>${g.machine}${g.pinnedMachine && g.pinnedMachine !== g.machine ? html` <span class="muted">→ ${g.pinnedMachine}</span>` : null}</td>
          <td>${g.cpu}${g.pinnedCpu && g.pinnedCpu !== g.cpu ? html` <span class="muted">→ ${g.pinnedCpu}</span>` : null}</td>
          <td>${g.flags.map((f) => html`<${Flag} flag=${f} /> `)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

export function Overview() {
  const hosts = useLoad((s) => get<Items<HostSummary>>('/hosts', s), []);
  const guests = useLoad((s) => get<Items<GuestSummary>>('/guests', s), []);
  const wait = pending(hosts, 'hosts') ?? pending(guests, 'guests');
  if (wait || !hosts.data || !guests.data) return wait;
  const hs = hosts.data.items;
  const gs = guests.data.items;
  const kinds = new Set(hs.map((h) => h.kind)).size;
  const classes = new Set(gs.map((g) => g.abiClass ?? '')).size;
  const flagged = gs.filter((g) => g.flags.length).length;
  return html`<div class="overview">
    <p class="totals" data-testid="totals">
      <span data-testid="host-total">${plural(hs.length, 'host')}</span> in ${plural(kinds, 'kind')}${' · '}
      <span data-testid="guest-total">${plural(gs.length, 'guest')}</span> in ${plural(classes, 'ABI class', 'ABI classes')}${' · '}
      <span data-testid="flagged-total" class=${flagged ? 'bad' : ''}>${flagged} unpinned or deprecated</span>
    </p>
    <${Section} title="Hosts by kind"><${HostKinds} hosts=${hs} /><//>
    <${Section} title="Guests by ABI class"><${GuestClasses} guests=${gs} /><//>
    <${Section} title="Unpinned or deprecated"><${Flagged} guests=${gs} /><//>
  </div>`;
}
