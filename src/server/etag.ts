import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpProblem } from './problem.js';

/** The version a write is based on: If-Match "N" (or *), undefined when the header is absent. */
export function ifMatch(req: FastifyRequest): number | '*' | undefined {
  const h = req.headers['if-match'];
  if (h === undefined) return undefined;
  const v = Array.isArray(h) ? h[0]! : h;
  if (v.trim() === '*') return '*';
  const m = /^\s*(?:W\/)?"(\d{1,15})"\s*$/.exec(v);
  if (!m) throw new HttpProblem(400, 'BAD_INPUT', `If-Match must be "N" (the ETag a GET returned) or *, not ${v}`);
  return Number(m[1]);
}

export function setEtag(reply: FastifyReply, version: number): void {
  reply.header('ETag', `"${version}"`);
}
