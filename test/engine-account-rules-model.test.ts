/**
 * replay() against a small independent model of the account's rules for leverage changes, margin
 * transfers, dated tier tables and mixed accounts, written from docs/margin.md (*Account*: setLeverage,
 * transferMargin, the rounding rule of every booking), docs/engine.md (*The bar step* 0 and 2) and
 * margin-spec §0 / §1.2 in decimal.js. What test/engine-barstep-model.test.ts leaves out:
 *
 * - requests at the knife edge, aimed with the model's own exact numbers: a transfer of the exact
 *   addable / removable limit ± a few 1e-9 (rounding to it or past it), amounts that round to 0 with
 *   and without room; lowering a cross leverage to the lowest leverage the available balance carries
 *   (± a relative 1e-12 … 1e-6), raising or lowering it while the available balance is negative;
 *   leverage exactly at the tier maximum and just above it, on flat and open positions;
 * - the bundled Binance tables of 2024-10-24 and 2026-05-03 with runs before, across and after the
 *   switch (BTCUSDT goes from 125× to 150× in its first bracket, 1000CATUSDT from 75× to 20×): the
 *   leverage checks, the transfer limits and the maintenance margin follow the table in force, open
 *   positions keep a leverage above the new maximum, and a position past its new maintenance margin
 *   is liquidated at the switch's open;
 * - mixed accounts with either default mode, the per-order mode, `modeLocked`; both cross checks;
 * - the maintenance models the limits read: MM on the mark notional, with an add-on rate (OKX) or on the entry
 *   notional (Bybit).
 *
 * Bars are flat (open = high = low = close) and move by gaps between bars, so every fill, liquidation
 * and check happens at an open or a close and the model needs no intrabar path. The model runs inside
 * the strategy's onBar (it steps the same bar first, from its own state), so a request can aim at its
 * exact limit; the engine's events, books, series (equity, maintenance margin) and the strategy-visible
 * answers (setLeverage / transferMargin return values, ctx.leverage) are compared exactly.
 */
import { readFileSync } from 'node:fs';
import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { replay, SETUPS } from '../src/engine/index.js';
import { setupSpec } from '../src/engine/setups.js';
import { getVenue } from '../src/venue/index.js';
import type { MarketData, SymbolColumns } from '../src/feed/types.js';
import type { StrategyContext, StrategyModule } from '../src/strategy/types.js';

const Dx = Decimal.clone({ precision: 60 });
type D = Decimal;
const D = (x: number | string | D) => new Dx(x);
const ZERO = D(0);
const R = (x: D) => x.toDecimalPlaces(8, Decimal.ROUND_HALF_EVEN);
const S = (x: D) => R(x).toFixed();
const HOUR = 3_600_000;
const TOL = D('1e-9'); // the fill's available-balance tolerance, docs/margin.md

// ---------------- the bundled brackets (margin-spec §1.2), both dates
interface Tier { floor: D; cap: D; mmr: D; maxLev: number; cum: D }
const NAMES = ['BTCUSDT', '1000CATUSDT', 'SOLUSDT'];
const P0 = [40000, 10, 150];
const SWITCH = Date.UTC(2026, 4, 3);
const readTable = (date: string) => {
  const t = JSON.parse(readFileSync(new URL(`../data/binance-tiers/binance-usdm-${date}.json`, import.meta.url), 'utf8')).symbols as Record<string, number[][]>;
  return NAMES.map((n) => t[n]!.map((r) => ({ floor: D(r[0]!), cap: D(r[1]!), mmr: D(r[2]!), maxLev: r[3]!, cum: D(r[4]!) })));
};
const OLD = readTable('2024-10-24'), NEW = readTable('2026-05-03');
/** the table in force at t: the latest snapshot ≤ t, else the earliest (docs/margin.md, Tables) */
const tableAt = (t: number) => (t >= SWITCH ? NEW : OLD);
const tierOf = (tb: Tier[], n: D) => { let t = tb[0]!; for (const x of tb) if (n.gte(x.floor)) t = x; return t; };
const mmOf = (tb: Tier[], n: D) => { const t = tierOf(tb, n); return n.times(t.mmr).minus(t.cum); };

function rng(seed: number) {
  let a = (seed * 2654435761) >>> 0 || 1;
  return () => { a ^= a << 13; a >>>= 0; a ^= a >>> 17; a ^= a << 5; a >>>= 0; return a / 4294967296; };
}
const r5 = (x: number) => Number(x.toPrecision(5));

