/**
 * CONTRACT: what one replay produces (src/engine), consumed by metrics (src/analysis) and the
 * run layer (src/shard). One replay runs one strategy over the data under several account setups
 * in one pass; each setup has its own strategy instance and account and sees identical bars.
 */
import type { AccountEvent, BooksSnapshot, ModeId } from '../account/types.js';

/** An account setup compared in a run: 'isolated', 'cross', or 'mixed' (strategy picks per order, default mode as given). */
export interface SetupSpec {
  id: 'isolated' | 'cross' | 'mixed';
  /** mode of positions whose order names no mode */
  defaultMode: ModeId;
}

/** Per-bar series of one setup, one value per replayed bar (Float64Array, bar resolution). */
export interface SetupSeries {
  /** bar open times, ms UTC (the replayed slice of MarketData.time) */
  time: Float64Array;
  /** wallet + Σ uPnL at the close */
  equity: Float64Array;
  marginBalance: Float64Array;
  maintenanceMargin: Float64Array;
  /** worst pool's MM / margin balance at the close (0 when flat) */
  marginRatio: Float64Array;
  /** highest margin ratio reached inside the bar along the path (≥ marginRatio) */
  marginRatioPeak: Float64Array;
  initialMargin: Float64Array;
  capitalAtRisk: Float64Array;
  grossNotional: Float64Array;
}

export interface SetupOutput {
  setup: SetupSpec;
  series: SetupSeries;
  events: readonly AccountEvent[];
  books: BooksSnapshot;
  /** rejected orders by reason code */
  rejections: Record<string, number>;
  /** which prices liquidation checks used: mark candles at bar timeframe for every symbol, trade prices, or a mix */
  liquidationPriceSource: 'mark' | 'trade' | 'mixed';
  /** how multi-symbol cross pools were checked intrabar */
  crossCheck: 'pessimistic' | 'optimistic';
  /** set when the strategy threw under this setup; series then end at the failing bar */
  error?: string;
}

export interface ReplayOutput {
  symbols: string[];
  /** number of bars replayed */
  bars: number;
  setups: SetupOutput[];
}
