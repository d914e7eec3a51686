/**
 * Mark candles that cover few or none of the candles' bars: the loader reports what it has (no mark
 * at the bar timeframe when no bar has a mark candle; a warning when few have), `data validate` and
 * `data inspect` warn, and a replay's liquidationPriceSource says what its bars used: 'trade' when
 * none had a mark candle, 'mixed' when some had, 'mark' when all had.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeDataset, type SeriesInput } from '../src/feed/write.js';
import { loadDataset } from '../src/feed/load.js';
import { fundingSettleTime } from '../src/feed/timeframe.js';
import { inspectDataset } from '../src/feed/inspect.js';
import { fundingIntervalMs, markCoveredBars } from '../src/feed/validate.js';
import { fundingInterval } from '../src/feed/formats/common.js';
import { replay, DEFAULT_EXECUTION, SETUPS } from '../src/engine/index.js';
import type { MarketData } from '../src/feed/types.js';
import { run, scripted, setupOf, zeroFeeVenue } from './engine-fixtures.js';
import { feedCli } from './fixtures/feed/cli.js';

const H = 3_600_000;
const MAY = Date.UTC(2025, 4, 1);
const JULY = Date.UTC(2025, 6, 1);
const BARS = 31 * 24; // 744 1h bars in May, and in July
const DIP = 100; // the July bar whose trade low dips to 85 (the mark low only to 99)
const root = mkdtempSync(join(tmpdir(), 'ml-mark-cov-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** flat candles at 100 (July: a dip of the trade low to 85 at bar DIP; mark candles: low 99 there) */
function series(kind: 'candles' | 'mark', start: number, n: number, tf = H, tfName = '1h'): SeriesInput {
  const time: number[] = [], open: number[] = [], high: number[] = [], low: number[] = [], close: number[] = [], volume: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = start + i * tf;
    const dip = t === JULY + DIP * H;
    time.push(t); open.push(100); high.push(101); close.push(100); volume.push(1000);
    low.push(dip ? (kind === 'candles' ? 85 : 99) : 99.5);
  }
  return { symbol: 'BTCUSDT', kind, timeframe: tfName, time, columns: kind === 'candles' ? { open, high, low, close, volume } : { open, high, low, close } };
}

const ds = (name: string) => join(root, name);
beforeAll(async () => {
  const july = series('candles', JULY, BARS);
  await writeDataset(ds('none'), { venue: 'binance-usdm', timeframe: '1h', series: [july] });
  await writeDataset(ds('may'), { venue: 'binance-usdm', timeframe: '1h', series: [july, series('mark', MAY, BARS)] });
  await writeDataset(ds('half'), { venue: 'binance-usdm', timeframe: '1h', series: [july, series('mark', JULY, BARS / 2)] });
  await writeDataset(ds('full'), { venue: 'binance-usdm', timeframe: '1h', series: [july, series('mark', JULY, BARS)] });
  // 15m mark candles of May only: aggregated to 1h bars, none of which they reach
  await writeDataset(ds('may15'), { venue: 'binance-usdm', timeframe: '1h', series: [july, series('mark', MAY, 4 * BARS, H / 4, '15m')] });
});

const NONE_WARNING = 'BTCUSDT-mark-1h.arrow: mark candles cover none of the 744 1h bars of BTCUSDT (mark 2025-05-01T00:00:00.000Z → 2025-05-31T23:00:00.000Z, candles 2025-07-01T00:00:00.000Z → 2025-07-31T23:00:00.000Z); liquidation is checked on trade prices at the 744 bars without one';

/** the warning of a dataset holding no funding (feed/validate.ts missingFundingTexts) */
const NO_FUNDING_BTC = "no funding file for BTCUSDT: no funding is booked (a perpetual pays or receives it every few hours, every 8h on most venues), so the runs leave out what holding costs or earns; import its funding rates into the dataset to include it (marginlab's docs/data.md; marginlab data download fetches Binance's)";

