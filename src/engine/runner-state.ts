/**
 * The state of one account setup during a replay (DESIGN §4): its account, strategy instance and
 * context, pending orders, the pools it watches (derived at events), the intrabar path buffers and
 * the per-bar series. This layer is the strategy's host (order entry, leverage, transfers: every
 * bad request is a recorded rejection) and re-derives the pools after events; ./intrabar.ts walks
 * a bar's path; ./replay.ts holds the bar step itself.
 */
import type { Account, MarginPool, MarkSnapshot, ModeId, RejectReason, Rejection } from '../account/types.js';
import type { OpenOrder, OrderRequest, OrderType, Strategy } from '../strategy/types.js';
import { EngineContext, type ContextHost, type Cursor } from './context.js';
import { EventDetails } from './event-details.js';
import { allocSeries, newSnapshot, type Market, type SeriesPool } from './market.js';
import { diesWithPosition, ORDER_TYPES, TriggerBook, type PendingOrder } from './orders.js';
import { pathCells, type PathFunction } from './path.js';
import { shorten } from '../util/scratch-array.js';
import { EngineInvariantError, type SetupSeries, type SetupSpec, type StrategyCallback, type StrategyErrorPlace } from './types.js';
import { grown } from '../util/typed-array.js';
import { isThenable, shownValue, thrownText } from '../util/excerpt.js';
import { userFrameOf } from '../util/module-default.js';

/** NaN as a typed-array element (see positionQty) */
const NAN_CELL = new Float64Array([Number.NaN]);

/**
 * Strategy callbacks are synchronous: what one returns is checked here (a plain call, no wrapper
 * around the strategy); a promise is an error of that callback (its rejection is absorbed).
 */
export function checkSync(returned: unknown, name: string): void {
  if (returned === undefined || !isThenable(returned)) return;
  returned.then(undefined, () => undefined);
  throw new PromiseReturned(`${name} returned a Promise: strategy callbacks are synchronous (remove async/await; the engine does not wait for promises)`);
}

/**
 * checkSync's error. It is raised by marginlab after the callback returned, so no line of the
 * strategy is on its stack: its errorAt.location is null (the first frame outside marginlab was
 * the code that called replay(), e.g. test/engine-fixtures.ts:107:10, named as the strategy's line).
 */
class PromiseReturned extends Error {
  readonly #brand = true;
  /** whether `e` is one, without running code of `e` (see StrategyFailure.is) */
  static is(e: unknown): e is PromiseReturned {
    return (typeof e === 'object' || typeof e === 'function') && e !== null && #brand in e && e.#brand;
  }
}

/** an order flag (reduceOnly, closePosition) given as something else than true or false (null: left out) */
const notFlag = (v: unknown): boolean => v !== undefined && v !== null && typeof v !== 'boolean';

/** a RangeError of an exhausted call stack (V8's message) */
const isStackOverflow = (e: unknown): boolean => e instanceof RangeError && e.message === 'Maximum call stack size exceeded';

/**
 * how near (a fraction of it) a price of the bar must come to a single-symbol pool's liquidation price for the
 * threshold to be made exact (exactLevel): far beyond the closed form's float error (a few ulps), far below any
 * price step a market quotes
 */
export const LEVEL_NEAR = 1e-9;

/** bars of series rows buffered before they are copied into the columns */
export const ROW_BLOCK = 2048;

interface RowBuffer {
  rows: Float64Array;
  blocks: Float64Array[];
}
function newRowBuffer(): RowBuffer {
  const rows = new Float64Array(8 * ROW_BLOCK);
  return { rows, blocks: Array.from({ length: 8 }, (_, j) => rows.subarray(j * ROW_BLOCK, (j + 1) * ROW_BLOCK)) };
}
/**
 * Row buffers of finished setups, reused by the next replays in this thread: each is 128 KB, and a
 * worker replaying thousands of short paths (stress) would otherwise allocate and collect one per
 * setup and replay. A replay that throws leaves its buffers to the garbage collector.
 */
const ROW_BUFFERS: RowBuffer[] = [];
const ROW_BUFFERS_KEPT = 16;

/** Internal: a strategy callback threw; the setup stops. */
export class StrategyFailure extends Error {
  readonly #brand = true;
  constructor(readonly inner: unknown, readonly callback: StrategyCallback | 'create') {
    super(thrownText(inner));
  }
  /** whether `e` is one, without running code of `e` (see EngineInvariantError.is) */
  static is(e: unknown): e is StrategyFailure {
    return (typeof e === 'object' || typeof e === 'function') && e !== null && #brand in e && e.#brand;
  }
}

/** objects create() threw, as replay() let them leave (createThrown) */
const CREATE_THROWN = new WeakSet<object>();

/**
 * What replay() throws for what a strategy's create() threw: an object as it is (replay()'s caller
 * gets the strategy's own error), remembered so the run layer can tell it from marginlab's own
 * refusals (thrownByCreate); a value that cannot be remembered (a string, undefined) in a StrategyFailure.
 */
