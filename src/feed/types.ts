/**
 * CONTRACT between the data layer (src/feed) and everything that reads market data.
 *
 * A MarketData holds every symbol of one dataset on one timeline of bar open times. All columns
 * are Float64Array / Int32Array / Uint8Array views backed by SharedArrayBuffer, so the whole
 * object can be posted to worker threads without copying (structured clone shares SABs).
 * It contains only plain values and typed arrays: no classes, no functions.
 */

/** Per-symbol columns, all of length `MarketData.time.length` unless noted. */
export interface SymbolColumns {
  symbol: string;
  /** 1 when the symbol has a trade candle at bar i; 0 when absent (then o/h/l/c/v are NaN). Never forward-filled. */
  present: Uint8Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  /** base-asset volume */
  volume: Float64Array;
  /**
   * true when the dataset has mark-price candles at the bar timeframe (or finer, aggregated) for
   * this symbol at one bar of the timeline at least; then markOpen..markClose hold them (NaN where a
   * mark candle is missing) and liquidation uses mark where there is one. false when mark candles
   * are coarser, missing, or cover none of the bars (May mark candles beside July candles); then
   * the mark* columns are all NaN and liquidation/marking uses trade prices. A replay's
   * liquidationPriceSource counts the bars it used mark candles at.
   */
  markAtBarTimeframe: boolean;
  markOpen: Float64Array;
  markHigh: Float64Array;
  markLow: Float64Array;
  markClose: Float64Array;
  /**
   * Funding events, CSR layout. Events settling at bar i (funding time in (time[i-1], time[i]])
   * are indices fundingStart[i] .. fundingStart[i+1]-1 of the event arrays.
   * fundingStart has length nBars + 1.
   */
  fundingStart: Int32Array;
  /** event funding time, ms UTC (as in the source, e.g. 1747872000001) */
  fundingTime: Float64Array;
  /** settled rate per interval as a fraction; > 0: longs pay shorts */
  fundingRate: Float64Array;
  /**
   * price the event settles at: the funding file's price column if given, else the open of the
   * mark candle containing the funding time (any mark timeframe), else the trade open of the bar.
   */
  fundingPrice: Float64Array;
}

export interface MarketData {
  /** dataset name (folder name) */
  dataset: string;
  venue: string;
  /** e.g. '1h' */
  timeframe: string;
  timeframeMs: number;
  /** bar open times, ms UTC, strictly increasing, spaced by timeframeMs (gaps are allowed only if the load policy permitted them) */
  time: Float64Array;
  symbols: string[];
  /** same order as `symbols` */
  columns: SymbolColumns[];
  /** sha256 (hex) of every file read, keyed by path relative to the dataset folder; part of RunIds */
  hashes: Record<string, string>;
  /** (added by src/feed) load warnings, e.g. gaps listed under the 'warn' policy; absent or empty when none */
  warnings?: string[];
}

/** Options for loading a dataset folder (see src/feed/load.ts). */
export interface LoadOptions {
  /** candle timeframe to load when the dataset has several (default: the manifest's default) */
  timeframe?: string;
  /** subset of symbols (default: all) */
  symbols?: string[];
  /** inclusive start / exclusive end, ms UTC */
  from?: number;
  to?: number;
  /** what a gap in candle spacing does: 'error' (exit 65) or 'warn' (listed, load proceeds). Default 'error'. */
  gaps?: 'error' | 'warn';
}
