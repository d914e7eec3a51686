/**
 * A strategy's resolved params (its zod schema's output) as the run layer needs them: plain JSON
 * data. The plan hashes them into the RunId and a worker's create() receives them through JSON.
 */
import { z } from 'zod';
import { shownValue } from '../util/excerpt.js';

/** what a parameter may be, for messages */
export const PLAIN_PARAMS =
  "a parameter is plain data — a finite number, a string, a boolean, null, or an array or object of them — as a run is keyed by its params and sent to its worker as JSON (check the schema's default or transform)";

/** `.a[0].b` for the path ['a', 0, 'b'] */
export function paramPath(at: readonly (string | number)[]): string {
  return at.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
}

/**
 * The first value in a strategy's resolved params that is not plain JSON data, with its path, or
 * null. A run's params are hashed into its RunId and reach create() in the worker through JSON, so
 * anything else either stopped the plan as an internal error (exit 70: a NaN or Infinity default, a
 * function, a symbol, a cycle) or reached create() as something else than the schema gave (a bigint
 * or a Date as a string, a Set or a Map as {}).
 */
export function paramsDataProblem(value: unknown): { at: (string | number)[]; what: string } | null {
  const at: (string | number)[] = [];
  const seen = new Set<object>();
  const walk = (v: unknown): string | null => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return null;
    if (typeof v === 'number') return Number.isFinite(v) ? null : shownValue(v);
    if (typeof v === 'bigint') return `a bigint (${shownValue(v)})`;
    if (typeof v !== 'object') return typeof v === 'undefined' ? 'nothing (undefined)' : `a ${typeof v}`;
    const proto: unknown = Object.getPrototypeOf(v);
    const isArray = Array.isArray(v);
    if (!isArray && proto !== Object.prototype && proto !== null) return `a ${Object.prototype.toString.call(v).slice(8, -1)} object`;
    if (seen.has(v)) return 'an object that contains itself';
    seen.add(v);
    const keys = isArray ? [...v.keys()] : Object.keys(v);
    for (const k of keys) {
      const x: unknown = (v as Record<string | number, unknown>)[k];
      if (x === undefined && !isArray) continue; // a member left out reads the same
      at.push(k);
      const bad = walk(x);
      if (bad !== null) return bad;
      at.pop();
    }
    seen.delete(v);
    return null;
  };
  const what = walk(value);
  return what === null ? null : { at, what };
}

/**
 * The defaults a strategy's params schema filled in that fail the schema they default: zod 4's
 * `.default(v)` hands `v` out without checking it against the schema it wraps, so
 * `z.number().positive().default(-1)` ran with -1 while a given -1 is refused. Checked for the
 * top-level keys of an object schema that were not given and whose default wraps a schema without a
 * transform (a transform's default is its output, not something to parse); `z` is marginlab's zod
 * (a zod 3 schema, which checks its defaults itself, is left alone). Returns the issues with their
 * paths from the params' root.
 */
export function failingDefaults(schema: unknown, given: Record<string, unknown>, resolved: Record<string, unknown>): z.core.$ZodIssue[] {
  if (!(schema instanceof z.ZodObject)) return [];
  const shape = schema.shape as Record<string, unknown>;
  const out: z.core.$ZodIssue[] = [];
  for (const key of Object.keys(shape)) {
    const field = shape[key];
    if (given[key] !== undefined || !(field instanceof z.ZodDefault)) continue;
    const inner: unknown = field.unwrap();
    if (!(inner instanceof z.ZodType) || inner instanceof z.ZodPipe || inner instanceof z.ZodTransform) continue;
    const r = inner.safeParse(resolved[key]);
    if (!r.success) for (const issue of r.error.issues) out.push({ ...issue, path: [key, ...issue.path] });
  }
  return out;
}

/**
 * The top-level keys of a strategy's object params schema that `params` leaves out (absent or undefined) although the
 * schema's output always has them — a default (`shown`: the default the schema would give) or a required key (`shown`
 * null) — i.e. params that did not go through `strategy.params.parse`. replay() takes the schema's output; given the raw
 * params it ran create() on them as they were: sma-cross with `{ fast: 50, slow: 10 }` replayed without a single order
 * (its marginFraction undefined, every size NaN) and ended ok. Params that are not an object give no key; an optional
 * key, and a schema that is not marginlab's zod object (a transform of the whole object, another zod copy), are left
 * alone. A field whose parse of nothing throws (a transform of its default that throws) counts as required.
 */
export function unparsedParams(schema: unknown, params: unknown): { key: string; shown: string | null }[] {
  if (!(schema instanceof z.ZodObject)) return [];
  const given = typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : {};
  const shape = schema.shape as Record<string, unknown>;
  const out: { key: string; shown: string | null }[] = [];
  for (const key of Object.keys(shape)) {
    if (given[key] !== undefined) continue;
    const field = shape[key];
    if (!(field instanceof z.ZodType)) continue;
    let r: { success: boolean; data?: unknown };
    try {
      r = field.safeParse(undefined);
    } catch {
      r = { success: false };
    }
    if (!r.success) out.push({ key, shown: null });
    else if (r.data !== undefined) out.push({ key, shown: shownValue(r.data) });
  }
  return out;
}
