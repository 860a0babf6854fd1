import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, post } from '../api.js';
import { useLoad } from '../load.js';
import type { CatalogSummary, HostSummary, Items, UpgradePlan } from '../types.js';
import { ErrorBox, Section, pending, plural } from '../components/common.js';
import { WavePicker } from './waves.js';
import { PlanView } from './plan.js';

const byVersion = (a: CatalogSummary, b: CatalogSummary): number =>
  b.version.localeCompare(a.version, undefined, { numeric: true });

function WaveTabs({ waves, active, setActive, setWaves }: { waves: string[][]; active: number; setActive: (i: number) => void; setWaves: (w: string[][]) => void }) {
  const remove = () => {
    setWaves(waves.filter((_, i) => i !== active));
    setActive(Math.max(0, active - 1));
  };
  return html`<div class="tabs">
    ${waves.map(
      (w, i) => html`<button type="button" class=${i === active ? 'active' : ''} onClick=${() => setActive(i)}>Wave ${i + 1} (${w.length})</button>`,
    )}
    <button type="button" onClick=${() => (setWaves([...waves, []]), setActive(waves.length))}>+ Add wave</button>
    ${waves.length > 1 ? html`<button type="button" onClick=${remove}>Remove wave ${active + 1}</button>` : null}
  </div>`;
}

function usePlan() {
  const [state, setState] = useState<{ plan?: UpgradePlan; asked?: string; error?: Error; running: boolean }>({ running: false });
  const run = async (to: string, waves: string[][]) => {
    setState((s) => ({ ...s, running: true, error: undefined }));
    try {
      setState({ plan: await post<UpgradePlan>('/plans/upgrade', { to, waves }), asked: JSON.stringify({ to, waves }), running: false });
    } catch (error) {
      setState({ error: error as Error, running: false });
    }
  };
  return { ...state, run };
}

export function UpgradeView() {
  const hosts = useLoad((s) => get<Items<HostSummary>>('/hosts', s), []);
  const catalogs = useLoad((s) => get<Items<CatalogSummary>>('/catalogs', s), []);
  const [target, setTarget] = useState('');
  const [waves, setWaves] = useState<string[][]>([[]]);
  const [active, setActive] = useState(0);
  const plan = usePlan();
  const cats = [...(catalogs.data?.items ?? [])].sort(byVersion);
  useEffect(() => {
    if (!target && cats[0]) setTarget(cats[0].id);
  }, [cats[0]?.id]); // the newest build is the default target, once the catalogs are known
  const wait = pending(hosts, 'hosts') ?? pending(catalogs, 'catalogs');
  if (wait || !hosts.data) return wait;
  const chosen = waves.filter((w) => w.length);
  const count = chosen.reduce((n, w) => n + w.length, 0);
  return html`<div class="upgrade">
    <${Section} title="Upgrade simulator">
      <form class="toolbar" onSubmit=${(e: Event) => (e.preventDefault(), plan.run(target, chosen))}>
        <label>Target build <select data-testid="target" value=${target} onChange=${(e: Event) => setTarget((e.target as HTMLSelectElement).value)}>
          ${cats.map((c) => html`<option value=${c.id}>QEMU ${c.version} (${c.id}, ${c.arch})</option>`)}
        </select></label>
        <${WaveTabs} waves=${waves} active=${active} setActive=${setActive} setWaves=${setWaves} />
        <button type="submit" class="primary" disabled=${!count || !target || plan.running}>
          ${plan.running ? 'Simulating…' : `Simulate ${plural(chosen.length, 'wave')}, ${plural(count, 'host')}`}</button>
      </form>
      <p class="hint muted">Tick the hosts to upgrade in the selected wave. Waves run in order; each guest is checked forward (old → new build) and back.</p>
      <${WavePicker} hosts=${hosts.data.items} waves=${waves} active=${active} target=${target} onChange=${setWaves} />
    <//>
    ${plan.error ? html`<${ErrorBox} error=${plan.error} />` : null}
    ${plan.plan && plan.asked !== JSON.stringify({ to: target, waves: chosen })
      ? html`<p class="bad">The hosts or the target changed since this plan: simulate again.</p>`
      : null}
    ${plan.plan ? html`<${PlanView} plan=${plan.plan} />` : null}
  </div>`;
}
