/**
 * A bar's events (DESIGN §4.2–4.3): funding, the gap liquidations at the open, market orders at
 * the open, then the intrabar path walked as τ ∈ [0, 3] — stop, take-profit and limit triggers
 * on the trade path, liquidations on the liquidation source, in τ order — with the margin ratio's
 * peak tracked over each stretch. The pure path functions are in ./path.ts.
 */
import type { Account, MarginPool } from '../account/types.js';
import type { Strategy } from '../strategy/types.js';
import type { Market, SeriesPool } from './market.js';
import { adverseOverStretch, bisectLine, firstNonPositive, highFirst, hitTime, PATH_HIGH, PATH_LEVEL, PATH_OUT, PATH_TAU, priceAt, rangeFrom, writePath } from './path.js';
import { shorten } from '../util/scratch-array.js';
import { diesWithPosition, digits15, slippedPrice, triggersUp, type PendingOrder } from './orders.js';
import { EventDetails } from './event-details.js';
import { checkSync, dropDead, LEVEL_NEAR, RunnerState } from './runner-state.js';
import { EngineInvariantError, type SetupSpec } from './types.js';

/**
 * NaN as a typed-array element: a literal NaN in one branch and an element in the other make the
 * optimiser box the element (an allocation per bar; see context.ts)
 */
const NAN_CELL = new Float64Array([Number.NaN]);

/** The event side of a setup's bar: everything the bar step calls when a bar has events. */
export abstract class IntrabarRunner extends RunnerState {
  /** the event loop's candidate orders (reused) */
  private readonly cand: PendingOrder[] = [];
  /**
   * the resting orders the bar's path reaches, in the order they trigger (τ, ties to the earlier order), with their τ
   * (reused; see runPath): collected once per bar with events, not again after each event
   */
  private due: PendingOrder[] = [];
  private dueTau: number[] = [];
  /** scratch of the merge sort of `due` */
  private dueTmp: PendingOrder[] = [];
  private dueTauTmp: number[] = [];
  /**
   * per symbol, its orders of `due` in the same order with the τ each was collected with, and the first of them not yet
   * met again from a later event (snapDue)
   */
  private symDue: PendingOrder[][] = [];
  private symDueTau: number[][] = [];
  private symDuePos: Int32Array = new Int32Array(0);
  /** the legs' signs the paths were built for (buildPaths: legSign under the pessimistic check, else 0) */
  private readonly pathLegs: Float64Array;
  // an explicit constructor with named parameters: a class without one may be compiled to
  // \`constructor(...args) { super(...args) }\`, whose spread runs the array iterator (a strategy that
  // replaced it would be handed the arguments: the market, whose columns hold the later bars)
  constructor(spec: SetupSpec, acct: Account, strat: Strategy, m: Market, symbols: readonly string[], fromIndex: number, time: Float64Array, pool?: SeriesPool) {
    super(spec, acct, strat, m, symbols, fromIndex, time, pool);
    this.pathLegs = new Float64Array(m.n);
  }

