/**
 * CONTRACT: strategy modules. A file in strategies/ default-exports a StrategyModule.
 * The Strategy object it creates receives a StrategyContext on every bar (and on fills, funding
 * and liquidations). The same strategy code runs unchanged under every margin mode.
 *
 * Look-ahead protection: every history view ends at the last completed bar. Reading a later
 * bar throws a LookAheadError (the setup then ends with an error). Callbacks fired inside a bar
 * (onFill, onFunding, onLiquidation) see history up to the previous bar, because the current
 * bar has not closed yet.
 */
import type { z } from 'zod';
import type { FundingSettlement, LiquidationOutcome, ModeId } from '../account/types.js';
import type { SetupId } from '../engine/setups.js';

export interface StrategyModule<S extends z.ZodType<Record<string, unknown>> = z.ZodType<Record<string, unknown>>> {
  /** registry name, kebab-case, equal to the file name */
  name: string;
  /** one line: what the strategy does and what it demonstrates about margin modes */
  description: string;
  /** zod schema of the params with defaults for every field */
  params: S;
  /** which of the dataset's symbols a run with these params trades (e.g. pairs: [params.long, params.short]) */
  symbols(params: z.output<S>): string[];
  /**
   * setups this strategy asks for beyond the config's list, e.g. ['mixed'] for a strategy that
   * chooses the margin mode per order (core-satellite). Under 'isolated' and 'cross' every
   * position takes the setup's mode whatever the order says (SetupSpec.perOrderMode).
   */
  setups?: readonly SetupId[];
  create(params: z.output<S>): Strategy;
}

/** Typed helper for strategy files: `export default defineStrategy({ ... })`. */
export function defineStrategy<S extends z.ZodType<Record<string, unknown>>>(m: StrategyModule<S>): StrategyModule<S> {
  return m;
}

/** A read-only history view of one column. Index 0 of `at` is the first bar of the dataset slice. */
export interface Series {
  /** number of visible bars (the current, last completed bar included) */
  readonly length: number;
  /** value `k` bars ago (0 = the current bar); NaN before the first bar; k < 0 throws LookAheadError */
  ago(k?: number): number;
  /** value at visible index i (0 ≤ i < length); i ≥ length throws LookAheadError; NaN for i < 0 */
  at(i: number): number;
}

/** Funding events of one symbol settled so far (k = 0 is the latest). */
export interface FundingHistory {
  readonly count: number;
  /** rate of the k-th latest settled event (NaN when none) */
  rate(k?: number): number;
  time(k?: number): number;
  price(k?: number): number;
}

export interface SymbolView {
  readonly index: number;
  readonly symbol: string;
  readonly open: Series;
  readonly high: Series;
  readonly low: Series;
  readonly close: Series;
  readonly volume: Series;
  /** mark close when the dataset has mark candles at the bar timeframe, else the trade close */
  readonly mark: Series;
  /** 1 when the symbol traded in the bar, 0 when the candle is absent */
  readonly present: Series;
  readonly funding: FundingHistory;
  /** which prices liquidation checks use for this symbol: 'mark' when it has mark candles at the bar timeframe (trade prices at a bar without one), else 'trade' */
  readonly liquidationSource: 'mark' | 'trade';
}

export interface PositionView {
  readonly symbol: number;
  /** signed base quantity (+ long, − short, 0 flat) */
  readonly qty: number;
  readonly entryPrice: number;
  readonly mode: ModeId | null;
  readonly leverage: number;
  /** at the current mark (last close) */
  readonly unrealizedPnl: number;
  readonly notional: number;
  /** price of this symbol at which its margin pool is liquidated (other legs at mark); NaN when flat or none */
  readonly liquidationPrice: number;
}

/** Account state at the last mark to market (the current bar's close). */
export interface AccountView {
  /** wallets (cross and isolated) + unrealised PnL of every position; the deposit in onStart */
  readonly equity: number;
  readonly available: number;
  /**
   * margin balance of the pools behind open positions only: each open isolated position's wallet +
   * its unrealised PnL, plus the cross wallet + cross unrealised PnL while a cross position is open;
   * 0 while flat (in onStart too, in every mode). The whole account's is `equity`.
   */
  readonly marginBalance: number;
  readonly maintenanceMargin: number;
  readonly marginRatio: number;
  readonly initialMargin: number;
  readonly grossNotional: number;
  readonly capitalAtRisk: number;
}

/**
 * market: next bar's open (± slippage, taker). limit: rests; fills at its price (maker) when the
 * path reaches it, or at the next open (taker: ± slippage, never past its price) if it was
 * marketable when placed. stop: a
 * stop-market that triggers when the trade price moves through `price` against the current
 * price (buy stop above, sell stop below); fills at the trigger, or at the open on a gap
 * (± slippage, taker). takeProfit: a market order triggered in the favourable direction
 * (buy below, sell above). A stop or take-profit placed already past its trigger fills at the next
 * open when that open is still past it (Binance would refuse it, error −2021).
 */
export type OrderType = 'market' | 'limit' | 'stop' | 'takeProfit';