// ---------------- data: flat bars moving by gaps
const NICE = [1, 1.25, 1.6, 2, 2.5, 3.2, 4, 5, 6.4, 8, 10];
interface Case { n: number; tf: number; time: number[]; px: number[][] }
function genCase(rand: () => number, ns: number): Case {
  const tf = [HOUR, 4 * HOUR][Math.floor(rand() * 2)]!;
  const n = 10 + Math.floor(rand() * 14);
  // before, across or after the 2026-05-03 switch
  const where = rand();
  const T0 = where < 0.2 ? Date.UTC(2025, 5, 1) : where < 0.85 ? SWITCH - Math.floor(rand() * n) * tf - (rand() < 0.3 ? HOUR / 2 : 0) : SWITCH + 7 * 86_400_000;
  const time = Array.from({ length: n }, (_, i) => T0 + i * tf);
  const vol = [0.005, 0.03, 0.12][Math.floor(rand() * 3)]!;
  const px = Array.from({ length: ns }, (_, k) => {
    let p = P0[k]!;
    return Array.from({ length: n }, () => {
      p = r5(p * (1 + (rand() - 0.52) * 2 * vol));
      // now and then a price whose mantissa is 2^a·5^b, so that a bracket floor is a whole number of lots there
      if (rand() < 0.15) { const e = 10 ** Math.floor(Math.log10(p)); p = NICE.reduce((b, m) => (Math.abs(m * e - p) < Math.abs(b - p) ? m * e : b), e); }
      return p;
    });
  });
  return { n, tf, time, px };
}
function toData(c: Case, names: string[]): MarketData {
  const { n } = c;
  const columns: SymbolColumns[] = c.px.map((p, k) => {
    const nan = () => new Float64Array(n).fill(NaN);
    return {
      symbol: names[k]!, present: new Uint8Array(n).fill(1),
      open: Float64Array.from(p), high: Float64Array.from(p), low: Float64Array.from(p), close: Float64Array.from(p),
      volume: new Float64Array(n).fill(1e12), markAtBarTimeframe: false,
      markOpen: nan(), markHigh: nan(), markLow: nan(), markClose: nan(),
      fundingStart: new Int32Array(n + 1), fundingTime: new Float64Array(0), fundingRate: new Float64Array(0), fundingPrice: new Float64Array(0),
    };
  });
  return { dataset: 'rules', venue: 'binance-usdm', timeframe: c.tf === HOUR ? '1h' : '4h', timeframeMs: c.tf, time: Float64Array.from(c.time), symbols: names, columns, hashes: {} };
}

// ---------------- the plan: what the strategy asks at each close, some of it aimed at the model's limits
type Act =
  | { k: 'order'; s: number; lots: number; mode?: 'isolated' | 'cross' }
  | { k: 'floor'; s: number; tier: number; off: number; sell: boolean } // an order leaving the notional at a bracket floor (+ off lots)
  | { k: 'close'; s: number }
  | { k: 'lev'; s: number; L: number }
  | { k: 'levEdge'; s: number; eps: number } // lower a cross leverage to (lowest carried) × (1 + eps)
  | { k: 'levMax'; s: number; above: number } // the tier maximum at the current notional + above
  | { k: 'xfer'; s: number; amt: number }
  | { k: 'xferEdge'; s: number; add: boolean; delta: number }; // ± (limit + delta)
const EDGE_DELTAS = [0, 0, 4e-9, -4e-9, 6e-9, -6e-9, 1e-8, -1e-8, 1e-6, 3e-9];
const LEV_EPS = [0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-6, -1e-6, 0.1, -0.1];
function genPlan(rand: () => number, n: number, ns: number, cap: number): Act[][] {
  return Array.from({ length: n }, () => {
    const a: Act[] = [];
    const m = rand() < 0.7 ? 1 + Math.floor(rand() * 4) : 0;
    for (let j = 0; j < m; j++) {
      const s = Math.floor(rand() * ns);
      const u = rand();
      if (u < 0.32) {
        const notional = cap * Math.exp(Math.log(0.1) + rand() * Math.log(400));
        let lots = Math.max(1, Math.round((notional / P0[s]!) * 1000));
        if (rand() < 0.45) lots = -lots;
        const mr = rand();
        a.push({ k: 'order', s, lots, mode: mr < 0.45 ? 'isolated' : mr < 0.9 ? 'cross' : undefined });
      } else if (u < 0.35) a.push({ k: 'floor', s, tier: 1 + Math.floor(rand() * 3), off: [0, 0, -1, 1][Math.floor(rand() * 4)]!, sell: rand() < 0.4 });
      else if (u < 0.38) a.push({ k: 'close', s });
      else if (u < 0.5) a.push({ k: 'lev', s, L: rand() < 0.03 ? 0.5 : 1 + Math.floor(rand() * 160) });
      else if (u < 0.6) a.push({ k: 'levEdge', s, eps: LEV_EPS[Math.floor(rand() * LEV_EPS.length)]! });
      else if (u < 0.67) a.push({ k: 'levMax', s, above: rand() < 0.5 ? 0 : [1e-9, 1, -1][Math.floor(rand() * 3)]! });
      else if (u < 0.77) a.push({ k: 'xfer', s, amt: Number(((rand() - 0.45) * cap * 0.05).toFixed(rand() < 0.15 ? 9 : 2)) });
      else a.push({ k: 'xferEdge', s, add: rand() < 0.5, delta: EDGE_DELTAS[Math.floor(rand() * EDGE_DELTAS.length)]! });
    }
    return a;
  });
}

