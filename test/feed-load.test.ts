/** Loader: one timeline, absent symbols, mixed timeframes (mark, funding), slices, bundled data. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
// unchecked: these tests build datasets the loader must refuse (writeDataset checks what it writes)
import { writeDatasetUnchecked as writeDataset, type SeriesInput } from '../src/feed/write.js';
import { loadDataset, ColumnSlabs, SLAB_BYTES } from '../src/feed/load.js';
import { fundingInterval, fundingSettleTime } from '../src/feed/timeframe.js';
import type { LoadOptions, MarketData } from '../src/feed/types.js';
import { sliceMarketData, selectSymbols } from '../src/feed/slice.js';
import { inspectDataset } from '../src/feed/inspect.js';

const H = 3_600_000;
const T0 = Date.UTC(2025, 4, 22); // 1747872000000
const root = mkdtempSync(join(tmpdir(), 'ml-feed-load-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function candles(symbol: string, tf: number, tfName: string, start: number, n: number, kind: 'candles' | 'mark' = 'candles', base = 100): SeriesInput {
  const time: number[] = [], open: number[] = [], high: number[] = [], low: number[] = [], close: number[] = [], volume: number[] = [];
  for (let i = 0; i < n; i++) {
    time.push(start + i * tf); open.push(base + i); high.push(base + i + 2); low.push(base + i - 1); close.push(base + i + 1); volume.push(i);
  }
  return { symbol, kind, timeframe: tfName, time, columns: kind === 'candles' ? { open, high, low, close, volume } : { open, high, low, close } };
}

const mixed = join(root, 'mixed');
beforeAll(async () => {
  await writeDataset(mixed, {
    venue: 'binance-usdm', timeframe: '1h',
    series: [
      candles('AUSDT', H, '1h', T0, 24),
      candles('AUSDT', H / 2, '30m', T0, 48),
      candles('AUSDT', 8 * H, '8h', T0, 3, 'mark', 1000),
      candles('AUSDT', 15 * 60_000, '15m', T0, 96, 'mark', 500),
      { symbol: 'AUSDT', kind: 'funding', time: [T0 - 8 * H + 3, T0 + 1, T0 + 8 * H + 17, T0 + 16 * H, T0 + 16 * H + 5000, T0 + 24 * H], columns: { rate: [0.1 / 100, 0.0001, -0.0002, 0.0003, 0.0004, 0.0005] } },
      candles('BUSDT', H, '1h', T0 + 5 * H, 10, 'candles', 50), // starts later, ends earlier
      candles('BUSDT', H / 2, '30m', T0 + 5 * H, 20, 'candles', 50),
    ],
  });
});

describe('loadDataset: one timeline', () => {
  it('puts symbols on the union timeline, marks absence, never forward-fills, and backs columns by SharedArrayBuffer', async () => {
    const md = await loadDataset(mixed);
    expect(md.time.length).toBe(24);
    expect(md.time[0]).toBe(T0);
    expect(md.time.buffer).toBeInstanceOf(SharedArrayBuffer);
    const b = md.columns[1]!;
    expect(Array.from(b.present.slice(0, 6))).toEqual([0, 0, 0, 0, 0, 1]);
    expect(b.present.reduce((s, v) => s + v, 0)).toBe(10);
    expect(Number.isNaN(b.close[4]!)).toBe(true);
    expect(Number.isNaN(b.close[15]!)).toBe(true); // after its last candle: NaN, not the last close
    expect(b.close[14]).toBe(60);
    for (const arr of [b.open, b.present, b.markOpen, b.fundingStart]) expect(arr.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(Object.keys(md.hashes).sort()).toEqual([
      'AUSDT-candles-1h.arrow', 'AUSDT-funding.arrow', 'AUSDT-mark-15m.arrow', 'AUSDT-mark-8h.arrow', 'BUSDT-candles-1h.arrow', 'manifest.json',
    ]);
  });

  it('aggregates finer mark candles to the bar; coarser ones only price funding', async () => {
    const md = await loadDataset(mixed);
    const a = md.columns[0]!;
    expect(a.markAtBarTimeframe).toBe(true);
    // 1h bar k = 15m mark rows 4k..4k+3 (base 500): open 500+4k, high max = 500+4k+3+2, low 500+4k-1, close 500+4k+3+1
    expect([a.markOpen[2], a.markHigh[2], a.markLow[2], a.markClose[2]]).toEqual([508, 513, 507, 512]);
    expect(md.columns[1]!.markAtBarTimeframe).toBe(false);
    expect(Number.isNaN(md.columns[1]!.markOpen[6]!)).toBe(true);
  });

  it('places funding in (previous bar open, this bar open], normalising ms jitter, priced at the finest containing mark open', async () => {
    const md = await loadDataset(mixed);
    const a = md.columns[0]!;
    // event at T0-8h+3 is before the first bar window (T0-1h, T0]: dropped; T0+1 → T0 (jitter) → bar 0
    expect(Array.from(a.fundingTime)).toEqual([T0 + 1, T0 + 8 * H + 17, T0 + 16 * H, T0 + 16 * H + 5000]);
    const barOf = (e: number) => { for (let i = 0; i < md.time.length; i++) if (e >= a.fundingStart[i]! && e < a.fundingStart[i + 1]!) return i; return -1; };
    expect([0, 1, 2, 3].map(barOf)).toEqual([0, 8, 16, 17]); // 5 s past the hour is not jitter: next bar
    // T0+24h is after the last bar (T0+23h): dropped
    expect(a.fundingStart[24]).toBe(4);
    // price: the 15m mark candle containing the time (base 500, row 32 at T0+8h → open 532)
    expect(Array.from(a.fundingPrice)).toEqual([500, 532, 564, 564]);
    expect(fundingSettleTime(1747872000001)).toBe(1747872000000);
    expect(fundingSettleTime(1747872000999)).toBe(1747872000000);
    expect(fundingSettleTime(1747872001000)).toBe(1747872001000);
  });

  it('a funding time on a bar open that no mark candle opens at is priced at that open, not at an older coarser mark candle', async () => {
    // 1h candles (base 100), 8h mark candles only (base 500): the funding moves from 8h to 4h and 1h (Binance 2023-2025).
    // The 8h mark candle containing 20:00 opened at 16:00, four hours before the settlement; the 1h bar opens at it.
    const dir = join(root, 'interval-change');
    await writeDataset(dir, {
      venue: 'binance-usdm', timeframe: '1h',
      series: [candles('X', H, '1h', T0, 24), candles('X', 8 * H, '8h', T0, 3, 'mark', 500),
        { symbol: 'X', kind: 'funding', time: [T0 + 8 * H + 1, T0 + 16 * H + 3, T0 + 20 * H + 2, T0 + 21 * H + 5000, T0 + 23 * H], columns: { rate: [0.0001, 0.0001, 0.0001, 0.0001, 0.0001] } }],
    });
    const a = (await loadDataset(dir)).columns[0]!;
    // 08:00 and 16:00: the 8h mark candles opening there; 20:00 and 23:00: the trade opens of bars 20 and 23;
    // 21:00:05 (not jitter: settles at the 22:00 bar, an hour later) keeps the mark candle containing it
    expect(Array.from(a.fundingPrice)).toEqual([501, 502, 120, 502, 123]);
  });

  it('at 30m the same funding lands on the 30m bars; a timeframe with no mark at all falls back to trade open', async () => {
    const md = await loadDataset(mixed, { timeframe: '30m' });
    expect(md.time.length).toBe(48);
    expect(md.timeframeMs).toBe(H / 2);
    const a = md.columns[0]!;
    expect(a.markAtBarTimeframe).toBe(true); // 15m divides 30m
    const bars = Array.from(a.fundingTime).map((_, e) => { for (let i = 0; i < 48; i++) if (e >= a.fundingStart[i]! && e < a.fundingStart[i + 1]!) return i; return -1; });
    expect(bars).toEqual([0, 16, 32, 33]);

    const noMark = join(root, 'nomark');
    await writeDataset(noMark, { venue: 'v', timeframe: '1h', series: [candles('X', H, '1h', T0, 5), { symbol: 'X', kind: 'funding', time: [T0 + 2 * H], columns: { rate: [0.0001] } }] });
    const m2 = await loadDataset(noMark);
    expect(m2.columns[0]!.fundingPrice[0]).toBe(102); // trade open of bar 2
  });

  it('selects symbols and a time range; slices share memory', async () => {
    const md = await loadDataset(mixed, { symbols: ['BUSDT'], from: T0 + 6 * H, to: T0 + 9 * H });
    expect(md.symbols).toEqual(['BUSDT']);
    expect(Array.from(md.time)).toEqual([T0 + 6 * H, T0 + 7 * H, T0 + 8 * H]);
    const full = await loadDataset(mixed);
    const s = sliceMarketData(full, 8, 18);
    expect(s.time.length).toBe(10);
    expect(s.time[0]).toBe(T0 + 8 * H);
    expect(s.columns[0]!.open.buffer).toBe(full.columns[0]!.open.buffer);
    const a = s.columns[0]!;
    expect(a.fundingTime[a.fundingStart[0]!]).toBe(T0 + 8 * H + 17);
    expect(a.fundingStart[10]! - a.fundingStart[0]!).toBe(3);
    expect(selectSymbols(full, ['BUSDT', 'AUSDT']).columns.map((c) => c.symbol)).toEqual(['BUSDT', 'AUSDT']);
    await expect(loadDataset(mixed, { symbols: ['ZZZ'] })).rejects.toMatchObject({ exitCode: 78 });
    await expect(loadDataset(mixed, { timeframe: '4h' })).rejects.toMatchObject({ exitCode: 78 });
  });

  it('from is inclusive and to exclusive at bar open times, on one symbol and on the union timeline; a window without a bar is 78 saying where the bars are', async () => {
    const times = async (o: { symbols?: string[]; from?: number; to?: number }) => Array.from((await loadDataset(mixed, o)).time).map((t) => (t - T0) / H);
    for (const symbols of [['BUSDT'], ['AUSDT', 'BUSDT']]) {
      expect(await times({ symbols, from: T0 + 6 * H, to: T0 + 8 * H })).toEqual([6, 7]);
      expect(await times({ symbols, from: T0 + 6 * H - 1, to: T0 + 8 * H + 1 })).toEqual([6, 7, 8]);
      expect(await times({ symbols, from: T0 + 6 * H + 1, to: T0 + 8 * H - 1 })).toEqual([7]);
      expect(await times({ symbols, from: T0 + 14 * H })).toEqual(symbols.length === 1 ? [14] : [14, 15, 16, 17, 18, 19, 20, 21, 22, 23]);
    }
    const cases: [LoadOptions, string][] = [
      [{ symbols: ['BUSDT'], to: T0 + 5 * H }, 'to 2025-05-22T05:00:00.000Z (1747890000000) (exclusive); the 1h bars of BUSDT open from 2025-05-22T05:00:00.000Z (1747890000000) to 2025-05-22T14:00:00.000Z (1747922400000)'],
      [{ symbols: ['BUSDT'], from: T0 + 14 * H + 1 }, 'from 2025-05-22T14:00:00.001Z (1747922400001) (inclusive); the 1h bars of BUSDT open'],
      [{ from: T0 + 3 * H + 1, to: T0 + 4 * H }, 'from 2025-05-22T03:00:00.001Z (1747882800001) (inclusive) to 2025-05-22T04:00:00.000Z (1747886400000) (exclusive); the 1h bars of the 2 symbols open from 2025-05-22T00:00:00.000Z (1747872000000) to 2025-05-22T23:00:00.000Z (1747954800000)'],
    ];
    for (const [o, text] of cases) {
      await expect(loadDataset(mixed, o)).rejects.toMatchObject({ exitCode: 78, message: expect.stringContaining(`no 1h bars in the selected range ${text}`) });
      await expect(loadDataset(mixed, o)).rejects.toMatchObject({ message: expect.stringContaining("choose a window that holds at least one bar's open time") });
    }
  });

  it('a dataset holding funding only says to import candles (65), not to pick a timeframe among none', async () => {
    const dir = join(root, 'funding-only');
    await writeDataset(dir, { venue: 'binance-usdm', timeframe: '1h', series: [{ symbol: 'AUSDT', kind: 'funding', time: [T0, T0 + 8 * H], columns: { rate: [0.0001, 0.0001] } }] });
    await expect(loadDataset(dir)).rejects.toMatchObject({ exitCode: 65, message: `${join(dir, 'manifest.json')}: the dataset holds no candles (only funding), and a backtest replays candles: import them into it (marginlab import <file> --out ${dir}; docs/data.md)` });
  });

  it('a symbol the dataset lacks names the nearest one (78)', async () => {
    await expect(loadDataset(mixed, { symbols: ['AUSD'] })).rejects.toMatchObject({ exitCode: 78, message: `dataset ${mixed} has no symbol AUSD (did you mean 'AUSDT'?) (symbols: AUSDT, BUSDT)` });
    await expect(loadDataset(mixed, { symbols: ['ZZZ'] })).rejects.toMatchObject({ message: `dataset ${mixed} has no symbol ZZZ (symbols: AUSDT, BUSDT)` });
  });

  it('a selection of no symbols names the key and the symbols to choose from (78; it said only "no symbols selected"); the selection errors carry their reason', async () => {
    await expect(loadDataset(mixed, { symbols: [] })).rejects.toMatchObject({ exitCode: 78, reason: 'datasetSymbols', message: `data.symbols for dataset ${mixed}: no symbols selected (name one or more of AUSDT, BUSDT, or leave it out for all)` });
    await expect(loadDataset(mixed, { symbols: ['AUSDT', 'AUSDT'] })).rejects.toMatchObject({ exitCode: 78, reason: 'datasetSymbols' });
    await expect(loadDataset(mixed, { symbols: ['ZZZ'] })).rejects.toMatchObject({ reason: 'datasetSymbols' });
    await expect(loadDataset(mixed, { timeframe: '4h' })).rejects.toMatchObject({ exitCode: 78, reason: 'datasetTimeframe' });
  });

  it('rejects symbols on different grids', async () => {
    const dir = join(root, 'offgrid');
    await writeDataset(dir, { venue: 'v', timeframe: '1h', series: [candles('A', H, '1h', T0, 5), candles('B', H, '1h', T0 + 30 * 60_000, 5)] });
    await expect(loadDataset(dir)).rejects.toMatchObject({ exitCode: 65, details: [expect.stringContaining('B-candles-1h.arrow row 1: timestamp 2025-05-22T00:30:00.000Z (1747873800000) is off the dataset\'s 1h grid')] });
  });

  it('inspect gives a funding file the manifest lists without an interval the interval a load takes for its settlements', () => {
    const f = inspectDataset(mixed).files.find((x) => x.kind === 'funding')!;
    expect(f.timeframe).toBe('8h');
    expect(fundingInterval([T0 + 3, T0 + 4 * H + 999, T0 + 8 * H + 17, T0 + 16 * H, T0 + 20 * H])).toBe('4h');
    expect(fundingInterval([T0, T0 + 8 * H, T0 + 16 * H + 59_999, T0 + 17 * H])).toBe('8h');
    expect(fundingInterval([T0 + 1, T0 + 2])).toBeNull();
    expect(fundingInterval([T0])).toBeNull();
    // an 8h schedule that turns 4h for a tenth of its steps or more is 4h, as a load and the coverage check take it
    // (the most common spacing said 8h: inspect and the importers disagreed with the load)
    const turning = [...Array.from({ length: 11 }, (_, i) => T0 + 8 * i * H), T0 + 84 * H, T0 + 88 * H];
    expect(fundingInterval(turning)).toBe('4h');
  });

  it("a symbol whose candles end well before the others' is warned about (a position held there stays open at its last close), loader and inspect alike", async () => {
    const text = "BUSDT-candles-1h.arrow: the 1h candles of BUSDT end at 2025-05-22T14:00:00.000Z (1747922400000), 9 bars before the other symbols' (2025-05-22T23:00:00.000Z (1747954800000)): a position a run still holds in BUSDT then stays open at its last close (valued at it, funding still settling on it) and cannot be closed";
    expect((await loadDataset(mixed)).warnings).toContain(text);
    expect(inspectDataset(mixed).warnings).toContain(text);
    // alone, or in a window it reaches the end of (within a tenth of the span), it is not
    expect((await loadDataset(mixed, { symbols: ['BUSDT'] })).warnings ?? []).not.toContainEqual(expect.stringContaining('candles of BUSDT end'));
    expect((await loadDataset(mixed, { to: T0 + 16 * H })).warnings ?? []).not.toContainEqual(expect.stringContaining('candles of BUSDT end'));
  });

  it('symbols whose date ranges leave a stretch no symbol has a candle for: a gap of the timeline (65, or a warning under gaps: warn), not adjacent bars', async () => {
    const dir = join(root, 'disjoint');
    // A: 5 bars from T0; B: 5 bars starting 100 h later (a delisted coin beside a new one); C touches A's end: no hole there
    await writeDataset(dir, {
      venue: 'v', timeframe: '1h',
      series: [candles('A', H, '1h', T0, 5), candles('B', H, '1h', T0 + 100 * H, 5), candles('C', H, '1h', T0 + 5 * H, 3),
        { symbol: 'A', kind: 'funding', time: [T0 + 8 * H, T0 + 16 * H, T0 + 24 * H], columns: { rate: [0.0001, 0.0001, 0.0001] } }],
    });
    const text = 'B-candles-1h.arrow row 1: no symbol has a 1h candle for 92 bars between 2025-05-22T07:00:00.000Z (1747897200000) (the last of C) and 2025-05-26T04:00:00.000Z (1748232000000) (the first of B): the timeline would join them as adjacent bars';
    await expect(loadDataset(dir)).rejects.toMatchObject({ exitCode: 65, details: [expect.stringContaining(text)] });
    expect(inspectDataset(dir).problems).toEqual([expect.stringContaining(text)]);
    // under 'warn' it loads as before, and says so
    const md = await loadDataset(dir, { gaps: 'warn' });
    expect(md.time.length).toBe(13);
    expect(md.warnings).toContain(text.replace(' row 1', ''));
    expect(inspectDataset(dir, { gaps: 'warn' }).warnings).toContain(text.replace(' row 1', ''));
    // a window, or a choice of symbols, without the stretch loads
    expect((await loadDataset(dir, { symbols: ['A', 'C'] })).time.length).toBe(8);
    expect((await loadDataset(dir, { to: T0 + 50 * H })).time.length).toBe(8);
    expect((await loadDataset(dir, { from: T0 + 50 * H })).time.length).toBe(5);
  });
});

/** every array of a dataset (timeline and columns) */
function arraysOf(md: MarketData): (Float64Array | Int32Array | Uint8Array)[] {
  return [md.time, ...md.columns.flatMap((c) => [c.present, c.open, c.high, c.low, c.close, c.volume, c.markOpen, c.markHigh, c.markLow, c.markClose, c.fundingStart, c.fundingTime, c.fundingRate, c.fundingPrice])];
}

