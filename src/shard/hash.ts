/**
 * Canonical JSON (sorted keys, no undefined, no whitespace) and the stable ids built on it.
 */
import { createHash } from 'node:crypto';
import type { RunSpec } from './types.js';

/** JSON with object keys sorted at every level; undefined members dropped; -0 written as 0. Throws on NaN/Infinity, functions and cycles. */
export function canonicalJson(value: unknown): string {
  const seen = new Set<object>();
  const walk = (v: unknown, path: string): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'number':
        if (!Number.isFinite(v)) throw new Error(`canonicalJson: non-finite number at ${path || '(root)'}`);
        return JSON.stringify(Object.is(v, -0) ? 0 : v);
      case 'string':
      case 'boolean':
        return JSON.stringify(v);
      case 'bigint':
        return JSON.stringify(v.toString());
      case 'object': {
        if (seen.has(v as object)) throw new Error(`canonicalJson: cycle at ${path || '(root)'}`);
        seen.add(v as object);
        let out: string;
        if (Array.isArray(v)) out = `[${v.map((x, i) => (x === undefined ? 'null' : walk(x, `${path}[${i}]`))).join(',')}]`;
        else if (v instanceof Date) out = JSON.stringify(v.toISOString());
        else {
          const o = v as Record<string, unknown>;
          const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
          out = `{${keys.map((k) => `${JSON.stringify(k)}:${walk(o[k], `${path}.${k}`)}`).join(',')}}`;
        }
        seen.delete(v as object);
        return out;
      }
      default:
        throw new Error(`canonicalJson: cannot encode ${typeof v} at ${path || '(root)'}`);
    }
  };
  return walk(value, '');
}

export function sha256Hex(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

/** RunId: first 16 hex digits (64 bits) of sha256 of the canonical RunSpec. */
export function runIdOf(spec: RunSpec): string {
  return sha256Hex(canonicalJson(spec)).slice(0, 16);
}

/** TaskId: the same hash over the spec without its setup (all setups of one replay pass share it). */
export function taskIdOf(spec: RunSpec): string {
  const { setup: _setup, ...rest } = spec;
  return sha256Hex(canonicalJson({ task: rest })).slice(0, 16);
}
