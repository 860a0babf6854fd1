import { html } from './html.js';
import { get } from './api.js';
import { useLoad } from './load.js';
import { useRoute, type Route } from './route.js';
import type { Health } from './types.js';
import { TokenBox } from './components/token.js';
import { Overview } from './views/overview.js';
import { MatrixView } from './views/matrix.js';
import { UpgradeView } from './views/upgrade.js';
import { GuestView } from './views/guest.js';

const TABS: [Route['view'], string, string][] = [
  ['overview', '#/', 'Fleet'],
  ['matrix', '#/matrix', 'Migration matrix'],
  ['upgrade', '#/upgrade', 'Upgrade simulator'],
];

function Header({ route }: { route: Route }) {
  const health = useLoad((s) => get<Health>('/health', s), []);
  const h = health.data;
  return html`<header>
    <a class="brand" href="#/">guestabi</a>
    <nav>
      ${TABS.map(([view, href, label]) => html`<a href=${href} class=${route.view === view ? 'active' : ''}>${label}</a>`)}
      ${route.view === 'guest' ? html`<a class="active" href=${location.hash}>Guest ${route.name}</a>` : null}
    </nav>
    <span class="health muted" title="GET /api/health">
      ${health.error ? html`<span class="bad">server unreachable</span>` : h ? `${h.version} · ${h.db}` : '…'}
    </span>
    <${TokenBox} />
  </header>`;
}

function Body({ route }: { route: Route }) {
  switch (route.view) {
    case 'overview':
      return html`<${Overview} />`;
    case 'matrix':
      return html`<${MatrixView} />`;
    case 'upgrade':
      return html`<${UpgradeView} />`;
    case 'guest':
      return html`<${GuestView} key=${route.name} name=${route.name} />`;
    default:
      return html`<p>No page at <code>${route.hash}</code>. <a href="#/">Go to the fleet overview.</a></p>`;
  }
}

export function App() {
  const route = useRoute();
  return html`<${Header} route=${route} /><main class=${`view-${route.view}`}><${Body} route=${route} /></main>`;
}
