import { checkMigration } from '../check/check.js';
import type { Outcome } from '../model/verdict.js';
import { answerTier, answerValidate, todayOption } from '../service/answers.js';
import { UserError } from '../util/errors.js';
import type { ServerContext } from './context.js';
import { checkedSpec, type GuestRecord } from './guests.js';

interface Destination {
  host: string;
  kind: string;
  outcome: Outcome;
  rollback: Outcome;
  codes: string[];
}

/** Where a stored guest can go: a check (both ways) from its host to every host, once per host kind. */
async function destinations(ctx: ServerContext, g: GuestRecord): Promise<Destination[]> {
  if (!g.host) return [];
  const from = await ctx.targetHost(g.host);
  const spec = checkedSpec(g.spec, g.pinned);
  const byKind = new Map<string, Omit<Destination, 'host' | 'kind'>>();
  const out: Destination[] = [];
  const hosts = await ctx.store.listHosts();
  const targets = await ctx.targetHosts(hosts.map((h) => h.name));
  for (const h of hosts) {
    let v = byKind.get(h.kind);
    if (!v) {
      const r = checkMigration({ source: spec, from, to: targets.get(h.name)!, rules: ctx.rules, bothWays: true });
      const codes = [...r.forward.reasons, ...(r.rollback?.reasons ?? [])].filter((x) => x.effect).map((x) => x.code);
      v = { outcome: r.forward.outcome, rollback: r.rollback?.outcome ?? 'unknown', codes: [...new Set(codes)] };
      byKind.set(h.kind, v);
    }
    out.push({ host: h.name, kind: h.kind, ...v });
  }
  return out;
}

/** An answer that cannot be given for this guest (no OS known, a machine no catalog has) is null, with why. */
function optional<T>(f: () => T): { value: T | null; why?: string } {
  try {
    return { value: f() };
  } catch (e) {
    if (e instanceof UserError) return { value: null, why: e.message };
    throw e;
  }
}

/** Everything the guest page shows, from the same functions as `check`, `tier` and `validate`. */
export async function guestReport(ctx: ServerContext, g: GuestRecord & { name: string }) {
  const today = todayOption(undefined);
  const host = g.host ? await ctx.targetHost(g.host) : undefined;
  const validation = host ? optional(() => answerValidate({ spec: g.spec, source: `guest '${g.name}'`, host, today })) : { value: null, why: 'the guest has no host' };
  const machine = g.pinnedMachine ?? g.machine;
  const tier = g.os ? optional(() => answerTier({ os: g.os!, machine, qemu: host?.catalog.id, today, osField: 'os' })) : { value: null, why: 'the definition names no guest OS (libosinfo metadata)' };
  return {
    name: g.name,
    host: g.host,
    pinned: g.pinned,
    pinError: g.pinError,
    validation: validation.value,
    ...(validation.why ? { validationUnavailable: validation.why } : {}),
    tier: tier.value,
    ...(tier.why ? { tierUnavailable: tier.why } : {}),
    destinations: await destinations(ctx, g),
  };
}