// ---------------- the model
type Ev = Record<string, unknown>;
interface Pos { lots: number; basis: D; mode: 'isolated' | 'cross'; wallet: D }
interface Ord { s: number; lots: number; mode?: 'isolated' | 'cross'; close: boolean; side: number }
interface Opts { setup: 'isolated' | 'cross' | 'mixed'; defMode: 'isolated' | 'cross'; lev0: number; cap: string; taker: number; crossCheck: 'pessimistic' | 'optimistic'; mm: 'mark' | 'extra' | 'entry' }
const EXTRA_RATE = D('0.0005');

class Model {
  readonly ev: Ev[] = [];
  readonly answers: unknown[] = [];
  readonly marks: [number, number][] = [];
  cw: D;
  pos: (Pos | null)[];
  lev: number[];
  tb: Tier[][];
  orders: Ord[] = [];
  mk: D[];
  tableAt = tableAt;
  books = { fees: ZERO, rpnl: ZERO, pen: ZERO, ins: ZERO };
  stats: Record<string, number>;

  constructor(readonly c: Case, readonly o: Opts, stats: Record<string, number>) {
    this.cw = R(D(o.cap));
    this.pos = c.px.map(() => null);
    this.lev = c.px.map(() => o.lev0);
    this.tb = tableAt(c.time[0]!);
    this.mk = c.px.map((p) => D(p[0]!));
    this.stats = stats;
  }
  q = (p: Pos) => D(p.lots).div(1000);
  upnl = (p: Pos, m: D) => this.q(p).times(m).minus(p.lots > 0 ? p.basis : p.basis.neg());
  notional = (p: Pos, m: D) => this.q(p).abs().times(m);
  /** the notional a leverage's tier is chosen by: the maintenance tier's basis (Q × mark, or Q × entry = the cost basis on an entry-basis venue) */
  levNotional = (p: Pos, m: D) => (this.o.mm === 'entry' ? p.basis : this.notional(p, m));
  /** the venue's maintenance model (docs/margin.md): on the mark notional, + an add-on rate (OKX), or on the entry notional (Bybit) */
  mmPos = (s: number, p: Pos) => {
    if (this.o.mm === 'entry') return mmOf(this.tb[s]!, p.basis);
    const n = this.notional(p, this.mk[s]!);
    return this.o.mm === 'extra' ? mmOf(this.tb[s]!, n).plus(n.times(EXTRA_RATE)) : mmOf(this.tb[s]!, n);
  };
  crossLegs() { const r: number[] = []; this.pos.forEach((p, s) => { if (p && p.mode === 'cross') r.push(s); }); return r; }
  /** Binance available balance: cross wallet + Σ cross (uPnL − IM) */
  available() { let a = this.cw; for (const s of this.crossLegs()) { const p = this.pos[s]!; a = a.plus(this.upnl(p, this.mk[s]!)).minus(this.notional(p, this.mk[s]!).div(this.lev[s]!)); } return a; }
  excess(ps: number[]) {
    const p0 = this.pos[ps[0]!]!;
    let a = p0.mode === 'isolated' ? p0.wallet : this.cw;
    for (const s of ps) { const p = this.pos[s]!; a = a.plus(this.upnl(p, this.mk[s]!)).minus(this.mmPos(s, p)); }
    return a;
  }
  pools() { const out: number[][] = []; this.pos.forEach((p, s) => { if (p && p.mode === 'isolated') out.push([s]); }); const cl = this.crossLegs(); if (cl.length) out.push(cl); return out; }
  addable() { let mm = ZERO; for (const s of this.crossLegs()) mm = mm.plus(this.mmPos(s, this.pos[s]!)); return Decimal.max(0, Decimal.min(this.cw.minus(mm), this.available())) as D; }
  removable(s: number) {
    const p = this.pos[s]!; const m = this.mk[s]!;
    return Decimal.max(0, Decimal.min(p.wallet.minus(this.mmPos(s, p)), p.wallet.plus(this.upnl(p, m)).minus(this.notional(p, m).div(this.lev[s]!)))) as D;
  }
  rej(t: number, s: number, reason: string) { this.ev.push({ type: 'rejection', time: t, symbol: s, reason }); this.stats[`rej:${reason}`] = (this.stats[`rej:${reason}`] ?? 0) + 1; }

