import { html } from '../html.js';
import type { GuestDoc, PinnedAbi, PinnedDevice } from '../types.js';
import { fmt } from '../components/common.js';
import { ReasonTable } from '../components/reasons.js';

const props = (p: Record<string, unknown>): string =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${fmt(v)}`)
    .join(', ');

function Features({ features }: { features: Record<string, boolean> }) {
  const names = Object.keys(features).sort();
  if (!names.length) return html`<span class="muted">none beyond the model</span>`;
  return html`<span class="features">${names.map((n) => html`<code class=${features[n] ? 'on' : 'off'}>${features[n] ? '+' : '-'}${n}</code> `)}</span>`;
}

function Devices({ devices }: { devices: PinnedDevice[] }) {
  return html`<table class="grid">
    <thead><tr><th>Device</th><th>Id</th><th>Role</th><th>Placement</th><th>Catalog</th><th>Set by the guest</th></tr></thead>
    <tbody>
      ${devices.map(
        (d) => html`<tr>
          <td class="nw"><code>${d.type}</code></td><td>${d.id ?? ''}</td><td>${d.role ?? ''}</td><td>${d.placement}</td>
          <td>${d.catalogKey ?? html`<span class="bad">not in catalog</span>`}</td>
          <td class="val">${props(d.explicit)}</td>
        </tr>`,
      )}
    </tbody>
  </table>`;
}

/** The pinned ABI: versioned machine type, CPU model with its features, memory, vCPUs, devices. */
export function PinnedView({ pinned }: { pinned: PinnedAbi }) {
  const cpu = pinned.cpu;
  const id = cpu.identity;
  return html`<div data-testid="pinned">
    <table class="grid kv">
      <tbody>
        <tr><th>Machine</th><td><code data-testid="pinned-machine">${pinned.machine.type}</code>${' '}
          <span class="muted">family ${pinned.machine.family}</span> ${props(pinned.machine.options)}</td></tr>
        <tr><th>CPU</th><td><code data-testid="pinned-cpu">${cpu.model ?? cpu.mode}</code> <span class="muted">${cpu.mode}</span>
          ${cpu.enforce ? ' enforce' : html` <span class="flag flag-bad">no enforce</span>`}
          ${cpu.hostDependent ? html` <span class="flag flag-bad">host-dependent</span>` : null}</td></tr>
        <tr><th>Features</th><td><${Features} features=${cpu.features} /></td></tr>
        ${Object.keys(cpu.properties).length ? html`<tr><th>CPU properties</th><td class="val">${props(cpu.properties)}</td></tr>` : null}
        ${id ? html`<tr><th>CPU identity</th><td>${id.vendor} family ${id.family} model ${id.model} stepping ${id.stepping} · ${id.modelId}</td></tr>` : null}
        <tr><th>Memory / vCPUs</th><td>${pinned.memory.sizeMiB} MiB · ${pinned.vcpus.count} vCPUs</td></tr>
        <tr><th>Resolved against</th><td>${pinned.provenance.against.hosts.map((h) => `${h.name} (${h.catalog}, ${h.accel})`).join(', ')}${' '}
          <span class="muted">· policy ${pinned.provenance.policy} · ${pinned.provenance.resolvedAt}</span></td></tr>
      </tbody>
    </table>
    <h3>Devices (${pinned.devices.length})</h3>
    <${Devices} devices=${pinned.devices} />
    ${pinned.warnings.length ? html`<h3>Warnings</h3><${ReasonTable} reasons=${pinned.warnings} a="Asked" b="Resolved" compact />` : null}
    <details><summary>Decisions (${pinned.provenance.decisions.length})</summary>
      <${ReasonTable} reasons=${pinned.provenance.decisions} a="Asked" b="Resolved" compact /></details>
  </div>`;
}

export function NotPinned({ guest }: { guest: GuestDoc }) {
  return html`<div class="error" data-testid="pin-error">
    <strong>Not pinned</strong>: ${guest.pinError?.message ?? 'the guest could not be resolved on its host.'}
    ${guest.pinError?.reasons?.length ? html`<${ReasonTable} reasons=${guest.pinError.reasons} a="Asked" b="Resolved" compact />` : null}
  </div>`;
}
