/** npm run bench: every benchmark, with figures. */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkBenches } from './check.bench.js';
import { report } from './harness.js';
import { resolveBenches } from './resolve.bench.js';

console.log(`node ${process.version}, ${process.arch}; one core per benchmark, wall-clock time`);
console.log('\n# resolve');
report(resolveBenches());
console.log('\n# check');
report(checkBenches());
const py = fileURLToPath(new URL('../../bench/libvirt-compare-cpu.py', import.meta.url));
if (existsSync('/usr/bin/python3')) {
  console.log('\n# for comparison');
  process.stdout.write(spawnSync('/usr/bin/python3', [py], { encoding: 'utf8' }).stdout);
}
