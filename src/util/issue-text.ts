/**
 * A schema issue in plain words: zod's own default messages ("Invalid input: expected int, received
 * number", "Too small: expected number to be >0", "Invalid option: expected one of "a"|"b"") become
 * what was expected and what was given ("expected a whole number, got 1.5", "expected a number > 0,
 * got -1", "expected one of 'a', 'b', got 'c'"). A schema's own message (a refinement's text) is kept
 * as written. A strategy's params schema of zod 3 (zod/v3) reads in the same words. The one home of this wording: config keys,
 * strategy parameters, result files, run and dataset manifests.
 */
import { excerpt, shownValue } from './excerpt.js';
import { didYouMean } from './nearest.js';

/** the fields of a zod 4 issue this reads (duck-typed: a strategy may bring its own zod) */
interface IssueLike {
  code?: string;
  message: string;
  path: readonly PropertyKey[];
  expected?: unknown;
  origin?: unknown;
  minimum?: unknown;
  maximum?: unknown;
  inclusive?: unknown;
  /** too_small / too_big of a length that must be exact (z.string().length(3)) */
  exact?: unknown;
  values?: unknown;
  input?: unknown;
  /** invalid_union: each branch's issues */
  errors?: unknown;
}

const NOUNS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
  date: 'a date',
  null: 'null',
  undefined: 'nothing',
  nan: 'NaN',
  tuple: 'a list',
  map: 'a Map',
  set: 'a Set',
  function: 'a function',
  symbol: 'a symbol',
  // z.never() (a key not allowed: an object's catchall), .nonoptional()
  never: 'no value here (remove it)',
  nonoptional: 'a value',
  void: 'nothing',
};

/** the value at `path` inside `root` (a Map's entry by its key; undefined where the path leaves plain data) */
export function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let at = root;
  for (const k of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    at = at instanceof Map ? at.get(k) : (at as Record<PropertyKey, unknown>)[k];
  }
  return at;
}

const bound = (n: unknown): string => (typeof n === 'bigint' ? String(n) : typeof n === 'number' ? String(n) : shownValue(n));

/** `s` on one line: control characters (a newline in a refinement's message, an option, a key) shown escaped */
export const oneLine = (s: string): string => excerpt(s, Number.POSITIVE_INFINITY);

/**
 * The message of `issue` in plain words, on one line; `given` is the value at the issue's path when the caller
 * has it (else the issue's own `input`, present when parsed with `reportInput`).
 */
export function issueMessage(issue: IssueLike, given?: { value: unknown }, opts: { ownWithValue?: boolean } = {}): string {
  const plain = plainMessage(fromZod3(issue) ?? issue, given);
  // a file's schema words its own messages without the value (`expected a RunId (16 hex digits)`): with
  // `ownWithValue` (result files, run and dataset manifests) the value given follows them, as it follows zod's
  const value = given !== undefined ? given.value : issue.input;
  const own = plain === issue.message && value !== undefined && issue.code !== 'unrecognized_keys' && issue.code !== 'invalid_key' && issue.code !== 'invalid_element';
  return oneLine(opts.ownWithValue && own ? `${plain}, got ${shownValue(value)}` : plain);
}

/** a zod 3 issue's fields (zod/v3, which a strategy may bring for its params) */
interface Zod3Issue extends IssueLike {
  received?: unknown;
  options?: unknown;
  type?: unknown;
  unionErrors?: unknown;
}

/**
 * A zod 3 issue with zod 3's own message ("Expected number, received string", "Required", "Number
 * must be greater than 0", "Invalid enum value. Expected 'x' | 'y', received 'z'") as the zod 4 issue
 * it stands for, so it reads in the same words; null for any other issue (a zod 4 one, a message of the schema's own).
 */
function fromZod3(i: Zod3Issue): IssueLike | null {
  if (!i || typeof i !== 'object' || 'origin' in i) return null;
  const m = typeof i.message === 'string' ? i.message : '';
  switch (i.code) {
    case 'invalid_type':
      if (!('received' in i) || !(m === 'Required' || /^Expected .+, received .+$/.test(m))) return null;
      // (an enum's expected is its options as one string: "'x' | 'y'")
      return { ...i, message: 'Invalid input', expected: i.expected === 'integer' ? 'int' : typeof i.expected === 'string' && i.expected.includes(' | ') ? `one of ${i.expected.split(' | ').join(', ')}` : i.expected };
    case 'too_small':
    case 'too_big':
      if (typeof i.type !== 'string' || !/^(Number|String|Array|Set|Date|BigInt) must /.test(m)) return null;
      return { ...i, message: 'Too small', origin: i.type };
    case 'invalid_enum_value':
      return /^Invalid enum value\./.test(m) ? { ...i, code: 'invalid_value', values: i.options, message: 'Invalid option' } : null;
    case 'invalid_literal':
      return /^Invalid literal value/.test(m) ? { ...i, code: 'invalid_value', values: [i.expected], message: 'Invalid input' } : null;
    case 'invalid_union': {
      // zod 3 keeps each branch's issues in a ZodError, their paths from the root: made relative to the union's
      if (!Array.isArray(i.unionErrors) || m !== 'Invalid input') return null;
      const at = Array.isArray(i.path) ? i.path.length : 0;
      const errors = (i.unionErrors as unknown[]).map((e) => {
        const list = (e as { issues?: unknown } | null)?.issues;
        return Array.isArray(list) ? (list as Zod3Issue[]).map((x) => (x && typeof x === 'object' ? { ...(fromZod3(x) ?? x), path: Array.isArray(x.path) ? x.path.slice(at) : [] } : x)) : [];
      });
      return { ...i, errors };
    }
    default:
      return null;
  }
}

