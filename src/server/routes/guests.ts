import { Type } from '@sinclair/typebox';
import { GuestSpec } from '../../model/guest.js';
import { PinnedAbi } from '../../model/pinned.js';
import type { App } from '../app.js';
import type { ServerContext } from '../context.js';
import { ifMatch, setEtag } from '../etag.js';
import { guestBody, guestRecord } from '../guests.js';
import { HttpProblem } from '../problem.js';
import { guestReport } from '../report.js';
import { GuestPut, HistoryList, NameParams, VersionParams, Written } from '../schemas.js';

const GuestSummary = Type.Object(
  {
    name: Type.String(),
    version: Type.Integer(),
    updatedAt: Type.String(),
    source: Type.String(),
    host: Type.Union([Type.String(), Type.Null()]),
    format: Type.String(),
    machine: Type.String({ description: 'As written (an alias such as q35, or a versioned type).' }),
    cpu: Type.String({ description: 'As written: a model name, or host-model / host-passthrough / maximum.' }),
    pinnedMachine: Type.Union([Type.String(), Type.Null()]),
    pinnedCpu: Type.Union([Type.String(), Type.Null()]),
    abiClass: Type.String({ description: 'Guests of one class get the same answer to every check from the same host.' }),
    os: Type.Union([Type.String(), Type.Null()]),
    flags: Type.Array(Type.String(), { description: 'machine-unpinned, cpu-unpinned, cpu-host-dependent, not-pinned, machine-deprecated, cpu-deprecated' }),
  },
  { additionalProperties: true },
);
const GuestDoc = Type.Object(
  {
    name: Type.String(),
    version: Type.Integer(),
    definition: Type.String(),
    spec: GuestSpec,
    pinned: Type.Union([PinnedAbi, Type.Null()]),
  },
  { additionalProperties: true },
);
const tags = ['guests'];

function notFound(name: string): HttpProblem {
  return new HttpProblem(404, 'GUEST_UNKNOWN', `no guest called '${name}'`);
}

/** Guests: PUT a definition (libvirt XML, argv, GuestSpec); its pinned ABI is kept with it. */
export function guestRoutes(app: App, ctx: ServerContext): void {
  app.get('/api/guests', { schema: { summary: 'Every guest, summarised', tags, response: { 200: Type.Object({ items: Type.Array(GuestSummary) }) } } }, async () => ({ items: await ctx.store.listGuests() }));

  app.get('/api/guests/:name', { schema: { summary: 'One guest: its definition, how it reads, its pinned ABI', tags, params: NameParams, response: { 200: GuestDoc } } }, async (req, reply) => {
    const row = await ctx.store.getGuest(req.params.name);
    if (!row) throw notFound(req.params.name);
    setEtag(reply, row.version);
    return row;
  });

  app.put(
    '/api/guests/:name',
    {
      schema: {
        summary: 'Store a guest definition and pin it on its host (create, or replace with If-Match)',
        description: 'JSON {definition, format?, host?, policy?}, or the domain XML itself as application/xml.',
        tags,
        params: NameParams,
        body: Type.Union([GuestPut, Type.String({ minLength: 1 })]),
        response: { 200: Written, 201: Written },
      },
    },
    async (req, reply) => {
      const record = await guestRecord(ctx, req.params.name, guestBody(req.body, req.headers['content-type']));
      const w = await ctx.store.putGuest(req.params.name, record, { source: `api:${req.caller.name}`, ifMatch: ifMatch(req) });
      setEtag(reply, w.version);
      return reply.code(w.created ? 201 : 200).send({ name: req.params.name, version: w.version, pinned: record.pinned !== null, ...(record.pinError ? { pinError: record.pinError } : {}) });
    },
  );

  app.delete('/api/guests/:name', { schema: { summary: 'Remove a guest (its history stays)', tags, params: NameParams } }, async (req, reply) => {
    await ctx.store.deleteGuest(req.params.name, { source: `api:${req.caller.name}`, ifMatch: ifMatch(req) });
    return reply.code(204).send();
  });

  app.get('/api/guests/:name/history', { schema: { summary: 'Every version of a guest, with its time and source', tags, params: NameParams, response: { 200: HistoryList } } }, async (req) => {
    const items = await ctx.store.guestHistory(req.params.name);
    if (!items.length) throw notFound(req.params.name);
    return { items };
  });

  app.get('/api/guests/:name/history/:version', { schema: { summary: 'One past version of a guest', tags, params: VersionParams, response: { 200: GuestDoc } } }, async (req) => {
    const row = await ctx.store.guestAt(req.params.name, Number(req.params.version));
    if (!row) throw new HttpProblem(404, 'VERSION_UNKNOWN', `guest '${req.params.name}' has no version ${req.params.version}`);
    return row;
  });

  app.get('/api/guests/:name/report', { schema: { summary: 'A guest page: pinned ABI, where it can go, its tier and findings', tags, params: NameParams } }, async (req) => {
    return guestReport(ctx, await ctx.storedGuest(req.params.name, 'name'));
  });
}