describe('column slabs', () => {
  it('carve 8-byte aligned views out of shared slabs; a request beyond a slab gets its own buffer', () => {
    const s = new ColumnSlabs();
    const a = s.u8(3);
    const b = s.f64(2);
    const c = s.i32(5);
    const z = s.f64(0);
    expect(a.buffer).toBe(b.buffer);
    expect(b.buffer).toBe(c.buffer);
    expect(a.buffer.byteLength).toBe(SLAB_BYTES);
    expect([a.byteOffset, b.byteOffset, c.byteOffset, z.byteOffset]).toEqual([0, 8, 24, 48]);
    expect(Number.isNaN(b[0]!) && Number.isNaN(b[1]!)).toBe(true);
    expect(Array.from(s.copyF64(new Float64Array([1, 2]))) ).toEqual([1, 2]);
    const big = s.u8(SLAB_BYTES + 1);
    expect(big.buffer).not.toBe(a.buffer);
    expect(big.buffer.byteLength).toBe(SLAB_BYTES + 8);
    // the next small request still fits the current slab
    expect(s.u8(1).buffer).toBe(a.buffer);
    // one that does not starts a new slab
    const rest = SLAB_BYTES - 80;
    expect(s.u8(rest).buffer).toBe(a.buffer);
    expect(s.u8(9).buffer).not.toBe(a.buffer);
    expect(s.allocated).toBe(8 + 16 + 24 + 8 + 16 + SLAB_BYTES + 8 + 8 + rest + 16);
  });

  it('a loaded dataset lives in large slabs; columns given up (misaligned files, aggregated marks) hold at most an eighth of them', async () => {
    const bundled = resolve('data/binance-usdm-2025');
    const whole = await loadDataset(bundled);
    // a narrow --from/--to range leaves most of each file's rows behind: compacted as well
    const range = await loadDataset(bundled, { from: whole.time[100]!, to: whole.time[200]! });
    expect(range.time.length).toBe(100);
    for (const [md, holes] of [[await loadDataset(mixed), 0], [whole, 1 / 8], [range, 0]] as const) {
      const arrays = arraysOf(md);
      const buffers = new Set(arrays.map((a) => a.buffer));
      for (const b of buffers) expect(b.byteLength).toBe(SLAB_BYTES);
      expect(buffers.size).toBe(1);
      // the views cover their slab from 0; the holes are bytes of read columns that were replaced
      // (the mixed dataset has more than an eighth of them, so it was compacted)
      const end = Math.max(...arrays.map((a) => a.byteOffset + a.byteLength));
      const sum = arrays.reduce((n, a) => n + Math.max(8, Math.ceil(a.byteLength / 8) * 8), 0);
      expect(end - sum).toBeLessThanOrEqual(end * holes);
    }
  });
});

