/**
 * The replay engine: one synchronous pass over the bars, every account setup stepped on the same
 * bar before the next (DESIGN §4). Per bar and setup:
 *   1. funding events in (previous open, this open] settle (priced by the feed's funding price);
 *   2.+3. pending market orders fill at the open; then the intrabar path (open → nearer extreme →
 *      farther extreme → close by default) is walked as a parameter τ ∈ [0, 3] (segment k spans
 *      [k, k+1]); stop, take-profit and limit triggers (trade prices) and liquidations (mark
 *      prices when the symbol has mark candles at the bar timeframe, else trade prices) are
 *      processed in τ order, liquidations first on ties. All symbols walk their paths in step.
 *      A cross pool holding several symbols is checked pessimistically (its legs take their
 *      adverse extremes first, all at once, and the liquidation point is bisected on excess = 0)
 *      or optimistically (only at the close; the close prices are bisected on the straight line
 *      from the open). A gap past a liquidation price liquidates at the open.
 *   4. mark to market at the close (mark close, else trade close) into the setup's Float64Arrays;
 *   5. the strategy's onBar with history up to and including this bar.
 * The fast path (no pending orders, no funding, no liquidation trigger in the bar's range)
 * touches only typed arrays and numbers; Decimal work happens in the account at events.
 */
import type {
  Account,
  AccountFactory,
  MarginPool,
  MarkSnapshot,
  ModeId,
  RejectReason,
  Rejection,
} from '../account/types.js';
import { createAccount, MARGIN_RATIO_CAP } from '../account/index.js';
import { LotGrid, defaultLotSize, type LotSize } from '../venue/lots.js';
import type { SymbolColumns } from '../feed/types.js';
import type { OpenOrder, OrderRequest, OrderType, Strategy } from '../strategy/types.js';
import { EngineContext, type ContextHost, type Cursor } from './context.js';
import { EventDetails } from './event-details.js';
import { Market, allocSeries, newSnapshot, truncateSeries } from './market.js';
import { ORDER_TYPES, triggersUp, type PendingOrder } from './orders.js';
import { DEFAULT_EXECUTION } from './setups.js';
import { adverseOverStretch, bisectLine, firstNonPositive, highFirst, hitTime, priceAt, writePath, type PathFunction } from './path.js';
import { EngineInvariantError, type ExecutionOptions, type ReplayOutput, type ReplayParams, type SetupOutput, type SetupSeries, type SetupSpec } from './types.js';

/** Part of every RunId: bump whenever a change can alter replay results. */
export const ENGINE_VERSION = '1.4.0';

/**
 * MARGIN_RATIO_CAP of the account (checked below) as a module-local literal: reading an imported
 * binding in the bar loop made V8 box `peak` (an allocation per bar)
 */
const RATIO_CAP = 10;
if (RATIO_CAP !== MARGIN_RATIO_CAP) throw new Error('internal: RATIO_CAP differs from the account\'s MARGIN_RATIO_CAP');
/** bars of series rows buffered before they are copied into the columns */
const ROW_BLOCK = 2048;

/** Internal: a strategy callback threw; the setup stops. */
class StrategyFailure extends Error {
  constructor(readonly inner: unknown) {
    super(inner instanceof Error ? inner.message : String(inner));
  }
}

/** an error that is not the strategy's, as the EngineInvariantError that leaves replay() */
function internalFailure(e: unknown, setup: string, bar: number): EngineInvariantError {
  if (e instanceof EngineInvariantError) return e;
  const what = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new EngineInvariantError(`setup ${setup}, bar ${bar}: ${what}`, { cause: e });
}

/** One account setup: its account, strategy instance, context, pending orders and series. */
class SetupRunner implements ContextHost {
  readonly cursor: Cursor = { i: -1 };
  readonly snap: MarkSnapshot = newSnapshot();
  private readonly peakSnap: MarkSnapshot = newSnapshot();
  readonly ctx: EngineContext;
  readonly series: SetupSeries;
  readonly time: Float64Array;
  readonly timeframeMs: number;
  readonly setupId: string;
  /** whether orders choose their own margin mode (SetupSpec.perOrderMode) */
  readonly perOrderMode: boolean;
  readonly defaultMode: ModeId;

