import { blobSegment } from './keys';

/** `raw/<folder>/<id>/<version>.json`: a new version gets a new name, so nothing is overwritten. */
export function rawBlobName(folder: string, id: string, version: string): string {
  return `${blobSegment(folder)}/${blobSegment(id)}/${blobSegment(version)}.json`;
}

/** `messages/<kind>/<id:version>.json` (or `.eml`): one archive message per item version. */
export function messageBlobName(itemKey: string, extension: 'json' | 'eml' = 'json'): string {
  const [kind, ...rest] = itemKey.split(':');
  return `${kind}/${blobSegment(rest.join(':'))}.${extension}`;
}
