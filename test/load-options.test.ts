/**
 * loadDataset's options and selectSymbols' list as plain JavaScript passes them: a misspelt option, a date string
 * for `from`, one string for `symbols` were ignored or failed inside the loader (`from: '2025-03-01'` loaded the whole
 * dataset; `symbols: 'BTCUSDT'` read "symbols.filter is not a function"). Each is refused with exit code 78, one line
 * naming the option and what to pass; good options load as before.
 */
import { describe, expect, it } from 'vitest';
import { loadDataset, selectSymbols, SAMPLE_DATA, UserError } from '../src/index.js';

async function refusal(p: Promise<unknown>): Promise<{ code: number | undefined; message: string }> {
  try {
    await p;
  } catch (e) {
    return { code: e instanceof UserError ? e.exitCode : undefined, message: (e as Error).message };
  }
  throw new Error('the call was not refused');
}

describe('loadDataset options', () => {
  const bad: [string, unknown, RegExp][] = [
    ['a misspelt key', { gap: 'warn' }, /^loadDataset: unknown option 'gap' \(did you mean 'gaps'\?\); the options are timeframe, symbols, from, to, gaps$/],
    ['a date string for from', { from: '2025-03-01' }, /^loadDataset: from must be a time in ms UTC \(a number: Date\.parse/],
    ['a Date for to', { to: new Date('2025-03-01') }, /^loadDataset: to must be a time in ms UTC/],
    ['NaN for from', { from: Number.NaN }, /^loadDataset: from must be a time in ms UTC.*got NaN$/],
    ['one string for symbols', { symbols: 'BTCUSDT' }, /^loadDataset: symbols must be an array of symbol names .*the string 'BTCUSDT' \(write \['BTCUSDT'\]\)$/],
    ['a number in symbols', { symbols: ['BTCUSDT', 1] }, /^loadDataset: symbols must be an array of symbol names/],
    ['a number for timeframe', { timeframe: 5 }, /^loadDataset: timeframe must be a timeframe name such as '1m'/],
    ['an unknown gaps policy', { gaps: 'warning' }, /^loadDataset: gaps must be 'error' or 'warn', got 'warning'$/],
    ['null options', null, /^loadDataset: options must be an object/],
    ['an array of options', ['1h'], /^loadDataset: options must be an object.*got an array$/],
  ];
  it.each(bad)('%s is refused (78), naming the option', async (_what, opts, message) => {
    const r = await refusal(loadDataset(SAMPLE_DATA, opts as never));
    expect(r.code).toBe(78);
    expect(r.message).toMatch(message);
    expect(r.message).not.toContain('\n');
  });

  it('good options load as before (a window, symbols, the gap policy)', async () => {
    const all = await loadDataset(SAMPLE_DATA);
    const from = all.time[10]!;
    const md = await loadDataset(SAMPLE_DATA, { symbols: [all.symbols[1]!], from, to: all.time[20]!, gaps: 'warn', timeframe: all.timeframe });
    expect(md.symbols).toEqual([all.symbols[1]]);
    expect(md.time.length).toBe(10);
    expect(md.time[0]).toBe(from);
    expect((await loadDataset(SAMPLE_DATA, undefined)).time.length).toBe(all.time.length);
  });
});

describe('selectSymbols', () => {
  it('one string instead of a list is refused (78) saying how to write it', async () => {
    const md = await loadDataset(SAMPLE_DATA);
    let caught: unknown;
    try {
      selectSymbols(md, 'ETHUSDT' as never);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UserError);
    expect((caught as UserError).exitCode).toBe(78);
    expect((caught as Error).message).toMatch(/^selectSymbols: symbols must be an array of symbol names .*the string 'ETHUSDT' \(write \['ETHUSDT'\]\)$/);
    expect(selectSymbols(md, ['ETHUSDT']).symbols).toEqual(['ETHUSDT']);
  });
});
