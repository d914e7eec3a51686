/**
 * Splicing a scenario into bars: a pure function of (bars, scenario, shock start). It returns a
 * new MarketData whose shocked symbols have fresh (non-shared) columns; unshocked symbols and
 * the timeline are the input's own arrays, never written. Reference: docs/stress.md.
 *
 * Bar i covers [t_i, t_i + timeframe). With g the symbol's factor path (offset = t − shock start):
 *   open'  = open × g(t_i)                  close' = close × g(end of bar, left limit)
 *   low'   = min(open', close', low × min g over the bar)
 *   high'  = max(open', close', high × max g over the bar)
 * so OHLC stays consistent, bars wholly after the shock are scaled by its final level (they
 * continue from the shocked level, or from the level recovered to), and bars before it are
 * untouched. Mark candles take the mark factor 1 + (g − 1) × (1 + markExtra) the same way over the shock window,
 * back to g's final level over the hour after it (markPath).
 * Funding events settling in the shock window take the scenario's rate (none settling in it: the first after it); every funding price after
 * the shock start is scaled by the mark factor at its time (an event's time: its settlement time,
 * fundingSettleTime, so Binance's stamps a few ms past the minute count at the minute). Volumes of bars overlapping the window
 * are multiplied by the scenario's volume scale.
 */
import type { MarketData, SymbolColumns } from '../feed/types.js';
import { fundingSettleTime } from '../feed/timeframe.js';
import { compileShock, DEPTH_FLOOR, factorAt, factorBefore, factorRange, marketIndex, shockEnd, shockKeyFor, shockStart, type CompiledShock, type Scenario } from './scenario.js';

/** Betas of each symbol of `data` to the market (see marketReturns), log close-to-close returns. */
export function computeBetas(data: MarketData, marketKey: string | undefined): Float64Array {
  const n = data.time.length;
  const market = marketReturns(data, marketKey);
  const out = new Float64Array(data.columns.length);
  data.columns.forEach((c, s) => {
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let sxy = 0;
    let m = 0;
    for (let i = 1; i < n; i++) {
      const x = market[i]!;
      if (!c.present[i] || !c.present[i - 1] || !Number.isFinite(x)) continue;
      const y = Math.log(c.close[i]! / c.close[i - 1]!);
      if (!Number.isFinite(y)) continue;
      sx += x;
      sy += y;
      sxx += x * x;
      sxy += x * y;
      m++;
    }
    const varX = m > 1 ? sxx / m - (sx / m) ** 2 : 0;
    out[s] = varX > 0 ? (sxy / m - (sx / m) * (sy / m)) / varX : 1;
  });
  return out;
}

/** Market log returns per bar (NaN where undefined): the symbol matching `marketKey` (default 'BTC'), else the equal-weighted mean of every symbol's return. */
export function marketReturns(data: MarketData, marketKey: string | undefined): Float64Array {
  const n = data.time.length;
  const r = new Float64Array(n).fill(Number.NaN);
  const idx = marketIndex(marketKey ?? 'BTC', data.symbols);
  const cols = idx >= 0 ? [data.columns[idx]!] : data.columns;
  for (let i = 1; i < n; i++) {
    let sum = 0;
    let k = 0;
    for (const c of cols) {
      if (!c.present[i] || !c.present[i - 1]) continue;
      const y = Math.log(c.close[i]! / c.close[i - 1]!);
      if (Number.isFinite(y)) {
        sum += y;
        k++;
      }
    }
    if (k > 0) r[i] = sum / k;
  }
  return r;
}

/** The compiled shock of each symbol of `data` under `scenario` (null: untouched). */
export function symbolShocks(data: MarketData, scenario: Scenario, betas: Float64Array | null): (CompiledShock | null)[] {
  return data.symbols.map((sym, s) => {
    const key = shockKeyFor(scenario, sym);
    if (key !== null) return compileShock(scenario.symbols[key]!);
    if (!scenario.market) return null;
    const beta = betas ? betas[s]! : 1;
    return compileShock(scenario.market, Number.isFinite(beta) ? beta : 1);
  });
}

/** Offsets [start, end] of the scenario's shock window over the symbols it moves (ms since the shock start). */
export function scenarioWindow(shocks: readonly (CompiledShock | null)[]): [number, number] {
  let a = Infinity;
  let b = -Infinity;
  for (const c of shocks) {
    if (!c) continue;
    a = Math.min(a, shockStart(c));
    b = Math.max(b, shockEnd(c));
  }
  return Number.isFinite(a) ? [a, b] : [0, 0];
}

/**
 * `data` with `scenario` spliced in at `injectAt` (ms UTC). `betas` (computeBetas) scale the
 * market shock for symbols the scenario does not name; null = beta 1.
 */
export function applyScenario(data: MarketData, scenario: Scenario, injectAt: number, betas: Float64Array | null): MarketData {
  const shocks = symbolShocks(data, scenario, betas);
  return { ...data, columns: data.columns.map((c, s) => (shocks[s] ? shockColumns(c, data.time, data.timeframeMs, shocks[s]!, injectAt) : c)) };
}

