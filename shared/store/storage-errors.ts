// What a storage SDK error (RestError from Blob, Queue or Table) means to the caller, read in one place.

/** The HTTP status of a storage SDK error, if it has one. */
export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | undefined)?.statusCode;
}

/** The blob, entity, container or queue is not there. */
export function isNotFound(err: unknown): boolean {
  return statusOf(err) === 404;
}

/** Someone else created it first, or holds it (an insert or a lease that lost the race). */
export function isConflict(err: unknown): boolean {
  return statusOf(err) === 409;
}

/** The ETag or lease the write was conditional on has moved on. */
export function isPreconditionFailed(err: unknown): boolean {
  return statusOf(err) === 412;
}

/** A create-only blob write found the name taken. */
export function isAlreadyExists(err: unknown): boolean {
  return isConflict(err) || (err as { code?: string } | undefined)?.code === 'BlobAlreadyExists';
}
