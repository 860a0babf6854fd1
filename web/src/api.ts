// The HTTP API client: JSON in and out, the token from sessionStorage, problem+json turned into
// an ApiError whose message a person can read.

const TOKEN_KEY = 'guestabi.token';

export interface Problem {
  type?: string;
  title: string;
  status: number;
  detail?: string;
  code?: string;
  instance?: string;
  errors?: { path: string; message: string }[];
}

export class ApiError extends Error {
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.problem = problem;
  }
}

export function getToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export function setToken(token: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

const STATUS_HINT: Record<number, string> = {
  401: 'a token is needed: enter one at the top right',
  403: 'this token may not do that (a read-write token is needed)',
  404: 'not found',
  412: 'someone changed it meanwhile: reload and try again',
  428: 'it already exists',
};

/** A problem document from any error response, even one that is not problem+json. */
function toProblem(res: Response, body: unknown): Problem {
  if (body && typeof body === 'object' && 'title' in body) {
    const p = body as Problem;
    return { ...p, status: p.status ?? res.status };
  }
  const text = typeof body === 'string' && body.trim() ? body.trim().slice(0, 300) : STATUS_HINT[res.status];
  return { title: `HTTP ${res.status} ${res.statusText}`.trim(), status: res.status, detail: text };
}

export interface CallOptions {
  body?: unknown;
  ifMatch?: string;
  signal?: AbortSignal;
}

export interface Reply<T> {
  data: T;
  etag: string | null;
}

/** Call /api + path; resolves with the parsed JSON and the ETag, rejects with an ApiError. */
export async function call<T>(method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.ifMatch) headers['if-match'] = opts.ifMatch;
  let res: Response;
  try {
    res = await fetch(`/api${path}`, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === 'AbortError') throw e;
    throw new ApiError({ title: 'Cannot reach the guestabi server', status: 0, detail: (e as Error).message });
  }
  const text = await res.text();
  let body: unknown = text;
  if (/json/.test(res.headers.get('content-type') ?? '') && text) {
    try {
      body = JSON.parse(text);
    } catch {
      body = text;
    }
  }
  if (!res.ok) throw new ApiError(toProblem(res, body));
  return { data: body as T, etag: res.headers.get('etag') };
}

export const get = async <T>(path: string, signal?: AbortSignal): Promise<T> => (await call<T>('GET', path, { signal })).data;
export const post = async <T>(path: string, body: unknown, signal?: AbortSignal): Promise<T> => (await call<T>('POST', path, { body, signal })).data;

/** A path segment: guest and host names may hold characters that URLs reserve. */
export const seg = (name: string): string => encodeURIComponent(name);
