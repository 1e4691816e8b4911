/** The HTTP status of a storage SDK error (RestError), if it has one. */
export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number }).statusCode;
}
