import type { FleetGuest, PreGroupedClass } from '../fleet/index.js';
import type { GuestSpec } from '../model/guest.js';
import type { TargetHost } from '../resolve/target.js';
import type { ServerContext } from './context.js';
import { checkedSpec } from './guests.js';
import { HttpProblem } from './problem.js';

/** The fleet as the planners take it: every host (profiles read once per kind) and guest classes. */
export interface FleetView {
  hosts: TargetHost[];
  kindOf: (h: TargetHost) => string | undefined;
  classes: PreGroupedClass[];
  /** Members of each class, for plans that answer per guest. */
  members: Map<PreGroupedClass, string[]>;
}

function pick<T extends { name: string }>(all: T[], names: readonly string[] | undefined, what: 'host' | 'guest'): T[] {
  if (!names) return all;
  const byName = new Map(all.map((x) => [x.name, x]));
  const missing = names.find((n) => !byName.has(n));
  if (missing !== undefined) throw new HttpProblem(404, what === 'host' ? 'HOST_UNKNOWN' : 'GUEST_UNKNOWN', `${what}s: no ${what} called '${missing}'`);
  return [...new Set(names)].map((n) => byName.get(n)!);
}

/**
 * Hosts of one kind check alike (src/fleet/kinds.ts), and the store keeps each host's kind: one
 * profile per kind is read and indexed, and every member shares its index under its own name.
 */
export async function fleetHosts(ctx: ServerContext, names?: readonly string[]): Promise<Pick<FleetView, 'hosts' | 'kindOf'>> {
  const list = pick(await ctx.store.listHosts(), names, 'host');
  const reps = new Map<string, string>();
  for (const h of list) if (!reps.has(h.kind)) reps.set(h.kind, h.name);
  const indexed = await ctx.targetHosts([...reps.values()]);
  const kinds = new Map(list.map((h) => [h.name, h.kind]));
  const hosts = list.map((h) => {
    const t = indexed.get(reps.get(h.kind)!)!;
    return t.name === h.name ? t : { ...t, name: h.name, members: [h.name] };
  });
  return { hosts, kindOf: (h) => kinds.get(h.name) };
}

/** Guest classes from the store (grouped in SQL), one definition read per class. */
export async function fleetClasses(ctx: ServerContext, hostNames: ReadonlySet<string>, guestNames?: readonly string[]): Promise<Pick<FleetView, 'classes' | 'members'>> {
  const wanted = guestNames ? new Set(guestNames) : undefined;
  const groups = (await ctx.store.guestClasses({ members: true })).filter((g) => g.host === null || hostNames.has(g.host));
  const specs = new Map<string, GuestSpec>();
  const samples = new Map<string, string>();
  for (const g of groups) if (!samples.has(g.abiClass!)) samples.set(g.abiClass!, g.sample);
  for (const row of await ctx.store.getGuestsByNames([...samples.values()])) specs.set(row.abiClass!, checkedSpec(row.spec, row.pinned));
  const classes: PreGroupedClass[] = [];
  const members = new Map<PreGroupedClass, string[]>();
  for (const g of groups) {
    const names = wanted ? g.members!.filter((n) => wanted.has(n)) : g.members!;
    if (!names.length) continue;
    const c: PreGroupedClass = { abiClass: g.abiClass!, host: g.host, count: names.length, sample: { name: names[0]!, spec: specs.get(g.abiClass!)! } };
    classes.push(c);
    members.set(c, names);
  }
  if (wanted && wanted.size > [...members.values()].reduce((n, m) => n + m.length, 0)) {
    const known = new Set([...members.values()].flat());
    throw new HttpProblem(404, 'GUEST_UNKNOWN', `guests: no guest called '${[...wanted].find((n) => !known.has(n))}' on these hosts`);
  }
  return { classes, members };
}

export async function fleetView(ctx: ServerContext, hostNames?: readonly string[], guestNames?: readonly string[]): Promise<FleetView> {
  const h = await fleetHosts(ctx, hostNames);
  return { ...h, ...(await fleetClasses(ctx, new Set(h.hosts.map((x) => x.name)), guestNames)) };
}

/** Every guest of the view, each sharing its class's definition. */
export function fleetGuests(view: FleetView): FleetGuest[] {
  return view.classes.flatMap((c) => view.members.get(c)!.map((name) => ({ name, spec: c.sample.spec, host: c.host, abiClass: c.abiClass })));
}