describe('the loader: mark candles that do not overlap the candles', () => {
  it('May mark candles beside July candles: no mark at the bar timeframe, all mark columns NaN, a warning naming both spans', async () => {
    const md = await loadDataset(ds('may'));
    const c = md.columns[0]!;
    expect(c.markAtBarTimeframe).toBe(false);
    expect(c.markLow.every((v) => Number.isNaN(v))).toBe(true);
    // (these datasets hold no funding: said first)
    expect(md.warnings).toEqual([NO_FUNDING_BTC, NONE_WARNING]);
    const fine = await loadDataset(ds('may15'));
    expect(fine.columns[0]!.markAtBarTimeframe).toBe(false);
    expect(fine.warnings).toEqual([NO_FUNDING_BTC, NONE_WARNING.replace('BTCUSDT-mark-1h.arrow', 'BTCUSDT-mark-15m.arrow').replace('2025-05-31T23:00', '2025-05-31T23:45')]);
  });

  it('half covered: mark at the bar timeframe, with a warning; fully covered: no warning; a --to inside the covered part: no warning', async () => {
    const half = await loadDataset(ds('half'));
    expect(half.columns[0]!.markAtBarTimeframe).toBe(true);
    expect(half.warnings).toEqual([
      NO_FUNDING_BTC,
      'BTCUSDT-mark-1h.arrow: mark candles cover 372 (50 %) of the 744 1h bars of BTCUSDT (mark 2025-07-01T00:00:00.000Z → 2025-07-16T11:00:00.000Z, candles 2025-07-01T00:00:00.000Z → 2025-07-31T23:00:00.000Z); liquidation is checked on trade prices at the 372 bars without one',
    ]);
    expect((await loadDataset(ds('full'))).warnings).toEqual([NO_FUNDING_BTC]);
    expect((await loadDataset(ds('half'), { to: JULY + 300 * H })).warnings).toEqual([NO_FUNDING_BTC]);
  });

  it('markCoveredBars: exact timeframe by open time; finer ones only when every sub-candle of the bar is there', () => {
    const bars = Float64Array.from([0, H, 2 * H, 3 * H]);
    expect(markCoveredBars(bars, H, Float64Array.from([H, 3 * H, 9 * H]), H)).toBe(2);
    const q = H / 4;
    // bar 0: all four; bar 1: one missing; bar 2: all four; bar 3: none
    const fine = [0, q, 2 * q, 3 * q, H, H + q, H + 3 * q, 2 * H, 2 * H + q, 2 * H + 2 * q, 2 * H + 3 * q];
    expect(markCoveredBars(bars, H, Float64Array.from(fine), q)).toBe(2);
  });
});

