import { createHash } from 'node:crypto';

// Table storage forbids / \ # ? and control characters in PartitionKey/RowKey and caps
// them at 1 KiB. Percent-encoding keeps keys readable and reversible; very long ids are hashed.
export function tableKey(value: string): string {
  const encoded = value.replace(
    /[%/\\#?\u0000-\u001f\u007f-\u009f]/g,
    (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`,
  );
  if (encoded.length <= 512) return encoded;
  return `sha256-${createHash('sha256').update(value).digest('hex')}`;
}

/** Blob path segment: same idea, and it must not be '.' or '..'. */
export function blobSegment(value: string): string {
  const encoded = encodeURIComponent(value).replace(/\./g, '%2E');
  return encoded.length <= 200 ? encoded : `sha256-${createHash('sha256').update(value).digest('hex')}`;
}

/** OData string literal for Table filters. */
export const odata = (value: string): string => `'${value.replace(/'/g, "''")}'`;