  liquidate(ps: number[], t: number) {
    const iso = this.pos[ps[0]!]!.mode === 'isolated';
    const margin = iso ? this.pos[ps[0]!]!.wallet : this.cw;
    let rp = ZERO;
    const px: number[] = [];
    for (const s of ps) {
      const p = this.pos[s]!;
      const pr = R(this.q(p).abs().times(this.mk[s]!));
      rp = rp.plus(p.lots > 0 ? pr.minus(p.basis) : p.basis.minus(pr));
      px.push(this.mk[s]!.toNumber());
      this.pos[s] = null;
      this.orders = this.orders.filter((x) => x.s !== s);
    }
    // binance-usdm: the trader loses the pool's remaining margin; below zero the insurance fund covers it
    const rem = margin.plus(rp);
    const pen = rem.lt(0) ? ZERO : rem, ins = rem.lt(0) ? rem.neg() : ZERO;
    this.books.rpnl = this.books.rpnl.plus(rp); this.books.pen = this.books.pen.plus(pen); this.books.ins = this.books.ins.plus(ins);
    if (!iso) this.cw = ZERO;
    this.stats.liquidations!++;
    this.ev.push({ type: 'liquidation', time: t, symbols: ps, prices: px, penalty: S(pen), insuranceDraw: S(ins), realizedPnl: S(rp) });
  }

  trade(od: Ord, t: number) {
    const s = od.s, p = this.pos[s], price = this.mk[s]!;
    let lots = od.lots;
    if (od.close) {
      if (!p) return; // the close-position order died with its position
      if (Math.sign(p.lots) === od.side) { this.rej(t, s, 'reduceOnlyViolation'); return; }
      lots = -p.lots;
    }
    if (p && this.o.setup === 'mixed' && od.mode && od.mode !== p.mode) { this.rej(t, s, 'modeLocked'); return; }
    const mode = p ? p.mode : this.o.setup === 'mixed' ? (od.mode ?? this.o.defMode) : this.o.defMode;
    const cur = p ? p.lots : 0, next = cur + lots;
    const closed = p && Math.sign(lots) !== Math.sign(cur) ? Math.min(Math.abs(lots), Math.abs(cur)) : 0;
    const opened = Math.abs(lots) - closed;
    // leverage against the tier at the resulting notional, when exposure grows: the basis the maintenance tier is chosen by
    // (docs/margin.md, Trades: Q × the fill price, or on an entry-basis venue the cost basis it keeps plus the fill's)
    const after = this.o.mm === 'entry' && p && closed === 0 ? p.basis.plus(D(opened).div(1000).times(price)) : D(Math.abs(next)).div(1000).times(price);
    if (opened > 0 && this.lev[s]! > tierOf(this.tb[s]!, after).maxLev) { this.rej(t, s, 'exceedsMaxLeverage'); return; }
    // the top tier's cap: the largest position the table allows at any leverage
    if (opened > 0 && after.gt(this.tb[s]!.at(-1)!.cap)) { this.rej(t, s, 'exceedsMaxLeverage'); return; }
    const snap = { cw: this.cw, pos: this.pos.map((x) => (x ? { ...x } : null)), books: { ...this.books } };
    let rp = ZERO;
    if (closed > 0) {
      const full = closed === Math.abs(cur);
      const proceeds = R(D(closed).div(1000).times(price));
      const rel = full ? p!.basis : R(p!.basis.times(closed).div(Math.abs(cur)));
      rp = cur > 0 ? proceeds.minus(rel) : rel.minus(proceeds);
      this.cw = this.cw.plus(rp); this.books.rpnl = this.books.rpnl.plus(rp);
      if (p!.mode === 'isolated') { const w = full ? p!.wallet : R(p!.wallet.times(closed).div(Math.abs(cur))); this.cw = this.cw.plus(w); p!.wallet = p!.wallet.minus(w); }
      p!.basis = p!.basis.minus(rel);
      p!.lots = cur + Math.sign(lots) * closed;
      if (p!.lots === 0) this.pos[s] = null;
    }
    if (opened > 0) {
      let pp = this.pos[s];
      if (!pp) { pp = { lots: 0, basis: ZERO, mode, wallet: ZERO }; this.pos[s] = pp; }
      const nb = R(D(opened).div(1000).times(price));
      pp.lots = next; pp.basis = pp.basis.plus(nb);
      if (pp.mode === 'isolated') { const im = R(nb.div(this.lev[s]!)); this.cw = this.cw.minus(im); pp.wallet = pp.wallet.plus(im); }
    }
    const fee = R(D(Math.abs(lots)).div(1000).times(price).times(this.o.taker));
    this.cw = this.cw.minus(fee); this.books.fees = this.books.fees.plus(fee);
    if (opened > 0 && this.available().lt(TOL.neg())) {
      this.cw = snap.cw; this.pos = snap.pos; this.books = snap.books;
      this.rej(t, s, 'insufficientMargin');
      return;
    }
    // a fill that grows exposure and leaves its pool at or past the threshold at the marks (here the fill
    // price: a leg added to a cross pool whose other leg keeps a leverage above the new table's maximum,
    // available ≥ 0 with IM < MM) would be liquidated at once: refused (docs/engine.md, step 2)
    const own = opened > 0 ? this.pools().find((x) => x.includes(s)) : undefined;
    if (own && this.excess(own).lte(0)) {
      this.cw = snap.cw; this.pos = snap.pos; this.books = snap.books;
      this.stats.immediate!++;
      this.rej(t, s, 'immediateLiquidation');
      return;
    }
    if (!this.pos[s]) this.orders = this.orders.filter((x) => !(x.close && x.s === s));
    this.stats.fills!++;
    this.ev.push({ type: 'fill', time: t, symbol: s, qty: lots / 1000, price: price.toNumber(), fee: S(fee), realizedPnl: S(rp), positionQty: next / 1000 });
  }