export function createThrown(e: unknown): unknown {
  if ((typeof e === 'object' || typeof e === 'function') && e !== null) {
    CREATE_THROWN.add(e);
    return e;
  }
  return new StrategyFailure(e, 'create');
}

/** What create() threw when `e` left replay() for it (createThrown), else null. Runs no code of `e`. */
export function thrownByCreate(e: unknown): { inner: unknown } | null {
  if (StrategyFailure.is(e) && e.callback === 'create') return { inner: e.inner };
  if ((typeof e === 'object' || typeof e === 'function') && e !== null && CREATE_THROWN.has(e)) return { inner: e };
  return null;
}

/** The strategy's line that threw (util/module-default.ts userFrameOf: `file:line:column`). */
export function strategyFrame(e: unknown, cwd = process.cwd()): string | null {
  return userFrameOf(e, cwd);
}

/** removes the dead orders of `list` in place, keeping the order of the rest */
export function dropDead(list: PendingOrder[]): void {
  let w = 0;
  for (let j = 0; j < list.length; j++) if (!list[j]!.dead) list[w++] = list[j]!;
  shorten(list, w);
}

/** One account setup's state and its host side (see the file header). */
export abstract class RunnerState implements ContextHost {
  readonly cursor: Cursor = { i: -1 };
  readonly snap: MarkSnapshot = newSnapshot();
  protected readonly peakSnap: MarkSnapshot = newSnapshot();
  /** the account's snapshot at a fill's point of the path (read by nothing: Account.mark is called for its marks, intrabar.ts) */
  protected readonly fillSnap: MarkSnapshot = newSnapshot();
  readonly ctx: EngineContext;
  readonly series: SetupSeries;
  readonly time: Float64Array;
  readonly timeframeMs: number;
  readonly setupId: string;
  /** whether orders choose their own margin mode (SetupSpec.perOrderMode) */
  readonly perOrderMode: boolean;
  readonly defaultMode: ModeId;

  /**
   * the pending orders in submission (= id) order, the order of record; an order that leaves is
   * marked dead and dropped from the list when the dead outnumber the live (retireOrder), so every
   * reader skips dead entries
   */
  protected orders: PendingOrder[] = [];
  protected deadOrders = 0;
  /**
   * per symbol, its pending orders that die when its position closes (diesWithPosition): a fill that closes a position
   * walks the pending orders only when it has some (a walk per closing fill made a bar in which n orders closed and
   * reopened a position cost n²: 64,000 orders, 39 s)
   */
  protected diesWithPos: Int32Array;
  /** the resting orders by trigger level (the event loop asks it which orders a bar's path reaches) */
  protected readonly book: TriggerBook;
  /** pending market orders in submission order (dead entries dropped after each bar's open) */
  protected marketQ: PendingOrder[] = [];
  /** marketable limit orders that have not yet arrived at their first candle */
  protected arrivals: PendingOrder[] = [];
  /** set while the open's market loop walks marketQ by index (intrabar.ts runPath) */
  protected openQueueBusy = false;
  /** rejections the account returned to this setup, by reason (SetupOutput.rejections; counted here so the output needs no pass over the ledger) */
  protected readonly rejectionCounts: Record<string, number> = {};
  protected nextOrderId = 1;
  /** pools or thresholds must be re-derived (set by every event) */
  protected dirty = true;
  /** an event happened since the last mark to market */
  protected changed = true;
  protected hasPositions = false;
  /** index into Market.tierBars of the next bar where a dated tier table takes effect */
  protected tierNext = 0;
  protected liquidatedThisBar = false;
  // single-symbol pools: the symbol, side and liquidation price (derived at events)
  protected nSingle = 0;
  protected sSym: Int32Array;
  protected sSide: Float64Array;
  protected sLp: Float64Array;
  /** 1 when sLp[k] is the exact threshold (exactLevel), 0 while it is the closed form's double */
  protected sExact: Uint8Array;
  protected sPool: MarginPool[] = [];
  /** exactLevel's prices (only the pool's own symbol is read) */
  private readonly lvlMarks: Float64Array;
  // multi-symbol (cross) pools
  protected multi: MarginPool[] = [];
  /** per symbol: position sign for the multi-leg cross pool (0 = not a leg) */
  protected legSign: Float64Array;
  /** per symbol: sign of the position (+1, −1, 0), refreshed at events (read per bar without calls) */
  protected posSign: Float64Array;
  /** per symbol: the next funding event of the bar to settle (step 1 merges the symbols' stamps in time order) */
  protected fundCur: Int32Array;
  /** markWithPeakInto's adverse-extreme ratio (a typed-array slot: a returned double would be boxed) */
  protected readonly peakOut = new Float64Array(1);
  /** [0]: the worst margin ratio met on the intrabar path of the current bar (bars that walk the path) */
  protected readonly pathPeak = new Float64Array(1);
  protected readonly ratioOut = new Float64Array(1);
  /** the path searches' in/out cells (path.ts PATH_TAU …): the event loop passes them no double */
  protected readonly io = pathCells();
  /**
   * the account evaluates ratios at given prices (Account.marginRatioInto): the peak of a bar with
   * events is tracked on its path; without it (an accountFactory's account) the bar's adverse
   * extremes are applied to the positions held at the close, as on bars without events
   */
  protected readonly pathPeaks: boolean;
  // intrabar paths, 4 points per symbol: trade prices and liquidation-source prices
  protected readonly tp: Float64Array;
  protected readonly lq: Float64Array;
  /** liquidation-source prices in the trade path's segment order (single-symbol pools; lq takes a multi-leg pool's legs adverse-first) */
  protected readonly lqSingle: Float64Array;
  /** the data index the paths were last built for (−1: never) */
  protected pathsBar = -1;
  /** scratch price vectors */
  protected readonly pbuf: Float64Array;
  /** series rows not yet copied into the columns (column-major: series j of row t at j·ROW_BLOCK + t); from ROW_BUFFERS, given back by releaseRows() */
  protected readonly rows: Float64Array;
  /** the 8 column blocks of `rows` as views, made once: a full block is copied without making a view per flush (the bar loop allocates nothing) */
  private readonly rowBlocks: Float64Array[];
  private rowsReleased = false;
  protected rowStart = 0;
  protected rowCount = 0;
  /** the series columns in row order: equity, marginBalance, maintenanceMargin, marginRatio, marginRatioPeak, initialMargin, capitalAtRisk, grossNotional */
  protected readonly columns: Float64Array[];
  protected readonly pbuf2: Float64Array;
  /** every symbol's liquidation-source price at a fill's point of the path (intrabar.ts execute) */
  protected readonly fillMarks: Float64Array;
  protected readonly adv: Float64Array;
  /** the multi-symbol pool the path functions below value (set before each use) */
  protected curPool: MarginPool | null = null;
  /** whether the current pool's excess is ≤ 0 at τ on the liquidation-source path (./intrabar.ts) */
  protected abstract breachedAt(pool: MarginPool, tau: number): boolean;
  /** whether the current pool's excess is ≤ 0 at a point of the path / at given prices (made once: no allocation per call) */
  protected readonly excessPath: PathFunction = { nonPositiveAt: (tau) => this.breachedAt(this.curPool!, tau) };
  protected readonly poolBreached = (prices: Float64Array): boolean => this.curPool!.breached(prices);
  /** bar currently processed and the event time */
  protected bar = -1;
  protected eventTime = 0;
  /** liquidation details and liquidation-price steps for the result records */
  protected details: EventDetails | null = null;
  dead = false;
  error: string | undefined;
  errorAt: StrategyErrorPlace | undefined;
  endBar = -1;