  private orders: PendingOrder[] = [];
  private nextOrderId = 1;
  /** pools or thresholds must be re-derived (set by every event) */
  private dirty = true;
  /** an event happened since the last mark to market */
  private changed = true;
  private hasPositions = false;
  private liquidatedThisBar = false;
  // single-symbol pools: the symbol, side and liquidation price (derived at events)
  private nSingle = 0;
  private sSym: Int32Array;
  private sSide: Float64Array;
  private sLp: Float64Array;
  private sPool: MarginPool[] = [];
  // multi-symbol (cross) pools
  private multi: MarginPool[] = [];
  /** per symbol: position sign for the multi-leg cross pool (0 = not a leg) */
  private legSign: Float64Array;
  /** per symbol: sign of the position (+1, −1, 0), refreshed at events (read per bar without calls) */
  private posSign: Float64Array;
  /** markWithPeakInto's adverse-extreme ratio (a typed-array slot: a returned double would be boxed) */
  private readonly peakOut = new Float64Array(1);
  /** [0]: the worst margin ratio met on the intrabar path of the current bar (bars that walk the path) */
  private readonly pathPeak = new Float64Array(1);
  private readonly ratioOut = new Float64Array(1);
  /**
   * the account evaluates ratios at given prices (Account.marginRatioInto): the peak of a bar with
   * events is tracked on its path; without it (an accountFactory's account) the bar's adverse
   * extremes are applied to the positions held at the close, as on bars without events
   */
  private readonly pathPeaks: boolean;
  // intrabar paths, 4 points per symbol: trade prices and liquidation-source prices
  private readonly tp: Float64Array;
  private readonly lq: Float64Array;
  /** scratch price vectors */
  private readonly pbuf: Float64Array;
  /** series rows not yet copied into the columns (8 values per bar, row-major) */
  private readonly rows = new Float64Array(8 * ROW_BLOCK);
  private rowStart = 0;
  private rowCount = 0;
  /** the series columns in row order: equity, marginBalance, maintenanceMargin, marginRatio, marginRatioPeak, initialMargin, capitalAtRisk, grossNotional */
  private readonly columns: Float64Array[];
  private readonly pbuf2: Float64Array;
  private readonly adv: Float64Array;
  /** the multi-symbol pool the path functions below value (set before each use) */
  private curPool: MarginPool | null = null;
  /** the current pool's excess at a point of the path / at given prices (made once: no allocation per call) */
  private readonly excessPath: PathFunction = { at: (tau) => this.excessAt(this.curPool!, tau) };
  private readonly poolExcess = (prices: Float64Array): number => this.curPool!.excess(prices);
  /** bar currently processed and the event time */
  private bar = -1;
  private eventTime = 0;
  /** liquidation details and liquidation-price steps for the result records */
  private details: EventDetails | null = null;
  dead = false;
  error: string | undefined;
  endBar = -1;

  constructor(
    readonly spec: SetupSpec,
    readonly acct: Account,
    readonly strat: Strategy,
    private readonly m: Market,
    symbols: readonly string[],
    readonly fromIndex: number,
    time: Float64Array,
  ) {
    const n = m.n;
    this.time = m.time;
    this.timeframeMs = m.tf;
    this.setupId = spec.id;
    this.perOrderMode = spec.perOrderMode ?? spec.id === 'mixed';
    this.defaultMode = spec.defaultMode;
    this.series = allocSeries(time);
    const se = this.series;
    this.columns = [se.equity, se.marginBalance, se.maintenanceMargin, se.marginRatio, se.marginRatioPeak, se.initialMargin, se.capitalAtRisk, se.grossNotional];
    this.sSym = new Int32Array(n + 1);
    this.sSide = new Float64Array(n + 1);
    this.sLp = new Float64Array(n + 1);
    this.legSign = new Float64Array(n);
    this.posSign = new Float64Array(n);
    this.tp = new Float64Array(4 * n);
    this.lq = new Float64Array(4 * n);
    this.pbuf = new Float64Array(n);
    this.pbuf2 = new Float64Array(n);
    this.adv = new Float64Array(n);
    this.pathPeaks = acct.marginRatioInto !== undefined;
    this.cursor.i = fromIndex - 1;
    this.ctx = new EngineContext(this, symbols, m.cols, m.markClose);
  }

  // ---- ContextHost -------------------------------------------------------------------------

  positionQty(s: number): number {
    return this.acct.positionQty(s);
  }
  entryPrice(s: number): number {
    return this.acct.entryPrice(s);
  }
  positionMode(s: number): ModeId | null {
    return this.acct.positionMode(s);
  }
  leverage(s: number): number {
    return this.acct.leverage(s);
  }
  /** marks at the close of the bar the strategy sees (inside a bar: the previous close) */
  private visibleMarks(): Float64Array {
    return this.cursor.i === this.bar ? this.m.closeMarks : this.m.lastMarks;
  }
  markOf(s: number): number {
    return this.visibleMarks()[s]!;
  }
  liquidationPrice(s: number): number {
    const pools = this.acct.pools();
    for (let j = 0; j < pools.length; j++) {
      const p = pools[j]!;
      if (p.symbols.includes(s)) return p.liquidationPrice(s, this.visibleMarks());
    }
    return NaN;
  }

  private validSymbol(s: number): boolean {
    return Number.isInteger(s) && s >= 0 && s < this.m.n;
  }

  private reject(s: number, reason: RejectReason, message: string): Rejection {
    this.changed = true;
    return this.acct.recordRejection(s, reason, message, this.eventTime);
  }

