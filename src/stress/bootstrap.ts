/**
 * Monte Carlo paths: a stationary block bootstrap (Politis & Romano 1994) of the dataset's joint
 * bars. A path is a pure function of (base data, seed, path index, mean block length); it is
 * generated inside the worker that replays it, into fresh typed arrays, and never stored.
 *
 * Path bar 0 is the base's bar 0. Every later path bar j takes the whole bar k_j of the base, for
 * every symbol at once (the same time blocks for all symbols, so cross-asset correlation, and
 * the bar's intrabar shape, mark-vs-trade spread, volume and funding, survive): k_1 is uniform in
 * [1, n−1]; then with probability 1/blockBars a new block starts at a uniform bar, else
 * k_j = k_{j−1} + 1 (circular over [1, n−1]). Block lengths are geometric with mean blockBars.
 * Prices are chained: bar k's prices (trade and mark OHLC, funding price) are scaled by
 * L = (the path's previous close) / (bar k's reference: the base close of bar k−1, or bar k's
 * open when k−1 is absent), so each path bar has the base bar's return and shape, starting from
 * where the path stands. Funding events keep their rate, shifted to the path bar's time (one that
 * settled inside a gap of the timeline, more than a bar before its bar, settles at the path bar's open).
 */
import type { MarketData, SymbolColumns } from '../feed/types.js';
import { Rng } from '../util/rng.js';
import { fundingSettleTime } from '../feed/timeframe.js';

/** Default mean block length: one day of bars, at most a quarter of the data, and at least 2 (the 2 is applied last: it wins for windows of fewer than 8 bars). */
export function defaultBlockBars(bars: number, timeframeMs: number): number {
  const day = Math.round(86_400_000 / timeframeMs);
  return Math.max(2, Math.min(day, Math.floor(bars / 4)));
}

/** The base bar index of every path bar (length = base bars). */
export function bootstrapIndices(n: number, seed: number, pathIndex: number, blockBars: number): Int32Array {
  const idx = new Int32Array(n);
  if (n < 2) return idx;
  const rng = new Rng(seed, pathIndex);
  const p = 1 / Math.max(1, blockBars);
  let k = 0;
  for (let j = 1; j < n; j++) {
    const u = rng.next();
    if (j === 1 || u < p) k = 1 + rng.int(n - 1);
    else {
      k++;
      if (k > n - 1) k = 1;
    }
    idx[j] = k;
  }
  return idx;
}

/** A Monte Carlo path of `base` (fresh columns; the base's arrays are only read). */
export function bootstrapPath(base: MarketData, seed: number, pathIndex: number, blockBars: number): MarketData {
  const idx = bootstrapIndices(base.time.length, seed, pathIndex, blockBars);
  return { ...base, columns: base.columns.map((c) => pathColumns(c, base.time, idx)) };
}

function pathColumns(c: SymbolColumns, time: Float64Array, idx: Int32Array): SymbolColumns {
  const n = time.length;
  const present = new Uint8Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  const markOpen = new Float64Array(n);
  const markHigh = new Float64Array(n);
  const markLow = new Float64Array(n);
  const markClose = new Float64Array(n);
  const fundingStart = new Int32Array(n + 1);
  let events = 0;
  for (let j = 0; j < n; j++) {
    const k = idx[j]!;
    events += c.fundingStart[k + 1]! - c.fundingStart[k]!;
  }
  const fundingTime = new Float64Array(events);
  const fundingRate = new Float64Array(events);
  const fundingPrice = new Float64Array(events);
  let prevClose = Number.NaN;
  let level = 1;
  let e = 0;
  for (let j = 0; j < n; j++) {
    const k = idx[j]!;
    if (j > 0 && c.present[k]) {
      const ref = k > 0 && c.present[k - 1] ? c.close[k - 1]! : c.open[k]!;
      level = Number.isFinite(prevClose) && ref > 0 ? prevClose / ref : 1;
    }
    present[j] = c.present[k]!;
    open[j] = c.open[k]! * level;
    high[j] = c.high[k]! * level;
    low[j] = c.low[k]! * level;
    close[j] = c.close[k]! * level;
    volume[j] = c.volume[k]!;
    markOpen[j] = c.markOpen[k]! * level;
    markHigh[j] = c.markHigh[k]! * level;
    markLow[j] = c.markLow[k]! * level;
    markClose[j] = c.markClose[k]! * level;
    if (c.present[k]) prevClose = close[j]!;
    fundingStart[j] = e;
    const shift = time[j]! - time[k]!;
    for (let q = c.fundingStart[k]!; q < c.fundingStart[k + 1]!; q++) {
      // an event settling in a gap of the timeline before bar k (longer than a bar) would land at
      // or before path bar j − 1: it settles at bar j's open instead, the bar it is applied at
      const t = c.fundingTime[q]! + shift;
      fundingTime[e] = j > 0 && fundingSettleTime(t) <= time[j - 1]! ? time[j]! : t;
      fundingRate[e] = c.fundingRate[q]!;
      fundingPrice[e] = c.fundingPrice[q]! * level;
      e++;
    }
  }
  fundingStart[n] = e;
  return {
    symbol: c.symbol, present, open, high, low, close, volume, markAtBarTimeframe: c.markAtBarTimeframe,
    markOpen, markHigh, markLow, markClose, fundingStart, fundingTime, fundingRate, fundingPrice,
  };
}
