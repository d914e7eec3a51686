/**
 * The strategy context: history views that end at the current bar, position and account views,
 * order methods. One context per setup, created once and reused every bar (no allocation in
 * the bar loop: every view reads the live cursor and the account's float mirrors).
 */
import type { MarkSnapshot, ModeId } from '../account/types.js';
import type { SymbolColumns } from '../feed/types.js';
import { indicators } from '../strategy/indicators.js';
import { shownValue } from '../util/excerpt.js';
import { freezeClass } from '../util/freeze.js';
import {
  LookAheadError,
  type AccountView,
  type FundingHistory,
  type IndicatorFactory,
  type OpenOrder,
  type OrderOptions,
  type OrderType,
  type OrderRequest,
  type PositionView,
  type Series,
  type StrategyContext,
  type SymbolView,
} from '../strategy/types.js';

/** The bar a setup's strategy may see: data index of the last completed bar. */
export interface Cursor {
  i: number;
}

// the error paths live out of line so the views stay small enough to be inlined into the
// strategy's onBar (a non-inlined call returning a double allocates a heap number per bar)
function agoError(label: string, k: number): never {
  throw new LookAheadError(`look-ahead: ${label}.ago(${k}) reads a bar after the current one`);
}
function atError(label: string, i: number, last: number): never {
  throw new LookAheadError(`look-ahead: ${label}.at(${i}) reads a bar after the current one (last visible index ${last})`);
}

/**
 * The length of a typed array through the intrinsic getter captured when this module loads. The
 * views must not ask the array itself (`arr.length` is a getter on %TypedArray%.prototype): a
 * strategy that redefines that getter, calls a view and puts the getter back would be handed the
 * shared column, future bars included, and the built-ins would look untouched after the pass.
 */
const typedLength: (a: ArrayBufferView) => number = Function.prototype.call.bind(
  Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Float64Array.prototype) as object, 'length')!.get!,
) as (a: ArrayBufferView) => number;

/**
 * toIndex: every view converts the index it is given to a number once (`+k`) and uses that
 * number for both the look-ahead check and the read. Used as given, an object index is converted
 * twice, and each conversion may answer differently: `ago({ valueOf })` passed the check with
 * valueOf's 0 and read with its −5, and `at({ valueOf: () => 0, toString: () => '150' })` was
 * checked as 0 and read as element '150' (the typed-array read converts with toString) — both
 * returned a later bar. (`+` of a BigInt or a Symbol throws a TypeError: the strategy's error.)
 *
 * NaN read from a typed array: returning the literal NaN in one branch and an element in another
 * makes the optimiser box the element into a heap number (a per-bar allocation); two typed-array
 * loads keep the value unboxed.
 */
const NAN_CELL = new Float64Array([Number.NaN]);
/*
 * The views read arr[j], or NaN outside 0..n−1 (n = the array's length, held by the view: see typedLength) and for a
 * j that is not a whole number (ago(0.5) read arr[4.5]: undefined, not a number), written out in each view rather than
 * called as a helper: V8 inlines a view into a strategy's onBar, but a helper one call further was past sma-cross's
 * inlining budget, and the double it returned was boxed (a heap number per bar, 34 MB a replay of 2 × 1 M bars).
 */

/**
 * The first enumerable key of a strategy's order request or options that is none of an order's (OrderRequest's, or
 * OpenOrder's: `{ ...o, price }` re-places an open order, and a shared options object may carry `symbol`/`qty`, which
 * buy/sell take from their arguments), else undefined: `side`, `reduce_only`, `typ`. `symbolQty` false (the options of
 * closePosition, which closes the whole position, and targetPosition, whose quantity is the target): those keys too.
 * A switch, no Set or Array method: a strategy of an earlier setup of this pass may have replaced one.
 */
function strayKey(o: object, symbolQty: boolean): string | undefined {
  for (const k in o) {
    switch (k) {
      case 'type':
      case 'price':
      case 'reduceOnly':
      case 'closePosition':
      case 'mode':
      case 'tag':
        continue;
      case 'symbol':
      case 'qty':
      case 'id':
        if (symbolQty) continue;
    }
    return k;
  }
  return undefined;
}

function symbolError(what: string, s: unknown, n: number): never {
  throw new RangeError(`${what}(${shownValue(s)}): symbol index out of range 0..${n - 1}`);
}

