/**
 * Candles open where exchanges open them (feed/timeframe.ts gridOf): the importers, the loader,
 * `data validate` and `data synth` refuse a series whose times are shifted off that grid, naming
 * the file and row.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gridOf, offExchangeGrid, timeframeMs } from '../src/feed/timeframe.js';
import { importCsv } from '../src/feed/csv.js';
import { loadDataset } from '../src/feed/load.js';
import { inspectDataset } from '../src/feed/inspect.js';
import { synthesize } from '../src/feed/synth.js';
// unchecked: these tests build datasets the loader must refuse (writeDataset checks what it writes)
import { writeDatasetUnchecked as writeDataset, type SeriesInput } from '../src/feed/write.js';
import { UserError } from '../src/errors.js';
import { feedCli } from './fixtures/feed/cli.js';

const M = 60_000;
const H = 60 * M;
const D = 24 * H;
const MON = Date.UTC(2024, 0, 1); // a Monday
const root = mkdtempSync(join(tmpdir(), 'ml-grid-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;

describe('offExchangeGrid', () => {
  it.each([
    ['1m', MON + 7 * M, null],
    ['1m', MON + 30_000, '30s past one'],
    ['1s', MON + 1500, '500 ms past one'],
    ['1h', MON + 5 * H, null],
    ['1h', MON + 30 * M, '30m past one'],
    ['1h', MON + 500, '500 ms past one'],
    ['4h', MON + 20 * H, null],
    ['4h', MON + 2 * H, '2h past one'],
    ['8h', MON + 16 * H, null],
    ['7m', MON + 11 * M, null], // 7m does not divide a day: any whole minute (gcd(7m, 1d) = 1m)
    ['7m', MON + 11 * M + 1000, '1s past one'],
    ['1d', MON + 3 * D, null],
    ['1d', MON + 8 * H, '8h past one'],
    ['3d', MON + D, null], // longer than a day: at 00:00 UTC
    ['3d', MON + D + H, '1h past one'],
    ['1w', MON + 7 * D, null],
    ['1w', MON - 7 * 52 * 60 * D, null], // before 1970, a Monday
    ['1w', MON + 3 * D, '3d past one'],
    ['2w', Date.UTC(1970, 0, 1), '3d past one'], // 1970-01-01 was a Thursday
  ] as const)('%s at %d: %s', (tf, t, want) => {
    const got = offExchangeGrid(t, timeframeMs(tf), tf);
    if (want === null) expect(got).toBeNull();
    else {
      expect(got).toContain(`is not on the exchanges' ${tf} grid`);
      expect(got).toContain(`(this one is ${want}:`);
    }
  });

  it('the grid of a timeframe dividing a day is the timeframe itself, from 00:00 UTC', () => {
    for (const tf of ['1s', '1m', '3m', '5m', '15m', '30m', '1h', '2h', '4h', '6h', '8h', '12h', '1d']) {
      expect(gridOf(timeframeMs(tf))).toMatchObject({ step: timeframeMs(tf), anchor: 0 });
    }
    expect(gridOf(timeframeMs('1w'))).toMatchObject({ step: 7 * D, anchor: 4 * D, text: 'a Monday at 00:00 UTC' });
  });
});

async function userError(p: Promise<unknown>): Promise<UserError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof UserError) return e;
    throw e;
  }
  throw new Error('expected a UserError');
}

const csv = (rows: number[]): string => {
  const p = join(root, `in-${++n}.csv`);
  writeFileSync(p, `timestamp,open,high,low,close,volume\n${rows.map((t) => `${t},1,2,0.5,1.5,10`).join('\n')}\n`);
  return p;
};

describe('the importers refuse candles off the grid', () => {
  it('a 1h CSV shifted by half an hour or half a second: 65, naming the file and line, nothing written', async () => {
    for (const shift of [30 * M, 500]) {
      const out = join(root, `ds-${++n}`);
      const f = csv([0, 1, 2, 3].map((i) => MON + i * H + shift));
      const e = await userError(importCsv({ file: f, kind: 'candles', symbol: 'X', timeframe: '1h', out }));
      expect(e.exitCode).toBe(65);
      expect(`${e.message} ${e.details.join(' ')}`).toContain(`line 2: ${new Date(MON + shift).toISOString()}`);
      expect(`${e.message} ${e.details.join(' ')}`).toContain("is not on the exchanges' 1h grid: a 1h candle opens at a whole multiple of 1h after 00:00 UTC");
      expect(existsSync(out)).toBe(false);
    }
    // on the grid, the same rows import
    const out = join(root, `ds-${++n}`);
    await importCsv({ file: csv([0, 1, 2, 3].map((i) => MON + i * H)), kind: 'candles', symbol: 'X', timeframe: '1h', out });
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
  });

  it('through the CLI, without --timeframe too: one line, exit 65', async () => {
    const r = await feedCli(['import', 'csv', csv([0, 1, 2, 3, 4].map((i) => MON + i * 4 * H + 2 * H)), '--kind', 'candles', '--symbol', 'X', '--out', join(root, `ds-${++n}`)]);
    expect(r.code).toBe(65);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("is not on the exchanges' 4h grid");
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('the format importers too (a Bybit answer shifted by half an hour): one line, exit 65, nothing written', async () => {
    const src = JSON.parse(readFileSync(join(__dirname, 'fixtures', 'import', 'bybit', 'ETHUSDT-kline-60.json'), 'utf8')) as { result: { list: string[][] } };
    const list = src.result.list.map((row) => [String(Number(row[0]) + 30 * M), ...row.slice(1)]);
    const f = join(root, 'bybit-shifted.json');
    writeFileSync(f, JSON.stringify({ ...src, result: { ...src.result, list } }));
    const out = join(root, `ds-${++n}`);
    const r = await feedCli(['import', f, '--out', out]);
    expect(r.code).toBe(65);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain("is not on the exchanges' 1h grid");
    expect(existsSync(out)).toBe(false);
  });
});

function candles(symbol: string, start: number, count: number, tf = '1h'): SeriesInput {
  const step = timeframeMs(tf);
  const time = Array.from({ length: count }, (_, i) => start + i * step);
  const col = (x: number) => time.map((_, i) => x + i);
  return { symbol, kind: 'candles', timeframe: tf, time, columns: { open: col(100), high: col(102), low: col(99), close: col(101), volume: col(1) } };
}

describe('the loader and data validate refuse a dataset whose shared grid is off the exchanges\' grid', () => {
  it('written by another tool with its times shifted: 65 naming the file and row 1, as data validate and data inspect say it', async () => {
    const dir = join(root, 'shifted');
    await writeDataset(dir, { venue: 'binance-usdm', timeframe: '1h', series: [candles('AUSDT', MON + 30 * M, 6), candles('BUSDT', MON + 30 * M + H, 5)] });
    const e = await userError(loadDataset(dir));
    expect(e.exitCode).toBe(65);
    // the earliest file is off the exchanges' grid; the other shares its grid and is not blamed twice
    expect(e.details).toEqual([expect.stringContaining(`AUSDT-candles-1h.arrow row 1: ${new Date(MON + 30 * M).toISOString()}`)]);
    expect(e.details[0]).toContain("is not on the exchanges' 1h grid");
    expect((await inspectDataset(dir)).problems).toEqual([expect.stringContaining("AUSDT-candles-1h.arrow row 1: " + new Date(MON + 30 * M).toISOString())]);
    const v = await feedCli(['data', 'validate', dir]);
    expect(v.code).toBe(65);
    expect(v.stderr).toContain("is not on the exchanges' 1h grid");
    // the same dataset on the grid loads
    const ok = join(root, 'on-grid');
    await writeDataset(ok, { venue: 'binance-usdm', timeframe: '1h', series: [candles('AUSDT', MON, 6), candles('BUSDT', MON + H, 5)] });
    expect((await loadDataset(ok)).time.length).toBe(6);
  });

  it('weekly candles open on Mondays', async () => {
    const thu = join(root, 'weekly-thursday');
    await writeDataset(thu, { venue: 'binance-usdm', timeframe: '1w', series: [candles('AUSDT', MON + 3 * D, 4, '1w')] });
    expect((await userError(loadDataset(thu))).details[0]).toContain("is not on the exchanges' 1w grid: a 1w candle opens at a Monday at 00:00 UTC (this one is 3d past one");
    const mon = join(root, 'weekly-monday');
    await writeDataset(mon, { venue: 'binance-usdm', timeframe: '1w', series: [candles('AUSDT', MON, 4, '1w')] });
    expect((await loadDataset(mon)).time.length).toBe(4);
  });
});

describe('data synth', () => {
  it('refuses a start off the grid (64) and writes nothing', async () => {
    const out = join(root, 'synth-off');
    const e = await userError(synthesize({ out, symbols: 1, bars: 10, timeframe: '1h', seed: 1, start: MON + 30 * M }));
    expect(e.exitCode).toBe(64);
    expect(e.message).toContain("synthesize: start 2024-01-01T00:30:00.000Z");
    expect(existsSync(out)).toBe(false);
  });
});
