import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Code } from '../model/codes.js';
import type { Reason } from '../model/reason.js';
import { ResolveError } from '../resolve/target.js';
import { RunError, UserError } from '../util/errors.js';

/**
 * An HTTP answer that is not a success, as RFC 9457 problem details (application/problem+json).
 * `code` is a guestabi reason code or an HTTP-level one (UNAUTHORIZED, VERSION_CONFLICT, ...).
 */
export class HttpProblem extends UserError {
  constructor(
    readonly status: number,
    override readonly code: Code,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'HttpProblem';
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  reasons?: Reason[];
  [k: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  412: 'Precondition failed',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'No answer as asked',
  428: 'Precondition required',
  429: 'Too many requests',
  500: 'Internal error',
  502: 'Failure outside guestabi',
};

export function problem(status: number, code: string, detail: string, extra: Record<string, unknown> = {}): Problem {
  return { type: `https://guestabi.invalid/problems/${code.toLowerCase().replace(/_/g, '-')}`, title: TITLES[status] ?? 'Error', status, detail, code, ...extra };
}

/** What an error thrown anywhere in a request becomes: never a stack trace. */
export function toProblem(err: unknown): Problem {
  if (err instanceof HttpProblem) return problem(err.status, err.code, err.message, err.extra);
  if (err instanceof ResolveError) return problem(422, 'NO_ANSWER', err.message, { reasons: err.reasons });
  const status = (err as { status?: unknown }).status;
  if (err instanceof UserError) return problem(typeof status === 'number' ? status : 400, codeOf(err), err.message);
  if (err instanceof RunError) return problem(502, 'RUN_ERROR', err.message);
  const fe = err as FastifyError;
  if (typeof fe.statusCode === 'number' && fe.statusCode < 500) return problem(fe.statusCode, fe.code ?? 'BAD_REQUEST', fe.message);
  return problem(500, 'INTERNAL_ERROR', 'internal error (logged on the server)');
}

function codeOf(err: UserError): string {
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' ? c : 'BAD_INPUT';
}

export function sendProblem(reply: FastifyReply, p: Problem, req?: FastifyRequest): FastifyReply {
  if (req) p.instance = req.url;
  return reply.code(p.status).type('application/problem+json').send(p);
}
