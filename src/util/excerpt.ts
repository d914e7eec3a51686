/**
 * Bounded excerpts of user data in messages: an error quotes at most `max` characters of a value
 * (a header, a line, a cell, a path), with the total length when cut, so a 50 MB line never
 * becomes a 50 MB message. One helper for every place user data is echoed.
 */
export const EXCERPT_CHARS = 120;

/**
 * An integer with thousands separators ('1,234,567'), as toLocaleString('en-US') writes it, without
 * ICU: the first toLocaleString of a process builds a number formatter (22–55 ms measured), and
 * every `marginlab run` wrote its plan's counts with one. A non-integer is left to toLocaleString.
 */
export function grouped(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return n.toLocaleString('en-US');
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}

/**
 * The characters that change how a terminal, an editor or a browser shows the text around them: the C0
 * controls (line breaks, ESC of a colour or cursor sequence, BEL), DEL, the C1 controls (U+0080–009F:
 * U+009B is a second ESC [), the Unicode line and paragraph separators, and the bidi controls (U+061C,
 * U+200E/U+200F, U+202A–202E, U+2066–2069: one of them reverses the rest of a line).
 */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHAR = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const CONTROL_CHARS = new RegExp(CONTROL_CHAR.source, 'g');

/**
 * `s` with every character of CONTROL_CHAR shown as its escape (`\n`, `\t`, `\r`, `\x1b`, `\u202e`),
 * so user text (a name, a param, a path, an error) printed to a terminal, a CI log, report.md or
 * report.html stays on its line and in its colours and direction. The one home of that escaping.
 */
export function visible(s: string): string {
  return s.replace(CONTROL_CHARS, (c) => {
    if (c === '\t') return '\\t';
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/** `s` when short; else its first `max` characters, '…' and the length. Control characters are shown escaped (visible). */
export function excerpt(s: string, max = EXCERPT_CHARS): string {
  const head = s.length > max ? s.slice(0, max) : s;
  const shown = visible(head);
  return s.length > max ? `${shown}… (${grouped(s.length)} characters)` : shown;
}

/** A list of items, each excerpted, at most `maxItems` of them, then "and N more". */
export function excerptList(items: readonly string[], maxItems = 10, maxChars = 40): string {
  const shown = items.slice(0, maxItems).map((i) => excerpt(i, maxChars));
  return items.length > maxItems ? `${shown.join(', ')} and ${items.length - maxItems} more` : shown.join(', ');
}

/**
 * A thrown or rejected value as text, for messages: an Error's message (`withName`: `Name: message`),
 * anything else `String(value)`. Never throws: user code may throw a value that has no text
 * (`Object.create(null)`, an object whose toString throws), and describing it must not turn the
 * user's error into another one (an internal error, or a promise that never settles).
 */
export function thrownText(value: unknown, withName = false): string {
  try {
    if (value instanceof Error) return withName ? `${value.name}: ${value.message}` : value.message;
    return String(value);
  } catch {
    let tag = 'an object';
    try {
      const t = Object.prototype.toString.call(value).slice(8, -1);
      tag = `${/^[AEIOU]/.test(t) ? 'an' : 'a'} ${t}`;
    } catch {
      /* a revoked proxy */
    }
    return `${tag} value that cannot be shown as text`;
  }
}

/** whether a value is a promise (a thenable: an object or function with a `then` method), e.g. what a library caller passed without its await */
export const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  (typeof v === 'object' || typeof v === 'function') && v !== null && typeof (v as { then?: unknown }).then === 'function';

/** shownValue, with a promise told to be awaited (what a library caller passed without its await) */
export function givenValue(v: unknown): string {
  return isThenable(v) ? 'a Promise (await it)' : shownValue(v);
}

/**
 * A user value as a message shows it back: JSON for data (strings quoted), numbers as JavaScript
 * writes them (NaN, Infinity: JSON would say null), a bigint as 5n, at most `max` characters.
 * Never throws (a bigint inside an object, a cycle).
 */
export function shownValue(v: unknown, max = 60): string {
  let t: string;
  if (typeof v === 'number') t = Object.is(v, -0) ? '-0' : String(v);
  else if (typeof v === 'bigint') t = `${v}n`;
  else if (v === undefined) t = 'nothing';
  else if (typeof v === 'function') t = 'a function';
  else if (typeof v === 'symbol') t = 'a symbol';
  else {
    try {
      t = JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : typeof x === 'number' && !Number.isFinite(x) ? String(x) : x)) ?? thrownText(v);
    } catch {
      t = thrownText(v);
    }
  }
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}