  /** adverse extreme of every position's symbol on the liquidation source (others: close marks) */
  protected adverse(i: number, out: Float64Array): void {
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
  protected quickTrigger(i: number): boolean {
    const m = this.m;
    for (let j = 0; j < this.nSingle; j++) {
      const s = this.sSym[j]!;
      const lp = this.sLp[j]!;
      // (a low or high within LEVEL_NEAR of it walks the path: runPath makes the threshold exact)
      if (this.sSide[j]! > 0) {
        let lo = m.lqLow[s]![i]!;
        if (lo !== lo) lo = m.tradeLow[s]![i]!;
        if (lo <= lp + LEVEL_NEAR * lp) return true;
      } else {
        let hi = m.lqHigh[s]![i]!;
        if (hi !== hi) hi = m.tradeHigh[s]![i]!;
        if (hi >= lp - LEVEL_NEAR * lp) return true;
      }
    }
    if (this.multi.length) {
      if (m.exec.crossCheck === 'pessimistic') {
        this.adverse(i, this.pbuf);
      } else {
        // the close; and the open, which gapLiquidations checks in every cross-check mode (§4.2): a
        // pool gapped through at the open and back by the close is liquidated at the open
        for (let s = 0; s < m.n; s++) this.pbuf[s] = m.closeMarks[s]!; // (no TypedArray.prototype.set: see context.ts typedLength)
        for (let j = 0; j < this.multi.length; j++) if (this.multi[j]!.breached(this.pbuf)) return true;
        for (let s = 0; s < m.n; s++) {
          const c = m.cols[s]!;
          let v = m.liqMark[s] === 1 ? c.markOpen[i]! : NAN_CELL[0]!;
          if (v !== v) v = c.open[i]!;
          this.pbuf[s] = v === v ? v : m.lastMarks[s]!;
        }
      }
      for (let j = 0; j < this.multi.length; j++) if (this.multi[j]!.breached(this.pbuf)) return true;
    }
    return false;
  }

  /**
   * Step 1: every funding stamp of bar i (in (previous open, this open]) settles, in time order across
   * the symbols (stamps of the same time: in the order of the symbols' names, Market.nameRank). A bar
   * coarser than the funding interval holds several stamps of a symbol, and a stamp a few ms past an
   * open (Binance) settles at the next open with the others': symbol by symbol they were booked out of
   * time order, and on an available-balance-first venue which wallet pays a payment depends on the
   * payments booked before it.
   */
  protected settleFunding(i: number): void {
    const fsAll = this.m.fundingStart;
    const cols = this.m.cols;
    const cur = this.fundCur;
    const rank = this.m.nameRank;
    const n = this.m.n;
    // the account values the positions at the open, where the stamps settle: what a venue taking
    // payments from the available balance first takes there, and what onFunding's transfers and
    // leverage changes are checked against (at the previous close's marks, a gapped open let a
    // strategy remove margin the open had already lost, for the insurance fund to make good)
    if (this.acct.pools().length > 0) this.markAt(0);
    // the bar's stamps of all symbols, as Market.advance counted them
    let left = this.m.fundingStamps;
    for (let s = 0; s < n; s++) cur[s] = fsAll[s]![i]!;
    while (left > 0) {
      let best = -1;
      let bt = 0;
      for (let s = 0; s < n; s++) {
        const e = cur[s]!;
        if (e < fsAll[s]![i + 1]!) {
          const t = cols[s]!.fundingTime[e]!;
          if (best < 0 || t < bt || (t === bt && rank[s]! < rank[best]!)) {
            best = s;
            bt = t;
          }
        }
      }
      this.settleOne(best, cur[best]!);
      cur[best] = cur[best]! + 1;
      left--;
    }
  }

  /** one funding event e of symbol s, for the position held now */
  private settleOne(s: number, e: number): void {
    if (this.acct.positionQty(s) === 0) return;
    const c = this.m.cols[s]!;
    const time = c.fundingTime[e]!;
    this.eventTime = time;
    const r = this.acct.applyFunding(s, c.fundingRate[e]!, c.fundingPrice[e]!, time);
    if (r) {
      this.dirty = true;
      this.changed = true;
      const st = this.strat;
      if (st.onFunding) {
        // (the settlement's amount is a getter: the info is written out, not spread)
        const info = { symbol: r.symbol, received: r.received, rate: r.rate, price: r.price, time };
        this.call('onFunding', () => checkSync(st.onFunding!(info, this.ctx), 'onFunding'));
      }
    }
  }

  // ---- intrabar path -------------------------------------------------------------------------

  /** whether a multi-leg cross pool's legs differ from those the paths were built for (buildPaths) */
  private legsMoved(): boolean {
    const a = this.legSign;
    const b = this.pathLegs;
    for (let s = 0; s < a.length; s++) if (a[s] !== b[s]) return true;
    return false;
  }

  protected buildPaths(i: number): void {
    const m = this.m;
    const mode = m.exec.intrabarPath;
    const pess = m.exec.crossCheck === 'pessimistic' && this.multi.length > 0;
    this.pathsBar = i;
    for (let s = 0; s < m.n; s++) this.pathLegs[s] = pess ? this.legSign[s]! : 0;
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
      const mo = m.liqMark[s] === 1 ? c.markOpen[i]! : NAN_CELL[0]!;
      // the mark path follows the trade path's order; a bar with a mark candle but no trade candle
      // has no trade path, so its mark candle's own extremes decide (nearest-first: the nearer one)
      const ownHiFirst = o !== o && mo === mo ? highFirst(mode, mo, c.markHigh[i]!, c.markLow[i]!) : hiFirst;
      const lqHiFirst = leg !== 0 ? leg < 0 : ownHiFirst;
      writePath(this.tp, s, o, h, l, cl, hiFirst);
      if (mo === mo) {
        writePath(this.lq, s, mo, c.markHigh[i]!, c.markLow[i]!, c.markClose[i]!, lqHiFirst);
        writePath(this.lqSingle, s, mo, c.markHigh[i]!, c.markLow[i]!, c.markClose[i]!, ownHiFirst);
      } else {
        writePath(this.lq, s, o, h, l, cl, lqHiFirst);
        writePath(this.lqSingle, s, o, h, l, cl, ownHiFirst);
      }
    }
  }

  /**
   * fill `out` with every symbol's liquidation-source price at τ where its pool is judged (absent →
   * last known): a leg of a multi-leg cross pool on the path its liquidation check reads (adverse-first
   * under the pessimistic check), any other symbol on its own path — also a leg left alone when its
   * pool dissolved mid-bar (legSign is the pools of the last refresh: call with them current)
   */
  protected pricesAt(tau: number, out: Float64Array): void {
    const m = this.m;
    const leg = this.legSign;
    for (let s = 0; s < m.n; s++) {
      const v = priceAt(leg[s] !== 0 ? this.lq : this.lqSingle, s, tau);
      out[s] = v === v ? v : m.lastMarks[s]!;
    }
  }

  /**
   * The account's marks at τ of this bar's path: every symbol's liquidation-source price there on
   * its own path (a symbol without one keeps its last). Set before a fill's booking and before the
   * funding settlements at the open (τ = 0, where every path is at its open), so that a fill's margin
   * checks, an available-first funding payment and onFunding's transfers and leverage changes value
   * the other positions where the path is, not at the previous close.
   */
  protected markAt(tau: number): void {
    this.marksAt(tau, this.fillMarks);
    this.acct.mark(this.fillMarks, this.fillSnap);
  }

