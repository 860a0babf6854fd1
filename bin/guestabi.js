#!/usr/bin/env node
// The guestabi command: runs the compiled CLI (npm ci builds it; npm run build rebuilds it).
process.env.GUESTABI_CLI = '1';
await import('../dist/src/cli/main.js');
