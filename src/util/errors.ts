/** What an error says in JSON (--json output, logs): the message, its code and where it is. */
export interface ErrorJson {
  error: string;
  code?: string;
  where?: string;
}

/**
 * Every error guestabi means to throw: it carries the exit code the CLI gives it (2 bad input or a
 * failure to run, 1 a negative answer, 0 a usage asked for) and a JSON form. Anything else that
 * reaches the CLI is a bug, reported as an internal error.
 */
export abstract class GuestabiError extends Error {
  abstract readonly exitCode: 0 | 1 | 2;
  /** The file, flag or field at fault, when there is one. Declared, not defined: only errors
   *  that have one carry it as an own property. */
  declare readonly where?: string;
  /** A stable code for programs (an HTTP problem code, see src/model/codes.ts), when there is one. */
  declare readonly code?: string;

  toJSON(): ErrorJson {
    const j: ErrorJson = { error: this.message };
    if (this.code !== undefined) j.code = this.code;
    if (this.where !== undefined) j.where = this.where;
    return j;
  }
}

/** A mistake in what the user gave us (a file, a flag, a name). The CLI prints it without a
 *  stack trace and exits 2. `where` names the file, and the field or line inside it. */
export class UserError extends GuestabiError {
  readonly exitCode = 2;
  override readonly where: string | undefined;
  constructor(message: string, where?: string) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'UserError';
    this.where = where;
  }
}

/** Something outside guestabi failed: QEMU crashed or hung, a file system refused. Also exit 2. */
export class RunError extends GuestabiError {
  readonly exitCode = 2;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunError';
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The user asked for a command's usage (--help, -h): printed on stdout, exit 0. */
export class HelpRequested extends GuestabiError {
  readonly exitCode = 0;
  constructor(readonly usage: string) {
    super(usage);
    this.name = 'HelpRequested';
  }
}

/** No catalog answers to what was asked (a version, an id): the one UserError that callers
 *  turn into their own message (a host whose QEMU build has no catalog). */
export class CatalogNotFound extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogNotFound';
  }
}

/** Whether `e` is an error of the operating system (ENOENT, EACCES, ECONNREFUSED...), as Node
 *  reports them; with `codes`, one of those. Anything else (a bug) is not. */
export function isSystemError(e: unknown, ...codes: string[]): e is Error & { code: string } {
  const code = e instanceof Error ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) && (codes.length === 0 || codes.includes(code));
}
