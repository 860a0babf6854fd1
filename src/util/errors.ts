/** A mistake in what the user gave us (a file, a flag, a name). The CLI prints it without a
 *  stack trace and exits 2. `where` names the file, and the field or line inside it. */
export class UserError extends Error {
  readonly where: string | undefined;
  constructor(message: string, where?: string) {
    super(where ? `${where}: ${message}` : message);
    this.name = 'UserError';
    this.where = where;
  }
}

/** Something outside guestabi failed: QEMU crashed or hung, a file system refused. Also exit 2. */
export class RunError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RunError';
  }
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The user asked for a command's usage (--help, -h): printed on stdout, exit 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super(usage);
    this.name = 'HelpRequested';
  }
}
