import { defineConfig } from 'vite';

// The page is built from web/ into dist/web/, which `guestabi serve` serves at /.
// Paths come from this file's location so that the config works from any working directory.
const here = decodeURIComponent(new URL('.', import.meta.url).pathname);
// `vite dev` / `vite preview` forward /api to a running `guestabi serve` (GUESTABI_API, default :8080).
const api = { '/api': process.env.GUESTABI_API ?? 'http://127.0.0.1:8080' };

export default defineConfig({
  root: here,
  base: '/',
  build: {
    outDir: `${here}../dist/web`,
    emptyOutDir: true,
    target: 'es2022',
    reportCompressedSize: false,
    modulePreload: { polyfill: false },
  },
  server: { proxy: api },
  preview: { proxy: api },
});