  submit(req: OrderRequest): number {
    const s = req.symbol;
    // an order on a symbol the run does not have is a rejection (counted, recorded), like any other bad order
    if (!this.validSymbol(s)) {
      this.reject(s, 'symbolUnavailable', `order: symbol index ${String(s)} is not one of the run's symbols (0..${this.m.n - 1})`);
      return -1;
    }
    const type = (req.type ?? 'market') as OrderType;
    if (!ORDER_TYPES.has(type)) {
      this.reject(s, 'invalidOrderType', `order on ${this.ctx.symbols[s]}: unknown order type ${JSON.stringify(req.type)} (market, limit, stop, takeProfit)`);
      return -1;
    }
    if (req.mode !== undefined && req.mode !== 'isolated' && req.mode !== 'cross') {
      this.reject(s, 'invalidMode', `${type} order on ${this.ctx.symbols[s]}: unknown margin mode ${JSON.stringify(req.mode)} (isolated, cross)`);
      return -1;
    }
    const closePosition = req.closePosition === true;
    let qty = req.qty;
    if (closePosition) {
      // one rule: a closePosition order ignores qty; its side is fixed now, against the open position
      const pos = this.acct.positionQty(s);
      if (pos === 0) {
        this.reject(s, 'noPosition', `closePosition ${type} order on ${this.ctx.symbols[s]}: no open position`);
        return -1;
      }
      qty = -pos;
    } else if (!(Number.isFinite(qty) && qty !== 0)) {
      this.reject(s, 'invalidQuantity', `${type} order on ${this.ctx.symbols[s]}: quantity must be a finite non-zero number, got ${qty}`);
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
      if (req.reduceOnly !== true && Math.abs(qty) < minQty * (1 - 1e-9)) {
        this.reject(s, 'invalidQuantity', `${type} order on ${this.ctx.symbols[s]}: quantity ${qty} is below the minimum quantity ${minQty}`);
        return -1;
      }
    }
    let price = NaN;
    if (type !== 'market') {
      price = req.price ?? NaN;
      if (!(Number.isFinite(price) && price > 0)) {
        this.reject(s, 'invalidPrice', `${type} order on ${this.ctx.symbols[s]}: price must be a positive number, got ${req.price}`);
        return -1;
      }
    }
    let marketable = false;
    if (type === 'limit') {
      const c = this.m.cols[s]!.close[this.cursor.i]!;
      marketable = qty > 0 ? price >= c : price <= c;
    }
    const id = this.nextOrderId++;
    this.orders.push({
      id,
      symbol: s,
      qty,
      type,
      price,
      reduceOnly: req.reduceOnly === true,
      closePosition,
      mode: req.mode,
      tag: req.tag,
      activeFrom: this.cursor.i + 1 > this.bar ? this.cursor.i + 1 : this.bar + 1,
      marketable,
    });
    return id;
  }

  cancel(id: number): boolean {
    const k = this.orders.findIndex((o) => o.id === id);
    if (k < 0) return false;
    this.orders.splice(k, 1);
    return true;
  }
  cancelAll(s: number): number {
    const before = this.orders.length;
    this.orders = s < 0 ? [] : this.orders.filter((o) => o.symbol !== s);
    return before - this.orders.length;
  }
  cancelMarket(s: number): void {
    if (this.orders.length) this.orders = this.orders.filter((o) => !(o.symbol === s && o.type === 'market'));
  }
  openOrders(s: number): OpenOrder[] {
    return this.orders
      .filter((o) => s < 0 || o.symbol === s)
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
    // the account rejects a bad symbol index (symbolUnavailable), as it does a bad leverage
    const r = this.acct.setLeverage(s, lev, this.eventTime);
    this.dirty = true;
    this.changed = true;
    return r.ok;
  }
  transferMargin(s: number, amount: number): boolean {
    const r = this.acct.transferMargin(s, amount, this.eventTime);
    this.dirty = true;
    this.changed = true;
    return r.ok;
  }

  // ---- callbacks -----------------------------------------------------------------------------

