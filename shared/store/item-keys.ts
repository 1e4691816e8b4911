/** What becomes an archive message. `record` is anything the export holds that we do not know yet. */
export type ItemKind = 'post' | 'task' | 'note' | 'event' | 'file' | 'record';

/** `post:<id>:<lastModifiedTime>` - a version never changes, so the key names exactly one archive message. */
export function itemKeyOf(kind: ItemKind, id: string, version: string): string {
  return `${kind}:${id}:${version}`;
}
