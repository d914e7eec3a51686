/**
 * Why JSON.parse refused a file's text, as one line for a message. V8 words it in several ways:
 * "… in JSON at position 9" (Node 20), "… at position 9 (line 2 column 5)" (Node 22), and
 * "Unexpected token '}', "{↵"a": }" is not valid JSON", which quotes the text itself, newlines
 * included (a message of several lines). The one home of this for every JSON file marginlab reads.
 */
import { excerpt } from './excerpt.js';

export interface JsonFault {
  /** V8's message without its position, on one line (control characters escaped, at most 200 characters) */
  message: string;
  /** where, 1-based as an editor counts, when V8 names a position; else null */
  line: number | null;
  column: number | null;
}

/** The fault of `text` that JSON.parse threw `err` for. */
export function jsonFault(text: string, err: unknown): JsonFault {
  const msg = err instanceof Error ? err.message : String(err);
  const at = /\s*(?:in JSON )?at position (\d+)(?: \(line \d+ column \d+\))?/.exec(msg);
  // V8 names no position for an unexpected token on Node 20: found by scanning the text
  const pos = at ? Number(at[1]) : jsonErrorOffset(text);
  if (pos === null) return { message: excerpt(msg, 200), line: null, column: null };
  const before = text.slice(0, pos).split('\n');
  return { message: excerpt(at ? msg.replace(at[0], '') : msg, 200), line: before.length, column: before[before.length - 1]!.length + 1 };
}

/**
 * The offset of the first character at which `text` stops being JSON (RFC 8259; a leading BOM is
 * skipped as the readers do), or null when it is JSON or nests deeper than 512 levels.
 */
export function jsonErrorOffset(text: string): number | null {
  return scanJson(text, null);
}

/** A key written twice in one object of a JSON text: where its second writing starts (JSON.parse keeps the last in silence). */
export interface JsonDuplicate {
  /** the object's place, as keys and indexes from the top ('(root)' for the top object) */
  path: string;
  key: string;
  line: number;
  column: number;
}

/** The first key written twice in one object of `text` (JSON; null when none, or when it is no JSON). */
export function jsonDuplicateKey(text: string): JsonDuplicate | null {
  let found: JsonDuplicate | null = null;
  const scanned = scanJson(text, (path, key, at) => {
    if (found !== null) return;
    const before = text.slice(0, at).split('\n');
    found = { path: path.length ? path.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('.').replace(/\.\[/g, '[') : '(root)', key, line: before.length, column: before[before.length - 1]!.length + 1 };
  });
  return scanned === null ? found : null;
}

/**
 * The place of the first key '__proto__' in a value JSON.parse gave (an own key there), or null. Copied into
 * another object it becomes that object's prototype: its keys would be read as inherited defaults.
 */
export function protoKeyPath(value: unknown, path: readonly (string | number)[] = []): string | null {
  if (value === null || typeof value !== 'object') return null;
  if (Object.prototype.hasOwnProperty.call(value, '__proto__')) return [...path, '__proto__'].join('.');
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  for (const [k, v] of entries) {
    const hit = protoKeyPath(v, [...path, k]);
    if (hit !== null) return hit;
  }
  return null;
}

/**
 * jsonErrorOffset's scanner; `onDuplicate` (when given) hears of every key an object has already, with the
 * object's path and the offset of the key's second writing.
 */
function scanJson(text: string, onDuplicate: ((path: readonly (string | number)[], key: string, at: number) => void) | null): number | null {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const path: (string | number)[] = [];
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  class Bad extends Error {}
  const bad = (): never => {
    throw new Bad();
  };
  const lit = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else bad();
  };
  const str = () => {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) bad();
      const c = text.charCodeAt(i);
      if (c === 0x22) return void i++;
      if (c < 0x20) bad();
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) bad();
          i += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else bad();
      } else i++;
    }
  };
  const num = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) bad();
    i += m![0].length;
  };
  const value = (depth: number): void => {
    if (depth > 512) throw new RangeError('too deep');
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      const keys = onDuplicate ? new Set<string>() : null;
      for (;;) {
        ws();
        if (text[i] !== '"') bad();
        const k0 = i;
        str();
        let key = '';
        if (keys) {
          key = JSON.parse(text.slice(k0, i)) as string;
          if (keys.has(key)) onDuplicate!(path, key, k0);
          keys.add(key);
        }
        ws();
        if (text[i] !== ':') bad();
        i++;
        if (keys) path.push(key);
        value(depth + 1);
        if (keys) path.pop();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else bad();
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (let n = 0; ; n++) {
        if (onDuplicate) path.push(n);
        value(depth + 1);
        if (onDuplicate) path.pop();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else bad();
      }
    }
    if (c === '"') return str();
    if (c === 't') return lit('true');
    if (c === 'f') return lit('false');
    if (c === 'n') return lit('null');
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return num();
    bad();
  };
  try {
    value(0);
    ws();
    return i < text.length ? i : null;
  } catch (e) {
    if (e instanceof Bad) return Math.min(i, text.length);
    return null;
  }
}

/** jsonFault as text: `<message>, line L column C` (the place when known). */
export function jsonFaultText(text: string, err: unknown): string {
  const f = jsonFault(text, err);
  return f.line === null ? f.message : `${f.message}, line ${f.line} column ${f.column}`;
}