/** price/volume history (one class per array type, so element loads stay monomorphic) */
class SeriesView implements Series {
  // ECMAScript private fields: no property of a view reaches the array past the cursor or the cursor itself
  readonly #arr: Float64Array;
  readonly #n: number;
  readonly #cur: Cursor;
  readonly #label: string;
  constructor(arr: Float64Array, cur: Cursor, label: string) {
    this.#arr = arr;
    this.#n = typedLength(arr);
    this.#cur = cur;
    this.#label = label;
  }
  get length(): number {
    return this.#cur.i + 1;
  }
  ago(k = 0): number {
    const d = +k; // one conversion: see toIndex
    if (d < 0) agoError(this.#label, d);
    const j = this.#cur.i - d;
    return j >= 0 && j < this.#n && j === Math.floor(j) ? this.#arr[j]! : NAN_CELL[0]!; // cell(), written out
  }
  at(i: number): number {
    const j = +i; // one conversion: see toIndex
    if (j > this.#cur.i) atError(this.#label, j, this.#cur.i);
    return j >= 0 && j < this.#n && j === Math.floor(j) ? this.#arr[j]! : NAN_CELL[0]!; // cell(), written out
  }
}

class PresenceView implements Series {
  // ECMAScript private fields: no property of a view reaches the array past the cursor or the cursor itself
  readonly #arr: Uint8Array;
  readonly #n: number;
  readonly #cur: Cursor;
  readonly #label: string;
  constructor(arr: Uint8Array, cur: Cursor, label: string) {
    this.#arr = arr;
    this.#n = typedLength(arr);
    this.#cur = cur;
    this.#label = label;
  }
  get length(): number {
    return this.#cur.i + 1;
  }
  ago(k = 0): number {
    const d = +k; // one conversion: see toIndex
    if (d < 0) agoError(this.#label, d);
    const j = this.#cur.i - d;
    return j >= 0 && j < this.#n && j === Math.floor(j) ? this.#arr[j]! : NAN_CELL[0]!; // cell(), written out
  }
  at(i: number): number {
    const j = +i; // one conversion: see toIndex
    if (j > this.#cur.i) atError(this.#label, j, this.#cur.i);
    return j >= 0 && j < this.#n && j === Math.floor(j) ? this.#arr[j]! : NAN_CELL[0]!; // cell(), written out
  }
}

class FundingView implements FundingHistory {
  readonly #col: SymbolColumns;
  readonly #cur: Cursor;
  constructor(col: SymbolColumns, cur: Cursor) {
    this.#col = col;
    this.#cur = cur;
  }
  // the events of the replayed data only: a dataset cut with sliceMarketData shares the whole event arrays, its
  // first bar's events starting at fundingStart[0] (count read every event since the dataset began)
  get count(): number {
    return this.#cur.i < 0 ? 0 : this.#col.fundingStart[this.#cur.i + 1]! - this.#col.fundingStart[0]!;
  }
  #idx(k: number): number {
    const d = +k; // one conversion: see toIndex
    if (d < 0) throw new LookAheadError(`look-ahead: funding(${d}) reads an event after the current bar`);
    const j = this.count - 1 - d;
    return j >= 0 ? this.#col.fundingStart[0]! + j : -1;
  }
  rate(k = 0): number {
    const j = this.#idx(k);
    return j >= 0 && j === Math.floor(j) ? this.#col.fundingRate[j]! : NaN;
  }
  time(k = 0): number {
    const j = this.#idx(k);
    return j >= 0 && j === Math.floor(j) ? this.#col.fundingTime[j]! : NaN;
  }
  price(k = 0): number {
    const j = this.#idx(k);
    return j >= 0 && j === Math.floor(j) ? this.#col.fundingPrice[j]! : NaN;
  }
}

class SymbolViewImpl implements SymbolView {
  readonly open: Series;
  readonly high: Series;
  readonly low: Series;
  readonly close: Series;
  readonly volume: Series;
  readonly mark: Series;
  readonly present: Series;
  readonly funding: FundingHistory;
  readonly liquidationSource: 'mark' | 'trade';
  constructor(
    readonly index: number,
    readonly symbol: string,
    col: SymbolColumns,
    markClose: Float64Array,
    cur: Cursor,
  ) {
    this.open = new SeriesView(col.open, cur, `${symbol}.open`);
    this.high = new SeriesView(col.high, cur, `${symbol}.high`);
    this.low = new SeriesView(col.low, cur, `${symbol}.low`);
    this.close = new SeriesView(col.close, cur, `${symbol}.close`);
    this.volume = new SeriesView(col.volume, cur, `${symbol}.volume`);
    this.mark = new SeriesView(markClose, cur, `${symbol}.mark`);
    this.present = new PresenceView(col.present, cur, `${symbol}.present`);
    this.funding = new FundingView(col, cur);
    this.liquidationSource = col.markAtBarTimeframe ? 'mark' : 'trade';
  }
}

/** What the context needs from the setup runner. */
export interface ContextHost {
  readonly cursor: Cursor;
  readonly snap: MarkSnapshot;
  /** mark of symbol s at the visible bar's close */
  markOf(s: number): number;
  readonly time: Float64Array;
  readonly setupId: string;
  readonly defaultMode: ModeId;
  readonly timeframeMs: number;
  readonly fromIndex: number;
  positionQty(s: number): number;
  /** positionQty of every symbol, read by the position views (entry n: 0 for an index that is no symbol) */
  readonly qtyCells: Float64Array;
  /** q rounded toward zero to the symbol's quantity step */
  floorQty(s: number, q: number): number;
  entryPrice(s: number): number;
  positionMode(s: number): ModeId | null;
  leverage(s: number): number;
  liquidationPrice(s: number): number;
  /**
   * places an order; reads `req` during the call only (the context reuses one request object for plain market orders).
   * `strayKey`: a key of the strategy's request or options that no order has (`side`, `reduce_only`), or an option
   * the method called ignores (targetPosition's `type`): the order is rejected `invalidOption` naming it
   */
  submit(req: OrderRequest, strayKey?: string): number;
  cancel(id: number): boolean;
  cancelAll(s: number): number;
  cancelMarket(s: number): void;
  openOrders(s: number): OpenOrder[];
  setLeverage(s: number, lev: number): boolean;
  transferMargin(s: number, amount: number): boolean;
}

class PositionViewImpl implements PositionView {
  readonly #h: ContextHost;
  /** the host's qtyCells */
  readonly #q: Float64Array;
  constructor(
    readonly symbol: number,
    h: ContextHost,
  ) {
    this.#h = h;
    this.#q = h.qtyCells;
  }
  // an element read and nothing else, small enough for V8 to inline into any strategy's onBar
  // whatever else that inlines: a getter it did not inline returned its double boxed (a heap
  // number per call, a quarter of sma-cross's allocations per pass when it read the host's method)
  get qty(): number {
    return this.#q[this.symbol]!;
  }
  get entryPrice(): number {
    return this.#h.positionQty(this.symbol) === 0 ? NaN : this.#h.entryPrice(this.symbol);
  }
  get mode(): ModeId | null {
    return this.#h.positionMode(this.symbol);
  }
  get leverage(): number {
    return this.#h.leverage(this.symbol);
  }
  get unrealizedPnl(): number {
    const q = this.#h.positionQty(this.symbol);
    return q === 0 ? 0 : q * (this.#h.markOf(this.symbol) - this.#h.entryPrice(this.symbol));
  }
  get notional(): number {
    // flat: 0, as unrealizedPnl, also while the symbol has no price (0 × NaN was NaN in onStart and before its first candle)
    const q = this.#h.positionQty(this.symbol);
    return q === 0 ? 0 : Math.abs(q) * this.#h.markOf(this.symbol);
  }
  get liquidationPrice(): number {
    return this.#h.positionQty(this.symbol) === 0 ? NaN : this.#h.liquidationPrice(this.symbol);
  }
}

class AccountViewImpl implements AccountView {
  readonly #snap: MarkSnapshot;
  constructor(snap: MarkSnapshot) {
    this.#snap = snap;
  }
  get equity(): number {
    return this.#snap.equity;
  }
  get available(): number {
    return this.#snap.available;
  }
  get marginBalance(): number {
    return this.#snap.marginBalance;
  }
  get maintenanceMargin(): number {
    return this.#snap.maintenanceMargin;
  }
  get marginRatio(): number {
    return this.#snap.marginRatio;
  }
  get initialMargin(): number {
    return this.#snap.initialMargin;
  }
  get grossNotional(): number {
    return this.#snap.grossNotional;
  }
  get capitalAtRisk(): number {
    return this.#snap.capitalAtRisk;
  }
}

export class EngineContext implements StrategyContext {
  readonly data: readonly SymbolView[];
  readonly account: AccountView;
  readonly indicators: IndicatorFactory = indicators;
  // ECMAScript private fields: the host (the setup runner, which holds the whole market) and the
  // close columns are not reachable from the strategy (ctx.h.…, ctx.closes[0][i + 1] would read the future)
  readonly #h: ContextHost;
  readonly #positions: PositionView[];
  readonly #nameToIndex = new Map<string, number>();
  readonly #closes: readonly Float64Array[];
  readonly #closeLengths: readonly number[];
  /** the request of a market order without options (see #market) */
  readonly #marketReq: { type: 'market'; symbol: number; qty: number } = { type: 'market', symbol: 0, qty: 0 };
  /** the request of an order with options (see #withOptions; submit() copies what it keeps) */
  readonly #optReq: OrderRequest = { symbol: 0, qty: 0, type: undefined, price: undefined, reduceOnly: undefined, closePosition: undefined, mode: undefined, tag: undefined };

  constructor(
    h: ContextHost,
    readonly symbols: readonly string[],
    columns: readonly SymbolColumns[],
    markCloses: readonly Float64Array[],
  ) {
    this.#h = h;
    // indexed loops, no Array.prototype method: a strategy of an earlier setup of this pass may have
    // replaced one (the column arrays must not pass through its code)
    const views: SymbolView[] = [];
    const closes: Float64Array[] = [];
    const closeLengths: number[] = [];
    const positions: PositionView[] = [];
    for (let s = 0; s < columns.length; s++) {
      const c = columns[s]!;
      views[s] = Object.freeze(new SymbolViewImpl(s, symbols[s]!, c, markCloses[s]!, h.cursor));
      closes[s] = c.close;
      closeLengths[s] = typedLength(c.close);
      positions[s] = new PositionViewImpl(s, h);
      this.#nameToIndex.set(symbols[s]!, s);
    }
    this.data = Object.freeze(views);
    this.#closes = closes;
    this.#closeLengths = closeLengths;
    this.#positions = positions;
    this.account = new AccountViewImpl(h.snap);
  }

  get setup(): string {
    return this.#h.setupId;
  }
  get defaultMode(): ModeId {
    return this.#h.defaultMode;
  }
  get bar(): number {
    return this.#h.cursor.i - this.#h.fromIndex;
  }
  get index(): number {
    return this.#h.cursor.i;
  }
  get time(): number {
    const i = this.#h.cursor.i;
    return i >= 0 ? this.#h.time[i]! : NaN;
  }
  get timeframeMs(): number {
    return this.#h.timeframeMs;
  }
  close(s: number): number {
    // a number only, as #known: close('0') and close(0n) read symbol 0 through the array's key coercion
    const arr = typeof s === 'number' ? this.#closes[s] : undefined;
    if (arr === undefined) symbolError('close', s, this.symbols.length);
    // cell() written out (the cursor is the engine's whole number): one call less to inline into onBar, whose
    // budget cell() had run out of in sma-cross — a heap number per bar for its returned double (34 MB a pass)
    const i = this.#h.cursor.i;
    return i >= 0 && i < this.#closeLengths[s]! ? arr[i]! : NAN_CELL[0]!;
  }
  symbolIndex(name: string): number {
    const s = this.#nameToIndex.get(name);
    if (s === undefined) throw new RangeError(`unknown symbol '${name}' (this run trades ${this.symbols.join(', ')})`);
    return s;
  }
  /** `s` is one of the run's symbol indexes: a number (position('1') and position(1n) read symbol 1 through the array's key coercion) */
  #known(s: unknown): s is number {
    return typeof s === 'number' && this.#positions[s] !== undefined;
  }
  position(s: number): PositionView {
    if (!this.#known(s)) symbolError('position', s, this.symbols.length);
    return this.#positions[s]!;
  }
  order(req: OrderRequest): number {
    // a key no order has (`side: 'sell'` with a positive qty bought; `reduce_only: true` placed a plain order)
    return this.#h.submit(req, typeof req === 'object' && req !== null ? strayKey(req, true) : undefined);
  }
  /** a market order without options through one reused request object (no allocation per order) */
  #market(s: number, qty: number): number {
    const req = this.#marketReq;
    req.symbol = s;
    req.qty = qty;
    return this.#h.submit(req);
  }
  /**
   * An order with options through one reused request: the options are read once, by name, before
   * the request is filled (an object spread per order was ≈ 8 % of a stress worker's time with the
   * grid strategy). `type`/`closePosition` given here override the options' (targetPosition,
   * closePosition); null or a non-object counts as no options.
   */
  #withOptions(s: number, qty: number, o: OrderOptions | null | undefined, type: OrderType | undefined, close: boolean | undefined): number {
    const opts: Partial<OrderOptions> = typeof o === 'object' && o !== null ? o : {};
    // a key no order has, or (targetPosition: a market order, not a close-position one) one this call overrides
    let stray = strayKey(opts, type === undefined && close === undefined);
    if (stray === undefined && type === 'market' && close === undefined) {
      if (opts.type !== undefined && opts.type !== null && opts.type !== 'market') stray = 'type';
      else if (opts.closePosition === true) stray = 'closePosition';
    }
    const t = type ?? opts.type;
    const price = opts.price;
    const reduceOnly = opts.reduceOnly;
    const closePosition = close ?? opts.closePosition;
    const mode = opts.mode;
    const tag = opts.tag;
    const req = this.#optReq;
    req.symbol = s;
    req.qty = qty;
    req.type = t;
    req.price = price;
    req.reduceOnly = reduceOnly;
    req.closePosition = closePosition;
    req.mode = mode;
    req.tag = tag;
    return this.#h.submit(req, stray);
  }
  /**
   * buy/sell take the size and give it the side. Only a number is sized: anything else goes to
   * submit() as given and is rejected `invalidQuantity` there, as order() rejects it (Math.abs would
   * convert it: buy(0, '1') bought while order({ qty: '1' }) was refused, and a bigint threw).
   */
  buy(s: number, qty: number, opts?: OrderOptions): number {
    const q = typeof qty === 'number' ? Math.abs(qty) : qty;
    return opts === undefined ? this.#market(s, q) : this.#withOptions(s, q, opts, undefined, undefined);
  }
  sell(s: number, qty: number, opts?: OrderOptions): number {
    const q = typeof qty === 'number' ? -Math.abs(qty) : qty;
    return opts === undefined ? this.#market(s, q) : this.#withOptions(s, q, opts, undefined, undefined);
  }
  closePosition(s: number, opts?: OrderOptions): number {
    // an unknown symbol goes to submit() as it is, to be rejected symbolUnavailable as buy() is
    const q = this.#known(s) ? this.#h.positionQty(s) : 0;
    return this.#withOptions(s, q === 0 ? 0 : -q, opts, undefined, true);
  }
  targetPosition(s: number, qty: number, opts?: OrderOptions): number {
    if (!this.#known(s)) return this.#withOptions(s, qty, opts, 'market', undefined);
    this.#h.cancelMarket(s);
    if (!Number.isFinite(qty)) return this.#withOptions(s, qty, opts, 'market', undefined);
    // the target on the quantity grid (toward zero); already there → no order
    const target = this.#h.floorQty(s, qty);
    const diff = this.#h.floorQty(s, target - this.#h.positionQty(s));
    if (diff === 0) return 0;
    return opts === undefined ? this.#market(s, diff) : this.#withOptions(s, diff, opts, 'market', undefined);
  }
  cancel(id: number): boolean {
    return this.#h.cancel(id);
  }
  /**
   * cancelAll() / openOrders(): every symbol; with a symbol, that symbol's index, else a RangeError
   * as close() and position() throw (cancelAll(NaN) or cancelAll('0') cancelled every symbol's
   * orders: the host's filter kept none of the orders whose symbol was not equal to NaN or '0')
   */
  cancelAll(s?: number): number {
    if (s === undefined) return this.#h.cancelAll(-1);
    if (!this.#known(s)) symbolError('cancelAll', s, this.symbols.length);
    return this.#h.cancelAll(s);
  }
  openOrders(s?: number): OpenOrder[] {
    if (s === undefined) return this.#h.openOrders(-1);
    if (!this.#known(s)) symbolError('openOrders', s, this.symbols.length);
    return this.#h.openOrders(s);
  }
  setLeverage(s: number, leverage: number): boolean {
    return this.#h.setLeverage(s, leverage);
  }
  leverage(s: number): number {
    if (!this.#known(s)) symbolError('leverage', s, this.symbols.length);
    return this.#h.leverage(s);
  }
  transferMargin(s: number, amount: number): boolean {
    return this.#h.transferMargin(s, amount);
  }
}

// The context's classes and their prototypes are frozen: each is one instance per worker, shared by
// every run it replays, and a strategy that replaced a method on one (Object.getPrototypeOf(ctx).buy =
// () => -1, or `ago` on a history view's prototype) changed every later run of that worker — the
// innocent runs of another strategy made no trade at all while the run that did it ended ok.
for (const c of [EngineContext, SeriesView, PresenceView, FundingView, SymbolViewImpl, PositionViewImpl, AccountViewImpl]) freezeClass(c);
