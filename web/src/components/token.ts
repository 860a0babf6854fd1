import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { getToken, setToken } from '../api.js';

/** The bearer token, kept in sessionStorage (gone when the tab closes). Reads work without one
 *  unless the server requires it; writes need a read-write token. */
export function TokenBox() {
  const [token, setLocal] = useState(getToken());
  const [draft, setDraft] = useState('');
  if (token) {
    return html`<span class="token">Token set${' '}
      <button type="button" onClick=${() => (setToken(''), setLocal(''))}>Forget</button></span>`;
  }
  const save = (e: Event) => {
    e.preventDefault();
    setToken(draft.trim());
    setLocal(draft.trim());
    setDraft('');
  };
  return html`<form class="token" onSubmit=${save}>
    <label>Token <input type="password" autocomplete="off" placeholder="for writes" value=${draft}
      onInput=${(e: Event) => setDraft((e.target as HTMLInputElement).value)} /></label>
    <button type="submit" disabled=${!draft.trim()}>Use</button>
  </form>`;
}