  private call(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      throw new StrategyFailure(e);
    }
  }

  start(): void {
    this.cursor.i = this.fromIndex - 1;
    this.eventTime = this.fromIndex < this.time.length ? this.time[this.fromIndex]! : 0;
    this.bar = this.fromIndex - 1;
    const st = this.strat;
    if (st.onStart) {
      try {
        st.onStart(this.ctx);
      } catch (e) {
        this.fail(e, 0);
      }
    }
  }

  /** copy the buffered rows into the series columns */
  flushRows(): void {
    const n = this.rowCount;
    if (n === 0) return;
    const rows = this.rows;
    const base = this.rowStart;
    const cols = this.columns;
    for (let j = 0; j < 8; j++) {
      const col = cols[j]!;
      for (let t = 0, q = j; t < n; t++, q += 8) col[base + t] = rows[q]!;
    }
    this.rowCount = 0;
  }

  fail(e: unknown, seriesLen: number): void {
    this.flushRows();
    const inner = e instanceof StrategyFailure ? e.inner : e;
    this.dead = true;
    this.error = inner instanceof Error ? `${inner.name}: ${inner.message}` : String(inner);
    this.endBar = seriesLen;
  }

  // ---- pools ---------------------------------------------------------------------------------

  private refresh(): void {
    const acct = this.acct;
    const pools = acct.pools();
    this.nSingle = 0;
    if (this.multi.length) this.multi = [];
    this.legSign.fill(0);
    for (let s = 0; s < this.m.n; s++) {
      const q = acct.positionQty(s);
      this.posSign[s] = q > 0 ? 1 : q < 0 ? -1 : 0;
    }
    let any = false;
    for (let j = 0; j < pools.length; j++) {
      const p = pools[j]!;
      const syms = p.symbols;
      if (syms.length === 1) {
        const s = syms[0]!;
        const q = acct.positionQty(s);
        if (q === 0) continue;
        any = true;
        const k = this.nSingle++;
        if (k >= this.sSym.length) this.growSingles();
        this.sSym[k] = s;
        this.sSide[k] = q > 0 ? 1 : -1;
        this.sLp[k] = p.liquidationPrice(s, this.m.closeMarks);
        this.sPool[k] = p;
      } else if (syms.length > 1) {
        any = true;
        this.multi.push(p);
        for (let t = 0; t < syms.length; t++) {
          const s = syms[t]!;
          const q = acct.positionQty(s);
          this.legSign[s] = q > 0 ? 1 : q < 0 ? -1 : 0;
        }
      }
    }
    this.hasPositions = any;
    this.dirty = false;
    (this.details ??= new EventDetails(this.m.n)).refreshed(this.eventTime, this.sSym, this.sLp, this.nSingle, this.multi, this.m.closeMarks);
  }

  private growSingles(): void {
    const n = this.sSym.length * 2;
    const a = new Int32Array(n);
    a.set(this.sSym);
    this.sSym = a;
    const b = new Float64Array(n);
    b.set(this.sSide);
    this.sSide = b;
    const c = new Float64Array(n);
    c.set(this.sLp);
    this.sLp = c;
  }

  // ---- the bar step --------------------------------------------------------------------------

  /** bar i (data index), k = replayed bar number */
  step(i: number, k: number): void {
    const m = this.m;
    this.bar = i;
    this.cursor.i = i - 1;
    this.liquidatedThisBar = false;
    const t0 = m.time[i]!;
    const n = m.n;
    let general = false;

    try {
      // 1. funding
      for (let s = 0; s < n; s++) {
        const fs = m.cols[s]!.fundingStart;
        const a = fs[i]!;
        const b = fs[i + 1]!;
        if (b > a) this.funding(s, a, b);
      }
      if (this.dirty) this.refresh();

      // 2.+3. fills and the intrabar path
      const orders = this.orders;
      for (let j = 0; j < orders.length; j++) {
        if (orders[j]!.activeFrom <= i) {
          general = true;
          break;
        }
      }
      if (!general && this.hasPositions) general = this.quickTrigger(i);
      if (general) {
        this.eventTime = t0;
        this.runPath(i);
        if (this.dirty) this.refresh();
      }
    } catch (e) {
      // only a strategy callback's error stops the setup (wrapped in StrategyFailure by call());
      // anything else is an internal invariant failure of the engine or account: it leaves replay()
      if (!(e instanceof StrategyFailure)) throw internalFailure(e, this.setupId, i);
      this.fail(e, k);
      return;
    }

    // 4. mark to market at the close
    const acct = this.acct;
    const snap = this.snap;
    // the adverse-extreme evaluation first: Account.mark remembers the marks it was given, and
    // the close must be the last one it sees
    let advRatio = 0;
    if (general && this.pathPeaks) {
      // the path tracked the peak with the positions held on each stretch of it (runPath)
      advRatio = this.pathPeak[0]!;
      if (this.hasPositions || this.changed) acct.mark(m.closeMarks, snap);
      this.changed = false;
    } else if (this.hasPositions) {
      const adv = this.adv;
      this.adverse(i, adv);
      if (acct.markWithPeakInto !== undefined) {
        acct.markWithPeakInto(m.closeMarks, adv, snap, this.peakOut);
        advRatio = this.peakOut[0]!;
      } else {
        acct.mark(adv, this.peakSnap);
        advRatio = this.peakSnap.marginRatio;
        acct.mark(m.closeMarks, snap);
      }
      this.changed = false;
    } else if (this.changed) {
      acct.mark(m.closeMarks, snap);
      this.changed = false;
    }
    let peak = snap.marginRatio;
    if (advRatio > peak) peak = advRatio;
    if (this.liquidatedThisBar && peak < 1) peak = 1;
    if (!(peak <= RATIO_CAP)) peak = RATIO_CAP; // an account without the cap (accountFactory)
    // one row of the eight series into a small row-major block (one write stream, cache-resident);
    // the block is copied into the columns every ROW_BLOCK bars, one column at a time
    const rows = this.rows;
    if (this.rowCount === 0) this.rowStart = k;
    const o = this.rowCount * 8;
    rows[o] = snap.equity;
    rows[o + 1] = snap.marginBalance;
    rows[o + 2] = snap.maintenanceMargin;
    rows[o + 3] = snap.marginRatio;
    rows[o + 4] = peak;
    rows[o + 5] = snap.initialMargin;
    rows[o + 6] = snap.capitalAtRisk;
    rows[o + 7] = snap.grossNotional;
    if (++this.rowCount === ROW_BLOCK) this.flushRows();

    // 5. strategy
    this.cursor.i = i;
    this.eventTime = t0 + m.tf;
    try {
      this.strat.onBar(this.ctx);
    } catch (e) {
      this.fail(e, k + 1);
    }
  }

  /** adverse extreme of every position's symbol on the liquidation source (others: close marks) */
  private adverse(i: number, out: Float64Array): void {
    const m = this.m;
    const sign = this.posSign;
    for (let s = 0; s < m.n; s++) {
      const q = sign[s]!;
      if (q === 0) {
        out[s] = m.closeMarks[s]!;
        continue;
      }
      let v = q > 0 ? m.lqLow[s]![i]! : m.lqHigh[s]![i]!;
      if (v !== v) v = q > 0 ? m.tradeLow[s]![i]! : m.tradeHigh[s]![i]!;
      out[s] = v === v ? v : m.closeMarks[s]!;
    }
  }

  /** true when a liquidation may trigger in bar i (then the exact path is walked) */
  private quickTrigger(i: number): boolean {
    const m = this.m;
    for (let j = 0; j < this.nSingle; j++) {
      const s = this.sSym[j]!;
      const lp = this.sLp[j]!;
      if (this.sSide[j]! > 0) {
        let lo = m.lqLow[s]![i]!;
        if (lo !== lo) lo = m.tradeLow[s]![i]!;
        if (lo <= lp) return true;
      } else {
        let hi = m.lqHigh[s]![i]!;
        if (hi !== hi) hi = m.tradeHigh[s]![i]!;
        if (hi >= lp) return true;
      }
    }
    if (this.multi.length) {
      if (m.exec.crossCheck === 'pessimistic') {
        this.adverse(i, this.pbuf);
      } else {
        this.pbuf.set(m.closeMarks);
      }
      for (let j = 0; j < this.multi.length; j++) if (this.multi[j]!.excess(this.pbuf) <= 0) return true;
    }
    return false;
  }

  private funding(s: number, a: number, b: number): void {
    const c = this.m.cols[s]!;
    for (let e = a; e < b; e++) {
      if (this.acct.positionQty(s) === 0) return;
      const time = c.fundingTime[e]!;
      this.eventTime = time;
      const r = this.acct.applyFunding(s, c.fundingRate[e]!, c.fundingPrice[e]!, time);
      if (r) {
        this.dirty = true;
        this.changed = true;
        const st = this.strat;
        if (st.onFunding) {
          const info = { ...r, time };
          this.call(() => st.onFunding!(info, this.ctx));
        }
      }
    }
  }

  // ---- intrabar path -------------------------------------------------------------------------

  private buildPaths(i: number): void {
    const m = this.m;
    const mode = m.exec.intrabarPath;
    const pess = m.exec.crossCheck === 'pessimistic' && this.multi.length > 0;
    for (let s = 0; s < m.n; s++) {
      const c = m.cols[s]!;
      const o = c.open[i]!;
      const h = c.high[i]!;
      const l = c.low[i]!;
      const cl = c.close[i]!;
      // the trade path (order triggers) is the same in every setup; only the liquidation check of
      // a multi-leg cross pool takes its legs adverse-first (the pessimistic bound, DESIGN §4.3)
      const hiFirst = highFirst(mode, o, h, l);
      const leg = pess ? this.legSign[s]! : 0;
      const lqHiFirst = leg !== 0 ? leg < 0 : hiFirst;
      writePath(this.tp, s, o, h, l, cl, hiFirst);
      const mo = m.liqMark[s] === 1 ? c.markOpen[i]! : NaN;
      if (mo === mo) writePath(this.lq, s, mo, c.markHigh[i]!, c.markLow[i]!, c.markClose[i]!, lqHiFirst);
      else writePath(this.lq, s, o, h, l, cl, lqHiFirst);
    }
  }

  /** fill `out` with every symbol's liquidation-source price at τ (absent → last known) */
  private pricesAt(tau: number, out: Float64Array): void {
    const m = this.m;
    for (let s = 0; s < m.n; s++) {
      const v = priceAt(this.lq, s, tau);
      out[s] = v === v ? v : m.lastMarks[s]!;
    }
  }

  private excessAt(pool: MarginPool, tau: number): number {
    this.pricesAt(tau, this.pbuf);
    return pool.excess(this.pbuf);
  }

  /** pessimistic multi-leg check: first τ' ≥ τ with excess ≤ 0 (segment ends checked, bisected inside) */
  private multiHit(pool: MarginPool, tau: number): number {
    this.curPool = pool;
    return firstNonPositive(this.excessPath, tau);
  }

  /** optimistic: close prices on the straight line from the prices at τ to the close where excess = 0 */
  private optimisticPrices(pool: MarginPool, tau: number, out: Float64Array): void {
    const start = this.pbuf2;
    const end = this.adv;
    this.pricesAt(tau, start);
    this.pricesAt(3, end);
    this.curPool = pool;
    bisectLine(start, end, out, this.poolExcess);
  }

  /**
   * marginRatioPeak on the event path: the worst pool's margin ratio over the stretch [a, b] of the
   * path during which the positions do not change, every position's symbol at its adverse extreme
   * over the stretch on the liquidation source (long: lowest, short: highest of the path at a, at
   * b and at the path's corners in between). Within a tier a position's ratio MM ÷ MB is monotone
   * in its price, rising in the adverse direction whenever it exceeds the tier's maintenance rate
   * (docs/engine.md), so for a single-symbol pool this is the stretch's maximum; for a multi-symbol
   * cross pool it takes every leg's adverse extreme at once (an upper bound of the path, the
   * pessimistic convention, as on bars without events). Updates pathPeak[0]; no allocation.
   */
  private stretchPeak(a: number, b: number): void {
    if (!this.hasPositions || !this.pathPeaks) return;
    const m = this.m;
    const lq = this.lq;
    const sign = this.posSign;
    const out = this.adv;
    for (let s = 0; s < m.n; s++) {
      const q = sign[s]!;
      const v = q === 0 ? NaN : adverseOverStretch(lq, s, q, a, b);
      out[s] = v === v ? v : m.closeMarks[s]!;
    }
    this.acct.marginRatioInto!(out, this.ratioOut);
    const r = this.ratioOut[0]!;
    if (r > this.pathPeak[0]!) this.pathPeak[0] = r;
  }

  private timeAt(tau: number): number {
    return this.m.time[this.bar]! + Math.floor((tau / 3) * this.m.tf);
  }

  private runPath(i: number): void {
    const m = this.m;
    const slip = m.exec.slippageBps / 1e4;
    this.pathPeak[0] = 0;
    // a pool whose liquidation threshold the open gapped through is liquidated at the open before
    // any order fills there (DESIGN §4.2: the venue liquidates while the price travels to the open)
    let openSeen = this.gapLiquidations(i);
    // market orders at the open, in submission order
    for (let j = 0; j < this.orders.length; ) {
      const o = this.orders[j]!;
      if (o.type !== 'market' || o.activeFrom > i) {
        j++;
        continue;
      }
      this.orders.splice(j, 1);
      const open = m.cols[o.symbol]!.open[i]!;
      if (!(open === open)) {
        this.reject(o.symbol, 'symbolUnavailable', `market order #${o.id} on ${this.ctx.symbols[o.symbol]}: no candle at ${new Date(m.time[i]!).toISOString()}`);
        continue;
      }
      if (!openSeen) {
        // the positions held into the open, at the open, before the first fill changes them
        openSeen = true;
        if (this.hasPositions && this.pathPeaks) {
          this.buildPaths(i); // (only τ = 0, the open, is read; rebuilt below for the positions after the fills)
          this.stretchPeak(0, 0);
        }
      }
      const remaining = this.participationRemainder(o, i);
      if (remaining !== 0) {
        // carry the rest to the next bar's open, keeping the queue order
        this.orders.splice(j, 0, { ...o, qty: remaining, activeFrom: i + 1 });
        j++;
      }
      if (o.qty !== 0) this.execute(o, o.qty > 0 ? open * (1 + slip) : open * (1 - slip), 'taker', 0);
    }
    if (this.dirty) this.refresh();
    // paths depend on the positions after the open (pessimistic cross legs go adverse-first)
    this.buildPaths(i);

    const pess = m.exec.crossCheck === 'pessimistic';
    let tau = 0;
    for (let guard = 0; guard < 100000; guard++) {
      if (this.dirty) this.refresh();
      let best = Infinity;
      let kind = 0; // 1 single pool, 2 multi pool, 3 order
      let which = -1;
      for (let j = 0; j < this.nSingle; j++) {
        const t = hitTime(this.lq, this.sSym[j]!, this.sLp[j]!, this.sSide[j]! < 0, tau);
        if (t < best) {
          best = t;
          kind = 1;
          which = j;
        }
      }
      for (let j = 0; j < this.multi.length; j++) {
        const t = pess ? this.multiHit(this.multi[j]!, tau) : this.excessAt(this.multi[j]!, 3) <= 0 ? 3 : Infinity;
        if (t < best) {
          best = t;
          kind = 2;
          which = j;
        }
      }
      const orders = this.orders;
      for (let j = 0; j < orders.length; j++) {
        const o = orders[j]!;
        if (o.activeFrom > i || o.type === 'market') continue;
        const t = hitTime(this.tp, o.symbol, o.price, triggersUp(o), tau);
        if (t < best) {
          best = t;
          kind = 3;
          which = j;
        }
      }
      // the positions held from τ to the event (or to the close) meet their worst point on the way
      this.stretchPeak(tau, kind === 0 ? 3 : best);
      if (kind === 0) return;
      const prevTau = tau;
      tau = best;
      this.eventTime = this.timeAt(tau);
      if (kind === 1) {
        const s = this.sSym[which]!;
        const lp = this.sLp[which]!;
        const p = priceAt(this.lq, s, tau);
        const px = this.sSide[which]! > 0 ? (p < lp ? p : lp) : p > lp ? p : lp;
        this.pricesAt(tau, this.pbuf);
        this.pbuf2.set(this.pbuf);
        this.pbuf[s] = px;
        this.liquidate(this.sPool[which]!, this.pbuf, this.pbuf2);
      } else if (kind === 2) {
        const pool = this.multi[which]!;
        const prices = this.pbuf;
        if (pess) this.pricesAt(tau, prices);
        else this.optimisticPrices(pool, prevTau, prices);
        this.liquidate(pool, prices);
      } else {
        const o = orders[which]!;
        orders.splice(which, 1);
        const p = priceAt(this.tp, o.symbol, tau);
        const up = triggersUp(o);
        // at or beyond the level: the level, or the price at τ when it gapped past it
        const base = up ? (p > o.price ? p : o.price) : p < o.price ? p : o.price;
        if (o.type === 'limit') {
          if (o.marketable && tau === 0 && o.activeFrom === i) this.execute(o, p, 'taker', tau);
          else this.execute(o, o.price, 'maker', tau);
        } else {
          this.execute(o, o.qty > 0 ? base * (1 + slip) : base * (1 - slip), 'taker', tau);
        }
      }
    }
    throw new EngineInvariantError('the intrabar event loop did not terminate');
  }

  /**
   * Liquidates, at the open of bar i, every pool that is at or past its liquidation threshold there
   * (single-symbol pools: the open on the liquidation source at or beyond the liquidation price;
   * multi-symbol pools: excess ≤ 0 with every symbol at its open). Returns true when the positions
   * held into the open were valued at the open (marginRatioPeak) because something was liquidated.
   */
  private gapLiquidations(i: number): boolean {
    if (this.dirty) this.refresh();
    if (!this.hasPositions) return false;
    this.buildPaths(i); // only τ = 0 is read here
    let valued = false;
    for (let guard = 0; guard <= this.m.n + 1; guard++) {
      let hit: MarginPool | null = null;
      for (let j = 0; j < this.nSingle && hit === null; j++) {
        const s = this.sSym[j]!;
        const open = this.lq[4 * s]!;
        const lp = this.sLp[j]!;
        if (this.sSide[j]! > 0 ? open <= lp : open >= lp) hit = this.sPool[j]!;
      }
      for (let j = 0; j < this.multi.length && hit === null; j++) if (this.excessAt(this.multi[j]!, 0) <= 0) hit = this.multi[j]!;
      if (hit === null) return valued;
      if (!valued && this.pathPeaks) this.stretchPeak(0, 0);
      valued = true;
      this.pricesAt(0, this.pbuf);
      this.liquidate(hit, this.pbuf);
      this.refresh();
    }
    throw new EngineInvariantError('gap liquidations at the open did not terminate');
  }

  /** volume participation: clip o.qty to the cap and return the part carried to the next bar */
  private participationRemainder(o: PendingOrder, i: number): number {
    const part = this.m.exec.participation;
    if (!part) return 0;
    const vol = this.m.cols[o.symbol]!.volume[i]!;
    const g = this.m.grids[o.symbol]!;
    // on the quantity grid: the cap rounds down; a cap below one step fills nothing this bar
    const capLots = g.lots(part.maxFraction * (vol === vol ? vol : 0), 'down');
    const wantLots = g.lots(o.closePosition ? this.acct.positionQty(o.symbol) : o.qty, 'nearest');
    const want = Math.abs(wantLots);
    if (want <= capLots) return 0;
    const rest = g.qty(want - capLots);
    if (o.closePosition || o.reduceOnly) {
      // turn it into an explicit reduce-only slice; the rest keeps the original intent
      const sign = o.closePosition ? -Math.sign(this.acct.positionQty(o.symbol)) : Math.sign(o.qty);
      o.closePosition = false;
      o.reduceOnly = true;
      o.qty = sign * g.qty(capLots);
      return sign * rest;
    }
    const sign = o.qty > 0 ? 1 : -1;
    o.qty = sign * g.qty(capLots);
    return sign * rest;
  }

  /**
   * A fill of symbol s at `price` (τ on the path) when the pool holding s would be at or past its
   * liquidation threshold there (every other symbol at its liquidation-source price at τ): the
   * venue liquidates the pool on the way, so the pool is liquidated at that price instead and the
   * order is cancelled with the pool's other orders. Keeps a wallet from going negative and an
   * isolated position from losing more than its margin when slippage or a gap carries a fill past
   * the threshold. Returns true when it liquidated.
   */
  private liquidatedBeforeFill(s: number, price: number, tau: number): boolean {
    if (!this.hasPositions || this.acct.positionQty(s) === 0) return false;
    if (this.dirty) this.refresh();
    let pool: MarginPool | null = null;
    for (let j = 0; j < this.nSingle && pool === null; j++) if (this.sSym[j] === s) pool = this.sPool[j]!;
    for (let j = 0; j < this.multi.length && pool === null; j++) if (this.multi[j]!.symbols.includes(s)) pool = this.multi[j]!;
    if (pool === null) return false;
    const prices = this.pbuf;
    this.pricesAt(tau, prices);
    prices[s] = price;
    if (!(pool.excess(prices) <= 0)) return false;
    this.liquidate(pool, prices);
    if (this.dirty) this.refresh();
    return true;
  }

  private execute(o: PendingOrder, price: number, liquidity: 'maker' | 'taker', tau: number): void {
    const s = o.symbol;
    const acct = this.acct;
    if (this.liquidatedBeforeFill(s, price, tau)) return;
    const pos = acct.positionQty(s);
    let qty = o.qty;
    const sym = this.ctx.symbols[s];
    if (o.closePosition) {
      if (pos === 0) {
        this.reject(s, 'noPosition', `closePosition order #${o.id} on ${sym}: no open position`);
        return;
      }
      if (pos > 0 === qty > 0) {
        this.reject(s, 'reduceOnlyViolation', `closePosition order #${o.id} on ${sym}: the position is now on the order's side`);
        return;
      }
      qty = -pos;
    } else if (o.reduceOnly) {
      if (pos === 0 || pos > 0 === qty > 0) {
        this.reject(s, 'reduceOnlyViolation', `reduce-only order #${o.id} on ${sym} would ${pos === 0 ? 'open' : 'increase'} a position`);
        return;
      }
      if (Math.abs(qty) > Math.abs(pos)) qty = -pos;
    }
    const r = acct.trade({
      symbol: s,
      qty,
      price,
      liquidity,
      mode: this.perOrderMode ? o.mode : this.spec.defaultMode,
      reduceOnly: o.reduceOnly || o.closePosition,
      time: this.eventTime,
    });
    this.dirty = true;
    this.changed = true;
    if (!r.ok) return;
    if (r.positionQty === 0) {
      // protective close-position orders die with the position
      if (this.orders.length) this.orders = this.orders.filter((x) => !(x.symbol === s && x.closePosition));
    }
    const st = this.strat;
    if (st.onFill) {
      const info = {
        orderId: o.id,
        tag: o.tag,
        symbol: s,
        qty: r.qty,
        price: r.price,
        liquidity,
        fee: r.fee,
        realizedPnl: r.realizedPnl,
        positionQty: r.positionQty,
        mode: r.mode,
        time: this.eventTime,
      };
      this.call(() => st.onFill!(info, this.ctx));
    }
  }

  private liquidate(pool: MarginPool, prices: Float64Array, trigger: Float64Array = prices): void {
    (this.details ??= new EventDetails(this.m.n)).liquidating(this.eventTime, this.acct, pool, prices, trigger);
    const out = this.acct.liquidate(pool, prices, this.eventTime);
    this.dirty = true;
    this.changed = true;
    this.liquidatedThisBar = true;
    // orders of liquidated symbols are cancelled
    if (this.orders.length) this.orders = this.orders.filter((o) => !out.symbols.includes(o.symbol));
    const st = this.strat;
    if (st.onLiquidation) {
      const info = { ...out, time: this.eventTime };
      this.call(() => st.onLiquidation!(info, this.ctx));
    }
  }

  output(bars: number): SetupOutput {
    this.flushRows();
    const acct = this.acct;
    const rejections: Record<string, number> = {};
    for (const e of acct.events) if (e.type === 'rejection') rejections[e.reason] = (rejections[e.reason] ?? 0) + 1;
    const n = this.dead ? this.endBar : bars;
    const m = this.m;
    let marks = 0;
    for (let s = 0; s < m.n; s++) marks += m.liqMark[s]!;
    const out: SetupOutput = {
      setup: this.spec,
      series: n === bars ? this.series : truncateSeries(this.series, n),
      events: acct.events,
      books: acct.books(),
      rejections,
      liquidationPriceSource: marks === m.n ? 'mark' : marks === 0 ? 'trade' : 'mixed',
      crossCheck: m.exec.crossCheck,
      liquidations: this.details?.liquidations ?? [],
      liquidationPrices: this.details?.steps ?? { time: [], symbol: [], price: [] },
    };
    if (this.error !== undefined) out.error = this.error;
    return out;
  }
}

