// htm bound to Preact's h(): tagged templates instead of JSX, so no compile step of our own.
export { html } from 'htm/preact';