describe('data validate and data inspect warn when mark candles cover little or none of the candles', () => {
  it('validate: mark at bar timeframe 0/1 and the warning on stderr (exit 0); inspect lists it under warnings (exit 0)', async () => {
    const v = await feedCli(['data', 'validate', ds('may')]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('mark at bar timeframe: 0/1');
    expect(v.stderr).toBe(`marginlab: warning: ${NO_FUNDING_BTC}\nmarginlab: warning: ${NONE_WARNING}\n`);
    const i = await feedCli(['data', 'inspect', ds('may')]);
    expect(i.code).toBe(0);
    expect(i.stdout).toContain(`warnings:\n  ${NO_FUNDING_BTC}\n  ${NONE_WARNING}\n`);
    expect(i.stdout).toContain('validation: ok');
    const full = await feedCli(['data', 'validate', ds('full')]);
    expect(full.stdout).toContain('mark at bar timeframe: 1/1');
    expect(full.stderr).toBe(`marginlab: warning: ${NO_FUNDING_BTC}\n`);
    expect(inspectDataset(ds('full')).warnings).toEqual([NO_FUNDING_BTC]);
    expect(inspectDataset(ds('half')).warnings).toEqual((await loadDataset(ds('half'))).warnings);
    expect(inspectDataset(ds('may15')).warnings).toEqual((await loadDataset(ds('may15'))).warnings);
  });
});

describe('liquidationPriceSource says which prices the replayed bars used', () => {
  const buy = () => scripted({ 0: (c) => c.buy(0, 1) }, ['BTCUSDT']);
  const liqs = (out: ReturnType<typeof run>) => out.setups.map((s) => s.liquidations?.length ?? 0);

  it('May mark candles: the run equals the run without mark candles, and says trade', async () => {
    const none = run(await loadDataset(ds('none')), buy());
    const may = run(await loadDataset(ds('may')), buy());
    expect(liqs(none)).toEqual([1, 0]); // the trade low 85 at the dip liquidates isolated 10x (cross has the whole wallet)
    expect(liqs(may)).toEqual(liqs(none));
    for (const id of ['isolated', 'cross']) {
      expect(Array.from(setupOf(may, id).series.equity)).toEqual(Array.from(setupOf(none, id).series.equity));
      expect(setupOf(may, id).liquidationPriceSource).toBe('trade');
    }
  });

  it('a MarketData flagged markAtBarTimeframe whose mark columns are NaN over the replay (as the old loader gave): trade', async () => {
    const md = await loadDataset(ds('none'));
    const c = md.columns[0]!;
    const flagged: MarketData = { ...md, columns: [{ ...c, markAtBarTimeframe: true }] };
    expect(setupOf(run(flagged, buy()), 'isolated').liquidationPriceSource).toBe('trade');
  });

  it('full cover: mark (the dip is not a liquidation on mark); half: mixed; a replay inside the covered half: mark, inside the other: trade', async () => {
    const full = run(await loadDataset(ds('full')), buy());
    expect(liqs(full)).toEqual([0, 0]);
    expect(setupOf(full, 'isolated').liquidationPriceSource).toBe('mark');
    const half = await loadDataset(ds('half'));
    const out = run(half, buy());
    expect(liqs(out)).toEqual([0, 0]); // the dip (bar 100) is in the covered half
    expect(setupOf(out, 'cross').liquidationPriceSource).toBe('mixed');
    const part = (fromIndex: number, toIndex: number) => replay({
      data: half, symbols: ['BTCUSDT'], strategy: buy(), params: {}, venue: zeroFeeVenue(), setups: [SETUPS.isolated],
      initialCapital: '10000', leverage: 10, execution: { ...DEFAULT_EXECUTION, slippageBps: 0 }, fromIndex, toIndex,
    }).setups[0]!.liquidationPriceSource;
    expect(part(0, 372)).toBe('mark');
    expect(part(372, BARS)).toBe('trade');
    expect(part(300, 400)).toBe('mixed');
  });

  it('a setup stopped by its strategy\'s error inside the covered half says mark, counted over the bars it replayed; the others over the whole range', async () => {
    const half = await loadDataset(ds('half'));
    // the isolated setup's strategy throws at bar 200 (the mark candles cover bars 0–371)
    const failing = scripted({ 0: (c) => c.buy(0, 1), 200: (c) => { if (c.setup === 'isolated') throw new Error('boom'); } }, ['BTCUSDT']);
    const out = run(half, failing);
    const iso = setupOf(out, 'isolated');
    expect(iso.error).toMatch(/boom/);
    expect(iso.series.equity.length).toBeLessThan(372);
    expect(iso.liquidationPriceSource).toBe('mark');
    expect(setupOf(out, 'cross').liquidationPriceSource).toBe('mixed');
  });
});

describe('funding events that do not reach the candles', () => {
  /** 8h funding events from `start`, n of them (the rate 0.0001, jitter of 1 ms as Binance's) */
  const funding = (start: number, n: number): SeriesInput => ({
    symbol: 'BTCUSDT', kind: 'funding', time: Array.from({ length: n }, (_, i) => start + i * 8 * H + 1), columns: { rate: Array.from({ length: n }, () => 0.0001) },
  });
  it('May funding beside July candles: no event settles, and validate, inspect and the load warn naming both spans; funding to the last bar: no warning', async () => {
    const july = series('candles', JULY, BARS);
    await writeDataset(ds('fmay'), { venue: 'binance-usdm', timeframe: '1h', series: [july, funding(MAY, 93)] });
    await writeDataset(ds('fjuly'), { venue: 'binance-usdm', timeframe: '1h', series: [july, funding(JULY, 93)] });
    // funding for the first half of July only (the last event at bar 368): bars 0 … 376 reached, 367 not
    await writeDataset(ds('fhalf'), { venue: 'binance-usdm', timeframe: '1h', series: [july, funding(JULY, 47)] });
    const warning = 'BTCUSDT-funding.arrow: funding events reach none of the 744 1h bars of BTCUSDT (funding 2025-05-01T00:00:00.001Z → 2025-05-31T16:00:00.001Z, candles 2025-07-01T00:00:00.000Z → 2025-07-31T23:00:00.000Z); no funding is booked at the 744 bars more than one funding interval (8h) before its first or after its last event: import funding for them';
    const md = await loadDataset(ds('fmay'));
    expect(md.columns[0]!.fundingRate.length).toBe(0);
    expect(md.warnings).toEqual([warning]);
    const v = await feedCli(['data', 'validate', ds('fmay')]);
    expect(v.code).toBe(0);
    expect(v.stderr).toBe(`marginlab: warning: ${warning}\n`);
    expect(inspectDataset(ds('fmay')).warnings).toEqual([warning]);
    expect((await loadDataset(ds('fjuly'))).warnings).toBeUndefined();
    expect(inspectDataset(ds('fjuly')).warnings).toEqual([]);
    const half = await loadDataset(ds('fhalf'));
    expect(half.warnings).toEqual([expect.stringMatching(/^BTCUSDT-funding\.arrow: funding events reach 377 of the 744 1h bars of BTCUSDT .* no funding is booked at the 367 bars /)]);
    expect(inspectDataset(ds('fhalf')).warnings).toEqual(half.warnings);
  });
});

describe('funding coverage of a symbol without every bar of the timeline', () => {
  it('judges its own bars only (ETH from mid-July beside BTC all July): the count, the span and the events per bar', async () => {
    const eth = (s: SeriesInput): SeriesInput => ({ ...s, symbol: 'ETHUSDT' });
    const half = BARS / 2;
    const ethCandles = eth(series('candles', JULY + half * H, half));
    // 8h events from the 1st of July for BTC (all month) and for ETH the first half only (its last at hour 368)
    const fund = (symbol: string, n: number): SeriesInput => ({ symbol, kind: 'funding', time: Array.from({ length: n }, (_, i) => JULY + i * 8 * H + 1), columns: { rate: Array.from({ length: n }, (_, i) => 0.00001 * (i + 1)) } });
    await writeDataset(ds('fpartial'), { venue: 'binance-usdm', timeframe: '1h', series: [series('candles', JULY, BARS), ethCandles, fund('BTCUSDT', 93), fund('ETHUSDT', 47)] });
    const md = await loadDataset(ds('fpartial'));
    expect(md.time.length).toBe(BARS);
    // ETH's 372 bars (not the timeline's 744), from its first candle: the 5 within 8h of its last event are reached
    expect(md.warnings).toEqual([
      'ETHUSDT-funding.arrow: funding events reach 5 of the 372 1h bars of ETHUSDT (funding 2025-07-01T00:00:00.001Z → 2025-07-16T08:00:00.001Z, candles 2025-07-16T12:00:00.000Z → 2025-07-31T23:00:00.000Z); no funding is booked at the 367 bars more than one funding interval (8h) before its first or after its last event: import funding for them',
    ]);
    // the events per bar (fundingStart): every event settles at the bar opening at its minute, in order
    for (const c of md.columns) {
      const n = c.fundingRate.length;
      expect(c.fundingStart[0]).toBe(0);
      expect(c.fundingStart[BARS]).toBe(n);
      for (let e = 0; e < n; e++) {
        const b = md.time.indexOf(c.fundingTime[e]! - 1);
        expect(b).toBeGreaterThanOrEqual(0);
        expect(c.fundingStart[b]).toBe(e);
        expect(c.fundingStart[b + 1]).toBe(e + 1);
      }
    }
    expect(md.columns.map((c) => c.fundingRate.length)).toEqual([93, 47]);
  });
});

describe('funding events per bar in a --from/--to window, on a symbol with gaps', () => {
  it('every event settling in the window sits at the first bar opening at or after it, several in one bar in order; the coverage counts the symbol\'s own bars in the window', async () => {
    // BTC every hour of July; ETH without every third hour (gaps allowed); ETH's events from 2 days
    // before the window to 2 days after it, every 5h, with 3 events at one minute (one bar)
    const keep = (s: SeriesInput, pred: (i: number) => boolean): SeriesInput => ({
      ...s, symbol: 'ETHUSDT', time: Array.from(s.time).filter((_, i) => pred(i)),
      columns: Object.fromEntries(Object.entries(s.columns).map(([k, v]) => [k, Array.from(v).filter((_, i) => pred(i))])),
    });
    const eth = keep(series('candles', JULY, BARS), (i) => i % 3 !== 1);
    const from = JULY + 100 * H, to = JULY + 300 * H;
    const times: number[] = [];
    for (let t = from - 48 * H + 7 * 60_000; t < to + 48 * H; t += 5 * H) times.push(t);
    times.push(JULY + 200 * H + 1, JULY + 200 * H + 2, JULY + 200 * H + 3);
    times.sort((a, b) => a - b);
    const fund: SeriesInput = { symbol: 'ETHUSDT', kind: 'funding', time: times, columns: { rate: times.map((_, i) => 0.00001 * (i + 1)) } };
    await writeDataset(ds('fwindow'), { venue: 'binance-usdm', timeframe: '1h', series: [series('candles', JULY, BARS), eth, fund] });
    const md = await loadDataset(ds('fwindow'), { from, to, gaps: 'warn' });
    expect(md.time.length).toBe(200);
    const c = md.columns[1]!;
    const settle = fundingSettleTime;
    const inWindow = times.filter((t) => settle(t) > md.time[0]! - H && settle(t) <= md.time[199]!);
    expect(Array.from(c.fundingTime)).toEqual(inWindow);
    expect(c.fundingStart[0]).toBe(0);
    expect(c.fundingStart[200]).toBe(inWindow.length);
    for (let b = 0; b < 200; b++) {
      const events = Array.from(c.fundingTime.subarray(c.fundingStart[b]!, c.fundingStart[b + 1]!));
      expect(events.every((t) => settle(t) <= md.time[b]! && settle(t) > md.time[b]! - H)).toBe(true);
    }
    expect(c.fundingStart[101] - c.fundingStart[100]).toBe(3);
    const ethBars = Array.from(c.present).filter(Boolean).length;
    expect(ethBars).toBe(133);
    expect(md.warnings?.filter((w) => w.startsWith('ETHUSDT-funding')) ?? []).toEqual([]);
    // BTC has no funding file: the missing-funding warning only
    expect(md.columns[0]!.fundingTime.length).toBe(0);
    expect(Array.from(md.columns[0]!.fundingStart).every((v) => v === 0)).toBe(true);
  });
});

describe('the funding interval the coverage judges by', () => {
  it('is the one an import lists for the same events (fundingStepMs): 8h events turning 4h are 4h, not the most common 8h', async () => {
    // Binance moved symbols from 8h to 4h funding: 20 events 8h apart, then 12 events 4h apart (the last at hour 200)
    const time = [...Array.from({ length: 20 }, (_, i) => JULY + i * 8 * H + 1), ...Array.from({ length: 12 }, (_, i) => JULY + (156 + 4 * i) * H + 1)];
    expect(fundingInterval(Float64Array.from(time))).toBe('4h');
    expect(fundingIntervalMs(undefined, Float64Array.from(time))).toBe(4 * H);
    await writeDataset(ds('f8to4'), { venue: 'binance-usdm', timeframe: '1h', series: [series('candles', JULY, BARS), { symbol: 'BTCUSDT', kind: 'funding', time, columns: { rate: time.map(() => 0.0001) } }] });
    // bars 0 … 204 are within 4h of an event (it said 0 … 208, one interval of 8h after the last event)
    const w = (await loadDataset(ds('f8to4'))).warnings;
    expect(w).toEqual([expect.stringMatching(/funding events reach 205 of the 744 1h bars .* no funding is booked at the 539 bars more than one funding interval \(4h\) /)]);
    expect(inspectDataset(ds('f8to4')).warnings).toEqual(w);
  });
});

describe('a symbol without funding beside symbols with it', () => {
  it('warns in the load (only for the selected symbols) and in data inspect; one warning when no symbol has funding', async () => {
    const july = series('candles', JULY, BARS);
    const eth: SeriesInput = { ...july, symbol: 'ETHUSDT' };
    const funding: SeriesInput = { symbol: 'BTCUSDT', kind: 'funding', time: Array.from({ length: 93 }, (_, i) => JULY + i * 8 * H), columns: { rate: Array.from({ length: 93 }, () => 0.0001) } };
    await writeDataset(ds('eth-nofunding'), { venue: 'binance-usdm', timeframe: '1h', series: [july, eth, funding] });
    const warning = 'ETHUSDT: no funding file, while BTCUSDT has one (BTCUSDT-funding.arrow); no funding is booked for ETHUSDT: import its funding';
    expect((await loadDataset(ds('eth-nofunding'))).warnings).toEqual([warning]);
    expect((await loadDataset(ds('eth-nofunding'), { symbols: ['BTCUSDT'] })).warnings).toBeUndefined();
    expect(inspectDataset(ds('eth-nofunding')).warnings).toEqual([warning]);
    await writeDataset(ds('no-funding'), { venue: 'binance-usdm', timeframe: '1h', series: [july, eth] });
    // none at all: one warning (a run's "Funding net 0.00" did not say the data had none)
    const none = "no funding file for any of its 2 symbols: no funding is booked (a perpetual pays or receives it every few hours, every 8h on most venues), so the runs leave out what holding costs or earns; import its funding rates into the dataset to include it (marginlab's docs/data.md; marginlab data download fetches Binance's)";
    expect((await loadDataset(ds('no-funding'))).warnings).toEqual([none]);
    expect((await loadDataset(ds('no-funding'), { symbols: ['ETHUSDT'] })).warnings).toEqual([none.replace('any of its 2 symbols', 'ETHUSDT')]);
    expect(inspectDataset(ds('no-funding')).warnings).toEqual([none]);
  });

  it("docs/config.md's Warnings (what `marginlab run` prints and records) names the load's coverage warnings: it listed only the funding-interval and gap ones", () => {
    const doc = readFileSync(join(import.meta.dirname, '..', 'docs', 'config.md'), 'utf8');
    const section = doc.slice(doc.indexOf('### Warnings'), doc.indexOf('## Command-line overrides'));
    for (const what of ['mark candles cover fewer', 'funding events reach fewer', 'no funding file while another has one', '"Mark coverage"', '"Funding coverage"']) {
      expect(section.replace(/\s+/g, ' ')).toContain(what);
    }
  });
});
