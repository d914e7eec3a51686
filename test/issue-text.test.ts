import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { issueMessage, valueAt } from '../src/util/issue-text.js';

/** the plain message of the first issue of `schema` on `value` (the value given read from the input, as the callers do) */
function first(schema: z.ZodType, value: unknown, reportInput = false): string {
  const r = schema.safeParse(value, { reportInput });
  if (r.success) throw new Error('expected a failure');
  const i = r.error.issues[0]!;
  return reportInput ? issueMessage(i) : issueMessage(i, { value: valueAt(value, i.path) });
}

describe('schema issues in plain words (one home: config, strategy params, results, manifests)', () => {
  const o = (shape: z.ZodRawShape) => z.object(shape);
  it.each<[string, z.ZodType, unknown, string]>([
    ['a whole number', o({ a: z.number().int() }), { a: 1.5 }, 'expected a whole number, got 1.5'],
    ['a number of another type', o({ a: z.number() }), { a: 'x' }, 'expected a number, got "x"'],
    ['a missing key', o({ a: z.string() }), {}, 'required: expected a string'],
    ['> bound', o({ a: z.number().gt(0) }), { a: -1 }, 'expected a number > 0, got -1'],
    ['≥ bound', o({ a: z.number().min(0) }), { a: -1 }, 'expected a number ≥ 0, got -1'],
    ['< bound', o({ a: z.number().lt(1) }), { a: 1 }, 'expected a number < 1, got 1'],
    ['≤ bound', o({ a: z.number().max(5) }), { a: 9 }, 'expected a number ≤ 5, got 9'],
    ['a list too short', o({ a: z.array(z.string()).min(1) }), { a: [] }, 'expected at least 1 item, got []'],
    ['a list too long', o({ a: z.array(z.number()).max(2) }), { a: [1, 2, 3] }, 'expected at most 2 items, got [1,2,3]'],
    ['an empty string', o({ a: z.string().min(1) }), { a: '' }, 'must not be empty, got ""'],
    ['a string too long', o({ a: z.string().max(3) }), { a: 'abcd' }, 'expected at most 3 characters, got "abcd"'],
    ['an option, with the nearest', o({ a: z.enum(['isolated', 'cross', 'mixed']) }), { a: 'isolatd' }, `expected one of 'isolated', 'cross', 'mixed', got "isolatd" (did you mean 'isolated'?)`],
    ['one literal', o({ a: z.literal('all') }), { a: 'al' }, `expected 'all', got "al" (did you mean 'all'?)`],
    ['an object given a list', o({ a: o({ b: z.number() }) }), { a: [1] }, 'expected an object, got [1]'],
    ["a schema's own message stays", o({ a: z.number().refine((v) => v > 1, 'expected a leverage ≥ 1') }), { a: 0 }, 'expected a leverage ≥ 1'],
  ])('%s', (_name, schema, value, text) => {
    expect(first(schema, value)).toBe(text);
    // the same from the issue's own input (reportInput), as result files are parsed
    expect(first(schema, value, true)).toBe(text);
  });

  it('without the value given, says what was expected only', () => {
    const r = z.object({ a: z.number() }).safeParse({ a: 'x' });
    expect(r.success).toBe(false);
    if (!r.success) expect(issueMessage(r.error.issues[0]!)).toBe('expected a number');
  });

  it('keeps the message of an issue it does not know (another zod, a custom code)', () => {
    expect(issueMessage({ code: 'invalid_type', message: 'Expected number, received string', path: ['a'] })).toBe('Expected number, received string');
    expect(issueMessage({ code: 'custom', message: 'Invalid input', path: [] }, { value: 3 })).toBe('invalid value, got 3');
  });

  it('reads the value given at an issue\'s path', () => {
    expect(valueAt({ a: [{ b: 7 }] }, ['a', 0, 'b'])).toBe(7);
    expect(valueAt({ a: 1 }, ['a', 'b'])).toBeUndefined();
    expect(valueAt(null, ['a'])).toBeUndefined();
  });
});

