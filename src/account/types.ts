/**
 * CONTRACT between the account (src/account, books in decimal.js) and the replay engine
 * (src/engine). The engine never branches on margin mode: it sees margin *pools* (an isolated
 * position, or the cross pool holding every cross position) behind one interface, and the
 * account's MarginMode objects (IsolatedMargin, CrossMargin) decide how positions form pools.
 *
 * Hot-loop rule: every method the engine calls per bar (pools(), MarginPool.breached,
 * MarginPool.liquidationPrice, Account.mark, position getters) works on numbers (float mirrors
 * of the books refreshed at events) and allocates nothing. Decimal work happens only in event
 * methods (trade, applyFunding, transferMargin, liquidate).
 *
 * Symbols are referred to by index into `Account.symbols` (the run's symbol list).
 * Quantities are signed numbers in base units (+ long, − short). Money crosses this boundary as
 * decimal strings in results and as numbers in float views.
 */
import type { LotSize, VenueProfile } from '../venue/types.js';
import type { OrderType } from '../strategy/types.js';

export type ModeId = 'isolated' | 'cross';

export type RejectReason =
  | 'insufficientMargin'
  | 'modeLocked'
  | 'exceedsMaxLeverage'
  | 'reduceOnlyViolation'
  | 'invalidQuantity'
  | 'invalidPrice'
  | 'noPosition'
  | 'exceedsRemovableMargin'
  | 'symbolUnavailable'
  /** an order whose `type` is not one of market, limit, stop, takeProfit */
  | 'invalidOrderType'
  /** an order whose `mode` is not 'isolated' or 'cross' */
  | 'invalidMode'
  /** lowering the leverage of an open isolated position (Binance refuses it: error −4161) */
  | 'leverageLocked'
  /** a leverage that is not a finite number ≥ 1 (setLeverage(0), NaN) */
  | 'invalidLeverage'
  /** an order whose `reduceOnly` or `closePosition` is given but is not true or false (reduceOnly: 1) */
  | 'invalidOption'
  /**
   * a fill growing a position that would leave its margin pool at or past its liquidation threshold at the marks given
   * with it (TradeRequest.mark / marks; a replay's liquidation-source prices there): it would be liquidated at once; or
   * margin moved into a pool already past its threshold at the last marks (added: the isolated pool; removed: the cross pool) — the venue liquidates it first
   */
  | 'immediateLiquidation';

export interface Rejection {
  ok: false;
  reason: RejectReason;
  message: string;
}

export interface AccountParams {
  venue: VenueProfile;
  symbols: readonly string[];
  /** initial deposit in quote currency (USDT), decimal string */
  initialDeposit: string;
  /** mode of positions opened without an explicit mode */
  defaultMode: ModeId;
  /** initial leverage for every symbol (strategies may change it per symbol while flat or within tier limits) */
  leverage: number;
  /** date (ms UTC) used to pick the venue's dated tier tables */
  asOfMs: number;
  /**
   * (added for lot sizes) quantity grid per symbol (same order as `symbols`); default:
   * `venue.lotSize(symbol)` without a reference price. Orders are snapped to the nearest step
   * (within half a step of a grid point is that point); positions are whole numbers of steps.
   */
  lotSizes?: readonly LotSize[];
}

export interface TradeRequest {
  symbol: number;
  /** signed quantity: + buy, − sell */
  qty: number;
  /** execution price (slippage already applied by the engine) */
  price: number;
  liquidity: 'maker' | 'taker';
  /** mode for a position this trade opens (ignored when it changes an open position, whose mode is fixed; a different explicit mode on an open position is rejected with modeLocked) */
  mode?: ModeId;
  reduceOnly?: boolean;
  time: number;
  /**
   * the symbol's mark (liquidation-source) price where the fill happens; when given, a fill that grows the
   * position is refused (`immediateLiquidation`) if it leaves the position's margin pool at or past its
   * liquidation threshold with the symbol at this price (the other symbols at `marks`, else their last marks)
   */
  mark?: number;
  /**
   * every symbol's mark where the fill happens, by symbol index (NaN: its last mark), for the same check:
   * the position's pool is valued at these (the symbol at `mark` when that is given). The replay engine
   * gives the prices its pools are judged at there (a multi-leg cross pool's adverse-first path).
   */
  marks?: ArrayLike<number>;
  /**
   * where the fill came from, kept on its ledger record for the audit (the result's fill records, trades.csv's exit
   * order and tags): the strategy order's id, type and tag (the replay engine gives them; a direct caller may)
   */
  order?: FillOrder;
}