describe('bundled datasets', () => {
  it('binance-usdm-2025 loads: 4 symbols × 1458 h, 182 funding events each, priced at the 8h mark open', async () => {
    const md = await loadDataset(resolve(__dirname, '..', 'data', 'binance-usdm-2025'));
    expect(md.symbols).toEqual(['BTCUSDT', 'ETHUSDT', 'XRPUSDT', 'ADAUSDT']);
    expect(md.time.length).toBe(1458);
    expect(md.time[0]).toBe(1747872000000);
    expect(md.venue).toBe('binance-usdm');
    const btc = md.columns[0]!;
    expect(btc.open[0]).toBe(109609.6);
    expect(btc.markAtBarTimeframe).toBe(false);
    expect(btc.fundingTime.length).toBe(182);
    expect(btc.fundingTime[0]).toBe(1747872000001);
    expect(btc.fundingStart[1]).toBe(1); // settles at the 00:00 bar despite the 1 ms jitter
    expect(btc.fundingPrice[0]).toBe(109611.43263043);
    expect((await loadDataset(resolve(__dirname, '..', 'data', 'binance-usdm-2025'), { timeframe: '30m' })).time.length).toBe(2916);
  });
  it('xrp-2021 loads at 1h (mark at bar timeframe) and 5m', async () => {
    const dir = resolve(__dirname, '..', 'data', 'xrp-2021');
    const md = await loadDataset(dir);
    expect(md.time.length).toBe(100);
    expect(md.columns[0]!.markAtBarTimeframe).toBe(true);
    expect((await loadDataset(dir, { timeframe: '5m' })).time.length).toBe(1999);
  });
});

