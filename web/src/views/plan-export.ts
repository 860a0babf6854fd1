import type { Reason, UpgradePlan } from '../types.js';

export const fenceText = (f: Reason): string => `${f.code}: ${f.subject}`;

/** RFC 4180: quote every field that needs it, double the quotes inside. */
function csvField(v: string | number): string {
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const COLUMNS = ['wave', 'guest', 'host', 'state', 'memorySnapshots', 'machine', 'machineStatus', 'suggestedMachine', 'forward', 'forwardTo', 'rollback', 'rollbackTo', 'codes', 'fence'];

/** One line per guest and wave, with every column of the plan's guest rows. */
export function planCsv(plan: UpgradePlan): string {
  const lines = [COLUMNS.join(',')];
  for (const w of plan.waves) {
    for (const g of w.guests) {
      const row = [w.index, g.guest, g.host, g.state, g.memorySnapshots, g.machine, g.machineStatus, g.suggestedMachine ?? '', g.forward, g.forwardTo, g.rollback, g.rollbackTo, g.codes.join(' '), g.fence.map(fenceText).join('; ')];
      lines.push(row.map(csvField).join(','));
    }
  }
  return `${lines.join('\r\n')}\r\n`;
}

export function download(name: string, type: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function exportPlan(plan: UpgradePlan, format: 'json' | 'csv'): void {
  const base = `guestabi-upgrade-${plan.to}`;
  if (format === 'json') download(`${base}.json`, 'application/json', `${JSON.stringify(plan, null, 2)}\n`);
  else download(`${base}.csv`, 'text/csv', planCsv(plan));
}
