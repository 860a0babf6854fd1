import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { call, get, seg } from '../api.js';
import { useLoad } from '../load.js';
import type { GuestDoc, GuestReport } from '../types.js';
import { ErrorBox, Flag, Section, pending } from '../components/common.js';
import { NotPinned, PinnedView } from './guest-abi.js';
import { Destinations, Findings, History, TierView } from './guest-report.js';

const POLICIES = ['highest-runnable', 'machine-default', 'keep'];

/** The one write on this page: pin the guest again (PUT with If-Match: a stale version is refused). */
function Repin({ guest, etag, onDone }: { guest: GuestDoc; etag: string | null; onDone: () => void }) {
  const [policy, setPolicy] = useState(POLICIES[0] ?? '');
  const [state, setState] = useState<{ busy?: boolean; error?: Error; ok?: string }>({});
  const submit = async (e: Event) => {
    e.preventDefault();
    setState({ busy: true });
    try {
      const body = { definition: guest.definition, format: guest.format, host: guest.host ?? undefined, policy };
      const r = await call<{ version: number; pinned: boolean }>('PUT', `/guests/${seg(guest.name)}`, { body, ifMatch: etag ?? `"${guest.version}"` });
      setState({ ok: `Saved as version ${r.data.version}${r.data.pinned ? '' : ' (not pinned)'}.` });
      onDone();
    } catch (error) {
      setState({ error: error as Error });
    }
  };
  return html`<form class="repin" onSubmit=${submit}>
    <label>Pin again with policy <select value=${policy} onChange=${(e: Event) => setPolicy((e.target as HTMLSelectElement).value)}>
      ${POLICIES.map((p) => html`<option value=${p}>${p}</option>`)}</select></label>
    <button type="submit" disabled=${state.busy}>Pin again</button>
    <span class="muted">needs a read-write token</span>
    ${state.ok ? html`<span class="ok-note">${state.ok}</span>` : null}
    ${state.error ? html`<${ErrorBox} error=${state.error} />` : null}
  </form>`;
}

function Head({ doc, report }: { doc: GuestDoc; report: GuestReport | undefined }) {
  const g = report?.guest;
  return html`<div class="guest-head">
    <h1 data-testid="guest-name">${doc.name}</h1>
    <span>on <b>${doc.host ?? 'no host'}</b> · ${doc.format} · version ${doc.version} · updated ${doc.updatedAt}</span>
    ${g?.os ? html`<span>· OS <code>${g.os}</code></span>` : null}
    ${g?.abiClass ? html`<span>· ABI class <code>${g.abiClass}</code></span>` : null}
    <span>${g?.flags.map((f) => html`<${Flag} flag=${f} /> `)}</span>
  </div>`;
}

export function GuestView({ name }: { name: string }) {
  const doc = useLoad((s) => call<GuestDoc>('GET', `/guests/${seg(name)}`, { signal: s }), [name]);
  const report = useLoad((s) => get<GuestReport>(`/guests/${seg(name)}/report`, s), [name]);
  const reload = () => (doc.reload(), report.reload());
  const wait = pending(doc, `guest ${name}`);
  if (wait || !doc.data) return wait;
  const g = doc.data.data;
  const r = report.data;
  return html`<div class="guest">
    <${Head} doc=${g} report=${r} />
    <div class="cols">
      <${Section} title="Pinned ABI">${g.pinned ? html`<${PinnedView} pinned=${g.pinned} />` : html`<${NotPinned} guest=${g} />`}<//>
      <div>
        <${Section} title="Where it can go">${pending(report, 'the report') ?? html`<${Destinations} guest=${g.name} from=${g.host} rows=${r?.destinations ?? []} />`}<//>
        ${r ? html`<${Section} title="Guest OS tier">${r.tier ? html`<${TierView} tier=${r.tier} />` : html`<p class="muted">No tier: the guest names no OS (libosinfo metadata) or has no pinned machine type.</p>`}<//>` : null}
      </div>
    </div>
    ${r ? html`<${Section} title="Validation">${r.validation ? html`<${Findings} report=${r.validation} />` : html`<p class="muted">Not validated (the guest has no host or is not pinned).</p>`}<//>` : null}
    <div class="cols">
      <${Section} title="History"><${History} name=${g.name} current=${g.version} /><//>
      <${Section} title="Definition">
        <details><summary>${g.format} definition as stored</summary><pre class="definition">${g.definition}</pre></details>
        <${Repin} guest=${g} etag=${doc.data.etag} onDone=${reload} />
      <//>
    </div>
  </div>`;
}