export interface OrderOptions {
  type?: OrderType;
  /** limit price or trigger price (required except for market orders) */
  price?: number;
  /** may only reduce the position (clipped to it; rejected when it would open or flip); a resting reduce-only limit expires when the position closes */
  reduceOnly?: boolean;
  /**
   * closes the whole position at execution time; `qty` is ignored (any value, sign or 0). The side is
   * fixed when placed (against the open position; placing it while flat is rejected `noPosition`);
   * at execution a position that is then on the order's side is not touched (`reduceOnlyViolation`).
   * Cancelled when the position closes otherwise.
   */
  closePosition?: boolean;
  /** margin mode of a position this order opens (default: the setup's default mode) */
  mode?: ModeId;
  /** free text, echoed in FillInfo */
  tag?: string;
}

export interface OrderRequest extends OrderOptions {
  symbol: number;
  /** signed base quantity: + buy, − sell (ignored by closePosition orders) */
  qty: number;
}

export interface OpenOrder {
  readonly id: number;
  readonly symbol: number;
  readonly qty: number;
  readonly type: OrderType;
  readonly price: number;
  readonly reduceOnly: boolean;
  readonly closePosition: boolean;
  readonly mode: ModeId | undefined;
  readonly tag: string | undefined;
}

export interface FillInfo {
  orderId: number;
  tag: string | undefined;
  symbol: number;
  qty: number;
  price: number;
  liquidity: 'maker' | 'taker';
  fee: string;
  realizedPnl: string;
  positionQty: number;
  mode: ModeId;
  /**
   * open time of the bar the fill happened in (ms UTC). The result's fill record has the time on the
   * bar's path; a callback does not get it, since within a bar it would tell where the path goes next.
   */
  time: number;
}

/** `time`: the funding time */
export type FundingInfo = FundingSettlement & { time: number };
/** `time`: open time of the bar the liquidation happened in (as FillInfo.time) */
export type LiquidationInfo = LiquidationOutcome & { time: number };

/** Incremental indicator: O(1) per update, no allocation. */
export interface Indicator {
  /** feed the next value; returns the new indicator value (NaN until ready) */
  update(x: number): number;
  readonly value: number;
  readonly ready: boolean;
  reset(): void;
}

export interface AtrIndicator {
  update(high: number, low: number, close: number): number;
  readonly value: number;
  readonly ready: boolean;
  reset(): void;
}

export interface IndicatorFactory {
  sma(period: number): Indicator;
  ema(period: number): Indicator;
  stdev(period: number): Indicator;
  zscore(period: number): Indicator;
  atr(period: number): AtrIndicator;
  /** rolling maximum / minimum over the last `period` inputs */
  max(period: number): Indicator;
  min(period: number): Indicator;
}

export interface StrategyContext {
  /** the setup this instance runs under ('isolated' | 'cross' | 'mixed') */
  readonly setup: string;
  readonly defaultMode: ModeId;
  readonly symbols: readonly string[];
  /** replayed bars completed so far minus one (0 on the first onBar) */
  readonly bar: number;
  /** index of the current bar in the dataset */
  readonly index: number;
  /** open time of the current (last completed) bar, ms UTC */
  readonly time: number;
  readonly timeframeMs: number;
  readonly data: readonly SymbolView[];
  /** shorthand: current close of symbol `s` */
  close(s: number): number;
  symbolIndex(name: string): number;
  position(s: number): PositionView;
  readonly account: AccountView;
  readonly indicators: IndicatorFactory;

  /** place an order (executes from the next bar on); returns its id, or −1 when rejected at once */
  order(req: OrderRequest): number;
  buy(s: number, qty: number, opts?: OrderOptions): number;
  sell(s: number, qty: number, opts?: OrderOptions): number;
  /** market (or conditional, with opts.type) order closing the whole position */
  closePosition(s: number, opts?: OrderOptions): number;
  /** cancels pending market orders of `s` and places a market order for target − position; 0 when none is needed */
  targetPosition(s: number, qty: number, opts?: OrderOptions): number;
  cancel(id: number): boolean;
  /** cancel all pending orders (of symbol `s` when given); returns how many */
  cancelAll(s?: number): number;
  openOrders(s?: number): OpenOrder[];
  /** change a symbol's leverage now; false when rejected (rejection recorded) */
  setLeverage(s: number, leverage: number): boolean;
  leverage(s: number): number;
  /** add (+) or remove (−) isolated margin of an open isolated position now; false when rejected */
  transferMargin(s: number, amount: number): boolean;
}

/**
 * What a strategy callback may return: nothing, or any value but a promise (the engine ignores it).
 * Callbacks are synchronous and the engine does not wait: `async onBar` is a type error here (a
 * `void` return type would accept a promise), as it makes the run errored when run ("onBar returned
 * a Promise", src/engine/runner-state.ts checkSync).
 */
export type SyncResult = void | undefined | null | string | number | boolean | bigint | symbol | readonly unknown[] | ({ readonly then?: never } & object);

export interface Strategy {
  /** called once before the first replayed bar; history holds the bars before it (none when the replay starts at index 0: `at(i)` throws, `ago(k)` is NaN) */
  onStart?(ctx: StrategyContext): SyncResult;
  onBar(ctx: StrategyContext): SyncResult;
  onFill?(fill: FillInfo, ctx: StrategyContext): SyncResult;
  onFunding?(funding: FundingInfo, ctx: StrategyContext): SyncResult;
  onLiquidation?(liquidation: LiquidationInfo, ctx: StrategyContext): SyncResult;
}

/** Thrown by history views when a strategy reads a bar after the current one. */
export class LookAheadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LookAheadError';
  }
}
// one class per worker, shared by every run (see src/engine/context.ts): frozen like the context's own
Object.freeze(LookAheadError.prototype);
Object.freeze(LookAheadError);