  /** bar i up to the close: tier table, gap liquidations, market orders, mark to market */
  step(i: number) {
    const t0 = this.c.time[i]!;
    this.tb = tableAt(t0);
    this.mk = this.c.px.map((p) => D(p[i]!));
    for (const ps of this.pools()) if (this.pos[ps[0]!] && this.excess(ps).lte(0)) { this.stats.gap!++; if (i > 0 && this.tb !== tableAt(this.c.time[i - 1]!)) this.stats.switchLiq!++; this.liquidate(ps, t0); }
    const queue = this.orders;
    this.orders = queue.slice();
    for (const od of queue) {
      if (!this.orders.includes(od)) continue;
      this.orders = this.orders.filter((x) => x !== od);
      const ps = this.pools().find((x) => x.includes(od.s));
      if (ps && this.excess(ps).lte(0)) { this.stats.beforeFill!++; this.liquidate(ps, t0); continue; }
      this.trade(od, t0);
    }
    // the flat path: a pool past its threshold after the open's fills (none: a fill that would leave it there is
    // refused in trade) is liquidated at the open; a multi-leg cross pool under the optimistic check at the close,
    // stamped open + timeframe (docs/engine.md, step 3)
    for (const ps of this.pools()) {
      if (!this.pos[ps[0]!] || this.excess(ps).gt(0)) continue;
      this.stats.afterFill!++;
      this.liquidate(ps, ps.length > 1 && this.o.crossCheck === 'optimistic' ? t0 + this.c.tf : t0);
    }
    let eq = this.cw, mm = ZERO;
    this.pos.forEach((p, s) => { if (p) { eq = eq.plus(p.mode === 'isolated' ? p.wallet : 0).plus(this.upnl(p, this.mk[s]!)); mm = mm.plus(this.mmPos(s, p)); } });
    this.marks.push([eq.toNumber(), mm.toNumber()]);
  }

  /**
   * The engine's margin checks run on doubles (docs/margin.md): a sum of terms as large as the notionals carries a
   * rounding error of a few 1e-16 of them, which at 1e7 USDT is as large as the 1e-9 tolerance. A check whose exact
   * slack is within that noise can go either way; there the model takes the engine's answer (counted) and goes on.
   */
  fits(slack: D, hint: boolean): boolean {
    let scale = this.cw.abs();
    this.pos.forEach((p, s) => { if (p) scale = scale.plus(p.wallet.abs()).plus(this.notional(p, this.mk[s]!)).plus(p.basis); });
    if (slack.abs().lte(scale.times('4e-16'))) { this.stats.knife!++; return hint; }
    return slack.gte(0);
  }

  setLeverage(s: number, L: number, t: number, hint: boolean): boolean {
    const p = this.pos[s];
    if (!Number.isFinite(L) || L < 1) { this.rej(t, s, 'invalidLeverage'); return false; }
    if (L > tierOf(this.tb[s]!, p ? this.levNotional(p, this.mk[s]!) : ZERO).maxLev) { this.rej(t, s, 'exceedsMaxLeverage'); return false; }
    if (p && L < this.lev[s]!) {
      if (p.mode === 'isolated') { this.rej(t, s, 'leverageLocked'); return false; }
      const old = this.lev[s]!;
      this.lev[s] = L;
      if (!this.fits(this.available().plus(TOL), hint)) { this.lev[s] = old; this.rej(t, s, 'insufficientMargin'); return false; }
      this.stats.crossLowered!++;
    }
    if (p && L > this.lev[s]! && this.available().lt(0)) this.stats.raiseNegative!++;
    this.lev[s] = L;
    return true;
  }

