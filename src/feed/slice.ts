/**
 * Views on a MarketData without copying: a bar range or a subset of symbols. The typed arrays of
 * the result are subarrays of the same SharedArrayBuffers.
 */
import { configError } from '../errors.js';
import { didYouMean } from '../util/nearest.js';
import { fmtTime } from './timeframe.js';
import type { MarketData, SymbolColumns } from './types.js';

/**
 * Bars [fromIndex, toIndex) of `md`. Funding event arrays are shared unchanged; `fundingStart`
 * keeps absolute indices into them (events of bar i are fundingStart[i] .. fundingStart[i+1]-1),
 * so fundingStart[0] may be > 0 in a slice.
 */
export function sliceMarketData(md: MarketData, fromIndex: number, toIndex: number = md.time.length): MarketData {
  const n = md.time.length;
  if (!(Number.isInteger(fromIndex) && Number.isInteger(toIndex) && fromIndex >= 0 && toIndex <= n && fromIndex < toIndex)) {
    throw configError(`sliceMarketData: bar range [${fromIndex}, ${toIndex}) is not inside [0, ${n}) or is empty`);
  }
  const sl = (c: SymbolColumns): SymbolColumns => ({
    symbol: c.symbol,
    present: c.present.subarray(fromIndex, toIndex),
    open: c.open.subarray(fromIndex, toIndex),
    high: c.high.subarray(fromIndex, toIndex),
    low: c.low.subarray(fromIndex, toIndex),
    close: c.close.subarray(fromIndex, toIndex),
    volume: c.volume.subarray(fromIndex, toIndex),
    markAtBarTimeframe: c.markAtBarTimeframe,
    markOpen: c.markOpen.subarray(fromIndex, toIndex),
    markHigh: c.markHigh.subarray(fromIndex, toIndex),
    markLow: c.markLow.subarray(fromIndex, toIndex),
    markClose: c.markClose.subarray(fromIndex, toIndex),
    fundingStart: c.fundingStart.subarray(fromIndex, toIndex + 1),
    fundingTime: c.fundingTime,
    fundingRate: c.fundingRate,
    fundingPrice: c.fundingPrice,
  });
  return { ...md, time: md.time.subarray(fromIndex, toIndex), columns: md.columns.map(sl) };
}

/** Bars whose open time is in [fromMs, toMs). */
export function sliceByTime(md: MarketData, fromMs: number, toMs: number): MarketData {
  // said in the caller's terms (times), not as the bar indexes it never gave ("bar range [3, 3) …")
  for (const [k, v] of [['fromMs', fromMs], ['toMs', toMs]] as const) {
    if (typeof v !== 'number' || Number.isNaN(v)) throw configError(`sliceByTime: ${k} must be a time in ms UTC, got ${String(v)}`);
  }
  let a = 0;
  while (a < md.time.length && md.time[a]! < fromMs) a++;
  let b = a;
  while (b < md.time.length && md.time[b]! < toMs) b++;
  if (b <= a) {
    const n = md.time.length;
    const has = n > 0 ? `its bars open from ${fmtTime(md.time[0]!)} to ${fmtTime(md.time[n - 1]!)}` : 'it has no bars';
    throw configError(`sliceByTime: no bar of dataset ${md.dataset} opens in [${fmtTime(fromMs)}, ${fmtTime(toMs)}); ${has}`);
  }
  return sliceMarketData(md, a, b);
}

/**
 * `${fn}: symbols must be an array …` when `v` is not an array of symbol names (one string, a number: plain JavaScript),
 * else null: loadDataset's option and selectSymbols' list say it alike
 */
export function symbolListFault(fn: string, v: unknown, example: string, shown: (v: unknown) => string = String): string | null {
  if (Array.isArray(v) && v.every((s) => typeof s === 'string')) return null;
  return `${fn}: symbols must be an array of symbol names such as ['${example}'], got ${typeof v === 'string' ? `the string '${v}' (write ['${v}'])` : shown(v)}`;
}

/** A MarketData holding only `symbols` (in that order). The timeline is unchanged. */
export function selectSymbols(md: MarketData, symbols: readonly string[]): MarketData {
  const fault = symbolListFault('selectSymbols', symbols, md.symbols[0] ?? 'BTCUSDT');
  if (fault !== null) throw configError(fault);
  const cols = symbols.map((s) => {
    const i = md.symbols.indexOf(s);
    if (i < 0) throw configError(`selectSymbols: symbol ${s}${didYouMean(s, md.symbols)} is not in dataset ${md.dataset} (symbols: ${md.symbols.join(', ')})`);
    return md.columns[i]!;
  });
  return { ...md, symbols: [...symbols], columns: cols };
}

/** Events of symbol column `c` settling at bar i, as [start, end) into the event arrays. */
export function fundingRange(c: SymbolColumns, i: number): [number, number] {
  return [c.fundingStart[i]!, c.fundingStart[i + 1]!];
}

/**
 * The bars of `symbols` in `md`: [from, to) from the first bar one of them has a candle to the last (all bars when
 * none has any). A sweep's run is replayed over these: a symbol listed later than the dataset's others (or
 * delisted earlier) was replayed over bars before (after) it existed, flat and out of the market, which diluted
 * its exposure, volatility and Sharpe (ETH from June in a dataset from May: exposure 69 %, not 99.9 %).
 */
export function symbolsWindow(md: MarketData, symbols: readonly string[]): { from: number; to: number } {
  const n = md.time.length;
  let from = n;
  let to = 0;
  for (const c of md.columns) {
    if (!symbols.includes(c.symbol)) continue;
    const present = c.present;
    let a = 0;
    while (a < n && present[a] !== 1) a++;
    if (a === n) continue;
    let b = n;
    while (present[b - 1] !== 1) b--;
    if (a < from) from = a;
    if (b > to) to = b;
  }
  return from < to ? { from, to } : { from: 0, to: n };
}