  constructor(
    readonly spec: SetupSpec,
    readonly acct: Account,
    readonly strat: Strategy,
    protected readonly m: Market,
    symbols: readonly string[],
    readonly fromIndex: number,
    time: Float64Array,
    pool?: SeriesPool,
  ) {
    const n = m.n;
    const rb = ROW_BUFFERS.pop() ?? newRowBuffer();
    this.rows = rb.rows;
    this.rowBlocks = rb.blocks;
    this.time = m.time;
    this.timeframeMs = m.tf;
    this.setupId = spec.id;
    this.perOrderMode = spec.perOrderMode ?? spec.id === 'mixed';
    this.defaultMode = spec.defaultMode;
    this.series = allocSeries(time, pool);
    const se = this.series;
    this.columns = [se.equity, se.marginBalance, se.maintenanceMargin, se.marginRatio, se.marginRatioPeak, se.initialMargin, se.capitalAtRisk, se.grossNotional];
    this.book = new TriggerBook(n);
    this.sSym = new Int32Array(n + 1);
    this.sSide = new Float64Array(n + 1);
    this.sLp = new Float64Array(n + 1);
    this.sExact = new Uint8Array(n + 1);
    this.lvlMarks = new Float64Array(n);
    this.legSign = new Float64Array(n);
    this.posSign = new Float64Array(n);
    this.fundCur = new Int32Array(n);
    this.qtyCells = new Float64Array(n + 1);
    this.diesWithPos = new Int32Array(n);
    this.syncPositions();
    this.tp = new Float64Array(4 * n);
    this.lq = new Float64Array(4 * n);
    this.lqSingle = new Float64Array(4 * n);
    this.pbuf = new Float64Array(n);
    this.pbuf2 = new Float64Array(n);
    this.fillMarks = new Float64Array(n);
    this.adv = new Float64Array(n);
    this.pathPeaks = acct.marginRatioInto !== undefined;
    this.cursor.i = fromIndex - 1;
    this.ctx = new EngineContext(this, symbols, m.cols, m.markClose);
  }

  // ---- ContextHost -------------------------------------------------------------------------

