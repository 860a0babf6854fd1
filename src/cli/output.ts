import { sortKeysDeep } from '../catalog/props.js';

/** Exact JSON for --json: stable key order, two-space indent. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(sortKeysDeep(value), null, 2) + '\n');
}

export function print(line = ''): void {
  process.stdout.write(line + '\n');
}

/** A plain-text table: columns padded to their widest cell. */
export function table(rows: string[][], header?: string[]): string {
  const all = header ? [header, ...rows] : rows;
  const widths: number[] = [];
  for (const r of all) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  const fmt = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const lines = all.map(fmt);
  if (header) lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines.join('\n');
}

/** Wrap a list of words to `width` columns, indented. */
export function wrapList(items: string[], indent = '  ', width = 100): string {
  const lines: string[] = [];
  let cur = indent;
  for (const it of items) {
    if (cur.length + it.length + 1 > width && cur.trim()) {
      lines.push(cur.trimEnd());
      cur = indent;
    }
    cur += it + ' ';
  }
  if (cur.trim()) lines.push(cur.trimEnd());
  return lines.join('\n');
}

/**
 * Progress on stderr. On a terminal: one line, rewritten. Piped (a log, CI, `2>file`): silent,
 * unless `lines` is set, then one line at the start, at every tenth and at the end, so that a run
 * of minutes shows that it is alive without filling the log.
 */
export function progressReporter(label: string, opts: { lines?: boolean } = {}): (done: number, total: number, what: string) => void {
  if (!process.stderr.isTTY) {
    if (!opts.lines) return () => undefined;
    let shown = -1;
    return (done, total, what) => {
      const tenth = total ? Math.floor((done / total) * 10) : 10;
      if (tenth === shown && done !== total) return;
      shown = tenth;
      process.stderr.write(`${label}: ${done}/${total} ${what}\n`);
    };
  }
  return (done, total, what) => {
    const width = 24;
    const filled = total ? Math.round((done / total) * width) : 0;
    process.stderr.write(`\r\x1b[K${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${what}`);
    if (done === total) process.stderr.write('\r\x1b[K');
  };
}

/** One line on stderr saying what a long command does now (stdout stays the result). */
export function stage(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function fmtValue(v: unknown): string {
  if (v === undefined) return '(absent)';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

/** A lab confusion table: predicted outcomes (rows) against observed ones (columns). */
export function printConfusion(confusion: Record<string, { safe: number; unsafe: number; impossible: number }>): void {
  print();
  print('predicted \\ observed   safe  unsafe  impossible');
  for (const [p, row] of Object.entries(confusion)) {
    print(`${p.padEnd(22)} ${String(row.safe).padStart(4)}  ${String(row.unsafe).padStart(6)}  ${String(row.impossible).padStart(10)}`);
  }
  print();
}
