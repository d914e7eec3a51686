import { isAbsolute, relative } from 'node:path';
import { thrownText } from './excerpt.js';
import { firstUserFrame } from './user-frame.js';

/**
 * The default export of a dynamically imported user module (config or strategy), whether the
 * file was loaded as ESM or — in a project whose package.json says "type": "commonjs" (or none),
 * where tsx compiles `export default x` to `exports.default = x` — as CommonJS, in which case
 * Node's `import()` gives the whole exports object as `default`. `undefined` when there is none.
 */
export function moduleDefault(mod: Record<string, unknown>): unknown {
  let def = mod.default;
  const named = Object.keys(mod).filter((k) => k !== 'default');
  if (def && typeof def === 'object' && !Array.isArray(def)) {
    const d = def as Record<string, unknown>;
    if ('default' in d && Object.keys(d).every((k) => k === 'default' || k === '__esModule' || d[k] === mod[k])) def = d.default;
    else if (named.length > 0 && Object.keys(d).length === named.length && named.every((k) => d[k] === mod[k])) def = undefined;
    else if (d.__esModule === true && !('default' in d)) def = undefined;
  }
  return def;
}

/** Where a TypeScript/JavaScript file failed to compile (esbuild, through tsx), and why. */
export interface SyntaxErrorAt {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based (esbuild counts from 0) */
  column: number;
  text: string;
  /** further errors esbuild reported */
  more: number;
}

/**
 * The first error of esbuild's TransformError (tsx compiling a config or strategy): from its
 * `errors` array when the error was thrown in this thread, else from its message
 * ("Transform failed with N errors:\n<file>:<line>:<column>: ERROR: <text>"), which is all that
 * crosses from tsx's loader thread. null for any other error.
 */
export function syntaxErrorOf(err: unknown): SyntaxErrorAt | null {
  if (typeof err !== 'object' || err === null) return null;
  const e = err as { errors?: unknown; message?: unknown };
  const list = Array.isArray(e.errors) ? (e.errors as { text?: unknown; location?: { file?: unknown; line?: unknown; column?: unknown } | null }[]) : [];
  const first = list[0];
  if (first && typeof first.text === 'string' && first.location && typeof first.location.file === 'string' && typeof first.location.line === 'number' && typeof first.location.column === 'number') {
    return { file: first.location.file, line: first.location.line, column: first.location.column + 1, text: first.text, more: list.length - 1 };
  }
  const msg = typeof e.message === 'string' ? e.message : '';
  const head = /^(?:Transform|Build) failed with (\d+) errors?:/.exec(msg);
  if (!head) return null;
  const at = /^(.+?):(\d+):(\d+): ERROR: (.*)$/m.exec(msg);
  if (!at) return null;
  return { file: at[1]!, line: Number(at[2]), column: Number(at[3]) + 1, text: at[4]!, more: Number(head[1]) - 1 };
}

/** A path as the user wrote it: relative to the working folder (`cwd`) when inside it. */
export function shownPath(file: string, cwd = process.cwd()): string {
  if (!isAbsolute(file)) return file;
  const r = relative(cwd, file);
  return r && !r.startsWith('..') && !isAbsolute(r) ? r : file;
}

/** what to do when Node (or esbuild for Node) treats a user's file as CommonJS */
const LOADED_AS_COMMONJS = '(the file is loaded as CommonJS: add "type": "module" to your package.json, or rename the file to .mts)';

/**
 * The first line of a user module's load error, plus what to do when the cause is a known one:
 * a package not installed in the user's project, or an ES module required from a file that Node
 * treats as CommonJS (package.json without "type": "module"), or a top-level await esbuild refuses in one.
 */
export function loadErrorMessage(err: unknown): string {
  const syntax = syntaxErrorOf(err);
  if (syntax) {
    const more = syntax.more > 0 ? ` (and ${syntax.more} more error${syntax.more === 1 ? '' : 's'})` : '';
    // esbuild compiling a file Node treats as CommonJS (a .ts of a "type": "commonjs" project) refuses a top-level await
    const cjs = /not supported with the "cjs" output format/.test(syntax.text) ? ` ${LOADED_AS_COMMONJS}` : '';
    return `syntax error at ${shownPath(syntax.file)}:${syntax.line}:${syntax.column}: ${syntax.text}${more}${cjs}`;
  }
  const msg = thrownText(err).split('\n')[0] ?? '';
  const code = (err as { code?: unknown })?.code;
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec(msg);
  if (missing && !missing[1]!.startsWith('.') && !missing[1]!.startsWith('/')) {
    const pkg = missing[1]!.startsWith('@') ? missing[1]!.split('/').slice(0, 2).join('/') : missing[1]!.split('/')[0]!;
    return `${msg} (install it in your project: npm install ${pkg === 'marginlab' ? '--save-dev marginlab' : pkg})`;
  }
  if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_CYCLE_MODULE' || code === 'ERR_REQUIRE_ASYNC_MODULE' || /require\(\) (of )?ES Module/i.test(msg)) {
    return `${msg} ${LOADED_AS_COMMONJS}`;
  }
  // an error its top-level code threw (JSON.parse of a bad literal, a helper that throws): the line that threw, as a syntax error's
  const frame = userFrameOf(err);
  return frame === null || msg.includes(frame) ? msg : `${msg} (at ${frame})`;
}

/**
 * The user-code line a thrown error's stack names first: the first frame outside marginlab's
 * modules, node's internals and node_modules (`file:line:column`, relative to the working folder
 * when inside it); null when none.
 */
export function userFrameOf(err: unknown, cwd = process.cwd()): string | null {
  let stack: unknown;
  try {
    stack = err instanceof Error ? err.stack : null;
  } catch {
    return null;
  }
  if (typeof stack !== 'string') return null;
  const f = firstUserFrame(stack);
  return f === null ? null : `${shownPath(f.file, cwd)}:${f.line}:${f.column}`;
}
