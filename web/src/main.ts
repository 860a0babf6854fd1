import { render } from 'preact';
import { html } from './html.js';
import { App } from './app.js';

const root = document.getElementById('app');
if (root) render(html`<${App} />`, root);