describe('schema issues stay on one line', () => {
  it("escapes a newline in a schema's own message, in an option, in a key and in an unknown key", async () => {
    const { formatIssues } = await import('../src/config/index.js');
    const { resultProblems } = await import('../src/shard/result-schema.js');
    expect(first(z.object({ a: z.number().refine((v) => v > 1, 'too low:\nraise it') }), { a: 0 })).toBe('too low:\\nraise it');
    expect(first(z.object({ a: z.enum(['up\nward', 'down']) }), { a: 'x' })).toBe(`expected one of 'up\\nward', 'down', got "x"`);
    const strict = z.strictObject({ leverage: z.number() });
    const keyed = strict.safeParse({ 'lever\nage': 3, leverage: 3 });
    expect(keyed.success).toBe(false);
    if (!keyed.success) expect(formatIssues(keyed.error.issues, '', strict, { value: { 'lever\nage': 3 } })).toEqual(["(root): unknown key 'lever\\nage' (did you mean 'leverage'?)"]);
    const rec = z.object({ symbols: z.record(z.string(), z.number()) });
    const bad = { symbols: { 'BT\nC': 'x' } };
    const r = rec.safeParse(bad);
    if (!r.success) expect(formatIssues(r.error.issues, 'stress', rec, { value: bad })).toEqual(['stress.symbols.BT\\nC: expected a number, got "x"']);
    // a hand-edited result file: a key of its metrics with a newline
    for (const line of resultProblems({ schemaVersion: 2, metrics: { 'a\nb': 'x' } })) expect(line).not.toMatch(/[\n\r]/);
  });
});

describe('a union whose every branch refused the value itself', () => {
  it('lists what each branch takes (not only the last branch: "expected \'auto\'" for a param that takes a number too)', async () => {
    const { formatIssues } = await import('../src/config/index.js');
    const params = z.object({ size: z.union([z.number().positive(), z.literal('auto')]), when: z.union([z.string(), z.number(), z.null()]) });
    expect(first(params, { size: 'x', when: null })).toBe(`expected a number or 'auto', got "x"`);
    expect(first(params, { size: 1, when: true })).toBe('expected a string, a number or null, got true');
    expect(first(z.object({ a: z.union([z.enum(['up', 'down']), z.union([z.literal(0), z.boolean()])]) }), { a: 'upp' })).toBe(`expected 'up', 'down', 0, true or false, got "upp"`);
    // a strategy's params through the config's formatter (the plan validates every grid point so)
    const r = params.safeParse({ size: 'x', when: 1 });
    if (!r.success) expect(formatIssues(r.error.issues, 'strategies[0].params', undefined, { value: { size: 'x', when: 1 } })).toEqual([`strategies[0].params.size: expected a number or 'auto', got "x"`]);
    // a branch that got further says more: its own issue is shown
    expect(first(z.object({ a: z.union([z.number().positive(), z.literal('auto')]) }), { a: -1 })).toBe('expected a number > 0, got -1');
  });
});

describe('bounds as zod 4 gives them', () => {
  it.each<[string, z.ZodType, unknown, string]>([
    ['a string of an exact length', z.object({ a: z.string().length(3) }), { a: 'ab' }, 'expected exactly 3 characters, got "ab"'],
    ['a string of one character exactly', z.object({ a: z.string().length(1) }), { a: '' }, 'expected exactly 1 character, got ""'],
    ['a list of an exact length', z.object({ a: z.array(z.number()).length(2) }), { a: [1, 2, 3] }, 'expected exactly 2 items, got [1,2,3]'],
    ['a date bound (given in ms)', z.object({ a: z.date().min(new Date('2024-01-01T00:00:00Z')) }), { a: new Date('2023-06-01T00:00:00Z') }, 'expected a date on or after 2024-01-01T00:00:00.000Z, got "2023-06-01T00:00:00.000Z"'],
  ])('%s', (_name, schema, value, text) => {
    expect(first(schema, value)).toBe(text);
  });
});