/** Run one strategy under every setup of `p.setups` in one pass over the bars. */
export function replay(p: ReplayParams): ReplayOutput {
  const data = p.data;
  const twice = p.symbols.filter((s, k) => p.symbols.indexOf(s) !== k);
  if (twice.length > 0) throw new RangeError(`replay: symbol '${twice[0]}' is listed twice (each symbol once)`);
  const cols: SymbolColumns[] = p.symbols.map((name) => {
    const k = data.symbols.indexOf(name);
    if (k < 0) throw new RangeError(`replay: symbol '${name}' is not in dataset '${data.dataset}' (${data.symbols.join(', ')})`);
    return data.columns[k]!;
  });
  const nAll = data.time.length;
  const from = p.fromIndex ?? 0;
  const to = p.toIndex ?? nAll;
  if (!(Number.isInteger(from) && Number.isInteger(to) && from >= 0 && to <= nAll && from <= to)) {
    throw new RangeError(`replay: bar range [${from}, ${to}) is outside the dataset's 0..${nAll}`);
  }
  if (p.setups.length === 0) throw new RangeError('replay: no account setups');
  const exec: ExecutionOptions = { ...DEFAULT_EXECUTION, ...p.execution };
  // quantity grid per symbol: the venue's table, else its default rule at the symbol's first price
  // in the dataset (not the replayed slice: the grid must not depend on where a replay starts)
  const lotSizes: LotSize[] = p.symbols.map((name, s) => {
    const close = cols[s]!.close;
    let ref = NaN;
    for (let i = 0; i < close.length; i++) {
      const v = close[i]!;
      if (v === v && v > 0) {
        ref = v;
        break;
      }
    }
    const ls = p.venue.lotSize ? p.venue.lotSize(name, ref) : defaultLotSize(ref);
    if (!(Number.isFinite(ls.step) && ls.step > 0)) throw new RangeError(`replay: quantity step of ${name} must be > 0, got ${ls.step}`);
    return ls;
  });
  const market = new Market(cols, data.time, data.timeframeMs, exec, lotSizes);
  market.seed(from);
  const time = data.time.slice(from, to);
  const factory: AccountFactory = p.accountFactory ?? createAccount;
  const asOfMs = from < nAll ? data.time[from]! : 0;

  const runners = p.setups.map((spec) => {
    const acct = factory({
      venue: p.venue,
      symbols: p.symbols,
      initialDeposit: p.initialCapital,
      defaultMode: spec.defaultMode,
      leverage: p.leverage,
      asOfMs,
      lotSizes,
    });
    const strat = p.strategy.create(p.params);
    return new SetupRunner(spec, acct, strat, market, p.symbols, from, time);
  });
  for (const r of runners) r.start();

  const bars = to - from;
  const onProgress = p.onProgress;
  const nr = runners.length;
  let alive = runners.filter((r) => !r.dead).length;
  for (let i = from; i < to; i++) {
    market.advance(i);
    const k = i - from;
    for (let j = 0; j < nr; j++) {
      const r = runners[j]!;
      if (r.dead) continue;
      r.step(i, k);
      if (r.dead) alive--;
    }
    if (alive === 0) break;
    if (onProgress && ((k + 1) & 0xffff) === 0) onProgress(k + 1);
  }
  if (onProgress && (bars & 0xffff) !== 0) onProgress(bars);
  return {
    symbols: [...p.symbols],
    bars,
    setups: runners.map((r) => r.output(bars)),
  };
}
