import { badRequest } from './http-types';

/** $top/$skip paging with an absolute @odata.nextLink, as Outlook and directory collections answer. */
export function page<T>(
  items: T[],
  query: URLSearchParams,
  selfUrl: string,
  sizes: { defaultTop: number; maxTop: number },
): { value: T[]; '@odata.nextLink'?: string } {
  const top = intParam(query, '$top') ?? sizes.defaultTop;
  const skip = intParam(query, '$skip') ?? 0;
  const size = Math.min(top, sizes.maxTop);
  const value = items.slice(skip, skip + size);
  if (skip + size >= items.length) return { value };
  const next = new URLSearchParams(query);
  next.set('$top', String(size));
  next.set('$skip', String(skip + size));
  return { value, '@odata.nextLink': `${selfUrl}?${next.toString().replace(/\+/g, '%20')}` };
}

function intParam(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  if (!/^\d+$/.test(raw)) throw badRequest(`Invalid value '${raw}' for query option ${name}.`);
  return Number(raw);
}
