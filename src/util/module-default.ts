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