  // (after retire() the position, its entry, mode and leverage are not shown either: the replay's
  // final position would tell a later run of the worker how this one ended)
  // NaN as a typed-array element, never a literal: a literal NaN in one branch and a double from
  // the account in the other made V8 box the result (a 16-byte allocation per call — one per bar
  // for a strategy that reads its position every bar, a quarter of sma-cross's pass)
  positionQty(s: number): number {
    const n = this.m.n;
    return this.qtyCells[s === (s | 0) && s >= 0 && s < n ? s : n]!;
  }
  entryPrice(s: number): number {
    return this.over ? NAN_CELL[0]! : this.acct.entryPrice(s);
  }
  positionMode(s: number): ModeId | null {
    return this.over ? null : this.acct.positionMode(s);
  }
  leverage(s: number): number {
    return this.over ? NAN_CELL[0]! : this.acct.leverage(s);
  }

  /**
   * Every symbol's position quantity as the strategy sees it (ctx.position(s).qty reads it without
   * a call into the account: a double returned by a call V8 does not inline is a heap allocation,
   * one per bar when a strategy reads its position every bar). Entry n (past the symbols) is the
   * answer for an index that is not a symbol: 0, as the account's. Copied from the account after
   * every call that can change a position (syncPositions: a fill, a liquidation); NaN once retired.
   */
  readonly qtyCells: Float64Array;

  /** copies the account's position quantities into qtyCells (after a trade or a liquidation, before any callback) */
  protected syncPositions(): void {
    const cells = this.qtyCells;
    const acct = this.acct;
    for (let s = 0; s < this.m.n; s++) cells[s] = acct.positionQty(s);
  }
  /** marks at the close of the bar the strategy sees (inside a bar: the previous close); none once retired */
  protected visibleMarks(): Float64Array {
    if (this.retiredMarks !== null) return this.retiredMarks;
    return this.cursor.i === this.bar ? this.m.closeMarks : this.m.lastMarks;
  }
  /** NaN marks, set by retire() */
  private retiredMarks: Float64Array | null = null;

  /**
   * The replay is over (its output taken): the context shows no bar, price or valuation of it any
   * more. A strategy that kept its context in a module variable and read it during a later run in
   * the same worker (another timeframe of the dataset, another path) read this replay's history up
   * to its last bar, and its last marks and account values — later bars than that run's.
   */
  retire(): void {
    this.retiredMarks = new Float64Array(this.m.n).fill(Number.NaN);
    this.qtyCells.fill(Number.NaN);
    this.cursor.i = -1;
    const snap = this.snap;
    snap.equity = snap.marginBalance = snap.maintenanceMargin = snap.marginRatio = NaN;
    snap.initialMargin = snap.capitalAtRisk = snap.grossNotional = snap.available = NaN;
  }
  markOf(s: number): number {
    return this.visibleMarks()[s]!;
  }
  liquidationPrice(s: number): number {
    if (this.over) return NaN;
    const pools = this.acct.pools();
    for (let j = 0; j < pools.length; j++) {
      const p = pools[j]!;
      if (p.symbols.includes(s)) return p.liquidationPrice(s, this.visibleMarks());
    }
    return NaN;
  }

  protected validSymbol(s: number): boolean {
    return Number.isInteger(s) && s >= 0 && s < this.m.n;
  }

  protected reject(s: number, reason: RejectReason, message: string): Rejection {
    this.changed = true;
    return this.tally(this.acct.recordRejection(s, reason, message, this.eventTime));
  }

  /** counts a rejection the account returned (every account call that can refuse passes its result through here) */
  protected tally<R extends { ok: boolean }>(r: R): R {
    if (!r.ok) {
      const reason = (r as unknown as Rejection).reason;
      this.rejectionCounts[reason] = (this.rejectionCounts[reason] ?? 0) + 1;
    }
    return r;
  }

  /**
   * whether the replay is over (retire()): a context kept past it acts on nothing — no order is
   * placed (-1), cancelled (false, 0), no leverage set or margin moved (false), and nothing is
   * recorded — since the finished account's answers (an order id for a closePosition, a count of
   * orders left, leverageLocked) would tell a later run how this one ended, and its events are
   * the returned output's
   */
  protected get over(): boolean {
    return this.retiredMarks !== null;
  }

