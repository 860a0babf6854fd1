import type { App } from '../app.js';
import type { ServerContext } from '../context.js';

/** Fleet plans (matrix, upgrade, baseline) as what-if requests: filled in with src/fleet. */
export function planRoutes(_app: App, _ctx: ServerContext): void {}