/** the order a fill executed (TradeRequest.order; on the fill's ledger event and result record) */
export interface FillOrder {
  id: number;
  type: OrderType;
  /** the strategy's tag of the order, when it gave one */
  tag?: string;
}

export interface Fill {
  ok: true;
  symbol: number;
  qty: number;
  price: number;
  /** fee paid, decimal string (≥ 0; negative only for a maker rebate: a venue with a negative maker fee) */
  fee: string;
  /** PnL realised by the reducing part, decimal string */
  realizedPnl: string;
  /** position after the fill (signed) */
  positionQty: number;
  mode: ModeId;
}

export interface FundingSettlement {
  symbol: number;
  /** amount received (negative = paid), decimal string */
  received: string;
  rate: number;
  price: number;
}

export interface LiquidationOutcome {
  /** 'isolated:<symbol>' or 'cross' */
  poolId: string;
  symbols: number[];
  /** close price per liquidated symbol, same order as `symbols` */
  prices: number[];
  /** the trader's loss of remaining margin / liquidation fee, decimal string (≥ 0) */
  penalty: string;
  /** amount the insurance fund covered because the close was past the bankruptcy price, decimal string (≥ 0) */
  insuranceDraw: string;
  /** realised PnL of the closed positions, decimal string */
  realizedPnl: string;
}

/** A margin pool: one isolated position, or the cross pool. */
export interface MarginPool {
  readonly id: string;
  /** symbol indices of the positions in this pool */
  readonly symbols: readonly number[];
  /** margin balance − maintenance margin, in floats, with each symbol of the pool valued at marks[symbol]. ≤ 0 means liquidation. */
  excess(marks: Float64Array): number;
  /**
   * excess(marks) ≤ 0 as a boolean: the engine's per-bar check. A double returned by a call V8 does
   * not inline is boxed, an allocation per call; a boolean never is.
   */
  breached(marks: Float64Array): boolean;
  /** (added for the event records) the pool's margin balance (its wallet part + uPnL) at marks, float */
  marginBalance(marks: Float64Array): number;
  /** (added for the event records) the pool's maintenance margin at marks, float */
  maintenance(marks: Float64Array): number;
  /**
   * Price of `symbol` at which excess() reaches 0 with every other symbol at marks[...] (other
   * cross legs valued at mark, tiers re-chosen at that price). NaN when no positive price exists.
   * For an isolated pool this equals the venue's closed-form liquidation price.
   */
  liquidationPrice(symbol: number, marks: Float64Array): number;
  /** liquidationPrice of each symbol of the pool into out[symbol], the same doubles (a cross pool values each leg once, not once per other leg) */
  liquidationPrices(marks: Float64Array, out: Float64Array): void;
  /** bankruptcy price of `symbol` (pool margin balance = 0) with others at marks; NaN when none */
  bankruptcyPrice(symbol: number, marks: Float64Array): number;
}

/** Reusable per-bar snapshot filled by Account.mark (no allocation). All numbers. */
export interface MarkSnapshot {
  /** wallet + Σ uPnL of all positions */
  equity: number;
  /** Σ over pools of margin balance (wallet part + uPnL) */
  marginBalance: number;
  /** Σ maintenance margin of all positions */
  maintenanceMargin: number;
  /**
   * worst pool's MM / margin balance (Binance convention; ≥ 1 means liquidation; 0 when flat).
   * Finite: a pool whose margin balance is ≤ MM / MARGIN_RATIO_CAP (including ≤ 0) counts as
   * MARGIN_RATIO_CAP (see marginRatioOf in ./index.ts).
   */
  marginRatio: number;
  /** Σ initial margin (notional / leverage) of open positions */
  initialMargin: number;
  /** capital at risk: Σ isolated wallets + cross pool equity when any cross position is open */
  capitalAtRisk: number;
  /** Σ |qty| × mark */
  grossNotional: number;
  /** available balance (Binance rule: cross wallet + Σ cross uPnL − Σ cross IM, floored at 0) */
  available: number;
}

