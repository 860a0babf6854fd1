import { Type } from '@sinclair/typebox';
import { HostProfile } from '../../model/host.js';
import type { App } from '../app.js';
import type { ServerContext } from '../context.js';
import { ifMatch, setEtag } from '../etag.js';
import { HttpProblem } from '../problem.js';
import { HistoryList, NameParams, VersionParams, Written } from '../schemas.js';
import { hostColumns } from '../summaries.js';

const HostSummary = Type.Object(
  {
    name: Type.String(),
    version: Type.Integer(),
    updatedAt: Type.String(),
    source: Type.String(),
    arch: Type.String(),
    qemu: Type.String(),
    catalog: Type.String(),
    accel: Type.String(),
    cpu: Type.String(),
    kernel: Type.String(),
    kind: Type.String({ description: 'Hosts of one kind answer every question alike (same QEMU build, accelerator, CPU models they can run).' }),
  },
  { additionalProperties: true },
);
const HostDoc = Type.Object({ name: Type.String(), version: Type.Integer(), updatedAt: Type.String(), source: Type.String(), profile: HostProfile }, { additionalProperties: true });
const tags = ['hosts'];

function notFound(name: string): HttpProblem {
  return new HttpProblem(404, 'HOST_UNKNOWN', `no host called '${name}'`);
}

/** Host profiles: PUT one from `guestabi probe --push`, read them, and their history. */
export function hostRoutes(app: App, ctx: ServerContext): void {
  app.get('/api/hosts', { schema: { summary: 'Every host, summarised', tags, response: { 200: Type.Object({ items: Type.Array(HostSummary) }) } } }, async () => ({ items: await ctx.store.listHosts() }));

  app.get('/api/hosts/:name', { schema: { summary: 'One host profile', tags, params: NameParams, response: { 200: HostDoc } } }, async (req, reply) => {
    const row = await ctx.store.getHost(req.params.name);
    if (!row) throw notFound(req.params.name);
    setEtag(reply, row.version);
    return row;
  });

  app.put('/api/hosts/:name', { schema: { summary: 'Store a host profile (create, or replace with If-Match)', tags, params: NameParams, body: HostProfile, response: { 200: Written, 201: Written } } }, async (req, reply) => {
    const profile = req.body;
    const catalog = ctx.catalogForProfile(profile, 'body');
    const w = await ctx.store.putHost(req.params.name, { profile, ...hostColumns(profile, catalog) }, { source: `api:${req.caller.name}`, ifMatch: ifMatch(req) });
    setEtag(reply, w.version);
    return reply.code(w.created ? 201 : 200).send({ name: req.params.name, version: w.version });
  });

  app.delete('/api/hosts/:name', { schema: { summary: 'Remove a host (its history stays)', tags, params: NameParams } }, async (req, reply) => {
    await ctx.store.deleteHost(req.params.name, { source: `api:${req.caller.name}`, ifMatch: ifMatch(req) });
    return reply.code(204).send();
  });

  app.get('/api/hosts/:name/history', { schema: { summary: 'Every version of a host profile, with its time and source', tags, params: NameParams, response: { 200: HistoryList } } }, async (req) => {
    const items = await ctx.store.hostHistory(req.params.name);
    if (!items.length) throw notFound(req.params.name);
    return { items };
  });

  app.get('/api/hosts/:name/history/:version', { schema: { summary: 'One past version of a host profile', tags, params: VersionParams, response: { 200: HostDoc } } }, async (req) => {
    const row = await ctx.store.hostAt(req.params.name, Number(req.params.version));
    if (!row) throw new HttpProblem(404, 'VERSION_UNKNOWN', `host '${req.params.name}' has no version ${req.params.version}`);
    return row;
  });
}
