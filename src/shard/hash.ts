/**
 * Canonical JSON (sorted keys, no undefined, no whitespace) and the stable ids built on it.
 */
import { createHash } from 'node:crypto';
import type { RunSpec } from './types.js';

const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON with object keys sorted at every level; undefined members dropped; -0 written as 0. Throws on NaN/Infinity, functions and cycles. */
export function canonicalJson(value: unknown): string {
  const seen = new Set<object>();
  /** keys and indices down to the value being written (the path is spelled out only for an error) */
  const at: (string | number)[] = [];
  const where = () => at.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('') || '(root)';
  const walk = (v: unknown): string => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'number':
        if (!Number.isFinite(v)) throw new Error(`canonicalJson: non-finite number at ${where()}`);
        return Object.is(v, -0) ? '0' : String(v); // = JSON.stringify for a finite number
      case 'string':
        // JSON.stringify escapes only quotes, backslashes, control characters and lone surrogates
        return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
      case 'boolean':
        return v ? 'true' : 'false';
      case 'bigint':
        return JSON.stringify(v.toString());
      case 'object': {
        if (seen.has(v as object)) throw new Error(`canonicalJson: cycle at ${where()}`);
        seen.add(v as object);
        let out: string;
        if (Array.isArray(v)) {
          out = '[';
          for (let i = 0; i < v.length; i++) {
            const x: unknown = v[i];
            at.push(i);
            out += (i ? ',' : '') + (x === undefined ? 'null' : walk(x));
            at.pop();
          }
          out += ']';
        } else if (v instanceof Date) out = JSON.stringify(v.toISOString());
        else {
          const o = v as Record<string, unknown>;
          const keys = Object.keys(o).sort();
          out = '{';
          let first = true;
          for (const k of keys) {
            const x = o[k];
            if (x === undefined) continue;
            at.push(k);
            out += `${first ? '' : ','}${NEEDS_ESCAPE.test(k) ? JSON.stringify(k) : `"${k}"`}:${walk(x)}`;
            at.pop();
            first = false;
          }
          out += '}';
        }
        seen.delete(v as object);
        return out;
      }
      default:
        throw new Error(`canonicalJson: cannot encode ${typeof v} at ${where()}`);
    }
  };
  return walk(value);
}

/** sha256 of a string's UTF-8 bytes, or of bytes, in hex */
export function sha256Hex(s: string | Uint8Array): string {
  return createHash('sha256').update(s).digest('hex');
}

/** RunId: first 16 hex digits (64 bits) of sha256 of the canonical RunSpec. */
export function runIdOf(spec: RunSpec): string {
  return sha256Hex(canonicalJson(spec)).slice(0, 16);
}

/** TaskId: the same hash over the spec without its setup (all setups of one replay pass share it, a mixed one's default mode too). */
export function taskIdOf(spec: RunSpec): string {
  const { setup: _setup, mixedDefaultMode: _mixedDefaultMode, ...rest } = spec;
  return sha256Hex(canonicalJson({ task: rest })).slice(0, 16);
}
