import { checkMigration } from '../../check/check.js';
import { parseGuestText } from '../../formats/guest-input.js';
import { PinnedAbi } from '../../model/pinned.js';
import { groupHosts } from '../../resolve/target.js';
import { TierResult, ValidationReport } from '../../model/policy.js';
import { CheckResult } from '../../model/verdict.js';
import { answerResolve, answerTier, answerValidate, todayOption } from '../../service/answers.js';
import type { App } from '../app.js';
import type { ServerContext } from '../context.js';
import { checkedSpec } from '../guests.js';
import { CheckRequest, ResolveRequest, TierRequest, ValidateRequest } from '../schemas.js';

const tags = ['questions'];

/**
 * What-if questions: they read the store and change nothing. Each calls the function the CLI
 * command of the same name calls, so `guestabi check --json` and POST /api/check give one document.
 */
export function questionRoutes(app: App, ctx: ServerContext): void {
  app.post('/api/check', { schema: { summary: 'Can the guest migrate from one host to another (and back)?', tags, body: CheckRequest, response: { 200: CheckResult } } }, async (req) => {
    const b = req.body;
    const g = await ctx.guestSpec(b);
    const destination = b.destDefinition !== undefined ? parseGuestText(b.destDefinition, 'destDefinition').spec : undefined;
    const [from, to] = [await ctx.targetHost(b.from, 'from'), await ctx.targetHost(b.to, 'to')];
    return checkMigration({ source: checkedSpec(g.spec, g.pinned), destination, from, to, rules: ctx.rules, bothWays: b.bothWays });
  });

  app.post('/api/resolve', { schema: { summary: 'Pin a guest against hosts: versioned machine type, CPU model, devices', tags, body: ResolveRequest, response: { 200: PinnedAbi } } }, async (req) => {
    const g = await ctx.guestSpec(req.body);
    const hosts = [];
    for (const name of new Set(req.body.hosts)) hosts.push(await ctx.targetHost(name, 'hosts'));
    const target = hosts.length === 1 ? { kind: 'host' as const, name: hosts[0]!.name, hosts } : { kind: 'cluster' as const, name: 'request', hosts: groupHosts(hosts) };
    return answerResolve(g.spec, target, req.body.policy ?? 'highest-runnable', g.source);
  });

  app.post('/api/tier', { schema: { summary: 'The support tier of a guest OS on a machine type', tags, body: TierRequest, response: { 200: TierResult } } }, async (req) => {
    const b = req.body;
    return answerTier({ ...b, today: todayOption(b.today), osField: 'os' });
  });

  app.post('/api/validate', { schema: { summary: 'Vulnerability exposure, best practice and OS tier of a guest on a host', tags, body: ValidateRequest, response: { 200: ValidationReport } } }, async (req) => {
    const b = req.body;
    const g = await ctx.guestSpec(b);
    return answerValidate({ spec: g.spec, source: g.source, host: await ctx.targetHost(b.host, 'host'), os: b.os, osField: 'os', today: todayOption(b.today) });
  });
}
