import { Type } from '@sinclair/typebox';
import type { App } from '../app.js';
import type { ServerContext } from '../context.js';

const CatalogSummary = Type.Object({
  id: Type.String(),
  version: Type.String(),
  arch: Type.String(),
  package: Type.String(),
  machines: Type.Integer(),
  cpuModels: Type.Integer(),
  deprecatedMachines: Type.Integer(),
});

/** The catalogs this service answers from (the shipped ones, probed from real QEMU builds). */
export function catalogRoutes(app: App, ctx: ServerContext): void {
  app.get('/api/catalogs', { schema: { summary: 'The QEMU builds this service knows', tags: ['catalogs'], response: { 200: Type.Object({ items: Type.Array(CatalogSummary) }) } } }, async () => ({
    items: ctx.catalogs().map((c) => ({
      id: c.id,
      version: c.version,
      arch: c.data.arch,
      package: c.data.qemu.package,
      machines: c.data.machines.length,
      cpuModels: c.data.cpuModels.length,
      deprecatedMachines: c.data.machines.filter((m) => m.deprecated).length,
    })),
  }));
}