function plainMessage(issue: IssueLike, given?: { value: unknown }): string {
  const has = given !== undefined || 'input' in issue;
  const value = given !== undefined ? given.value : issue.input;
  const got = has ? (value === undefined ? ', got nothing' : `, got ${shownValue(value)}`) : '';
  // (duck-typed: an issue of another library may carry no text)
  const msg = typeof issue.message === 'string' ? issue.message : 'Invalid input';
  const zodDefault = /^(Invalid input|Too small|Too big|Invalid option)\b/.test(msg);
  if (!zodDefault) {
    // zod's message of a format or a multiple ("Invalid string: must match pattern /…/", "Invalid email address"): with the value given
    if ((issue.code === 'invalid_format' || issue.code === 'not_multiple_of') && /^Invalid /.test(msg) && value !== undefined) return `${msg.replace(/^Invalid (string|number): /, '')}${got}`;
    return msg;
  }
  switch (issue.code) {
    case 'invalid_type': {
      const noun = typeof issue.expected === 'string' ? (NOUNS[issue.expected] ?? issue.expected) : 'another type';
      // nothing read at the path: missing, unless zod saw a value there (a path this could not follow)
      if (has && value === undefined) return /\breceived (?!undefined\b)/.test(msg) ? `expected ${noun}` : `required: expected ${noun}`;
      return `expected ${noun}${got}`;
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const limit = small ? issue.minimum : issue.maximum;
      const inclusive = issue.inclusive !== false;
      switch (issue.origin) {
        case 'number':
        case 'int':
        case 'bigint':
          return `expected a number ${small ? (inclusive ? '≥' : '>') : inclusive ? '≤' : '<'} ${bound(limit)}${got}`;
        case 'array':
        case 'set': {
          const n = Number(limit) + (inclusive ? 0 : small ? 1 : -1);
          return `expected ${issue.exact === true ? 'exactly' : small ? 'at least' : 'at most'} ${n} item${n === 1 ? '' : 's'}${got}`;
        }
        case 'string': {
          const n = Number(limit) + (inclusive ? 0 : small ? 1 : -1);
          if (small && n === 1 && issue.exact !== true) return `must not be empty${got}`;
          return `expected ${issue.exact === true ? 'exactly' : small ? 'at least' : 'at most'} ${n} character${n === 1 ? '' : 's'}${got}`;
        }
        case 'date': {
          // (zod 4 gives a date's bound as its time in ms)
          const at = limit instanceof Date ? limit : typeof limit === 'number' ? new Date(limit) : null;
          const when = at && Number.isFinite(at.getTime()) ? at.toISOString() : bound(limit);
          return `expected a date ${small ? 'on or after' : 'on or before'} ${when}${got}`;
        }
        default:
          return `${small ? 'too small' : 'too big'}${got}`;
      }
    }
    case 'invalid_union': {
      // every branch refused the value's type or value itself: what each would take ("a number or 'auto'")
      const alts = unionAlternatives(issue);
      if (alts) {
        const expected = `expected ${alts.length === 1 ? alts[0] : `${alts.slice(0, -1).join(', ')} or ${alts[alts.length - 1]}`}`;
        return has && value === undefined ? `required: ${expected}` : `${expected}${got}`;
      }
      break;
    }
    case 'invalid_value': {
      const values = Array.isArray(issue.values) ? (issue.values as unknown[]) : [];
      const listed = values.map(optionText).join(', ');
      const hint = typeof value === 'string' ? didYouMean(value, values.filter((x): x is string => typeof x === 'string')) : '';
      const expected = values.length === 1 ? `expected ${listed}` : `expected one of ${listed}`;
      // nothing at the path (zod 4 reports a missing enum member so): required, as a missing type is
      if (has && value === undefined) return `required: ${expected}`;
      return `${expected}${got}${hint}`;
    }
  }
  return `${msg.replace(/^Invalid input:?\s*/, '').replace(/^./, (c) => c.toLowerCase()) || 'invalid value'}${got}`;
}

const optionText = (x: unknown): string => (typeof x === 'string' ? `'${x}'` : shownValue(x));

/**
 * What the branches of a union would take, when each failed on the value's type or value at the
 * union's own path (z.union([z.number(), z.literal('auto')]) → a number, 'auto'); null when a branch
 * got further (its own issue says more) or is not of that kind.
 */
function unionAlternatives(issue: IssueLike): string[] | null {
  const branches = issue.errors;
  if (!Array.isArray(branches) || branches.length === 0) return null;
  const out: string[] = [];
  for (const b of branches as unknown[]) {
    if (!Array.isArray(b) || b.length === 0) return null;
    for (const i of b as IssueLike[]) {
      if (!i || typeof i !== 'object' || !Array.isArray(i.path) || i.path.length > 0) return null;
      if (i.code === 'invalid_type' && typeof i.expected === 'string') out.push(...(i.expected === 'boolean' ? ['true', 'false'] : [NOUNS[i.expected] ?? i.expected]));
      else if (i.code === 'invalid_value' && Array.isArray(i.values)) out.push(...(i.values as unknown[]).map(optionText));
      else if (i.code === 'invalid_union') {
        const inner = unionAlternatives(i);
        if (!inner) return null;
        out.push(...inner);
      } else return null;
    }
  }
  return [...new Set(out)];
}
