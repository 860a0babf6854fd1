import { RunError, UserError } from '../util/errors.js';

/** What a stored resource is, in messages and error codes. */
export type StoredKind = 'host' | 'guest';

/** A precondition failed: the write named a version (If-Match) that is not the current one. HTTP 412. */
export class VersionConflict extends UserError {
  readonly status = 412;
  override readonly code = 'VERSION_CONFLICT';
  constructor(
    readonly kind: StoredKind,
    readonly resource: string,
    readonly expected: number,
    /** The version stored now; null when the resource does not exist. */
    readonly current: number | null,
  ) {
    super(
      current === null
        ? `${kind} '${resource}' does not exist (If-Match: "${expected}"); create it without If-Match`
        : `${kind} '${resource}' is at version ${current}, not ${expected}: someone changed it since you read it; read it again and retry`,
      'If-Match',
    );
    this.name = 'VersionConflict';
  }
}

/** A write would replace or delete an existing resource without naming the version it is based on. HTTP 428. */
export class PreconditionRequired extends UserError {
  readonly status = 428;
  override readonly code = 'PRECONDITION_REQUIRED';
  constructor(
    readonly kind: StoredKind,
    readonly resource: string,
    readonly current: number,
  ) {
    super(`${kind} '${resource}' exists (version ${current}): say which version you replace with If-Match: "${current}", or If-Match: * for any`, 'If-Match');
    this.name = 'PreconditionRequired';
  }
}

/** The resource does not exist (deleting a missing host or guest). HTTP 404. */
export class NotFound extends UserError {
  readonly status = 404;
  override readonly code: 'HOST_UNKNOWN' | 'GUEST_UNKNOWN';
  constructor(
    readonly kind: StoredKind,
    readonly resource: string,
  ) {
    super(`no ${kind} called '${resource}'`);
    this.name = 'NotFound';
    this.code = kind === 'host' ? 'HOST_UNKNOWN' : 'GUEST_UNKNOWN';
  }
}

/** The database was written by a newer guestabi, whose schema this one does not know. */
export class SchemaTooNew extends RunError {
  constructor(
    override readonly where: string,
    readonly found: number,
    readonly known: number,
  ) {
    super(`${where}: the database has schema version ${found}, newer than this guestabi knows (${known}); use a guestabi at least as new as the one that wrote it`);
    this.name = 'SchemaTooNew';
  }
}