describe("zod's messages of a format and a multiple", () => {
  it.each<[string, z.ZodType, unknown, string]>([
    ['a pattern (the dataset manifest\'s sha256)', z.object({ sha256: z.string().regex(/^[0-9a-f]{4}$/) }), { sha256: 'xyz' }, 'must match pattern /^[0-9a-f]{4}$/, got "xyz"'],
    ['a named format', z.object({ a: z.email() }), { a: 'xyz' }, 'Invalid email address, got "xyz"'],
    ['a multiple', z.object({ a: z.number().multipleOf(5) }), { a: 7 }, 'must be a multiple of 5, got 7'],
    ["a pattern's own message is kept as written", z.object({ a: z.string().regex(/^a$/, 'expected the letter a') }), { a: 'b' }, 'expected the letter a'],
  ])('%s: with the value given', (_name, schema, value, text) => {
    expect(first(schema, value)).toBe(text);
    expect(first(schema, value, true)).toBe(text);
  });
});

describe('never throws', () => {
  it('on an issue of another library without a message, with a path through a cycle, a bigint, a throwing getter', () => {
    expect(issueMessage({ code: 'custom', path: ['a'] } as never, { value: 3 })).toBe('invalid value, got 3');
    expect(issueMessage({ code: 'invalid_type', expected: 'number', message: 7 as never, path: [] }, { value: 'x' })).toBe('expected a number, got "x"');
    const cyc: Record<string, unknown> = {};
    cyc.self = cyc;
    expect(issueMessage({ code: 'invalid_type', expected: 'number', message: 'Invalid input: expected number, received object', path: ['a'] }, { value: cyc })).toBe('expected a number, got [object Object]');
    const hostile = { toJSON() { throw new Error('no'); }, toString() { throw new Error('no'); } };
    expect(issueMessage({ code: 'invalid_type', expected: 'number', message: 'Invalid input', path: [] }, { value: hostile })).toMatch(/^expected a number, got an? \w+ value that cannot be shown as text$/);
    expect(issueMessage({ code: 'invalid_union', errors: [[null], 5], message: 'Invalid input', path: [] }, { value: 10n })).toBe('invalid value, got 10n');
  });
});

describe('the value given inside a Map or where the path cannot be followed', () => {
  it('reads a Map entry, and never calls a value zod saw "required"', () => {
    const m = z.object({ a: z.map(z.string(), z.number()) });
    expect(first(m, { a: new Map([['x', 'y']]) })).toBe('expected a number, got "y"');
    expect(valueAt({ a: new Map([['x', 7]]) }, ['a', 'x'])).toBe(7);
    // a value zod saw but the caller could not reach (a Set's element): what was expected, not "required"
    expect(issueMessage({ code: 'invalid_type', expected: 'number', message: 'Invalid input: expected number, received string', path: ['a', 0] }, { value: undefined })).toBe('expected a number');
    expect(issueMessage({ code: 'invalid_type', expected: 'number', message: 'Invalid input: expected number, received undefined', path: ['a'] }, { value: undefined })).toBe('required: expected a number');
  });
});

describe("zod's other expected types", () => {
  it.each<[string, z.ZodType, unknown, string]>([
    ['a key a schema forbids (z.never())', z.object({ a: z.number(), legacy: z.never().optional() }), { a: 1, legacy: 2 }, 'expected no value here (remove it), got 2'],
    ['a required value (nonoptional)', z.object({ a: z.number().optional().nonoptional() }), {}, 'required: expected a value'],
  ])('%s', (_name, schema, value, text) => {
    expect(first(schema, value)).toBe(text);
  });
});

describe('config keys that are unions of a name and an object', () => {
  it('say both forms (they read "invalid value, got 5")', async () => {
    const { resolveConfig } = await import('../src/config/index.js');
    const details = async (extra: Record<string, unknown>) => {
      try {
        await resolveConfig({ name: 't', data: 'd', strategies: ['buy-and-hold'], ...extra } as never, { configDir: '/tmp' });
        return [];
      } catch (e) {
        return (e as { details?: string[] }).details;
      }
    };
    expect(await details({ data: [5] })).toEqual(['data[0]: expected a string or an object, got 5']);
    expect(await details({ strategies: [5] })).toEqual(['strategies[0]: expected a string or an object, got 5']);
    expect(await details({ stress: { scenarios: [5] } })).toEqual(['stress.scenarios[0]: expected a string or an object, got 5']);
    expect(await details({ stress: { scenarios: [{ id: 'a', symbols: { BTC: { duration: true, depth: -0.1 } } }] } })).toEqual(['stress.scenarios[0].symbols.BTC.duration: expected a number or a string, got true']);
  });
});