  /**
   * The account's marks for a strategy's callback at τ (onFill, onLiquidation): the prices the pools
   * are judged at there (pricesAt: under the pessimistic check a multi-leg cross pool's legs on
   * their adverse-first path), `filled` at its fill price. A transfer or leverage change the callback
   * makes is checked against them, so it cannot leave a pool past its threshold at that very point
   * (checked on each leg's own path, a transfer out of the cross wallet passed and the cross pool
   * was liquidated at once on the adverse path, for the insurance fund to make good).
   */
  protected markForCallback(tau: number, filled = -1, price = Number.NaN): void {
    if (this.pathsBar !== this.bar) this.buildPaths(this.bar);
    // the pools after the fill or liquidation (pricesAt reads their legs)
    if (this.dirty) this.refresh();
    this.pricesAt(tau, this.fillMarks);
    if (filled >= 0) this.fillMarks[filled] = price;
    this.acct.mark(this.fillMarks, this.fillSnap);
  }

  /** every symbol's liquidation-source price at τ on its own path (trade order; absent → NaN, which Account.mark keeps at the last known price) */
  protected marksAt(tau: number, out: Float64Array): void {
    if (this.pathsBar !== this.bar) this.buildPaths(this.bar);
    for (let s = 0; s < this.m.n; s++) out[s] = priceAt(this.lqSingle, s, tau);
  }

  protected breachedAt(pool: MarginPool, tau: number): boolean {
    this.pricesAt(tau, this.pbuf);
    return pool.breached(this.pbuf);
  }

  /** pessimistic multi-leg check: first τ' ≥ τ (io[PATH_TAU]) with excess ≤ 0 (segment ends checked, bisected inside), into io[PATH_OUT] */
  protected multiHit(pool: MarginPool): void {
    this.curPool = pool;
    firstNonPositive(this.excessPath, this.io);
  }

