/** A small benchmark harness: warm up, run for a fixed time, report ops/s and latency percentiles. */
export interface BenchResult {
  name: string;
  ops: number;
  seconds: number;
  opsPerSecond: number;
  p50us: number;
  p99us: number;
}

export function bench(name: string, fn: () => void, seconds = 2): BenchResult {
  const warmUntil = performance.now() + 300;
  while (performance.now() < warmUntil) fn();
  const samples: number[] = [];
  const end = performance.now() + seconds * 1000;
  let ops = 0;
  const started = performance.now();
  while (performance.now() < end) {
    const t = performance.now();
    fn();
    samples.push(performance.now() - t);
    ops++;
  }
  const elapsed = (performance.now() - started) / 1000;
  samples.sort((a, b) => a - b);
  const pct = (p: number) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))]! * 1000;
  return { name, ops, seconds: elapsed, opsPerSecond: ops / elapsed, p50us: pct(0.5), p99us: pct(0.99) };
}

export function report(results: BenchResult[]): void {
  const w = Math.max(...results.map((r) => r.name.length));
  for (const r of results) {
    console.log(`${r.name.padEnd(w)}  ${r.opsPerSecond.toFixed(0).padStart(9)} ops/s  p50 ${r.p50us.toFixed(1).padStart(8)} us  p99 ${r.p99us.toFixed(1).padStart(8)} us  (${r.ops} runs)`);
  }
}
