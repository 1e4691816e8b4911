import type * as MicrosoftGraph from '@microsoft/microsoft-graph-types';
import { badRequest } from './http-types';
import type { StoredAttachment, StoredMessage } from './mailbox-state';
import { FilterSyntaxError, matchesFilter, parseFilter } from './odata-filter';

// Navigation and extended data that Graph returns only when asked with $select or $expand.
const HIDDEN_BY_DEFAULT = new Set([
  'singlevalueextendedproperties',
  'multivalueextendedproperties',
  'internetmessageheaders',
  'attachments',
  'uniquebody',
]);

/** Shapes a stored message the way GET answers: default properties, $select, and $expand of extended properties. */
export function messageView(
  message: StoredMessage,
  query: URLSearchParams,
): MicrosoftGraph.Message & Record<string, unknown> {
  const select = listParam(query.get('$select'));
  const view: Record<string, unknown> = { '@odata.etag': `W/"${message.changeKey}"` };
  for (const [key, value] of Object.entries(message)) {
    const lower = key.toLowerCase();
    if (key === '@odata.type') continue;
    if (select ? lower === 'id' || select.has(lower) : !HIDDEN_BY_DEFAULT.has(lower)) {
      view[key] = lower === 'attachments' ? message.attachments.map((a) => attachmentView(a, false)) : value;
    }
  }
  applyExpand(view, message, query.get('$expand'));
  return view as MicrosoftGraph.Message & Record<string, unknown>;
}

function applyExpand(view: Record<string, unknown>, message: StoredMessage, expand: string | null): void {
  if (!expand) return;
  for (const item of splitTopLevel(expand)) {
    const match = /^\s*([A-Za-z]+)\s*(?:\((.*)\))?\s*$/s.exec(item);
    if (!match) throw badRequest(`Invalid $expand '${item}'.`);
    const name = match[1]!.toLowerCase();
    const options = match[2];
    if (name === 'singlevalueextendedproperties' || name === 'multivalueextendedproperties') {
      const source = name === 'singlevalueextendedproperties' ? message.singleValueExtendedProperties : [];
      const filterText = options ? /^\s*\$filter\s*=\s*(.*)$/is.exec(options)?.[1] : undefined;
      if (options && filterText === undefined) throw badRequest(`Unsupported $expand options '${options}'.`);
      const filter = filterText ? parseOrBadRequest(filterText) : undefined;
      const key =
        name === 'singlevalueextendedproperties' ? 'singleValueExtendedProperties' : 'multiValueExtendedProperties';
      view[key] = source.filter((p) => !filter || matchesFilter(filter, p));
    } else if (name === 'attachments') {
      view['attachments'] = message.attachments.map((a) => attachmentView(a, true));
    } else {
      throw badRequest(`Could not find a property named '${match[1]}' on type 'microsoft.graph.message'.`);
    }
  }
}

export function attachmentView(
  attachment: StoredAttachment,
  withContent: boolean,
): MicrosoftGraph.FileAttachment & Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.fileAttachment',
    '@odata.mediaContentType': attachment.contentType,
    id: attachment.id,
    lastModifiedDateTime: attachment.lastModifiedDateTime,
    name: attachment.name,
    contentType: attachment.contentType,
    size: attachment.size,
    isInline: attachment.isInline,
    contentId: attachment.contentId,
    contentLocation: null,
    ...(withContent ? { contentBytes: attachment.bytes.toString('base64') } : {}),
  };
}

export function parseOrBadRequest(text: string) {
  try {
    return parseFilter(text);
  } catch (error) {
    if (error instanceof FilterSyntaxError) throw badRequest(`Invalid filter clause: ${error.message}`);
    throw error;
  }
}

export function listParam(value: string | null): Set<string> | undefined {
  if (!value) return undefined;
  return new Set(
    value
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** Splits on commas that are not inside parentheses or quotes. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let current = '';
  for (const c of text) {
    if (c === "'") quoted = !quoted;
    if (!quoted && c === '(') depth++;
    if (!quoted && c === ')') depth--;
    if (!quoted && depth === 0 && c === ',') {
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (current.trim()) parts.push(current);
  return parts;
}
