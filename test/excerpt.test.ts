/**
 * Messages quote at most a bounded excerpt of user data (src/util/excerpt.ts): a header of 200,000
 * columns or a symbol of 10,000 characters gives a one-line message of bounded size; a symbol too
 * long for a file name is refused before anything is written.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONTROL_CHAR, excerpt, grouped, visible } from '../src/util/excerpt.js';
import fc from 'fast-check';
import { importCsv } from '../src/feed/csv.js';
import { UserError } from '../src/errors.js';

describe('excerpt', () => {
  it('keeps short text, cuts long text with its length, escapes control characters', () => {
    expect(excerpt('abc')).toBe('abc');
    expect(excerpt('x'.repeat(1_000_000), 10)).toBe('xxxxxxxxxx… (1,000,000 characters)');
    expect(excerpt('a\tb\nc\u0001')).toBe('a\\tb\\nc\\x01');
  });
  it('visible: C0, DEL, C1, the line separators and every bidi control shown as escapes; other text (any script, emoji, ZWJ) kept', () => {
    // an ESC sequence recoloured the terminal; U+009B is a second ESC [; a bidi override reversed the rest of the line
    expect(visible('a\u001b[31mred\u0007\u007f\u0085\u009b2J')).toBe('a\\x1b[31mred\\x07\\x7f\\x85\\x9b2J');
    const bidi = ['\u061c', '\u200e', '\u200f', '\u202a', '\u202b', '\u202c', '\u202d', '\u202e', '\u2066', '\u2067', '\u2068', '\u2069'];
    for (const c of [...bidi, '\u2028', '\u2029']) expect(visible(`x${c}y`)).toBe(`x\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}y`);
    expect(excerpt('策略-ü-😀\u202e x')).toBe('策略-ü-😀\\u202e x');
    const kept = '策略-ü-😀 👩\u200d💻 Ελλάδα عربى';
    expect(visible(kept)).toBe(kept);
    expect(CONTROL_CHAR.test(kept)).toBe(false);
    // an escaped text is left as it is (the escapes hold no control character): escaping twice changes nothing
    expect(visible(visible('\u001b\u202e'))).toBe('\\x1b\\u202e');
  });
});

describe('importer messages are bounded', () => {
  it('a header of 100,000 columns: the error quotes an excerpt (message under 1 KB); of 200,000 (over 1 MiB) it is a line too long', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-excerpt-'));
    const f = join(d, 'wide.csv');
    writeFileSync(f, `${Array.from({ length: 100_000 }, (_, i) => `col${i}`).join(',')}\n1,2,3\n`);
    const e = await importCsv({ file: f, kind: 'candles', symbol: 'AAAUSDT', timeframe: '1h', out: join(d, 'ds') }).then(() => null, (x: unknown) => x as UserError);
    expect(e).toBeInstanceOf(UserError);
    expect(e!.exitCode).toBe(65);
    expect(e!.message).toMatch(/missing columns? .* in the header \(line 1: col0,col1,.*… \(\d{3},\d{3} characters\)\)/);
    expect(e!.message.length).toBeLessThan(1024);
    expect(existsSync(join(d, 'ds'))).toBe(false);
    // a header past the csv format's 1 MiB line limit is refused as such, as briefly
    writeFileSync(f, `${Array.from({ length: 200_000 }, (_, i) => `col${i}`).join(',')}\n1,2,3\n`);
    const e2 = await importCsv({ file: f, kind: 'candles', symbol: 'AAAUSDT', timeframe: '1h', out: join(d, 'ds') }).then(() => null, (x: unknown) => x as UserError);
    expect(e2).toBeInstanceOf(UserError);
    expect(e2!.exitCode).toBe(65);
    expect(e2!.message).toMatch(/line 1 .*longer than 1 MiB/);
    expect(e2!.message.length).toBeLessThan(1024);
    expect(existsSync(join(d, 'ds'))).toBe(false);
  });
  it('a symbol too long for a file name is a usage error before anything is written', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ml-excerpt-'));
    const f = join(d, 'x.csv');
    writeFileSync(f, 'timestamp,open,high,low,close,volume\n0,1,1,1,1,1\n');
    const e = await importCsv({ file: f, kind: 'candles', symbol: 'A'.repeat(10_000), timeframe: '1h', out: join(d, 'ds') }).then(() => null, (x: unknown) => x as UserError);
    expect(e!.exitCode).toBe(64);
    expect(e!.message.length).toBeLessThan(300);
    expect(existsSync(join(d, 'ds'))).toBe(false);
  });
});

describe('grouped (thousands separators without ICU)', () => {
  it('writes every integer as toLocaleString(en-US) does', () => {
    for (const n of [0, 7, -7, 999, 1000, -1000, 12345, 999_999, 1_000_000, -1_234_567, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]) expect(grouped(n)).toBe(n.toLocaleString('en-US'));
    fc.assert(fc.property(fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (n) => grouped(n) === n.toLocaleString('en-US')), { numRuns: 2000, seed: 36 });
    // not a safe integer: as toLocaleString writes it
    for (const n of [1.5, 2 ** 60, NaN, Infinity, -0]) expect(grouped(n)).toBe(n.toLocaleString('en-US'));
  });
});
