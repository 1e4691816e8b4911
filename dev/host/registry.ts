import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type {
  HttpFunctionOptions,
  HttpHandler,
  StorageQueueFunctionOptions,
  TimerFunctionOptions,
} from '@azure/functions';

export type RegisteredFunction =
  | { kind: 'http'; name: string; options: HttpFunctionOptions }
  | { kind: 'timer'; name: string; options: TimerFunctionOptions }
  | { kind: 'storageQueue'; name: string; options: StorageQueueFunctionOptions };

type App = Record<string, unknown>;
const HTTP_SHORTCUTS: Record<string, string> = {
  get: 'GET',
  put: 'PUT',
  post: 'POST',
  patch: 'PATCH',
  deleteRequest: 'DELETE',
};
const SUPPORTED = new Set(['http', 'timer', 'storageQueue', 'setup', 'hook', ...Object.keys(HTTP_SHORTCUTS)]);

/**
 * Loads the function files named by package.json `main` and records what they register.
 * Outside the real host @azure/functions skips registrations ("test mode"), so the app methods are
 * swapped for recorders while the files load. Each load re-executes the files, so several hosts in
 * one process each get their own registrations.
 */
export function loadFunctions(repoRoot: string): RegisteredFunction[] {
  return loadApp(repoRoot).functions;
}

export type AppTerminateHook = () => unknown;

/** The registered functions and the app's appTerminate hooks, which the host runs as it stops. */
export function loadApp(repoRoot: string): { functions: RegisteredFunction[]; terminateHooks: AppTerminateHook[] } {
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { main?: string };
  if (!pkg.main) throw new Error(`${repoRoot}/package.json has no "main"`);
  const files = expandGlob(path.resolve(repoRoot, pkg.main));
  if (files.length === 0) throw new Error(`package.json main "${pkg.main}" matches no files under ${repoRoot}`);

  const app = (require('@azure/functions') as { app: App }).app;
  const registered: RegisteredFunction[] = [];
  const saved = new Map<string, unknown>();
  const swap = (method: string, recorder: (...args: any[]) => void) => {
    saved.set(method, app[method]);
    app[method] = recorder;
  };
  const add = (fn: RegisteredFunction) => {
    if (registered.some((r) => r.name.toLowerCase() === fn.name.toLowerCase())) {
      throw new Error(`function "${fn.name}" is registered twice`);
    }
    registered.push(fn);
  };
  const toHttpOptions = (optionsOrHandler: HttpFunctionOptions | HttpHandler, method?: string): HttpFunctionOptions => {
    const options = typeof optionsOrHandler === 'function' ? { handler: optionsOrHandler } : { ...optionsOrHandler };
    if (method) options.methods = [method as 'GET'];
    return options;
  };

  swap('http', (name: string, options: HttpFunctionOptions) =>
    add({ kind: 'http', name, options: toHttpOptions(options) }),
  );
  for (const [shortcut, method] of Object.entries(HTTP_SHORTCUTS)) {
    swap(shortcut, (name: string, options: HttpFunctionOptions | HttpHandler) =>
      add({ kind: 'http', name, options: toHttpOptions(options, method) }),
    );
  }
  swap('timer', (name: string, options: TimerFunctionOptions) => add({ kind: 'timer', name, options }));
  const terminateHooks: AppTerminateHook[] = [];
  const hook = app.hook as Record<string, unknown>;
  saved.set('hook', hook);
  app.hook = {
    ...hook,
    appTerminate: (handler: AppTerminateHook) => {
      terminateHooks.push(handler);
      return { dispose: () => undefined };
    },
  };
  swap('storageQueue', (name: string, options: StorageQueueFunctionOptions) =>
    add({ kind: 'storageQueue', name, options }),
  );
  for (const method of Object.keys(app)) {
    const writable = Object.getOwnPropertyDescriptor(app, method)?.writable === true;
    if (SUPPORTED.has(method) || !writable || typeof app[method] !== 'function') continue;
    swap(method, (name: string) => {
      throw new Error(`local host: app.${method}('${name}') is not supported (http, timer and storageQueue only)`);
    });
  }
  try {
    for (const file of files) {
      delete require.cache[file];
      require(file);
    }
  } finally {
    for (const [method, original] of saved) app[method] = original;
  }
  return { functions: registered, terminateHooks };
}

/** Enough of glob for package.json `main`: `*`, `**`, `?` and `{a,b}`. */
export function expandGlob(absolutePattern: string): string[] {
  const normalized = absolutePattern.split(path.sep).join('/');
  const segments = normalized.split('/');
  const firstMagic = segments.findIndex((s) => /[*?{]/.test(s));
  if (firstMagic < 0) {
    try {
      return statSync(absolutePattern).isFile() ? [absolutePattern] : [];
    } catch {
      return [];
    }
  }
  const base = segments.slice(0, firstMagic).join('/') || '/';
  const matcher = globToRegExp(segments.slice(firstMagic).join('/'));
  const found: string[] = [];
  const walk = (dir: string, rel: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(full, childRel);
      } else if (matcher.test(childRel)) {
        found.push(full);
      }
    }
  };
  walk(base, '');
  return found.sort();
}

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      out += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '{') out += '(?:';
    else if (c === '}') out += ')';
    else if (c === ',') out += '|';
    else out += c.replace(/[.+^$()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}