/** the mark factor of trade factor g: 1 + (g − 1)(1 + markExtra), kept at or above 1 + DEPTH_FLOOR as the trade price's is
 * (the schema refuses a shock that reaches the floor as written; a beta above 1 may scale a market shock onto it) */
const markMap = (g: number, m: number) => Math.max(1 + DEPTH_FLOOR, 1 + (g - 1) * (1 + m));

/** How long the mark takes after the shock window to come back to the trade price's level (its extra move ends). */
export const MARK_SETTLE_MS = 3_600_000;

/**
 * The mark's factor path of a shock: the trade path's keypoints through markMap over the shock window, then back to
 * the trade path's final level over MARK_SETTLE_MS. The extra move is the crash's: applied to the level after it, the
 * mark stayed 2.3 % under the trade price for the rest of the data (XRP after crash-2025-10-10: 0.7938 × against 0.8125 ×).
 */
export function markPath(shock: CompiledShock): CompiledShock {
  const m = shock.markExtra;
  if (m === 0) return shock;
  const end = shock.t[shock.t.length - 1]!;
  const level = shock.f[shock.f.length - 1]!;
  return { ...shock, t: [...shock.t, end + MARK_SETTLE_MS], f: [...shock.f.map((g) => markMap(g, m)), level], markExtra: 0 };
}

/** One symbol's columns under a compiled shock (fresh arrays; the input is only read). */
export function shockColumns(c: SymbolColumns, time: Float64Array, timeframeMs: number, shock: CompiledShock, injectAt: number): SymbolColumns {
  const n = time.length;
  const open = Float64Array.from(c.open);
  const high = Float64Array.from(c.high);
  const low = Float64Array.from(c.low);
  const close = Float64Array.from(c.close);
  const volume = Float64Array.from(c.volume);
  const markOpen = Float64Array.from(c.markOpen);
  const markHigh = Float64Array.from(c.markHigh);
  const markLow = Float64Array.from(c.markLow);
  const markClose = Float64Array.from(c.markClose);
  const fundingRate = Float64Array.from(c.fundingRate);
  const fundingPrice = Float64Array.from(c.fundingPrice);
  const wStart = shockStart(shock);
  const wEnd = shockEnd(shock);
  const mark = markPath(shock);
  // the funding spike: every event settling in the window, or, when none does (a window shorter than the funding
  // interval), the first one settling after it: on 8h funding the spike of crash-2025-10-10 (a 4h10m window) reached
  // the positions at about half of the injection times, its effect a matter of where the injection time fell
  let spikeAfter = -1;
  if (shock.fundingRate !== null) {
    let inside = false;
    for (let e = 0; e < c.fundingTime.length && !inside; e++) {
      const x = fundingSettleTime(c.fundingTime[e]!) - injectAt;
      if (x >= wStart && x <= wEnd) inside = true;
      else if (x > wEnd && (spikeAfter < 0 || c.fundingTime[e]! < c.fundingTime[spikeAfter]!)) spikeAfter = e;
    }
    if (inside) spikeAfter = -1;
  }
  for (let i = 0; i < n; i++) {
    const a = time[i]! - injectAt;
    const b = a + timeframeMs;
    if (b > wStart) {
      const g0 = factorAt(shock, a);
      const g1 = factorBefore(shock, b);
      const [lo, hi] = factorRange(shock, a, b);
      const o = open[i]! * g0;
      const cl = close[i]! * g1;
      open[i] = o;
      close[i] = cl;
      high[i] = Math.max(o, cl, high[i]! * hi);
      low[i] = Math.min(o, cl, low[i]! * lo);
      const [mlo, mhi] = factorRange(mark, a, b);
      const mo = markOpen[i]! * factorAt(mark, a);
      const mc = markClose[i]! * factorBefore(mark, b);
      markOpen[i] = mo;
      markClose[i] = mc;
      markHigh[i] = Math.max(mo, mc, markHigh[i]! * mhi);
      markLow[i] = Math.min(mo, mc, markLow[i]! * mlo);
      // the bars overlapping the window; a zero-length window (a jump) overlaps the bar it falls in, also at its open
      if (a < wEnd || (a === wEnd && wStart === wEnd)) volume[i] = volume[i]! * shock.volume;
    }
    for (let e = c.fundingStart[i]!; e < c.fundingStart[i + 1]!; e++) {
      // by its settlement time, as the feed places it (a stamp 1–999 ms past the minute settles at the minute)
      const x = fundingSettleTime(c.fundingTime[e]!) - injectAt;
      if (x < wStart) continue;
      fundingPrice[e] = fundingPrice[e]! * factorAt(mark, x);
      if (shock.fundingRate !== null && (x <= wEnd || e === spikeAfter)) fundingRate[e] = shock.fundingRate;
    }
  }
  return { ...c, open, high, low, close, volume, markOpen, markHigh, markLow, markClose, fundingRate, fundingPrice };
}