  transfer(s: number, amount: number, t: number, hint: boolean): boolean {
    const p = this.pos[s];
    if (!p || p.mode !== 'isolated') { this.rej(t, s, 'noPosition'); return false; }
    if (!Number.isFinite(amount) || amount === 0) { this.rej(t, s, 'invalidQuantity'); return false; }
    const amt = R(D(amount));
    if (amt.isZero()) { this.rej(t, s, 'invalidQuantity'); return false; }
    // margin does not go to a pool past its liquidation threshold at the marks (by more than the tolerance): added, the
    // position's own; removed, the cross pool (when a cross position is open). The venue liquidates it first
    // (docs/margin.md, transferMargin)
    const into = amt.gt(0) ? [s] : this.crossLegs();
    if (into.length && !this.fits(this.excess(into).plus(TOL), hint)) { this.rej(t, s, 'immediateLiquidation'); this.stats.xferPast!++; return false; }
    // the rounded amount against the limit, with the margin checks' 1e-9 USDT tolerance (docs/margin.md, transferMargin)
    if (amt.gt(0) && !this.fits(this.addable().plus(TOL).minus(amt), hint)) { this.rej(t, s, 'insufficientMargin'); return false; }
    if (amt.lt(0) && !this.fits(this.removable(s).plus(TOL).plus(amt), hint)) { this.rej(t, s, 'exceedsRemovableMargin'); return false; }
    this.cw = this.cw.minus(amt); p.wallet = p.wallet.plus(amt);
    this.stats.transfers!++;
    this.ev.push({ type: 'transfer', time: t, symbol: s, amount: S(amt) });
    return true;
  }

  /** the strategy's requests at the close of bar i, stamped with the next open; `act` forwards each to the engine */
  requests(i: number, acts: Act[], engine: { lev(s: number, L: number): boolean; xfer(s: number, a: number): boolean; order(s: number, lots: number, mode?: 'isolated' | 'cross'): void; close(s: number): void; leverage(s: number): number }) {
    const tm = this.c.time[i + 1] ?? this.c.time[i]! + this.c.tf;
    for (const a of acts) {
      const p = this.pos[a.s];
      if (a.k === 'floor') {
        // the position the order leaves is worth a bracket's floor at the next open (floors are inclusive), when it is a
        // whole number of lots there; the leverage check then meets the floor's tier
        const next = this.c.px[a.s]![i + 1];
        if (next === undefined) continue;
        const floor = this.tableAt(this.c.time[i + 1]!)[a.s]![a.tier]!.floor;
        const want = floor.times(1000).div(next);
        if (!want.isInteger()) continue;
        const target = (a.sell ? -1 : 1) * (want.toNumber() + a.off);
        const lots = target - (p ? p.lots : 0);
        if (lots === 0) continue;
        this.stats.floorOrders!++;
        this.orders.push({ s: a.s, lots, close: false, side: Math.sign(lots) });
        engine.order(a.s, lots);
        continue;
      }
      if (a.k === 'order') { this.orders.push({ s: a.s, lots: a.lots, mode: a.mode, close: false, side: Math.sign(a.lots) }); engine.order(a.s, a.lots, a.mode); continue; }
      if (a.k === 'close') {
        if (!p) this.rej(tm, a.s, 'noPosition'); else this.orders.push({ s: a.s, lots: -p.lots, close: true, side: -Math.sign(p.lots) });
        engine.close(a.s);
        continue;
      }
      let L = NaN, amount = NaN;
      if (a.k === 'lev') L = a.L;
      else if (a.k === 'levMax') L = tierOf(this.tb[a.s]!, p ? this.levNotional(p, this.mk[a.s]!) : ZERO).maxLev + a.above;
      else if (a.k === 'levEdge') {
        // the lowest leverage the available balance carries: N / (available + N / L_now)
        if (!p || p.mode !== 'cross') continue;
        const N = this.notional(p, this.mk[a.s]!);
        const room = this.available().plus(N.div(this.lev[a.s]!));
        if (room.lte(0)) { L = Math.max(1, this.lev[a.s]! / 2); this.stats.levNegative!++; }
        else L = Math.max(1, N.div(room).times(1 + a.eps).toNumber());
        if (L >= this.lev[a.s]!) continue;
        this.stats.levEdge!++;
      } else if (a.k === 'xfer') amount = a.amt;
      else {
        if (!p || p.mode !== 'isolated') continue;
        const lim = a.add ? this.addable() : this.removable(a.s);
        amount = (a.add ? 1 : -1) * lim.plus(a.delta).toNumber();
        if (amount === 0) continue;
        this.stats.xferEdge!++;
      }
      if (a.k === 'lev' || a.k === 'levMax' || a.k === 'levEdge') {
        const got = engine.lev(a.s, L);
        const want = this.setLeverage(a.s, L, tm, got);
        this.answers.push([`lev ${a.s} ${L}`, want, got, this.lev[a.s], engine.leverage(a.s)]);
      } else {
        const got = engine.xfer(a.s, amount);
        const want = this.transfer(a.s, amount, tm, got);
        this.answers.push([`xfer ${a.s} ${amount}`, want, got]);
      }
    }
  }

