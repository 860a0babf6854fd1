/** npm run bench: every benchmark, with figures. */
import { report } from './harness.js';
import { resolveBenches } from './resolve.bench.js';

console.log(`node ${process.version}, ${process.arch}; one core per benchmark, wall-clock time`);
report(resolveBenches());
