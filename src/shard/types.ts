/**
 * CONTRACT: runs and their results (src/shard), consumed by reports (src/report).
 * Everything here is plain JSON: decimals as strings, numbers as numbers, no typed arrays.
 */

/** The canonical description of one run; RunId = stable hash of it (sorted keys). */
export interface RunSpec {
  strategy: string;
  /** fully resolved params (schema defaults applied) */
  params: Record<string, unknown>;
  venue: string;
  /** venue overrides from the config, if any (part of the identity) */
  venueOverrides?: Record<string, unknown>;
  setup: 'isolated' | 'cross' | 'mixed';
  leverage: number;
  dataset: string;
  timeframe: string;
  symbols: string[];
  /** ms UTC or null for the dataset's bounds */
  from: number | null;
  to: number | null;
  initialCapital: string;
  /** fill, slippage and intrabar options */
  execution: Record<string, unknown>;
  /** sha256 of each data file, from MarketData.hashes */
  dataHashes: Record<string, string>;
  engineVersion: string;
}

export interface RunEventRecord {
  time: number;
  type: 'fill' | 'funding' | 'liquidation' | 'transfer' | 'rejection';
  symbol: string;
  /** short human description, e.g. 'sell 0.5 @ 64210.1' */
  detail: string;
  /** signed money amount where meaningful (PnL, funding received, −penalty), decimal string */
  amount?: string;
}

/** Downsampled curves for charts (≤ ~2000 points; min/max-preserving). */
export interface RunCurves {
  time: number[];
  equity: number[];
  drawdown: number[];
  marginRatio: number[];
}

export interface RunResult {
  schemaVersion: 1;
  runId: string;
  spec: RunSpec;
  status: 'ok' | 'errored';
  /** message when errored (strategy threw, timeout, worker died) */
  error?: string;
  /** metric id → value (null when undefined, e.g. Sharpe of a flat curve); ids from the metrics registry */
  metrics: Record<string, number | null>;
  books: Record<string, string>;
  rejections: Record<string, number>;
  liquidationPriceSource: 'mark' | 'trade' | 'mixed';
  crossCheck: 'pessimistic' | 'optimistic';
  bars: number;
  /** liquidations, and the first/last fills etc., capped in count (see src/shard) */
  events: RunEventRecord[];
  curves: RunCurves;
}
