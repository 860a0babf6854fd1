import type { Props, PropValue } from '../model/common.js';
import type { QmpClient } from './client.js';

/**
 * Every readable property of a QOM object but those in `hidden`, pipelined. Structured values
 * (the machine's smp and memory) are spread into dotted keys, so that a field one build adds is
 * one more key rather than a different value.
 */
export async function readQomProps(qmp: Pick<QmpClient, 'execute'>, path: string, hidden: ReadonlySet<string>): Promise<Props> {
  const list = await qmp.execute<{ name: string; type: string }[]>('qom-list', { path });
  const names = list.filter((p) => !p.type.startsWith('child<') && !p.type.startsWith('link<') && !hidden.has(p.name)).map((p) => p.name);
  const values = await Promise.all(
    names.map((name) =>
      qmp.execute<unknown>('qom-get', { path, property: name }).then(
        (v) => v,
        () => undefined, // write-only or not readable now: not part of the picture
      ),
    ),
  );
  const out: Props = {};
  names.forEach((n, i) => {
    const v = values[i];
    if (v === undefined || v === null) return;
    if (typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (x !== null && x !== undefined) out[`${n}.${k}`] = typeof x === 'object' ? JSON.stringify(x) : (x as PropValue);
      }
    } else out[n] = typeof v === 'object' ? JSON.stringify(v) : (v as PropValue);
  });
  return out;
}
