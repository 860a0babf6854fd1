import { matrixFromClasses, planBaseline, planUpgrade } from '../../fleet/index.js';
import { Baseline, FleetMatrix, UpgradePlan } from '../../model/fleet.js';
import { vulnerabilityMap } from '../../service/answers.js';
import type { App } from '../app.js';
import type { ServerContext } from '../context.js';
import { fleetGuests, fleetView } from '../fleet.js';
import { BaselineRequest, MatrixRequest, UpgradeRequest } from '../schemas.js';

const tags = ['plans'];

/** Fleet plans as what-if requests: they read the store and change nothing. */
export function planRoutes(app: App, ctx: ServerContext): void {
  app.post('/api/plans/matrix', { schema: { summary: 'For every guest class and host kind: can it migrate there safely, and if not why', tags, body: MatrixRequest, response: { 200: FleetMatrix } } }, async (req) => {
    const view = await fleetView(ctx, req.body.hosts, req.body.guests);
    return matrixFromClasses({ hosts: view.hosts, classes: view.classes, rules: ctx.rules, kindOf: view.kindOf });
  });

  app.post('/api/plans/upgrade', { schema: { summary: 'What upgrading hosts to another QEMU build, wave by wave, does to every guest: forward, rollback, fence', tags, body: UpgradeRequest, response: { 200: UpgradePlan } } }, async (req) => {
    const view = await fleetView(ctx);
    const to = ctx.catalog(req.body.to, 'to');
    return planUpgrade({ hosts: view.hosts, guests: fleetGuests(view), to, waves: req.body.waves, rules: ctx.rules, kindOf: view.kindOf });
  });

  app.post('/api/plans/baseline', { schema: { summary: 'CPU model and machine type every host can run, ranked by what each costs', tags, body: BaselineRequest, response: { 200: Baseline } } }, async (req) => {
    const view = await fleetView(ctx, req.body.hosts);
    return planBaseline({ hosts: view.hosts, guests: fleetGuests(view), vulnerabilityMap: vulnerabilityMap(), kindOf: view.kindOf });
  });
}