describe('writeDataset refuses series it cannot write as given', () => {
  it("an unknown kind is named (a JavaScript caller's 'ohlcv' failed with \"KIND_COLUMNS[s.kind] is not iterable\"); a column of another length than the timestamps too", async () => {
    const { existsSync, readdirSync } = await import('node:fs');
    // open file descriptors of this process (Linux): a refusal must leave none open
    const fds = () => (existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : 0);
    const before = fds();
    const good = candles('AUSDT', H, '1h', T0, 5);
    const bad = { ...good, kind: 'ohlcv' } as unknown as SeriesInput;
    await expect(writeDataset(join(root, 'bad-kind'), { venue: 'binance-usdm', timeframe: '1h', series: [bad] })).rejects.toThrow(/AUSDT.*kind must be 'candles', 'mark', 'funding', got "ohlcv"/);
    const short = { ...good, columns: { ...good.columns, close: [1, 2, 3] } };
    await expect(writeDataset(join(root, 'short-col'), { venue: 'binance-usdm', timeframe: '1h', series: [short] })).rejects.toThrow(/close has 3 values for 5 timestamps/);
    for (let k = 0; k < 4; k++) await expect(writeDataset(join(root, 'short-col'), { venue: 'binance-usdm', timeframe: '1h', series: [short] })).rejects.toThrow(RangeError);
    // nothing half-written (the folders were never made), nothing left open (the column check ran after the file was opened)
    expect([existsSync(join(root, 'bad-kind')), existsSync(join(root, 'short-col'))]).toEqual([false, false]);
    expect(fds()).toBe(before);
  });
});
