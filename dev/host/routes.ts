/**
 * Azure Functions (ASP.NET-style) route templates: literals match case-insensitively; `{name}`,
 * `{name?}` (optional, last segments only), `{name:constraint}` and catch-all `{*name}`.
 * Constraints int, long, bool, guid, alpha are checked; others match anything.
 */
export type RouteMatcher = (pathSegments: string[]) => Record<string, string> | undefined;

const CONSTRAINTS: Record<string, RegExp> = {
  int: /^-?\d+$/,
  long: /^-?\d+$/,
  bool: /^(true|false)$/i,
  guid: /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i,
  alpha: /^[a-z]+$/i,
};

export function compileRoute(template: string): RouteMatcher {
  const parts = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .filter((p) => p !== '');
  return (segments) => {
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const param = /^\{(\*)?([^}:?]+)(?::([^}?]+))?(\?)?\}$/.exec(part);
      const segment = segments[i];
      if (!param) {
        if (segment === undefined || segment.toLowerCase() !== part.toLowerCase()) return undefined;
        continue;
      }
      const [, catchAll, name, constraint, optional] = param;
      if (catchAll) {
        const rest = segments.slice(i).join('/');
        if (rest) params[name!] = rest;
        return params;
      }
      if (segment === undefined) {
        if (optional) continue;
        return undefined;
      }
      const rule = constraint ? CONSTRAINTS[constraint.toLowerCase()] : undefined;
      if (rule && !rule.test(segment)) return undefined;
      params[name!] = segment;
    }
    return segments.length <= parts.length ? params : undefined;
  };
}