describe('a strategy that brings zod 3 (zod/v3) for its params', () => {
  it("reads in the same plain words as zod 4 (it kept zod 3's 'Expected number, received string', 'Required', and a union read 'invalid value, got nothing')", async () => {
    const z3 = (await import('zod/v3')).z;
    const { formatIssues } = await import('../src/config/index.js');
    const s = z3.object({ a: z3.number().positive(), b: z3.enum(['long', 'short']), c: z3.string().min(2), d: z3.union([z3.number(), z3.literal('auto')]), e: z3.array(z3.number()).min(1), f: z3.number().int(), g: z3.boolean(), h: z3.number().max(5, 'at most 5 steps') });
    const lines = (v: Record<string, unknown>) => {
      const r = s.safeParse(v);
      return r.success ? [] : formatIssues(r.error.issues as never, 'strategies[0].params', undefined, { value: v });
    };
    expect(lines({ a: -1, b: 'shrt', c: 'q', d: 'w', e: [], f: 1.5, g: 'no', h: 9 })).toEqual([
      'strategies[0].params.a: expected a number > 0, got -1',
      "strategies[0].params.b: expected one of 'long', 'short', got \"shrt\" (did you mean 'short'?)",
      'strategies[0].params.c: expected at least 2 characters, got "q"',
      "strategies[0].params.d: expected a number or 'auto', got \"w\"",
      'strategies[0].params.e: expected at least 1 item, got []',
      'strategies[0].params.f: expected a whole number, got 1.5',
      'strategies[0].params.g: expected true or false, got "no"',
      'strategies[0].params.h: at most 5 steps',
    ]);
    expect(lines({ e: [1], h: 1 })).toEqual([
      'strategies[0].params.a: required: expected a number',
      "strategies[0].params.b: required: expected one of 'long', 'short'",
      'strategies[0].params.c: required: expected a string',
      "strategies[0].params.d: required: expected a number or 'auto'",
      'strategies[0].params.f: required: expected a number',
      'strategies[0].params.g: required: expected true or false',
    ]);
  });

  it('a missing union value is required (zod 4 too), not "got nothing"', () => {
    expect(first(z.object({ d: z.union([z.number(), z.literal('auto')]) }), {})).toBe("required: expected a number or 'auto'");
    // an enum or a literal (zod 4: invalid_value) said "expected one of 'long', 'short', got nothing"
    expect(first(z.object({ side: z.enum(['long', 'short']) }), {})).toBe("required: expected one of 'long', 'short'");
    expect(first(z.object({ kind: z.literal('perp') }), {})).toBe("required: expected 'perp'");
    expect(first(z.object({ side: z.enum(['long', 'short']) }), { side: 'lng' })).toBe("expected one of 'long', 'short', got \"lng\" (did you mean 'long'?)");
  });
});

describe("a file's own schema messages show the value given (result files, run and dataset manifests alike)", () => {
  it('a run manifest with a RunId that is not one names it, as a result file does', async () => {
    const { parseRunManifest } = await import('../src/shard/schema.js');
    let err: unknown;
    try {
      const { makeManifest, makeResults } = await import('./fixtures/report/fixture.js');
      const rs = makeResults();
      parseRunManifest(JSON.stringify({ ...makeManifest(rs), runIds: ['xyz'] }), 'run/manifest.json');
    } catch (e) {
      err = e;
    }
    expect((err as { details?: string[] }).details).toEqual(['runIds.0: expected a RunId (16 hex digits), got "xyz"']);
    // the config words its own messages with the value where it helps: not appended there
    expect(issueMessage({ code: 'custom', message: 'expected a leverage ≥ 1', path: ['a'] }, { value: 0 })).toBe('expected a leverage ≥ 1');
    expect(issueMessage({ code: 'custom', message: 'expected a leverage ≥ 1', path: ['a'] }, { value: 0 }, { ownWithValue: true })).toBe('expected a leverage ≥ 1, got 0');
  });
});