export interface BooksSnapshot {
  initialDeposit: string;
  /** total wallet balance = cross wallet + Σ isolated wallets */
  wallet: string;
  realizedPnl: string;
  fees: string;
  fundingReceived: string;
  fundingPaid: string;
  liquidationPenalties: string;
  insuranceDraws: string;
}

export type AccountEvent =
  | ({ type: 'fill'; time: number; order?: FillOrder } & Omit<Fill, 'ok'>)
  | ({ type: 'funding'; time: number } & FundingSettlement)
  | ({ type: 'liquidation'; time: number } & LiquidationOutcome)
  | { type: 'transfer'; time: number; symbol: number; amount: string }
  | { type: 'rejection'; time: number; symbol: number; reason: RejectReason; message: string };

export interface Account {
  readonly symbols: readonly string[];
  readonly venue: VenueProfile;
  /** the ledger: every event in order (fills, funding, liquidations, transfers, rejections) */
  readonly events: readonly AccountEvent[];

  /** change the leverage of `symbol`; a rejection is recorded at `time` (the engine's event time) */
  setLeverage(symbol: number, leverage: number, time?: number): { ok: true } | Rejection;
  leverage(symbol: number): number;
  trade(req: TradeRequest): Fill | Rejection;
  /** add (+) or remove (−) isolated margin of an open isolated position, within the venue's limits */
  transferMargin(symbol: number, amount: number, time: number): { ok: true } | Rejection;
  /** settle one funding event for `symbol` if a position is open; null when flat */
  applyFunding(symbol: number, rate: number, price: number, time: number): FundingSettlement | null;
  /** record a rejection that happened outside the account (e.g. an order the engine could not place) */
  recordRejection(symbol: number, reason: RejectReason, message: string, time: number): Rejection;

  /**
   * current pools, those that own their margin (isolated) first, in symbol order, then the shared
   * cross pool (the engine liquidates the pools gapped through at one open in this order); the
   * returned array is stable between events (same identity until positions change)
   */
  pools(): readonly MarginPool[];
  /** close every position of `pool` at prices[symbol] (Decimal books: PnL, penalty, insurance shortfall) */
  liquidate(pool: MarginPool, prices: Float64Array, time: number): LiquidationOutcome;

  /**
   * float views. A position changes only in trade() and liquidate(): the engine copies every
   * symbol's positionQty after those two calls (what `ctx.position(s).qty` shows), so an account of
   * an accountFactory that changed a position in another call would show the strategy a stale quantity
   */
  positionQty(symbol: number): number;
  entryPrice(symbol: number): number;
  positionMode(symbol: number): ModeId | null;
  /** fills `out` from marks (one price per symbol; NaN marks are treated as the last known price) */
  mark(marks: Float64Array, out: MarkSnapshot): void;
  /**
   * (added for speed; optional) the same as `mark(adverse, scratch)` then `mark(marks, out)` in one
   * pass: fills `out` at `marks` and writes the worst pool's margin ratio at `adverse` into
   * peak[0] (a typed-array slot, not a return value: a returned double is boxed in the bar loop).
   */
  markWithPeakInto?(marks: Float64Array, adverse: Float64Array, out: MarkSnapshot, peak: Float64Array): void;
  /**
   * (optional) the worst pool's margin ratio with every open position's symbol valued at
   * prices[symbol] (NaN → last known price), written into out[0]; remembers nothing (the last
   * marks are unchanged) and allocates nothing. The engine's intrabar marginRatioPeak on bars with
   * events; without it the engine uses `mark(prices, scratch)`.
   */
  marginRatioInto?(prices: Float64Array, out: Float64Array): void;
  books(): BooksSnapshot;
  /**
   * (optional) take the venue's tier tables in force at `asOfMs` (`venue.tiers(symbol, asOfMs)`) for
   * every symbol, open positions included; true when any table changed. The engine calls it at the
   * bars where a later dated table takes effect (`venue.tierChanges`). Books are unchanged; the
   * maintenance margins, liquidation prices and leverage checks from then on use the new tables.
   */
  useTiersAt?(asOfMs: number): boolean;
}

export interface AccountFactory {
  (params: AccountParams): Account;
}