  submit(req: OrderRequest, strayKey?: string): number {
    if (this.over) return -1;
    // ctx.order(null) from a JavaScript strategy: a rejection like any other bad order (it was a TypeError inside the engine)
    if (typeof req !== 'object' || req === null) {
      this.reject(Number.NaN, 'symbolUnavailable', `order: expected an order object ({ symbol, qty, type?, price?, ... }), got ${shownValue(req)}`);
      return -1;
    }
    // every field of the request is read once, here: `req` is the strategy's object (ctx.order), and a
    // getter may answer differently on each read — a mode that was 'cross' when checked and 'bogus'
    // when stored reached the account, an internal engine error (exit 70)
    const s = req.symbol;
    const reqType = req.type;
    const reqMode = req.mode;
    const reqClose = req.closePosition;
    const reqQty = req.qty;
    const reqPrice = req.price;
    const reqReduce = req.reduceOnly;
    const tag = req.tag;
    // an order on a symbol the run does not have is a rejection (counted, recorded), like any other bad order
    if (!this.validSymbol(s)) {
      this.reject(s, 'symbolUnavailable', `order: symbol index ${shownValue(s)} is not one of the run's symbols (0..${this.m.n - 1})`);
      return -1;
    }
    const type = (reqType ?? 'market') as OrderType;
    if (!ORDER_TYPES.has(type)) {
      this.reject(s, 'invalidOrderType', `order on ${this.ctx.symbols[s]}: unknown order type ${shownValue(reqType)} (market, limit, stop, takeProfit)`);
      return -1;
    }
    if (reqMode !== undefined && reqMode !== 'isolated' && reqMode !== 'cross') {
      this.reject(s, 'invalidMode', `${type} order on ${this.ctx.symbols[s]}: unknown margin mode ${shownValue(reqMode)} (isolated, cross)`);
      return -1;
    }
    // reduceOnly and closePosition are true or false (left out or null: false): a truthy non-boolean
    // (reduceOnly: 1, closePosition: 'yes') counted as false, so a JavaScript strategy's protective order
    // opened or flipped a position, or bought its qty instead of closing
    const badFlag = notFlag(reqReduce) ? 'reduceOnly' : notFlag(reqClose) ? 'closePosition' : null;
    if (badFlag !== null) {
      this.reject(s, 'invalidOption', `${type} order on ${this.ctx.symbols[s]}: ${badFlag} must be true or false, got ${shownValue(badFlag === 'reduceOnly' ? reqReduce : reqClose)}`);
      return -1;
    }
    if (strayKey !== undefined) {
      const what =
        strayKey === 'type' || strayKey === 'closePosition'
          ? `targetPosition places a market order; it takes no '${strayKey}'`
          : strayKey === 'symbol' || strayKey === 'qty' || strayKey === 'id'
            ? `closePosition and targetPosition take no '${strayKey}' among their options (closePosition closes the whole position, targetPosition orders the difference to its target)`
            : `no order has the key '${strayKey}'`;
      this.reject(s, 'invalidOption', `${type} order on ${this.ctx.symbols[s]}: ${what} (options: type, price, reduceOnly, closePosition, mode, tag; the side is the sign of qty)`);
      return -1;
    }
    // the tag is echoed in onFill and kept on the fill's record as a string (a number tag wrote a result its own loader refused)
    if (tag !== undefined && tag !== null && typeof tag !== 'string') {
      this.reject(s, 'invalidOption', `${type} order on ${this.ctx.symbols[s]}: tag must be a string, got ${shownValue(tag)}`);
      return -1;
    }
    const reduceOnly = reqReduce === true;
    const closePosition = reqClose === true;
    let qty = reqQty;
    if (closePosition) {
      // one rule: a closePosition order ignores qty; its side is fixed now, against the open position
      const pos = this.acct.positionQty(s);
      if (pos === 0) {
        this.reject(s, 'noPosition', `closePosition ${type} order on ${this.ctx.symbols[s]}: no open position`);
        return -1;
      }
      qty = -pos;
    } else if (!(Number.isFinite(qty) && qty !== 0)) {
      this.reject(s, 'invalidQuantity', `${type} order on ${this.ctx.symbols[s]}: quantity must be a finite non-zero number, got ${shownValue(qty)}`);
      return -1;
    } else {
      // the venue's quantity grid: round down (toward zero) to the step, at least the minimum quantity
      const asked = qty;
      qty = this.m.grids[s]!.floor(qty);
      if (qty === 0) {
        this.reject(s, 'invalidQuantity', `${type} order on ${this.ctx.symbols[s]}: quantity ${asked} rounds down to 0 at the quantity step ${this.m.lots[s]!.step}`);
        return -1;
      }
      const minQty = this.m.lots[s]!.minQty;
      if (!reduceOnly && Math.abs(qty) < minQty * (1 - 1e-9)) {
        this.reject(s, 'invalidQuantity', `${type} order on ${this.ctx.symbols[s]}: quantity ${qty} is below the minimum quantity ${minQty}`);
        return -1;
      }
    }
    // a price on a market order (a `type: 'limit'` left out: order({ symbol, qty, price }), buy(s, q, { price })) was
    // dropped and the order filled at the open, whatever the price said; left out, null or NaN (an open market order's
    // own price: { ...o }) is none
    if (type === 'market' && reqPrice !== undefined && reqPrice !== null && !Number.isNaN(reqPrice)) {
      this.reject(s, 'invalidOption', `market order on ${this.ctx.symbols[s]}: a market order takes no price, got ${shownValue(reqPrice)} (give type 'limit', 'stop' or 'takeProfit' to order at a price)`);
      return -1;
    }
    let price = NaN;
    if (type !== 'market') {
      price = reqPrice ?? NaN;
      if (!(Number.isFinite(price) && price > 0)) {
        this.reject(s, 'invalidPrice', `${type} order on ${this.ctx.symbols[s]}: price must be a positive number, got ${shownValue(reqPrice)}`);
        return -1;
      }
    }
    let marketable = false;
    if (type === 'limit') {
      // against the latest close the strategy sees; with none (onStart before the first bar, or no
      // candle of the symbol there) the order is judged when it arrives: at or better than the open
      // it takes the open, else it rests
      const c = this.cursor.i >= 0 ? this.m.cols[s]!.close[this.cursor.i]! : NaN;
      marketable = c === c ? (qty > 0 ? price >= c : price <= c) : true;
    }
    const id = this.nextOrderId++;
    const order: PendingOrder = {
      id,
      symbol: s,
      qty,
      type,
      price,
      reduceOnly,
      closePosition,
      mode: reqMode,
      tag: tag ?? undefined,
      activeFrom: this.cursor.i + 1 > this.bar ? this.cursor.i + 1 : this.bar + 1,
      marketable,
      dead: false,
    };
    this.orders.push(order);
    if (diesWithPosition(order)) this.diesWithPos[s]!++;
    if (type === 'market') this.marketQ.push(order);
    else this.book.add(order);
    if (marketable) this.arrivals.push(order);
    return id;
  }

