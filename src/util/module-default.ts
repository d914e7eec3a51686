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

/**
 * The first line of a user module's load error, plus what to do when the cause is a known one:
 * a package not installed in the user's project, or an ES module required from a file that Node
 * treats as CommonJS (package.json without "type": "module").
 */
export function loadErrorMessage(err: unknown): string {
  const msg = err instanceof Error ? (err.message.split('\n')[0] ?? '') : String(err);
  const code = (err as { code?: unknown })?.code;
  const missing = /Cannot find (?:package|module) '([^']+)'/.exec(msg);
  if (missing && !missing[1]!.startsWith('.') && !missing[1]!.startsWith('/')) {
    const pkg = missing[1]!.startsWith('@') ? missing[1]!.split('/').slice(0, 2).join('/') : missing[1]!.split('/')[0]!;
    return `${msg} (install it in your project: npm install ${pkg === 'marginlab' ? '--save-dev marginlab' : pkg})`;
  }
  if (code === 'ERR_REQUIRE_ESM' || code === 'ERR_REQUIRE_CYCLE_MODULE' || code === 'ERR_REQUIRE_ASYNC_MODULE' || /require\(\) (of )?ES Module/i.test(msg)) {
    return `${msg} (the file is loaded as CommonJS: add "type": "module" to your package.json, or rename the file to .mts)`;
  }
  return msg;
}