  /** optimistic: close prices on the straight line from the prices at τ to the close where excess = 0 */
  protected optimisticPrices(pool: MarginPool, tau: number, out: Float64Array): void {
    const start = this.pbuf2;
    const end = this.adv;
    this.pricesAt(tau, start);
    this.pricesAt(3, end);
    this.curPool = pool;
    bisectLine(start, end, out, this.poolBreached);
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
  protected stretchPeak(a: number, b: number): void {
    if (!this.hasPositions || !this.pathPeaks) return;
    const m = this.m;
    const lq = this.lq;
    const sign = this.posSign;
    const out = this.adv;
    for (let s = 0; s < m.n; s++) {
      const q = sign[s]!;
      // a leg of a multi-leg pool on its adverse-first path, any other position on its own path
      if (q === 0) out[s] = NaN;
      else adverseOverStretch(this.legSign[s] !== 0 ? lq : this.lqSingle, s, q, a, b, out);
      const v = out[s]!;
      out[s] = v === v ? v : m.closeMarks[s]!;
    }
    this.acct.marginRatioInto!(out, this.ratioOut);
    const r = this.ratioOut[0]!;
    if (r > this.pathPeak[0]!) this.pathPeak[0] = r;
  }

  protected timeAt(tau: number): number {
    // + 1e-6 ms: τ computed in floating point lands a hair below a whole millisecond it reaches exactly (τ 1.204 of
    // an hour: 1,444,799.9999998 ms, stamped 1 ms early); the noise is below 1e-7 ms for a week's bar
    return this.m.time[this.bar]! + Math.floor((tau / 3) * this.m.tf + 1e-6);
  }

  /**
   * The `time` of the info an in-bar callback gets (onFill, onLiquidation): the open of the bar the
   * event happened in, not the event's time on the path (which the result records keep). That time
   * is linear in τ within a segment, so two fills of a bar told a strategy where the segment ends —
   * the bar's low, say, before the path got there — and it could act on it in the same bar (cancel a
   * stop the low would trigger).
   */
  protected get callbackTime(): number {
    return this.m.time[this.bar]!;
  }

  protected runPath(i: number): void {
    const m = this.m;
    const slip = m.exec.slippageBps / 1e4;
    this.pathPeak[0] = 0;
    // a pool whose liquidation threshold the open gapped through is liquidated at the open before
    // any order fills there (DESIGN §4.2: the venue liquidates while the price travels to the open)
    let openSeen = this.gapLiquidations(i);
    // a marketable limit arrives at its symbol's first candle: without one at this bar it waits (it
    // would otherwise rest from here and fill at its own price, not at that first open)
    const arrivals = this.arrivals;
    if (arrivals.length) {
      let w = 0;
      for (let j = 0; j < arrivals.length; j++) {
        const o = arrivals[j]!;
        if (o.dead || o.activeFrom < i) continue;
        if (o.activeFrom === i && !(m.cols[o.symbol]!.open[i]! === m.cols[o.symbol]!.open[i]!)) o.activeFrom = i + 1;
        arrivals[w++] = o;
      }
      shorten(arrivals, w);
    }
    // market orders at the open, in submission order (a callback's new orders join the queue's end
    // for a later bar; its cancels mark queued orders dead)
    const mq = this.marketQ;
    this.openQueueBusy = true;
    for (let j = 0; j < mq.length; j++) {
      let o = mq[j]!;
      if (o.dead || o.activeFrom > i) continue;
      const open = m.cols[o.symbol]!.open[i]!;
      if (!(open === open)) {
        this.retireOrder(o);
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
      const closePosition = o.closePosition;
      const reduceOnly = o.reduceOnly;
      const remaining = this.participationRemainder(o, i);
      let rest: PendingOrder | null = null;
      if (remaining !== 0) {
        // carry the rest to the next bar's open: the order stays in its place in the queue with
        // the rest and its own flags, and the slice filled now (an explicit reduce-only quantity
        // for a close-position or reduce-only order) executes as a copy; a close-position rest
        // still closes whatever the position is then, and dies with the position. The rest is
        // queued before the slice executes, so the slice's onFill sees it (openOrders, cancel)
        const slice = { ...o, dead: true };
        o.qty = remaining;
        o.closePosition = closePosition;
        o.reduceOnly = reduceOnly;
        o.activeFrom = i + 1;
        rest = o;
        o = slice;
      } else {
        this.retireOrder(o);
      }
      // a slice that is rejected (or cancelled by a liquidation) ends its order: the rest is not
      // carried, so one order is rejected once and never fills after its rejection
      if (o.qty !== 0 && !this.execute(o, slippedPrice(open, slip, o.qty > 0), 'taker', 0) && rest !== null) this.retireOrder(rest);
    }
    // (a strategy's error in a callback above ends the setup: the flag of a dead runner is never read again)
    this.openQueueBusy = false;
    if (mq.length) dropDead(mq);
    if (this.dirty) this.refresh();
    // paths depend on the positions after the open (pessimistic cross legs go adverse-first)
    this.buildPaths(i);

    const pess = m.exec.crossCheck === 'pessimistic';
    let tau = 0;
    // the resting orders' trigger times are found once, from the first event on (collectDue): the trade path is the
    // same all bar (buildPaths rewrites it with the same candles), an order's first crossing at or after τ is the same
    // from any later τ before it (but for an order already at or beyond its level at the later τ in doubles, met there:
    // snapDue), and an order placed during the bar executes from the next one; orders that leave
    // (filled, cancelled, died with a position) are skipped. Collected again after every event, a bar in which n
    // orders filled cost n² (16,000 limits filled in one bar: 48 s)
    let dueBuilt = false;
    let duePos = 0;
    // the τ the orders were last met again from (snapDue): collectDue times them from the first one
    let snapTau = tau;
    // every event fills an order or liquidates a pool: a bar has at most as many as it has orders and symbols (a fixed
    // cap of 100,000 made a bar in which more than 100,000 orders filled an internal engine error)
    const maxEvents = 100000 + this.orders.length + 2 * m.n;
    for (let guard = 0; guard < maxEvents; guard++) {
      if (this.dirty) this.refresh();
      // the legs changed at the open itself (a stop or limit the open gapped through, a marketable limit): the paths
      // are built again for them, every path still at its open there. A leg opened at τ = 0 walks the adverse-first
      // path of the legs held from the open, as the same leg held into it does (it kept the path built for the
      // positions before: opened by a marketable limit, it walked its own path and its stop-loss filled before the
      // liquidation that the leg held into the open met first)
      if (tau === 0 && pess && this.legsMoved()) this.buildPaths(i);
      let best = Infinity;
      let kind = 0; // 1 single pool, 2 multi pool, 3 order
      let which = -1;
      // (the searches read τ and a level from io and write their answer there: no double crosses a call)
      const io = this.io;
      for (let j = 0; j < this.nSingle; j++) {
        // a single-symbol pool on its own liquidation-source path (trade order), also when the
        // symbol was a leg of a multi-leg pool when the paths were built (adverse-first in lq)
        io[PATH_TAU] = tau;
        io[PATH_LEVEL] = this.sLp[j]!;
        hitTime(this.lqSingle, this.sSym[j]!, this.sSide[j]! < 0, io);
        const t = io[PATH_OUT]!;
        if (t < best) {
          best = t;
          kind = 1;
          which = j;
        }
      }
      for (let j = 0; j < this.multi.length; j++) {
        let t = Infinity;
        if (pess) {
          io[PATH_TAU] = tau;
          this.multiHit(this.multi[j]!);
          t = io[PATH_OUT]!;
        } else if (this.breachedAt(this.multi[j]!, 3)) t = 3;
        if (t < best) {
          best = t;
          kind = 2;
          which = j;
        }
      }
      // the resting orders the rest of the path reaches: the first to trigger, ties to the earlier order
      let order: PendingOrder | null = null;
      if (!dueBuilt && this.book.any()) {
        dueBuilt = true;
        this.collectDue(i, tau);
      }
      if (dueBuilt) {
        const due = this.due;
        while (duePos < due.length && due[duePos]!.dead) duePos++;
        // an order the path is already at or beyond at the last event's point is met there (see snapDue)
        if (tau !== snapTau) {
          snapTau = tau;
          this.snapDue(tau, duePos);
        }
        if (duePos < due.length) {
          order = due[duePos]!;
          const tOrder = this.dueTau[duePos]!;
          if (tOrder < best) {
            best = tOrder;
            kind = 3;
          }
        }
      }
      // the positions held from τ to the event (or to the close) meet their worst point on the way
      this.stretchPeak(tau, kind === 0 ? 3 : best);
      if (kind === 0) {
        shorten(this.due, 0);
        shorten(this.dueTau, 0);
        if (dueBuilt) this.clearSymDue();
        return;
      }
      const prevTau = tau;
      tau = best;
      this.eventTime = this.timeAt(tau);
      if (kind === 1) {
        const s = this.sSym[which]!;
        const lp = this.sLp[which]!;
        const p = priceAt(this.lqSingle, s, tau);
        // past it at τ (a vertex of the path beyond it): that price; reached on the way: the liquidation price (digits15)
        const past = this.sSide[which]! > 0 ? p < lp : p > lp;
        const px = past ? p : digits15(lp);
        this.pricesAt(tau, this.pbuf);
        this.liquidateClosingAt(this.sPool[which]!, tau, s, px);
      } else if (kind === 2) {
        const pool = this.multi[which]!;
        const prices = this.pbuf;
        if (pess) this.pricesAt(tau, prices);
        else this.optimisticPrices(pool, prevTau, prices);
        this.liquidate(pool, tau, prices);
      } else {
        const o = order!;
        this.retireOrder(o);
        const p = priceAt(this.tp, o.symbol, tau);
        const up = triggersUp(o);
        // at or beyond the level: the level, or the price at τ when it was already past it (a gap at the open, an order
        // placed mid-bar beyond the price). A hit on the way is at the level itself: the interpolated price there is the
        // level to float noise (a stop at 15.81 filled at 15.809999999999999, its fee rounded off by 1e-8), so a price
        // within 1e-12 of it is the level
        const past = up ? p > o.price : p < o.price;
        const base = past && Math.abs(p - o.price) > 1e-12 * Math.abs(o.price) ? p : o.price;
        if (o.type === 'limit') {
          if (o.marketable && tau === 0 && o.activeFrom === i) {
            // a marketable limit takes liquidity as a market order does: the open ± slippage, but
            // never past its own price (it was at or better than the open, so the cap is ≥ the open)
            const px = slippedPrice(p, slip, o.qty > 0);
            this.execute(o, o.qty > 0 ? (px < o.price ? px : o.price) : px > o.price ? px : o.price, 'taker', tau);
          } else {
            // a resting limit the path gapped past (an open beyond it) filled on the way, while its symbol traded at
            // the limit: its pool is judged after the fill with the symbol there, and the rest of the way (to the
            // open) is the path's own liquidation check. Judged at the open it was refused, so an isolated dip-buy
            // in a crash gap vanished where cross filled it
            this.execute(o, o.price, 'maker', tau, base !== o.price ? o.price : NaN);
          }
        } else {
          this.execute(o, slippedPrice(base, slip, o.qty > 0), 'taker', tau);
        }
      }
    }
    throw new EngineInvariantError('the intrabar event loop did not terminate');
  }

  /**
   * `due` := the resting orders active at bar i that the trade path reaches from τ on, with the τ each triggers at
   * (`dueTau`), sorted by that τ, ties to the earlier order (the lower id), as the event loop takes them
   */
  private collectDue(i: number, tau: number): void {
    const m = this.m;
    const cand = this.cand;
    const tp = this.tp;
    const io = this.io;
    const due = this.due;
    const dueTau = this.dueTau;
    shorten(due, 0);
    shorten(dueTau, 0);
    io[PATH_TAU] = tau;
    for (let s = 0; s < m.n; s++) {
      if (!this.book.has(s)) continue;
      // the path's range from τ on: its price at τ and the corners after it (what hitTime crosses)
      rangeFrom(tp, s, io);
      this.book.reachable(s, io, PATH_OUT, PATH_HIGH, cand);
    }
    for (let j = 0; j < cand.length; j++) {
      const o = cand[j]!;
      if (o.activeFrom > i) continue;
      io[PATH_TAU] = tau;
      io[PATH_LEVEL] = o.price;
      hitTime(tp, o.symbol, triggersUp(o), io);
      const t = io[PATH_OUT]!;
      if (t < Infinity) {
        due.push(o);
        dueTau.push(t);
      }
    }
    shorten(cand, 0);
    this.sortDue();
    // each symbol's orders in the same order (snapDue walks them from the front)
    if (this.symDue.length !== m.n) {
      for (let s = this.symDue.length; s < m.n; s++) {
        this.symDue.push([]);
        this.symDueTau.push([]);
      }
      this.symDuePos = new Int32Array(m.n);
    } else this.clearSymDue();
    const sd = this.symDue;
    const st = this.symDueTau;
    for (let j = 0; j < this.due.length; j++) {
      const o = this.due[j]!;
      sd[o.symbol]!.push(o);
      st[o.symbol]!.push(this.dueTau[j]!);
    }
  }

  private clearSymDue(): void {
    for (let s = 0; s < this.symDue.length; s++) {
      shorten(this.symDue[s]!, 0);
      shorten(this.symDueTau[s]!, 0);
      this.symDuePos[s] = 0;
    }
  }

  /**
   * The orders timed once (collectDue) as each event's point meets them again: an order whose symbol is, at the event's
   * τ, already at or beyond its level is met there (hitTime from τ: τ), where its own crossing, computed in doubles,
   * may lie an ulp or so later — two symbols crossing their levels at the same point of the path (exactly τ 1.5) come
   * out at 1.4999999999999993 and 1.5, and another symbol's order between them would fill before an earlier id met at
   * the same point. Such an order is moved to τ among `due` (from `from` on, ties to the earlier order). Per symbol the
   * orders met are a prefix of its orders still to come (on a stretch of the path a level nearer the price is met
   * first), so each event costs a test per symbol and a move per order met early.
   */
  private snapDue(tau: number, from: number): void {
    const tp = this.tp;
    for (let s = 0; s < this.symDue.length; s++) {
      const list = this.symDue[s]!;
      const taus = this.symDueTau[s]!;
      let k = this.symDuePos[s]!;
      if (k >= list.length) continue;
      const p = priceAt(tp, s, tau);
      while (k < list.length) {
        const o = list[k]!;
        if (o.dead || taus[k]! <= tau) {
          k++;
          continue;
        }
        if (!(triggersUp(o) ? p >= o.price : p <= o.price)) break;
        k++;
        this.moveDue(o, tau, from);
      }
      this.symDuePos[s] = k;
    }
  }

  /** moves order o of `due` (at or after `from`) to τ, among the orders there by id */
  private moveDue(o: PendingOrder, tau: number, from: number): void {
    const due = this.due;
    const dueTau = this.dueTau;
    let k = from;
    while (k < due.length && due[k] !== o) k++;
    if (k === due.length) return;
    while (k > from && (dueTau[k - 1]! > tau || (dueTau[k - 1]! === tau && due[k - 1]!.id > o.id))) {
      due[k] = due[k - 1]!;
      dueTau[k] = dueTau[k - 1]!;
      k--;
    }
    due[k] = o;
    dueTau[k] = tau;
  }

  /**
   * sorts `due` (with `dueTau`) by τ, then id: a bottom-up merge sort written out (no Array.prototype.sort, which a
   * strategy of an earlier setup of this pass may have replaced)
   */
  private sortDue(): void {
    const n = this.due.length;
    if (n < 2) return;
    let a = this.due;
    let at = this.dueTau;
    let b = this.dueTmp;
    let bt = this.dueTauTmp;
    for (let k = b.length; k < n; k++) {
      b.push(a[0]!);
      bt.push(0);
    }
    for (let w = 1; w < n; w *= 2) {
      for (let lo = 0; lo < n; lo += 2 * w) {
        const mid = lo + w < n ? lo + w : n;
        const hi = lo + 2 * w < n ? lo + 2 * w : n;
        let x = lo;
        let y = mid;
        let k = lo;
        while (x < mid && y < hi) {
          // τ, then id (a total order: ids are unique)
          const ty = at[y]!;
          const tx = at[x]!;
          if (ty < tx || (ty === tx && a[y]!.id < a[x]!.id)) {
            b[k] = a[y]!;
            bt[k++] = ty;
            y++;
          } else {
            b[k] = a[x]!;
            bt[k++] = tx;
            x++;
          }
        }
        while (x < mid) {
          b[k] = a[x]!;
          bt[k++] = at[x++]!;
        }
        while (y < hi) {
          b[k] = a[y]!;
          bt[k++] = at[y++]!;
        }
      }
      const ta = a;
      const tat = at;
      a = b;
      at = bt;
      b = ta;
      bt = tat;
    }
    if (a !== this.due) {
      // the sorted run ended in the scratch arrays: swap the roles
      this.dueTmp = this.due;
      this.dueTauTmp = this.dueTau;
      this.due = a;
      this.dueTau = at;
    }
    shorten(this.dueTmp, 0);
    shorten(this.dueTauTmp, 0);
  }

  /**
   * Liquidates, at the open of bar i, every pool that is at or past its liquidation threshold there
   * (single-symbol pools: the open on the liquidation source at or beyond the liquidation price;
   * multi-symbol pools: excess ≤ 0 with every symbol at its open). Returns true when the positions
   * held into the open were valued at the open (marginRatioPeak) because something was liquidated.
   */
  protected gapLiquidations(i: number): boolean {
    if (this.dirty) this.refresh();
    if (!this.hasPositions) return false;
    // thresholds derived at an earlier bar, met near by this one's prices (a refresh of this bar has done it)
    this.nearLevels(i);
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
      for (let j = 0; j < this.multi.length && hit === null; j++) if (this.breachedAt(this.multi[j]!, 0)) hit = this.multi[j]!;
      if (hit === null) return valued;
      if (!valued && this.pathPeaks) this.stretchPeak(0, 0);
      valued = true;
      this.pricesAt(0, this.pbuf);
      this.liquidate(hit, 0, this.pbuf);
      this.refresh();
    }
    throw new EngineInvariantError('gap liquidations at the open did not terminate');
  }

  /** volume participation: clip o.qty to the cap and return the part carried to the next bar */
  protected participationRemainder(o: PendingOrder, i: number): number {
    const part = this.m.exec.participation;
    if (!part) return 0;
    // a close-position order that execute() refuses (flat, or the position now on the order's side)
    // is not sliced: sliced, it would trade as a reduce-only order of the position's opposite side
    // (nor is a reduce-only order that execute() refuses: flat, or the position on its side)
    const pos = this.acct.positionQty(o.symbol);
    if ((o.closePosition || o.reduceOnly) && (pos === 0 || pos > 0 === o.qty > 0)) return 0;
    const vol = this.m.cols[o.symbol]!.volume[i]!;
    const g = this.m.grids[o.symbol]!;
    // on the quantity grid: the cap rounds down; a cap below one step fills nothing this bar
    const capLots = g.lots(part.maxFraction * (vol === vol ? vol : 0), 'down');
    // a reduce-only order larger than the position is shrunk to a close (docs/margin.md) before it
    // is sliced: sliced at its own size it left a rest past the close, rejected at the next open.
    // A bar whose cap is below one step fills nothing and leaves the order as it is.
    const want = Math.abs(g.lots(o.closePosition ? pos : o.reduceOnly && capLots > 0 && Math.abs(o.qty) > Math.abs(pos) ? -pos : o.qty, 'nearest'));
    if (want <= capLots) return 0;
    const rest = g.qty(want - capLots);
    if (o.closePosition || o.reduceOnly) {
      // turn it into an explicit reduce-only slice; the rest keeps the original intent (runPath
      // carries it with the order's own flags)
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
   * Before a fill of symbol s at `price` (τ on the path), the pool holding s is liquidated instead,
   * the order cancelled with the pool's others, when
   * - valued at every symbol's liquidation-source price at τ (the prices its liquidation check reads
   *   there), the pool is at or past its threshold: the venue liquidates it before the order reaches
   *   the book (a multi-symbol cross pool under the optimistic check is judged mid-bar only here);
   * - or the fill reduces the position (a close, a reduce, the closing part of a flip) and, valued
   *   with s at the fill price, the pool would be bankrupt: its margin balance there no more than the
   *   fee of closing the position at that price. Booked, the fill would take more than the pool
   *   holds (an isolated position more than its margin); liquidated at that price, the insurance
   *   fund makes good the shortfall.
   * A reducing fill between the threshold and bankruptcy books as it is: the liquidation is judged on
   * the liquidation source, which the fill's own slippage or limit price does not move. A fill that
   * grows a position is judged after it, at the marks (Account.trade, immediateLiquidation).
   * Returns true when it liquidated.
   */
  protected liquidatedBeforeFill(s: number, pos: number, qty: number, price: number, liquidity: 'maker' | 'taker', tau: number): boolean {
    // `pos`: the account's own position, not hasPositions: an earlier fill at this open may have opened it
    // since the last refresh
    if (pos === 0) return false;
    if (this.dirty) this.refresh();
    // the paths are built at the open only when positions were held into it: a position opened by a
    // fill at this open is checked against this bar's prices, not a previous bar's
    if (this.pathsBar !== this.bar) this.buildPaths(this.bar);
    let pool: MarginPool | null = null;
    for (let j = 0; j < this.nSingle && pool === null; j++) if (this.sSym[j] === s) pool = this.sPool[j]!;
    for (let j = 0; j < this.multi.length && pool === null; j++) if (this.multi[j]!.symbols.includes(s)) pool = this.multi[j]!;
    if (pool === null) return false;
    const prices = this.pbuf;
    this.pricesAt(tau, prices);
    if (pool.breached(prices)) this.liquidate(pool, tau, prices);
    else {
      if (pos > 0 === qty > 0) return false;
      const atTau = prices[s]!;
      prices[s] = price;
      const fees = this.acct.venue.fees;
      const notional = Math.abs(pos) * price;
      const closeFee = notional * (liquidity === 'maker' ? fees.maker : fees.taker);
      // in doubles: two units (the booking rounds proceeds, basis and fee to a unit of 1e-8, half a unit each) and
      // the float error of sums of that size, so the exact booking of a fill judged solvent here cannot end below
      // zero (at 4e7 of notional a double's last bit is near a unit)
      const mb = pool.marginBalance(prices);
      if (mb - closeFee > 2e-8 + 16 * Number.EPSILON * (notional + Math.abs(mb))) return false;
      // closed at the fill's price; the record's trigger is the liquidation source at τ (a stop met on a trade wick the
      // mark never followed was recorded with the wick's price as its trigger and a margin ratio of 10, above the bar's peak)
      prices[s] = atTau;
      this.liquidateClosingAt(pool, tau, s, price);
    }
    if (this.dirty) this.refresh();
    return true;
  }

  /** fills `o` at `price`; false when it did not fill (rejected, or its pool liquidated first) */
  protected execute(o: PendingOrder, price: number, liquidity: 'maker' | 'taker', tau: number, ownAt = NaN): boolean {
    const s = o.symbol;
    const acct = this.acct;
    const pos = acct.positionQty(s);
    let qty = o.qty;
    const sym = this.ctx.symbols[s];
    // the order's own checks, which need no price, come first: an order they reject never fills, so it
    // is no reason to value the pool at its trade price (a close-position order facing a flipped
    // position does not liquidate a pool whose liquidation-source path never crossed its threshold)
    if (o.closePosition) {
      if (pos === 0) {
        this.reject(s, 'noPosition', `closePosition order #${o.id} on ${sym}: no open position`);
        return false;
      }
      if (pos > 0 === qty > 0) {
        this.reject(s, 'reduceOnlyViolation', `closePosition order #${o.id} on ${sym}: the position is now on the order's side`);
        return false;
      }
      qty = -pos;
    } else if (o.reduceOnly) {
      if (pos === 0 || pos > 0 === qty > 0) {
        this.reject(s, 'reduceOnlyViolation', `reduce-only order #${o.id} on ${sym} would ${pos === 0 ? 'open' : 'increase'} a position`);
        return false;
      }
      if (Math.abs(qty) > Math.abs(pos)) qty = -pos;
    }
    // an order the account refuses without a price (a mode other than the open position's: modeLocked) never fills,
    // so it is no reason to value the pool at its price
    const mode = this.perOrderMode ? o.mode : this.spec.defaultMode;
    const held = pos === 0 ? null : acct.positionMode(s);
    const locked = mode !== undefined && held !== null && held !== mode;
    if (!locked && this.liquidatedBeforeFill(s, pos, qty, price, liquidity, tau)) return false;
    // the account's margin checks (available balance, leverage tier) value the other positions at
    // their liquidation-source prices at this point of the path, as the check before the fill does:
    // at a gapped open the previous close's marks were used, unless the symbol happened to trade
    // earlier at the same open, so one order was accepted or refused depending on an unrelated fill
    this.markAt(tau);
    // a fill that may grow the position: its pool judged after it where the pools are judged at τ (pricesAt: a
    // multi-leg cross pool's legs on their adverse-first path under the pessimistic check)
    const grows = !(o.reduceOnly || o.closePosition) && (pos === 0 || pos > 0 === qty > 0 || Math.abs(qty) > Math.abs(pos));
    if (grows) {
      this.pricesAt(tau, this.pbuf);
      // (ownAt: where the symbol traded when a resting limit the path gapped past filled)
      if (ownAt === ownAt) this.pbuf[s] = ownAt;
    }
    const r = this.tally(
      acct.trade({
        symbol: s,
        qty,
        price,
        liquidity,
        mode,
        reduceOnly: o.reduceOnly || o.closePosition,
        time: this.eventTime,
        marks: grows ? this.pbuf : undefined,
        // kept on the fill's record (the audit: which order, of what type, with which tag)
        order: o.tag === undefined ? { id: o.id, type: o.type } : { id: o.id, type: o.type, tag: o.tag },
      }),
    );
    this.syncPositions();
    this.dirty = true;
    this.changed = true;
    if (!r.ok) return false;
    if (r.positionQty === 0) {
      // protective close-position orders die with the position, and so do resting reduce-only
      // limits (Binance expires them when the position closes; reduce-only stops and take-profits
      // stay and are refused only if they trigger with nothing to reduce)
      if (this.diesWithPos[s]! > 0) this.dropOrders((x) => x.symbol === s && diesWithPosition(x));
    }
    const st = this.strat;
    if (st.onFill) {
      this.markForCallback(tau, s, price);
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
        time: this.callbackTime,
      };
      this.call('onFill', () => checkSync(st.onFill!(info, this.ctx), 'onFill'));
    }
    return true;
  }

  /**
   * liquidates `pool` at τ with pbuf holding the liquidation-source prices there (its trigger): symbol s closes at `px`
   * (a liquidation price reached on the way, a bankrupt fill's price), the others at their pbuf prices
   */
  private liquidateClosingAt(pool: MarginPool, tau: number, s: number, px: number): void {
    const trigger = this.pbuf2;
    const prices = this.pbuf;
    for (let k = 0; k < prices.length; k++) trigger[k] = prices[k]!; // (no TypedArray.prototype.set: a strategy may have replaced it)
    prices[s] = px;
    this.liquidate(pool, tau, prices, trigger);
  }

  /** liquidates `pool` at τ of the path: its positions close at `prices`; `trigger` the liquidation-source prices at the trigger */
  protected liquidate(pool: MarginPool, tau: number, prices: Float64Array, trigger: Float64Array = prices): void {
    (this.details ??= new EventDetails(this.m.n)).liquidating(this.eventTime, this.acct, pool, prices, trigger);
    const out = this.acct.liquidate(pool, prices, this.eventTime);
    this.syncPositions();
    this.dirty = true;
    this.changed = true;
    this.liquidatedThisBar = true;
    // orders of liquidated symbols are cancelled
    if (this.orders.length) this.dropOrders((o) => out.symbols.includes(o.symbol));
    const st = this.strat;
    if (st.onLiquidation) {
      // the other positions valued where the pools are judged (markForCallback): onLiquidation's
      // transfers and leverage changes are checked there — at the open of a gapped bar, not at the
      // previous close; mid-bar, a multi-leg cross pool's legs on their adverse-first path
      this.markForCallback(tau);
      const info = { ...out, time: this.callbackTime };
      this.call('onLiquidation', () => checkSync(st.onLiquidation!(info, this.ctx), 'onLiquidation'));
    }
  }
}