  /** an order leaves the pending orders (filled, cancelled, died with its position or pool) */
  protected retireOrder(o: PendingOrder): void {
    if (o.dead) return;
    o.dead = true;
    if (diesWithPosition(o)) this.diesWithPos[o.symbol]!--;
    this.book.removed(o);
    if (++this.deadOrders * 2 > this.orders.length) {
      dropDead(this.orders);
      this.deadOrders = 0;
      // the queues too (a market order placed and cancelled every bar, on bars that never walk the
      // path, piled up in them), except while the open's market loop walks the market queue by index
      if (!this.openQueueBusy) dropDead(this.marketQ);
      dropDead(this.arrivals);
    }
  }

  /** retires every pending order `drop` selects (of `list`: the pending orders, or a queue of them); returns how many */
  protected dropOrders(drop: (o: PendingOrder) => boolean, list: PendingOrder[] = this.orders): number {
    let n = 0;
    // retireOrder may compact the list in place: collect first
    const gone: PendingOrder[] = [];
    for (let j = 0; j < list.length; j++) {
      const o = list[j]!;
      if (!o.dead && drop(o)) gone.push(o);
    }
    for (const o of gone) {
      this.retireOrder(o);
      n++;
    }
    return n;
  }

  cancel(id: number): boolean {
    // an id is a positive integer: anything else names no order. (NaN compares neither below nor above an id, and the
    // search below took it for a match: cancel(NaN) cancelled the middle pending order)
    if (this.over || !Number.isInteger(id)) return false;
    // the pending orders are in submission order, ids ascending (dropDead keeps the order, a carried rest keeps its
    // place): a binary search. (A scan per cancel made cancelling n orders one by one cost n²: 16,000 took 3 s)
    const list = this.orders;
    let lo = 0;
    let hi = list.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const o = list[mid]!;
      if (o.id < id) lo = mid + 1;
      else if (o.id > id) hi = mid - 1;
      else {
        if (o.dead) return false;
        this.retireOrder(o);
        return true;
      }
    }
    return false;
  }
  cancelAll(s: number): number {
    if (this.over) return 0;
    return this.dropOrders((o) => s < 0 || o.symbol === s);
  }
  cancelMarket(s: number): void {
    // the market queue holds every pending market order (and dead ones): the resting orders are not walked (each
    // targetPosition cost a scan of every resting order of the setup); the dead are dropped here too, else the
    // orders each call cancelled piled up in the queue for the next calls to walk (unless the open's loop walks it)
    if (this.marketQ.length === 0 || this.over) return;
    this.dropOrders((o) => o.symbol === s && o.type === 'market', this.marketQ);
    if (!this.openQueueBusy) dropDead(this.marketQ);
  }
  openOrders(s: number): OpenOrder[] {
    if (this.over) return [];
    return this.orders
      .filter((o) => !o.dead && (s < 0 || o.symbol === s))
      .map((o) => ({
        id: o.id,
        symbol: o.symbol,
        qty: o.qty,
        type: o.type,
        price: o.price,
        reduceOnly: o.reduceOnly,
        closePosition: o.closePosition,
        mode: o.mode,
        tag: o.tag,
      }));
  }
  floorQty(s: number, q: number): number {
    // a bad index gives NaN: the order targetPosition places is then rejected by submit()
    return this.validSymbol(s) ? this.m.grids[s]!.floor(q) : NaN;
  }
  setLeverage(s: number, lev: number): boolean {
    if (this.over) return false;
    // the account rejects a bad symbol index (symbolUnavailable), as it does a bad leverage
    const r = this.tally(this.host(() => this.acct.setLeverage(s, lev, this.eventTime)));
    this.dirty = true;
    this.changed = true;
    return r.ok;
  }
  transferMargin(s: number, amount: number): boolean {
    if (this.over) return false;
    const r = this.tally(this.host(() => this.acct.transferMargin(s, amount, this.eventTime)));
    this.dirty = true;
    this.changed = true;
    return r.ok;
  }

  /**
   * what an account call made for the strategy threw (host()): the setup ends with it when the callback
   * returns, whatever the callback did with the error — the account may be half-way through the change
   * (a strategy that caught the error went on, and its run ended ok)
   */
  protected hostFailure: unknown = null;

  /**
   * An account call made for the strategy: what it throws is an engine failure, never the strategy's —
   * except a stack overflow, which the strategy's recursion caused (setLeverage called at the bottom of
   * a deep recursion overflowed inside the account and was reported as an internal engine error).
   */
  protected host<T>(fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      const err = isStackOverflow(e) || EngineInvariantError.is(e) ? e : new EngineInvariantError(`setup ${this.setupId}: ${thrownText(e, true)}`, { cause: e });
      if (this.hostFailure === null) this.hostFailure = err;
      throw err;
    }
  }

  /**
   * What a callback's run comes to: a failed host call first (see hostFailure), then what the callback
   * threw (`threw`: whether it did). Throws an EngineInvariantError (it leaves replay()) or returns the
   * strategy's error for the setup to end with, or null.
   */
  protected callbackOutcome(threw: boolean, thrown: unknown): unknown {
    const f = this.hostFailure;
    const e = f !== null ? f : threw ? thrown : null;
    if (e !== null && EngineInvariantError.is(e)) throw e;
    return f !== null || threw ? e : null;
  }

  // ---- callbacks -----------------------------------------------------------------------------

  protected call(callback: StrategyCallback, fn: () => void): void {
    let threw = false;
    let thrown: unknown;
    try {
      fn();
    } catch (e) {
      threw = true;
      thrown = e;
    }
    // an engine failure raised by a host call inside the callback is not the strategy's
    if (threw || this.hostFailure !== null) throw new StrategyFailure(this.callbackOutcome(threw, thrown), callback);
  }

  start(): void {
    this.cursor.i = this.fromIndex - 1;
    this.eventTime = this.fromIndex < this.m.timeLength ? this.time[this.fromIndex]! : 0;
    this.bar = this.fromIndex - 1;
    const st = this.strat;
    if (st.onStart) {
      // the account view before the first bar: the deposit, valued at the marks before the replayed range (the
      // snapshot is marked at each bar's close; unmarked, onStart read equity 0 and available 0)
      this.acct.mark(this.m.closeMarks, this.snap);
      let threw = false;
      let thrown: unknown;
      try {
        checkSync(st.onStart(this.ctx), 'onStart');
      } catch (e) {
        threw = true;
        thrown = e;
      }
      if (threw || this.hostFailure !== null) this.fail(this.callbackOutcome(threw, thrown), 0, 'onStart');
    }
  }

  /** copy the buffered rows into the series columns */
  flushRows(): void {
    const n = this.rowCount;
    if (n === 0) return;
    const rows = this.rows;
    const base = this.rowStart;
    const cols = this.columns;
    // a full block (every ROW_BLOCK bars) from the views made once; the last, partial one through new views
    if (n === ROW_BLOCK) for (let j = 0; j < 8; j++) cols[j]!.set(this.rowBlocks[j]!, base);
    else for (let j = 0; j < 8; j++) cols[j]!.set(rows.subarray(j * ROW_BLOCK, j * ROW_BLOCK + n), base);
    this.rowCount = 0;
  }

  /** flush the last rows and give the row buffer back for the next replay (once; the setup steps no more) */
  releaseRows(): void {
    this.flushRows();
    if (this.rowsReleased) return;
    this.rowsReleased = true;
    if (ROW_BUFFERS.length < ROW_BUFFERS_KEPT) ROW_BUFFERS.push({ rows: this.rows, blocks: this.rowBlocks });
  }

  fail(e: unknown, seriesLen: number, callback: StrategyCallback = StrategyFailure.is(e) && e.callback !== 'create' ? e.callback : 'onBar'): void {
    this.flushRows();
    const inner = StrategyFailure.is(e) ? e.inner : e;
    this.dead = true;
    const text = thrownText(inner, true);
    this.error = text === '' ? 'the strategy threw an empty value' : text;
    this.errorAt = {
      callback,
      time: this.eventTime,
      ...(callback === 'onBar' && this.bar >= 0 && this.bar < this.m.timeLength ? { barOpen: this.time[this.bar]! } : {}),
      location: PromiseReturned.is(inner) ? null : strategyFrame(inner),
    };
    this.endBar = seriesLen;
  }

  // ---- pools ---------------------------------------------------------------------------------

  /** a later dated tier table takes effect (at time t): the account takes it; thresholds are derived again */
  protected switchTiers(t: number): void {
    this.tierNext++;
    this.eventTime = t;
    if (this.acct.useTiersAt !== undefined && this.acct.useTiersAt(t)) {
      this.dirty = true;
      this.changed = true;
    }
  }

  protected refresh(): void {
    const acct = this.acct;
    const pools = acct.pools();
    this.nSingle = 0;
    if (this.multi.length) this.multi = [];
    this.legSign.fill(0);
    // the positions as syncPositions copied them after the last fill or liquidation
    const cells = this.qtyCells;
    for (let s = 0; s < this.m.n; s++) {
      const q = cells[s]!;
      this.posSign[s] = q > 0 ? 1 : q < 0 ? -1 : 0;
    }
    let any = false;
    for (let j = 0; j < pools.length; j++) {
      const p = pools[j]!;
      const syms = p.symbols;
      if (syms.length === 1) {
        const s = syms[0]!;
        const sign = this.posSign[s]!;
        if (sign === 0) continue;
        any = true;
        const k = this.nSingle++;
        if (k >= this.sSym.length) this.growSingles();
        this.sSym[k] = s;
        this.sSide[k] = sign;
        this.sLp[k] = p.liquidationPrice(s, this.m.closeMarks);
        this.sExact[k] = 0;
        this.sPool[k] = p;
      } else if (syms.length > 1) {
        any = true;
        this.multi.push(p);
        for (let t = 0; t < syms.length; t++) this.legSign[syms[t]!] = this.posSign[syms[t]!]!;
      }
    }
    this.hasPositions = any;
    this.dirty = false;
    (this.details ??= new EventDetails(this.m.n)).refreshed(this.eventTime, this.sSym, this.sLp, this.nSingle, this.multi, this.m.closeMarks);
    if (this.bar >= 0) this.nearLevels(this.bar);
  }

  /**
   * A single-symbol pool's liquidation price is the closed form's double, within a few ulps of the exact
   * threshold: a price of the bar on the liquidation source (open, high, low, close) within LEVEL_NEAR of it makes
   * the threshold exact (exactLevel) before the bar compares prices with it
   */
  protected nearLevels(i: number): void {
    const m = this.m;
    for (let k = 0; k < this.nSingle; k++) {
      if (this.sExact[k] === 1) continue;
      const lp = this.sLp[k]!;
      if (!(lp > 0 && lp < Infinity)) continue;
      const s = this.sSym[k]!;
      const c = m.cols[s]!;
      const band = LEVEL_NEAR * lp;
      const mk = m.liqMark[s] === 1;
      for (let corner = 0; corner < 4; corner++) {
        const src = corner === 0 ? (mk ? c.markOpen : c.open) : corner === 1 ? m.lqHigh[s]! : corner === 2 ? m.lqLow[s]! : mk ? c.markClose : c.close;
        let v = src[i]!;
        if (v !== v) v = corner === 0 ? c.open[i]! : corner === 1 ? c.high[i]! : corner === 2 ? c.low[i]! : c.close[i]!;
        if (v - lp <= band && lp - v <= band) {
          this.exactLevel(k);
          break;
        }
      }
    }
  }

  /**
   * sLp[k] made the exact threshold of its pool as a double: for a long the largest price at which the pool is
   * breached (excess ≤ 0 on the exact books: MarginPool.breached decides there), for a short the smallest, so
   * that a price compared with it (≤ for a long, ≥ for a short) is liquidated exactly when its excess is ≤ 0. The
   * excess is monotone in the price (uPnL moves by Q per unit, maintenance by Q × MMR < Q), so the boundary is
   * bracketed from the closed form's double by doubling steps and bisected. Once per pool state (sExact).
   */
  protected exactLevel(k: number): void {
    this.sExact[k] = 1;
    const lp = this.sLp[k]!;
    const s = this.sSym[k]!;
    const pool = this.sPool[k]!;
    const marks = this.lvlMarks;
    marks.fill(Number.NaN);
    // dir: the direction in which the pool is breached (long: lower prices)
    const dir = this.sSide[k]! > 0 ? -1 : 1;
    const inside = (x: number): boolean => {
      marks[s] = x;
      return pool.breached(marks);
    };
    // a: breached, b: not breached, a step apart on the breached side of b
    let a = lp;
    let b = lp;
    let d = lp * Number.EPSILON;
    if (inside(lp)) {
      for (let it = 0; ; it++) {
        if (it > 60) return;
        b = lp - dir * d;
        if (!(b > 0 && b < Infinity)) return;
        if (!inside(b)) break;
        a = b;
        d *= 2;
      }
    } else {
      for (let it = 0; ; it++) {
        if (it > 60) return;
        a = lp + dir * d;
        if (!(a > 0 && a < Infinity)) return;
        if (inside(a)) break;
        b = a;
        d *= 2;
      }
    }
    for (;;) {
      const mid = a + (b - a) / 2;
      if (mid === a || mid === b) break;
      if (inside(mid)) a = mid;
      else b = mid;
    }
    this.sLp[k] = a;
  }

  protected growSingles(): void {
    const n = this.sSym.length * 2;
    this.sSym = grown(this.sSym, n);
    this.sSide = grown(this.sSide, n);
    this.sLp = grown(this.sLp, n);
    this.sExact = grown(this.sExact, n);
  }
}
