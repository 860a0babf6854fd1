import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'test/fixtures/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      eqeqeq: ['error', 'smart'],
    },
  },
  {
    // The pure core: guests, catalogs, profiles and rules in, answers out. No files, processes,
    // network or clock (node:*), and nothing from the edges that do them: loaders are in src/io,
    // QEMU in src/qmp and src/probe, the lab, the CLI, the store and the server call the core,
    // never the other way round.
    files: ['src/model/**/*.ts', 'src/catalog/**/*.ts', 'src/resolve/**/*.ts', 'src/check/**/*.ts', 'src/policy/**/*.ts', 'src/fleet/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^node:|^(fs|path|url|os|crypto|child_process|net|http|https|stream|worker_threads|zlib|readline)(/|$)',
              message: 'the pure core does no I/O: read files in src/io and pass the data in',
            },
            {
              regex: '^(\\.\\./)+(qmp|probe|lab|cli|io|store|server)(/|$)',
              message: 'the pure core does not import the edges (qmp, probe, lab, cli, io, store, server): they call it',
            },
          ],
        },
      ],
    },
  },
  {
    // The web page: browser code (type-checked by web/tsconfig.json with the DOM lib).
    files: ['web/**/*.ts'],
    languageOptions: {
      globals: Object.fromEntries(
        ['window', 'document', 'location', 'history', 'navigator', 'sessionStorage', 'fetch', 'URL', 'Blob', 'AbortController',
          'requestAnimationFrame', 'cancelAnimationFrame', 'addEventListener', 'removeEventListener', 'setTimeout', 'HTMLElement',
          'HTMLInputElement', 'HTMLSelectElement', 'HTMLDivElement', 'Event', 'MouseEvent'].map((g) => [g, 'readonly']),
      ),
    },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
