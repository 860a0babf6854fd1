import { withoutDevice, type GenGuest, type GenPair } from './generate.js';

/**
 * Reduce a disagreeing pair to the smallest one that still disagrees: take one element away at a
 * time (a device, a CPU feature, the topology, the memory hotplug area, the destination's own
 * definition), keep the step when the predicate still holds, and start over until no step does.
 * Pure: the predicate (a real migration, in the lab) is given.
 */
export async function shrinkPair(pair: GenPair, stillDisagrees: (p: GenPair) => Promise<boolean>, o: { maxTries?: number } = {}): Promise<{ pair: GenPair; tries: number }> {
  let current = pair;
  let tries = 0;
  const max = o.maxTries ?? 60;
  for (let progress = true; progress && tries < max; ) {
    progress = false;
    for (const candidate of reductions(current)) {
      if (tries >= max) break;
      tries++;
      if (await stillDisagrees(candidate)) {
        current = candidate;
        progress = true;
        break;
      }
    }
  }
  return { pair: current, tries };
}

/** Every pair one step smaller than `p`, the biggest steps first. */
export function reductions(p: GenPair): GenPair[] {
  const out: GenPair[] = [];
  if (p.destination) out.push({ ...p, destination: undefined, change: undefined });
  const both = (f: (g: GenGuest) => GenGuest | undefined): void => {
    const s = f(p.source);
    const d = p.destination && f(p.destination);
    if (s || d) out.push({ ...p, source: s ?? p.source, destination: p.destination && (d ?? p.destination) });
  };
  // An element goes from every side that has it: a device on both sides is the same device.
  const keys = new Set([...p.source.devices, ...(p.destination?.devices ?? [])].map((d) => d.key));
  for (const key of keys) both((g) => (g.devices.some((d) => d.key === key) ? { ...g, devices: withoutDevice(g.devices, key) } : undefined));
  const features = new Set([...p.source.cpuProps, ...(p.destination?.cpuProps ?? [])].map(([f]) => f));
  for (const f of features) both((g) => (g.cpuProps.some(([n]) => n === f) ? { ...g, cpuProps: g.cpuProps.filter(([n]) => n !== f) } : undefined));
  both((g) => (g.devices.some((d) => d.props) ? { ...g, devices: g.devices.map(({ props: _p, ...d }) => d) } : undefined));
  both((g) => (g.machineOpts ? { ...g, machineOpts: undefined } : undefined));
  both((g) => (g.globals ? { ...g, globals: undefined } : undefined));
  both((g) => (g.defaults ? { ...g, defaults: undefined } : undefined));
  both((g) => (g.smp ? { ...g, smp: undefined } : undefined));
  both((g) => (g.hotplug ? { ...g, hotplug: undefined } : undefined));
  both((g) => (g.memMiB !== 128 ? { ...g, memMiB: 128 } : undefined));
  return out;
}