  finalBooks() {
    let wallet = this.cw;
    for (const p of this.pos) if (p && p.mode === 'isolated') wallet = wallet.plus(p.wallet);
    return { initialDeposit: S(D(this.o.cap)), wallet: S(wallet), realizedPnl: S(this.books.rpnl), fees: S(this.books.fees), fundingReceived: '0', fundingPaid: '0', liquidationPenalties: S(this.books.pen), insuranceDraws: S(this.books.ins) };
  }
}

function strategyOf(c: Case, plan: Act[][], names: string[], o: Omit<Opts, 'setup'>, models: Map<string, Model>, stats: Record<string, number>): StrategyModule {
  return {
    name: 'rules-model', description: 'x', params: z.object({}), symbols: () => names,
    create: () => {
      let m: Model | null = null;
      return {
        onBar(ctx: StrategyContext) {
          if (!m) {
            const setup = ctx.setup as Opts['setup'];
            // under isolated and cross every position takes the setup's mode; mixed: the order's, else its default
            m = new Model(c, { ...o, setup, defMode: setup === 'mixed' ? o.defMode : setup }, stats);
            models.set(ctx.setup, m);
          }
          m.step(ctx.bar);
          // what the engine answered is recorded next to what the model expects
          const engine = {
            lev: (s: number, L: number) => ctx.setLeverage(s, L),
            xfer: (s: number, a: number) => ctx.transferMargin(s, a),
            order: (s: number, lots: number, mode?: 'isolated' | 'cross') => void ctx.order({ symbol: s, qty: lots / 1000, type: 'market', mode }),
            close: (s: number) => void ctx.closePosition(s),
            leverage: (s: number) => ctx.leverage(s),
          };
          m.requests(ctx.bar, plan[ctx.bar] ?? [], engine);
        },
      };
    },
  };
}

const KEYS: Record<string, string[]> = {
  fill: ['time', 'symbol', 'qty', 'price', 'fee', 'realizedPnl', 'positionQty'],
  liquidation: ['time', 'symbols', 'prices', 'penalty', 'insuranceDraw', 'realizedPnl'],
  transfer: ['time', 'symbol', 'amount'],
  rejection: ['time', 'symbol', 'reason'],
};
const diff = (a: Ev | undefined, b: Ev | undefined) => {
  if (!a || !b) return 'missing';
  if (a.type !== b.type) return 'type';
  for (const k of KEYS[b.type as string]!) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return k;
  return null;
};

export function compareCase(seed: number) {
  const rand = rng(seed);
  const ns = 1 + Math.floor(rand() * 3);
  const c = genCase(rand, ns);
  const names = NAMES.slice(0, ns);
  const capN = [100, 1000, 20000, 500000][Math.floor(rand() * 4)]!;
  const plan = genPlan(rand, c.n, ns, capN);
  const lr = rand();
  const o = { defMode: (rand() < 0.5 ? 'isolated' : 'cross') as 'isolated' | 'cross', lev0: lr < 0.15 ? 125 : lr < 0.25 ? 20 : 1 + Math.floor(rand() * 75), cap: String(capN), taker: rand() < 0.3 ? 0 : 0.0005, crossCheck: 'pessimistic' as Opts['crossCheck'], mm: 'mark' as Opts['mm'] };
  const crossCheck: Opts['crossCheck'] = rand() < 0.5 ? 'pessimistic' : 'optimistic';
  o.crossCheck = crossCheck;
  const mr = rand();
  o.mm = mr < 0.2 ? 'extra' : mr > 0.8 ? 'entry' : 'mark';
  const venue = getVenue('binance-usdm', { id: 'rules', fees: { maker: 0.0002, taker: o.taker }, lotSizes: Object.fromEntries(names.map((x) => [x, { step: 0.001, minQty: 0.001 }])),
    ...(o.mm === 'extra' ? { maintenance: { extraRate: EXTRA_RATE.toNumber() } } : o.mm === 'entry' ? { maintenance: { basis: 'entry' } } : {}) } as never);
  const stats: Record<string, number> = { fills: 0, liquidations: 0, gap: 0, beforeFill: 0, afterFill: 0, immediate: 0, switchLiq: 0, floorOrders: 0, knife: 0, transfers: 0, xferEdge: 0, xferPast: 0, levEdge: 0, levNegative: 0, crossLowered: 0, raiseNegative: 0, answers: 0, events: 0, bars: 0 };
  const models = new Map<string, Model>();
  const out = replay({
    data: toData(c, names), symbols: names, strategy: strategyOf(c, plan, names, o, models, stats), params: {}, venue,
    setups: [SETUPS.isolated, SETUPS.cross, setupSpec('mixed', o.defMode)], initialCapital: o.cap, leverage: o.lev0,
    execution: { slippageBps: 0, participation: null, intrabarPath: 'nearest-first', crossCheck },
  });
  const msgs: string[] = [];
  for (const so of out.setups) {
    const where = `seed ${seed} ${so.setup.id} (${ns} symbols, first bar ${new Date(c.time[0]!).toISOString()}, tf ${c.tf / HOUR}h, ${JSON.stringify(o)}, ${crossCheck})`;
    const m = models.get(so.setup.id);
    if (so.error || !m) { msgs.push(`${where}: ${so.error ?? 'no model'}`); continue; }
    // the last bar's close: the model steps it here (onBar ran for it, but the list is complete only now)
    const ee = so.events as unknown as Ev[];
    let msg = '';
    for (const [k, a] of m.answers.entries()) {
      const [what, want, got, lw, lg] = a as [string, boolean, boolean, number?, number?];
      if (want !== got || lw !== lg) { msg = `answer ${k} ${what}: model ${want} (leverage ${lw}) engine ${got} (leverage ${lg})`; break; }
    }
    for (let j = 0; j < Math.max(ee.length, m.ev.length) && !msg; j++) {
      const d = diff(ee[j], m.ev[j]);
      if (d) msg = `event ${j} (${d}): engine ${JSON.stringify(ee[j])} model ${JSON.stringify(m.ev[j])}`;
    }
    const near = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));
    for (let b = 0; b < m.marks.length && !msg; b++) {
      const [eq, mm] = m.marks[b]!;
      if (!near(so.series.equity[b]!, eq) || !near(so.series.maintenanceMargin[b]!, mm)) msg = `bar ${b}: equity/MM engine ${so.series.equity[b]} ${so.series.maintenanceMargin[b]} model ${eq} ${mm}`;
    }
    const eb = so.books as unknown as Record<string, string>;
    const mb = m.finalBooks() as Record<string, string>;
    if (!msg) for (const k of Object.keys(mb)) if (eb[k] !== mb[k]) { msg = `books.${k}: engine ${eb[k]} model ${mb[k]}`; break; }
    if (msg) msgs.push(`${where}: ${msg}`);
    if (msg && process.env.RULES_DUMP) {
      console.log(where, msg);
      console.log('ANSWERS', m.answers.map((a) => JSON.stringify(a)).join('\n'));
      console.log('ENGINE', ee.map((e) => JSON.stringify(e)).join('\n'));
      console.log('MODEL', m.ev.map((e) => JSON.stringify(e)).join('\n'));
    }
    stats.answers! += m.answers.length;
    stats.events! += ee.length;
    stats.bars! += m.marks.length;
  }
  return { msgs, stats };
}

