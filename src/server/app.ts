import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { TSchema } from '@sinclair/typebox';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { sortKeysDeep } from '../catalog/props.js';
import { validate } from '../model/validate.js';
import type { Store } from '../store/index.js';
import { toolVersion } from '../util/tool.js';
import { ServerContext } from './context.js';
import { HttpProblem, problem, sendProblem, toProblem } from './problem.js';
import { catalogRoutes } from './routes/catalogs.js';
import { guestRoutes } from './routes/guests.js';
import { hostRoutes } from './routes/hosts.js';
import { planRoutes } from './routes/plans.js';
import { questionRoutes } from './routes/questions.js';
import { identify, type Caller, type TokensFile } from './tokens.js';

export const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));

export interface AppOptions {
  store: Store;
  dbKind: 'sqlite' | 'postgres';
  tokens: TokensFile;
  /** Largest request body in bytes (default 4 MiB). */
  bodyLimit?: number;
  /** Requests per minute per token (or per address without one); 0 turns the limit off. */
  rateLimit?: number;
  logger?: boolean;
  webRoot?: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

export type App = FastifyInstance<any, any, any, any, TypeBoxTypeProvider>; // eslint-disable-line @typescript-eslint/no-explicit-any

const WRITES = new Set(['PUT', 'DELETE', 'PATCH']);

function authorize(app: App, tokens: TokensFile): void {
  app.decorateRequest('caller', null as unknown as Caller);
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const caller = identify(tokens, req.headers.authorization);
    if (!caller) throw new HttpProblem(401, 'UNAUTHORIZED', 'the bearer token is not one this server knows');
    req.caller = caller;
    if (!req.url.startsWith('/api/')) return;
    if (WRITES.has(req.method) && caller.role !== 'write') {
      throw caller.role === 'anonymous'
        ? new HttpProblem(401, 'UNAUTHORIZED', 'writing needs a read-write token: Authorization: Bearer TOKEN')
        : new HttpProblem(403, 'FORBIDDEN', `token '${caller.name}' is read-only`);
    }
    if (caller.role === 'anonymous' && tokens.anonymous === 'none') throw new HttpProblem(401, 'UNAUTHORIZED', 'this server needs a token for every request');
  });
}

async function documentation(app: App): Promise<void> {
  await app.register(swagger, {
    openapi: {
      info: { title: 'guestabi', version: toolVersion().replace(/^guestabi /, ''), description: 'Guest ABI answers for a QEMU/KVM fleet: catalogs, hosts, guests, checks, tiers, validation and fleet plans.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
}

async function webPage(app: App, root: string): Promise<void> {
  if (existsSync(`${root}/index.html`)) {
    await app.register(fastifyStatic, { root, prefix: '/', index: 'index.html', wildcard: false });
    return;
  }
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.type('text/plain').send('guestabi: the web page is not built (npm run web:build); the API is at /api and its reference at /docs\n'));
}

/** The HTTP service: the same library functions as the CLI, over the store. */
export async function buildApp(opts: AppOptions): Promise<App> {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: opts.bodyLimit ?? 4 * 1024 * 1024, trustProxy: false }).withTypeProvider<TypeBoxTypeProvider>() as App;
  const ctx = new ServerContext(opts.store, opts.dbKind);
  app.setValidatorCompiler(({ schema, httpPart }) => (data: unknown) => {
    try {
      return { value: validate(schema as TSchema, data, `request ${httpPart ?? 'body'}`) };
    } catch (e) {
      return { error: e as Error };
    }
  });
  app.setSerializerCompiler(() => (data: unknown) => JSON.stringify(sortKeysDeep(data)));
  app.addContentTypeParser(['application/xml', 'text/xml', 'text/plain'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err, req, reply) => {
    const p = toProblem(err);
    if (p.status >= 500) req.log.error(err);
    return sendProblem(reply, p, req);
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, problem(404, 'NOT_FOUND', `no such resource: ${req.method} ${req.url.split('?')[0]}`), req));
  authorize(app, opts.tokens);
  if (opts.rateLimit !== 0) {
    await app.register(rateLimit, {
      max: opts.rateLimit ?? 1200,
      timeWindow: '1 minute',
      keyGenerator: (req) => (req.caller && req.caller.role !== 'anonymous' ? `token:${req.caller.name}` : `ip:${req.ip}`),
      errorResponseBuilder: (_req, ctx) => new HttpProblem(429, 'RATE_LIMITED', `more than ${ctx.max} requests a minute; retry in ${Math.ceil(ctx.ttl / 1000)} s`),
    });
  }
  await documentation(app);
  app.get('/api/health', { schema: { summary: 'Is the service up, and on which database' } }, async () => ({ ok: true, db: ctx.dbKind, version: toolVersion() }));
  await app.register(async (api) => {
    catalogRoutes(api as App, ctx);
    hostRoutes(api as App, ctx);
    guestRoutes(api as App, ctx);
    questionRoutes(api as App, ctx);
    planRoutes(api as App, ctx);
  });
  await webPage(app, opts.webRoot ?? WEB_ROOT);
  return app;
}
