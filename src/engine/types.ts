/**
 * CONTRACT: what one replay produces (src/engine), consumed by metrics (src/analysis) and the
 * run layer (src/shard). One replay runs one strategy over the data under several account setups
 * in one pass; each setup has its own strategy instance and account and sees identical bars.
 */
import type { AccountEvent, AccountFactory, BooksSnapshot, ModeId } from '../account/types.js';

/** An account setup compared in a run: 'isolated', 'cross', or 'mixed' (strategy picks per order, default mode as given). */
export interface SetupSpec {
  id: 'isolated' | 'cross' | 'mixed'; // = SetupId of ./setups.ts
  /** mode of positions whose order names no mode */
  defaultMode: ModeId;
  /**
   * true: an order's own `mode` is honoured (the mixed / core-satellite account); false: every
   * position takes `defaultMode` whatever the order says, so the same strategy code replays its
   * trades under pure isolated and pure cross margin. Default: true only for the 'mixed' setup.
   */
  perOrderMode?: boolean;
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

/**
 * (added for the event records) what a liquidation's account event does not carry, recorded by
 * the engine at the trigger, one per liquidation event in ledger order.
 */
export interface LiquidationDetail {
  time: number;
  /** pool's margin ratio (MM ÷ margin balance, capped like the series) at the trigger prices, before the close */
  marginRatio: number;
  legs: {
    symbol: number;
    /** signed position closed */
    qty: number;
    /** liquidation-source price (mark or trade) at the trigger point; the close price may differ (clamped to the liquidation price unless the price gapped past it) */
    triggerPrice: number;
    /** the leg's liquidation price at the trigger (other cross legs at their trigger prices); NaN when none */
    liquidationPrice: number;
  }[];
}

/**
 * (added for the report's chart) each symbol's liquidation price as a step function: one point
 * whenever it changes at an event (NaN when flat or none). Single-leg pools are exact (their price
 * moves only at events); a leg of a multi-symbol cross pool is valued with the other legs at their
 * marks at the event.
 */
export interface LiquidationPriceSteps {
  time: number[];
  symbol: number[];
  price: number[];
}

export interface SetupOutput {
  setup: SetupSpec;
  series: SetupSeries;
  events: readonly AccountEvent[];
  books: BooksSnapshot;
  /** rejected orders by reason code */
  rejections: Record<string, number>;
  /**
   * which prices the liquidation checks of the replayed bars used: 'mark' when every symbol's bar had
   * a mark candle, 'trade' when none had, 'mixed' when some had (counted once per replay, Market)
   */
  liquidationPriceSource: 'mark' | 'trade' | 'mixed';
  /** how multi-symbol cross pools were checked intrabar */
  crossCheck: 'pessimistic' | 'optimistic';
  /** (added for the event records) one per liquidation event, in ledger order */
  liquidations?: LiquidationDetail[];
  /** (added for the report's chart) liquidation prices over time */
  liquidationPrices?: LiquidationPriceSteps;
  /** set when the strategy threw under this setup; series then end at the failing bar */
  error?: string;
  /** where the strategy threw (with `error`): the callback, the engine's event time, the strategy's own source line */
  errorAt?: StrategyErrorPlace;
}

/** The callbacks of a strategy the engine calls. */
export type StrategyCallback = 'onStart' | 'onBar' | 'onFill' | 'onFunding' | 'onLiquidation';

export interface StrategyErrorPlace {
  callback: StrategyCallback;
  /** the engine's event time when it threw (ms UTC): onBar's is the bar's close, onStart's the first bar's open */
  time: number;
  /** onBar: the open time of its bar (ctx.time there, the bar's row in the data), which the messages name */
  barOpen?: number;
  /** the first frame of the thrown error's stack outside marginlab's engine (`file:line:column`, relative to the working folder when inside it), null without one */
  location: string | null;
}

export interface ReplayOutput {
  symbols: string[];
  /** number of bars replayed */
  bars: number;
  setups: SetupOutput[];
}

import type { MarketData } from '../feed/types.js';
import type { SeriesPool } from './market.js';
import type { VenueProfile } from '../venue/types.js';
import type { StrategyModule } from '../strategy/types.js';
import { freezeClass } from '../util/freeze.js';

/** Fill, slippage and intrabar options (part of RunSpec.execution). */
export interface ExecutionOptions {
  /** market, stop and take-profit fills move against the order by this many basis points (a marketable limit's fill at the open too, up to its price) */
  slippageBps: number;
  /** optional volume participation: a market order fills at most maxFraction × bar volume; the rest is rejected or carried (engine docs) */
  participation?: { maxFraction: number } | null;
  /** intrabar path: open → nearer extreme → farther extreme → close (default), or fixed high-first / low-first */
  intrabarPath: 'nearest-first' | 'high-first' | 'low-first';
  /** multi-symbol cross pools: every symbol at its adverse extreme at once (pessimistic, default) or at close (optimistic) */
  crossCheck: 'pessimistic' | 'optimistic';
}

export interface ReplayParams {
  data: MarketData;
  /** symbols of `data` this run trades and shows to the strategy (ctx indexes follow this order) */
  symbols: string[];
  strategy: StrategyModule;
  /** strategy params, already validated by strategy.params (defaults applied) */
  params: Record<string, unknown>;
  venue: VenueProfile;
  setups: SetupSpec[];
  /** decimal string, quote currency */
  initialCapital: string;
  leverage: number;
  /** fill, slippage and intrabar options; each one left out takes DEFAULT_EXECUTION's value (./setups.ts) */
  execution?: Partial<ExecutionOptions>;
  /** replay bars [fromIndex, toIndex) of data.time (default: all) */
  fromIndex?: number;
  toIndex?: number;
  /** called about every 65,536 bars with bars done; may throw to abort */
  onProgress?: (barsDone: number) => void;
  /**
   * where the replay is, for a watchdog on another thread (a Float64Array over a SharedArrayBuffer;
   * plain stores): [0] the replayed bar being stepped (−1 while create() and onStart run), [1] that
   * bar's time (ms UTC; NaN before the first bar). A timed-out run's message names its bar by it.
   */
  position?: Float64Array;
  /** (added by the engine) account constructor (default: createAccount from src/account) */
  accountFactory?: AccountFactory;
  /**
   * buffers for the per-bar series (./market.ts SeriesPool): the output's series are views of
   * pooled memory that the caller gives back with `pool.release(series)` once it no longer reads
   * them (the sweep's workers do); default: fresh arrays the caller owns
   */
  seriesPool?: SeriesPool;
}

/**
 * An internal invariant of the engine or the account failed (a marginlab bug, never the
 * strategy's fault): replay() throws it, the worker records the runs as errored with
 * `internal: true`, and `marginlab run` / `stress` exit 70 after writing every result.
 */
export class EngineInvariantError extends Error {
  readonly #brand = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineInvariantError';
  }
  /**
   * Whether `e` is one, asked without running any code of `e`: `instanceof` reads the prototype
   * chain, and a value a strategy threw may be a proxy whose getPrototypeOf trap throws (that
   * throw would leave the engine's catch as an internal error). A private-field check runs no trap.
   */
  static is(e: unknown): e is EngineInvariantError {
    return (typeof e === 'object' || typeof e === 'function') && e !== null && #brand in e && e.#brand;
  }
}

// one per worker, reachable from a strategy (through createAccount, the context or the package entry):
// frozen so that a strategy changing it cannot change the later runs of its worker (src/engine/context.ts)
freezeClass(EngineInvariantError);
