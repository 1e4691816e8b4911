/**
 * A small OData $filter parser covering what the archiver sends:
 *   mail eq 'x' or userPrincipalName eq 'x' or proxyAddresses/any(p:p eq 'smtp:x')
 *   displayName eq 'RingCentral'
 *   singleValueExtendedProperties/Any(ep: ep/id eq 'String {GUID} Name X' and ep/value eq 'v')
 * String comparison is case-insensitive, as in Exchange and Entra ID for these properties.
 * Anything outside the grammar throws FilterSyntaxError so the caller can answer 400 like Graph.
 */
export class FilterSyntaxError extends Error {}

export type FilterExpr =
  | { kind: 'or' | 'and'; left: FilterExpr; right: FilterExpr }
  | { kind: 'not'; operand: FilterExpr }
  | { kind: 'compare'; op: 'eq' | 'ne'; left: Operand; right: Operand }
  | { kind: 'lambda'; quantifier: 'any' | 'all'; collection: string[]; variable: string; predicate: FilterExpr };

type Operand = { kind: 'path'; path: string[] } | { kind: 'literal'; value: string | number | boolean | null };

type Token =
  { t: 'ident'; v: string } | { t: 'string'; v: string } | { t: 'number'; v: number } | { t: '(' | ')' | ':' | ',' };

export function parseFilter(text: string): FilterExpr {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const next = (): Token => {
    const token = tokens[pos++];
    if (!token) throw new FilterSyntaxError('Unexpected end of filter');
    return token;
  };
  const isKeyword = (token: Token | undefined, word: string): boolean =>
    token?.t === 'ident' && token.v.toLowerCase() === word;
  const expect = (t: Token['t']): void => {
    const token = next();
    if (token.t !== t) throw new FilterSyntaxError(`Expected '${t}'`);
  };

  function parseOr(): FilterExpr {
    let left = parseAnd();
    while (isKeyword(peek(), 'or')) {
      pos++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  }

  function parseAnd(): FilterExpr {
    let left = parseUnary();
    while (isKeyword(peek(), 'and')) {
      pos++;
      left = { kind: 'and', left, right: parseUnary() };
    }
    return left;
  }

  function parseUnary(): FilterExpr {
    const token = peek();
    if (isKeyword(token, 'not')) {
      pos++;
      return { kind: 'not', operand: parseUnary() };
    }
    if (token?.t === '(') {
      pos++;
      const inner = parseOr();
      expect(')');
      return inner;
    }
    if (token?.t === 'ident') {
      const lambda = /^(.+)\/(any|all)$/i.exec(token.v);
      if (lambda && tokens[pos + 1]?.t === '(') {
        pos += 2;
        const variable = next();
        if (variable.t !== 'ident') throw new FilterSyntaxError('Expected lambda variable');
        expect(':');
        const predicate = parseOr();
        expect(')');
        return {
          kind: 'lambda',
          quantifier: lambda[2]!.toLowerCase() as 'any' | 'all',
          collection: lambda[1]!.split('/'),
          variable: variable.v,
          predicate,
        };
      }
    }
    const left = parseOperand();
    const op = next();
    if (op.t !== 'ident' || !['eq', 'ne'].includes(op.v.toLowerCase())) {
      throw new FilterSyntaxError('Only eq and ne comparisons are supported');
    }
    return { kind: 'compare', op: op.v.toLowerCase() as 'eq' | 'ne', left, right: parseOperand() };
  }

  function parseOperand(): Operand {
    const token = next();
    if (token.t === 'string') return { kind: 'literal', value: token.v };
    if (token.t === 'number') return { kind: 'literal', value: token.v };
    if (token.t === 'ident') {
      const lower = token.v.toLowerCase();
      if (lower === 'true' || lower === 'false') return { kind: 'literal', value: lower === 'true' };
      if (lower === 'null') return { kind: 'literal', value: null };
      return { kind: 'path', path: token.v.split('/') };
    }
    throw new FilterSyntaxError(`Unexpected '${token.t}'`);
  }

  const expr = parseOr();
  if (pos !== tokens.length) throw new FilterSyntaxError('Unexpected trailing input');
  return expr;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ':' || c === ',') {
      tokens.push({ t: c });
      i++;
    } else if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new FilterSyntaxError('Unterminated string literal');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ t: 'string', v: value });
    } else if (/[0-9-]/.test(c)) {
      const match = /^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (!match) throw new FilterSyntaxError(`Unexpected '${c}'`);
      tokens.push({ t: 'number', v: Number(match[0]) });
      i += match[0].length;
    } else if (/[A-Za-z_@$]/.test(c)) {
      const match = /^[A-Za-z_@$][A-Za-z0-9_@$./]*/.exec(text.slice(i))!;
      tokens.push({ t: 'ident', v: match[0] });
      i += match[0].length;
    } else {
      throw new FilterSyntaxError(`Unexpected '${c}'`);
    }
  }
  return tokens;
}

/** Evaluates a parsed filter against a plain object; property names match case-insensitively. */
export function matchesFilter(expr: FilterExpr, record: object, scope: Record<string, unknown> = {}): boolean {
  switch (expr.kind) {
    case 'or':
      return matchesFilter(expr.left, record, scope) || matchesFilter(expr.right, record, scope);
    case 'and':
      return matchesFilter(expr.left, record, scope) && matchesFilter(expr.right, record, scope);
    case 'not':
      return !matchesFilter(expr.operand, record, scope);
    case 'compare': {
      const equal = looselyEqual(resolve(expr.left, record, scope), resolve(expr.right, record, scope));
      return expr.op === 'eq' ? equal : !equal;
    }
    case 'lambda': {
      const collection = resolvePath(expr.collection, record, scope);
      if (!Array.isArray(collection)) return false;
      const test = (item: unknown): boolean =>
        matchesFilter(expr.predicate, record, { ...scope, [expr.variable]: item });
      return expr.quantifier === 'any' ? collection.some(test) : collection.every(test);
    }
  }
}

function resolve(operand: Operand, record: object, scope: Record<string, unknown>): unknown {
  return operand.kind === 'literal' ? operand.value : resolvePath(operand.path, record, scope);
}

function resolvePath(path: string[], record: object, scope: Record<string, unknown>): unknown {
  const [head, ...rest] = path;
  let current: unknown = head !== undefined && head in scope ? scope[head] : property(record, head ?? '');
  for (const name of head !== undefined && head in scope ? rest : path.slice(1)) current = property(current, name);
  return current;
}

function property(value: unknown, name: string): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  const lower = name.toLowerCase();
  const key = Object.keys(value).find((k) => k.toLowerCase() === lower);
  return key === undefined ? undefined : (value as Record<string, unknown>)[key];
}

function looselyEqual(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  return a === b;
}