describe('replay() vs an independent model of the account rules (leverage, transfers, dated tiers, mixed)', () => {
  it('agrees on every answer, event, booked amount, close valuation and the final books over seeded random cases', () => {
    const msgs: string[] = [];
    const total: Record<string, number> = {};
    // 3000 cases × 3 setups ≈ 5 s; RULES_CASES / RULES_FROM widen the sweep, RULES_VERBOSE prints the counts,
    // RULES_DUMP the answers and events of a disagreeing setup
    const N = Number(process.env.RULES_CASES ?? 3000);
    const from = Number(process.env.RULES_FROM ?? 1);
    for (let seed = from; seed < from + N; seed++) {
      const r = compareCase(seed);
      msgs.push(...r.msgs);
      for (const [k, v] of Object.entries(r.stats)) total[k] = (total[k] ?? 0) + v;
    }
    if (process.env.RULES_VERBOSE) console.log(JSON.stringify(total), msgs.length);
    expect(msgs.slice(0, 5)).toEqual([]);
    if (N >= 3000) {
      // the sweep reaches what it is meant to check (counts of the 3000 default cases, each setup counted)
      expect(total.xferEdge).toBeGreaterThan(8000); // transfers aimed at their exact limit ± a few 1e-9
      expect(total.levEdge).toBeGreaterThan(4000); // cross leverage lowered to the lowest one the balance carries
      expect(total.crossLowered).toBeGreaterThan(4000);
      expect(total.raiseNegative).toBeGreaterThan(250); // a raise with the available balance below 0
      expect(total.switchLiq).toBeGreaterThan(250); // positions past the new table's maintenance at the switch
      expect(total.immediate).toBeGreaterThan(0); // a fill refused as it would leave its pool past the threshold
      expect(total.afterFill).toBe(0); // so no fill leaves a pool to be liquidated after it
      expect(total.floorOrders).toBeGreaterThan(700); // positions left exactly at a bracket floor
      expect(total['rej:leverageLocked']).toBeGreaterThan(2000);
      expect(total['rej:modeLocked']).toBeGreaterThan(4000);
      expect(total['rej:exceedsRemovableMargin']).toBeGreaterThan(2500);
      expect(total['rej:invalidQuantity']).toBeGreaterThan(800); // transfers that round to 0
      expect(total.knife).toBeLessThan(total.xferEdge! / 10); // checks within the doubles' noise: few
    }
  });
});
