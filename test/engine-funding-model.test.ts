/**
 * replay() against an independent model of the documented bar step (docs/engine.md §0–§5,
 * docs/margin.md), written from the docs and margin-spec in decimal.js, not from src/account: funding
 * (bars that pay, funding times inside the previous bar, missing rows, every interval from 1 h to
 * 8 h, booking into the isolated wallet or available-balance-first, cross), maintenance tiers
 * (positions crossing brackets at mark, cum, the leverage check at the resulting notional, the
 * dated Binance tables switching at 2026-05-03), market orders with reduce-only / close-position /
 * per-order mode and slippage, setLeverage and transferMargin under isolated / cross / mixed, gap liquidations
 * at the open, the check before a fill, single-symbol pools liquidated on their liquidation-source
 * path, a two-leg cross pool at the close (optimistic), penalties (remaining margin, fee rate) and
 * insurance draws, symbols without a candle, missing mark candles; and windows of the bundled
 * binance-usdm-2025 data. Every event (fills, funding, liquidations, transfers, rejections with their
 * reason and time), the account and position views the strategy reads at every bar (equity,
 * maintenance margin, available balance, each symbol's liquidation price — cross legs valued at
 * mark) and the final wallet are compared.
 *
 * The model's choices where the docs leave room (each confirmed on the engine): the margin checks
 * of a fill at the open value every symbol at its liquidation-source open (the last known price
 * without a candle), the traded one at the fill price; a pool of a symbol without a candle waits for
 * its next candle.
 */
import { readFileSync } from 'node:fs';
import { Decimal } from 'decimal.js';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { makeData, run, scripted, setupOf, T0 as FIX_T0 } from './engine-fixtures.js';
import { replay, SETUPS } from '../src/engine/index.js';
import { getVenue } from '../src/venue/index.js';
import { loadDataset } from '../src/feed/load.js';
import { sliceMarketData, selectSymbols } from '../src/feed/slice.js';
import type { MarketData, SymbolColumns } from '../src/feed/types.js';
import type { StrategyModule, StrategyContext } from '../src/strategy/types.js';

Decimal.set({ precision: 60 });
const D = (x: number | string | Decimal) => new Decimal(x);
const R = (x: Decimal) => x.toDecimalPlaces(8, Decimal.ROUND_HALF_EVEN);
const HOUR = 3_600_000;
let T0 = Date.UTC(2025, 0, 1);
let TIME: number[] = [];
let TF = HOUR;

// ---------------- rng
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}

// ---------------- tiers
interface T { floor: Decimal; cap: Decimal; mmr: Decimal; maxLev: number; cum: Decimal }
const TIER_IN = [
  { floor: 0, mmr: 0.01, maxLeverage: 50 },
  { floor: 2000, mmr: 0.025, maxLeverage: 20 },
  { floor: 8000, mmr: 0.05, maxLeverage: 10 },
  { floor: 30000, mmr: 0.1, maxLeverage: 5 },
  { floor: 100000, mmr: 0.25, maxLeverage: 2 },
];
const TIERS: T[] = [];
for (let i = 0; i < TIER_IN.length; i++) {
  const r = TIER_IN[i]!;
  const prev = TIERS[i - 1];
  const cum = prev ? prev.cum.plus(D(r.floor).times(D(r.mmr).minus(prev.mmr))) : D(0);
  TIERS.push({ floor: D(r.floor), cap: TIER_IN[i + 1] ? D(TIER_IN[i + 1]!.floor) : D(Infinity), mmr: D(r.mmr), maxLev: r.maxLeverage, cum });
}
let TBL: T[][] = [TIERS, TIERS];
let CUR_S = 0; // symbol whose table tierOf/MMof read (set by the callers below)
const tierOf = (n: Decimal, s = CUR_S) => { const tb = TBL[s]!; let t = tb[0]!; for (const x of tb) if (n.gte(x.floor)) t = x; return t; };
const MMof = (n: Decimal, s = CUR_S) => { const t = tierOf(n, s); return n.times(t.mmr).minus(t.cum); };
const realTable = (file: string, sym: string): T[] => {
  const rows = JSON.parse(readFileSync(new URL(`../data/binance-tiers/${file}`, import.meta.url), 'utf8')).symbols[sym] as number[][];
  return rows.map((r) => ({ floor: D(r[0]!), cap: D(r[1]!), mmr: D(r[2]!), maxLev: r[3]!, cum: D(r[4]!) }));
};
const REAL = { names: ['BNXUSDT', 'VIDTUSDT'], a: [] as T[][], b: [] as T[][], switchAt: Date.UTC(2026, 4, 3) };
REAL.a = REAL.names.map((n) => realTable('binance-usdm-2024-10-24.json', n));
REAL.b = REAL.names.map((n) => realTable('binance-usdm-2026-05-03.json', n));

// ---------------- data
interface Sym { pr: number[]; fo: number[]; o: number[]; h: number[]; l: number[]; c: number[]; mark: boolean; mo: number[]; mh: number[]; ml: number[]; mc: number[]; fund: { bar: number; rate: number; price: number }[] }
const r6 = (x: number) => Number(x.toPrecision(6));
function genSym(rand: () => number, n: number, p0: number, mark: boolean, fundEvery: number, missP: number): Sym {
  const s: Sym = { pr: [], fo: [], o: [], h: [], l: [], c: [], mark, mo: [], mh: [], ml: [], mc: [], fund: [] };
  let p = p0;
  for (let i = 0; i < n; i++) {
    let o = p;
    if (rand() < 0.04) o = p * (1 + (rand() - 0.5) * 0.3); // gap
    o = r6(o);
    const c = r6(o * (1 + (rand() - 0.5) * 0.06));
    const h = r6(Math.max(o, c) * (1 + rand() * 0.03));
    const l = r6(Math.min(o, c) * (1 - rand() * 0.03));
    s.o.push(o); s.h.push(h); s.l.push(l); s.c.push(c);
    if (mark) {
      const f = () => 1 + (rand() - 0.5) * 0.004;
      const mo = r6(o * f()), mc = r6(c * f());
      const mh = r6(Math.max(mo, mc, h * f())), ml = r6(Math.min(mo, mc, l * f()));
      s.mo.push(mo); s.mh.push(mh); s.ml.push(ml); s.mc.push(mc);
    }
    p = c;
    const absent = VAR.holes && i > 0 && rand() < 0.04;
    s.pr.push(absent ? 0 : 1);
    if (absent) { s.o[i] = s.h[i] = s.l[i] = s.c[i] = NaN; if (mark) s.mo[i] = s.mh[i] = s.ml[i] = s.mc[i] = NaN; }
    else if (mark && VAR.holes && rand() < 0.05) s.mo[i] = s.mh[i] = s.ml[i] = s.mc[i] = NaN;
    if (i > 0 && i % fundEvery === 0 && rand() >= missP) {
      const big = rand() < 0.1;
      const rate = Number(((rand() - 0.5) * (big ? 0.08 : 0.002)).toFixed(6));
      const price = r6(o * (1 + (rand() - 0.5) * 0.002));
      s.fund.push({ bar: i, rate, price });
      s.fo.push(VAR.holes ? [0, 0, 5, 1800000, 3599999][Math.floor(rand() * 5)]! : 0);
    }
  }
  return s;
}
function toData(names: string[], syms: Sym[], n: number): MarketData {
  const time = new Float64Array(n);
  for (let i = 0; i < n; i++) time[i] = T0 + i * HOUR;
  const columns: SymbolColumns[] = syms.map((s, k) => {
    const fs = new Int32Array(n + 1);
    for (let i = 0; i <= n; i++) fs[i] = s.fund.filter((e) => e.bar < i).length;
    const nan = () => new Float64Array(n).fill(NaN);
    return {
      symbol: names[k]!, present: Uint8Array.from(s.pr),
      open: Float64Array.from(s.o), high: Float64Array.from(s.h), low: Float64Array.from(s.l), close: Float64Array.from(s.c),
      volume: new Float64Array(n).fill(1e9),
      markAtBarTimeframe: s.mark,
      markOpen: s.mark ? Float64Array.from(s.mo) : nan(), markHigh: s.mark ? Float64Array.from(s.mh) : nan(),
      markLow: s.mark ? Float64Array.from(s.ml) : nan(), markClose: s.mark ? Float64Array.from(s.mc) : nan(),
      fundingStart: fs, fundingTime: Float64Array.from(s.fund.map((e, j) => time[e.bar]! - s.fo[j]!)),
      fundingRate: Float64Array.from(s.fund.map((e) => e.rate)), fundingPrice: Float64Array.from(s.fund.map((e) => e.price)),
    };
  });
  return { dataset: 'model', venue: 'binance-usdm', timeframe: '1h', timeframeMs: HOUR, time, symbols: names, columns, hashes: {} };
}

// ---------------- plan
type Act =
  | { k: 'order'; s: number; lots: number; mode?: 'isolated' | 'cross'; ro?: boolean }
  | { k: 'close'; s: number }
  | { k: 'lev'; s: number; L: number }
  | { k: 'xfer'; s: number; amt: number };
function genPlan(rand: () => number, n: number, ns: number, prices: number[]): Act[][] {
  const plan: Act[][] = [];
  for (let i = 0; i < n; i++) {
    const a: Act[] = [];
    const m = rand() < 0.35 ? 1 + Math.floor(rand() * 3) : 0;
    for (let j = 0; j < m; j++) {
      const s = Math.floor(rand() * ns);
      const u = rand();
      if (u < 0.55) {
        const notional = 200 + rand() * (rand() < 0.2 ? 60000 : 6000);
        let lots = Math.max(1, Math.round((notional / prices[s]!) * 1000));
        if (rand() < 0.5) lots = -lots;
        const mr = rand();
        a.push({ k: 'order', s, lots, mode: mr < 0.33 ? 'isolated' : mr < 0.66 ? 'cross' : undefined, ro: rand() < 0.1 });
      } else if (u < 0.7) a.push({ k: 'close', s });
      else if (u < 0.85) a.push({ k: 'lev', s, L: rand() < 0.05 ? 0.5 : Math.floor(1 + rand() * 60) });
      else a.push({ k: 'xfer', s, amt: Number(((rand() - 0.4) * 300).toFixed(2)) });
    }
    plan.push(a);
  }
  return plan;
}
const qtyOf = (lots: number) => Number((lots / 1000).toFixed(3));

function strategyOf(plan: Act[][], names: string[]): StrategyModule {
  return {
    name: 'model', description: 'x', params: z.object({}), symbols: () => names,
    create: () => ({
      onBar(ctx: StrategyContext) {
        const rec = [ctx.account.equity, ctx.account.maintenanceMargin, ctx.account.available];
        for (let s = 0; s < names.length; s++) rec.push(ctx.position(s).liquidationPrice);
        (VIEWS[ctx.setup] ??= []).push(rec);
        for (const a of plan[ctx.bar] ?? []) {
          if (a.k === 'order') ctx.order({ symbol: a.s, qty: qtyOf(a.lots), type: 'market', mode: a.mode, reduceOnly: a.ro || undefined });
          else if (a.k === 'close') ctx.closePosition(a.s);
          else if (a.k === 'lev') ctx.setLeverage(a.s, a.L);
          else ctx.transferMargin(a.s, a.amt);
        }
      },
    }),
  };
}

// ---------------- model
const VIEWS: Record<string, number[][]> = {};
const VAR: { availFirst: boolean; feeRate: number; real: boolean; holes: boolean; slipBps: number } = { availFirst: false, feeRate: 0, real: false, holes: false, slipBps: 0 };
interface Pos { lots: number; basis: Decimal; mode: 'isolated' | 'cross'; wallet: Decimal }
interface Ord { id: number; s: number; lots: number; mode?: 'isolated' | 'cross'; ro: boolean; close: boolean; side: number }
type Ev = Record<string, unknown>;

function model(setup: 'isolated' | 'cross' | 'mixed', syms: Sym[], plan: Act[][], n: number, lev0: number, cap: string, taker: number, crossCheck: string) {
  const ns = syms.length;
  const perOrder = setup === 'mixed';
  const defMode: 'isolated' | 'cross' = setup === 'isolated' ? 'isolated' : 'cross';
  let cw = R(D(cap));
  const pos: (Pos | null)[] = syms.map(() => null);
  const lev = syms.map(() => lev0);
  const ev: Ev[] = [];
  const books = { fees: D(0), rpnl: D(0), fr: D(0), fp: D(0), pen: D(0), ins: D(0) };
  let orders: Ord[] = [];
  let oid = 0;
  const dead = new Set<number>();
  const marks = syms.map(() => NaN); // last known liquidation-source / mark prices
  const q = (p: Pos) => D(p.lots).times('0.001');
  const sideOf = (p: Pos) => (p.lots > 0 ? 1 : -1);
  const ep = (p: Pos) => p.basis.div(q(p).abs());
  const upnl = (p: Pos, m: Decimal) => q(p).times(m.minus(ep(p)));
  const notional = (p: Pos, m: Decimal) => q(p).abs().times(m);
  const isoSum = () => pos.reduce((a, p) => (p && p.mode === 'isolated' ? a.plus(p.wallet) : a), D(0));
  // cross wallet = cw (we track cross wallet directly; isolated wallets in positions)
  const crossLegs = () => pos.map((p, s) => ({ p, s })).filter((x) => x.p && x.p.mode === 'cross') as { p: Pos; s: number }[];
  const available = (mk: Decimal[]) => {
    let a = cw;
    for (const { p, s } of crossLegs()) a = a.plus(upnl(p, mk[s]!)).minus(notional(p, mk[s]!).div(lev[s]!));
    return a;
  };
  const excessCross = (mk: Decimal[]) => {
    let a = cw;
    for (const { p, s } of crossLegs()) a = a.plus(upnl(p, mk[s]!)).minus(MMof(notional(p, mk[s]!), s));
    return a;
  };
  const excessIso = (p: Pos, m: Decimal, s: number) => p.wallet.plus(upnl(p, m)).minus(MMof(notional(p, m), s));
  // liquidation price of a single-symbol pool: wallet W (iso wallet or cross wallet)
  const lpOf = (p: Pos, W: Decimal, sym: number): Decimal | null => {
    const Q = q(p).abs(), s = sideOf(p), E = ep(p);
    for (const t of TBL[sym]!) {
      const den = Q.times(t.mmr).minus(Q.times(s));
      if (den.isZero()) continue;
      const P = W.plus(t.cum).minus(Q.times(E).times(s)).div(den);
      if (P.lte(0)) continue;
      const N = Q.times(P);
      if (N.gte(t.floor) && N.lt(t.cap)) return P;
    }
    return null;
  };
  const VIEWREC: number[][] = [];
  const rej = (time: number, s: number, reason: string) => ev.push({ type: 'rejection', time, symbol: s, reason });

  function liquidate(poolSyms: number[], prices: Decimal[], time: number) {
    const iso = poolSyms.length === 1 && pos[poolSyms[0]!]!.mode === 'isolated';
    let margin = iso ? pos[poolSyms[0]!]!.wallet : cw;
    let rp = D(0), procSum = D(0);
    const px: number[] = [];
    for (const s of poolSyms) {
      const p = pos[s]!;
      const proceeds = R(q(p).abs().times(prices[s]!));
      procSum = procSum.plus(proceeds);
      const r = p.lots > 0 ? proceeds.minus(p.basis) : p.basis.minus(proceeds);
      rp = rp.plus(r);
      px.push(prices[s]!.toNumber());
      marks[s] = prices[s]!.toNumber();
      pos[s] = null;
      for (const o of orders) if (o.s === s) dead.add(o.id);
      orders = orders.filter((o) => o.s !== s);
    }
    const rem = margin.plus(rp);
    books.rpnl = books.rpnl.plus(rp);
    let pen = D(0), ins = D(0);
    if (rem.lt(0)) ins = rem.neg(); else pen = VAR.feeRate ? Decimal.min(rem, R(procSum.times(VAR.feeRate))) : rem;
    books.pen = books.pen.plus(pen); books.ins = books.ins.plus(ins);
    const back = rem.lt(0) ? D(0) : rem.minus(pen);
    if (!iso) cw = back; else cw = cw.plus(back);
    ev.push({ type: 'liquidation', time, symbols: poolSyms, prices: px, penalty: pen.toNumber(), insuranceDraw: ins.toNumber(), realizedPnl: rp.toNumber() });
  }
  // pools: list of symbol arrays
  const pools = () => {
    const out: number[][] = [];
    const cross: number[] = [];
    pos.forEach((p, s) => { if (p) { if (p.mode === 'isolated') out.push([s]); else cross.push(s); } });
    if (cross.length) out.push(cross);
    return out;
  };
  const poolExcess = (ps: number[], mk: Decimal[]) => (pos[ps[0]!]!.mode === 'isolated' ? excessIso(pos[ps[0]!]!, mk[ps[0]!]!, ps[0]!) : excessCross(mk));

  function trade(o: Ord, price: Decimal, time: number, mk: Decimal[]) {
    const s = o.s;
    const p = pos[s];
    let lots = o.lots;
    if (o.close) {
      if (!p) { rej(time, s, 'noPosition?'); return; }
      if (Math.sign(p.lots) === o.side) { rej(time, s, 'reduceOnlyViolation'); return; }
      lots = -p.lots;
    }
    const cur = p ? p.lots : 0;
    if (o.ro && !o.close) {
      if (cur === 0 || Math.sign(lots) === Math.sign(cur)) { rej(time, s, 'reduceOnlyViolation'); return; }
      if (Math.abs(lots) > Math.abs(cur)) lots = -cur;
    }
    const mode = p ? p.mode : perOrder ? (o.mode ?? defMode) : defMode;
    if (p && perOrder && o.mode && o.mode !== p.mode) { rej(time, s, 'modeLocked'); return; }
    const next = cur + lots;
    const adds = Math.abs(next) > Math.abs(cur) || Math.sign(next) !== Math.sign(cur) && next !== 0;
    // snapshot
    const snap = { cw, pos: pos.map((x) => (x ? { ...x } : null)), books: { ...books } };
    const Qt = D(Math.abs(lots)).times('0.001');
    const fee = R(Qt.times(price).times(taker));
    cw = cw.minus(fee); books.fees = books.fees.plus(fee);
    // reducing part
    let rp = D(0);
    if (p && Math.sign(lots) !== Math.sign(cur)) {
      const closed = Math.min(Math.abs(lots), Math.abs(cur));
      const full = closed === Math.abs(cur);
      const proceeds = R(D(closed).times('0.001').times(price));
      const rel = full ? p.basis : R(p.basis.times(closed).div(Math.abs(cur)));
      rp = cur > 0 ? proceeds.minus(rel) : rel.minus(proceeds);
      cw = cw.plus(rp); books.rpnl = books.rpnl.plus(rp);
      if (p.mode === 'isolated') {
        const w = full ? p.wallet : R(p.wallet.times(closed).div(Math.abs(cur)));
        cw = cw.plus(w); p.wallet = p.wallet.minus(w);
      }
      p.basis = p.basis.minus(rel);
      p.lots = cur + Math.sign(lots) * closed;
      if (p.lots === 0) pos[s] = null;
    }
    const opened = Math.abs(next) > Math.abs(cur) || Math.sign(next) !== Math.sign(cur) ? Math.abs(next) - (Math.sign(next) === Math.sign(cur) ? Math.abs(cur) : 0) : 0;
    if (opened > 0) {
      const nb = R(D(opened).times('0.001').times(price));
      let pp = pos[s];
      if (!pp) { pp = { lots: 0, basis: D(0), mode, wallet: D(0) }; pos[s] = pp; }
      pp.lots = next; pp.basis = pp.basis.plus(nb);
      if (mode === 'isolated') { const im = R(nb.div(lev[s]!)); cw = cw.minus(im); pp.wallet = pp.wallet.plus(im); }
    }
    if (adds) {
      const pn = pos[s]!;
      const N = notional(pn, price);
      if (lev[s]! > tierOf(N, s).maxLev) { restore(snap); rej(time, s, 'exceedsMaxLeverage'); return; }
      const mk2 = mk.slice(); mk2[s] = price;
      if (available(mk2).lt(0)) { restore(snap); rej(time, s, 'insufficientMargin'); return; }
    }
    if (!pos[s]) { for (const x of orders) if (x.close && x.s === s) dead.add(x.id); orders = orders.filter((x) => !(x.close && x.s === s)); }
    marks[s] = price.toNumber();
    ev.push({ type: 'fill', time, symbol: s, qty: lots / 1000, price: price.toNumber(), fee: fee.toNumber(), realizedPnl: rp.toNumber(), positionQty: next / 1000 });
  }
  function restore(sn: { cw: Decimal; pos: (Pos | null)[]; books: typeof books }) {
    cw = sn.cw; for (let i = 0; i < ns; i++) pos[i] = sn.pos[i] ? { ...sn.pos[i]! } : null; Object.assign(books, sn.books);
  }

  for (let i = 0; i < n; i++) {
    const t0 = TIME[i]!;
    if (VAR.real) TBL = t0 >= REAL.switchAt ? REAL.b : REAL.a;
    // 1. funding
    // every symbol's stamps of the bar in time order (ties: symbol order)
    const due: { s: number; fj: number; f: Sym['fund'][number] }[] = [];
    for (let s = 0; s < ns; s++) for (const [fj, f] of syms[s]!.fund.entries()) if (f.bar === i) due.push({ s, fj, f });
    due.sort((a, b) => syms[b.s]!.fo[b.fj]! - syms[a.s]!.fo[a.fj]! || a.s - b.s);
    for (const { s, fj, f } of due) {
      const p = pos[s]; if (!p) continue;
      const amt = R(q(p).neg().times(f.price).times(f.rate));
      if (p.mode === 'isolated' && VAR.availFirst) {
        if (amt.gte(0)) cw = cw.plus(amt);
        else { const av = Decimal.max(0, R(available(marks.map((x) => D(x))))); const fromC = Decimal.min(amt.neg(), av); cw = cw.minus(fromC); p.wallet = p.wallet.minus(amt.neg().minus(fromC)); }
      } else if (p.mode === 'isolated') p.wallet = p.wallet.plus(amt); else cw = cw.plus(amt);
      if (amt.gte(0)) books.fr = books.fr.plus(amt); else books.fp = books.fp.minus(amt);
      ev.push({ type: 'funding', time: t0 - syms[s]!.fo[fj]!, symbol: s, received: amt.toNumber() });
    }
    // 2. gap check at the open (liquidation source)
    const src = (s: number, k: 'o' | 'h' | 'l' | 'c') => { const y = syms[s]!; const mv = y.mark ? (k === 'o' ? y.mo : k === 'h' ? y.mh : k === 'l' ? y.ml : y.mc)[i]! : NaN; const v = mv === mv ? mv : y[k][i]!; return v === v ? v : marks[s]!; };
    const openMk = syms.map((_, s) => D(src(s, 'o')));
    const hasPrice = (s: number) => syms[s]!.pr[i] === 1 || (syms[s]!.mark && syms[s]!.mo[i]! === syms[s]!.mo[i]!);
    for (const ps of pools()) if ((ps.length > 1 || hasPrice(ps[0]!)) && poolExcess(ps, openMk).lte(0)) liquidate(ps, openMk, t0);
    // market orders
    const active = orders; orders = active.slice();
    for (const o of active) {
      if (dead.has(o.id)) continue;
      if (!syms[o.s]!.pr[i]) { orders = orders.filter((x) => x !== o); rej(t0, o.s, 'symbolUnavailable'); continue; }
      const side = o.close ? o.side : Math.sign(o.lots);
      // the exact decimal product, to 15 significant digits (docs/engine.md: exact for tick prices and whole bps)
      const price = D(syms[o.s]!.o[i]!).times(D(1).plus(D(VAR.slipBps).div(1e4).times(side))).toSignificantDigits(15);
      const p = pos[o.s];
      if (p) {
        const mk = openMk.slice(); mk[o.s] = price;
        const ps = pools().find((x) => x.includes(o.s))!;
        if (poolExcess(ps, mk).lte(0)) { liquidate(ps, mk, t0); continue; }
      }
      if (o.close && !pos[o.s]) continue; // died with the position
      orders = orders.filter((x) => x !== o);
      // the margin checks value every symbol at its liquidation-source open (last known without a candle)
      for (let s = 0; s < ns; s++) marks[s] = src(s, 'o');
      trade(o, price, t0, syms.map((_, s) => D(marks[s]!)));
    }
    // 3. intrabar: single-symbol pools on the liquidation-source path; multi-leg cross at the close (optimistic) / pessimistic
    const y0 = syms.map((y, s) => {
      const tr = y; const o = tr.o[i]!, h = tr.h[i]!, l = tr.l[i]!;
      const hiFirst = h - o <= o - l + 1e-12 * o;
      return hiFirst ? [src(s, 'o'), src(s, 'h'), src(s, 'l'), src(s, 'c')] : [src(s, 'o'), src(s, 'l'), src(s, 'h'), src(s, 'c')];
    });
    const liqEvents: { tau: number; ps: number[]; prices: Decimal[] }[] = [];
    for (const ps of pools()) {
      if (ps.length === 1) {
        const s = ps[0]!; const p = pos[s]!;
        const W = p.mode === 'isolated' ? p.wallet : cw;
        const lp = lpOf(p, W, s);
        if (!lp) continue;
        if (!syms[s]!.pr[i] && !(syms[s]!.mark && syms[s]!.mo[i]! === syms[s]!.mo[i]!)) continue;
        const path = y0[s]!; const side = sideOf(p);
        for (let k = 0; k < 3; k++) {
          const a = D(path[k]!), b = D(path[k + 1]!);
          const hit = side > 0 ? b.lte(lp) : b.gte(lp);
          if (hit) {
            const tau = a.minus(lp).div(a.minus(b)).toNumber() + k;
            const pr = openMk.slice(); pr[s] = lp;
            liqEvents.push({ tau, ps, prices: pr });
            break;
          }
        }
      } else if (crossCheck === 'optimistic') {
        const close = syms.map((_, s) => D(src(s, 'c')));
        if (excessCross(close).lte(0)) {
          let lo = D(0), hi = D(1);
          for (let it = 0; it < 200; it++) { const mid = lo.plus(hi).div(2); const mk = openMk.map((a, s) => a.plus(close[s]!.minus(a).times(mid))); if (excessCross(mk).lte(0)) hi = mid; else lo = mid; }
          liqEvents.push({ tau: 3, ps, prices: openMk.map((a, s) => a.plus(close[s]!.minus(a).times(hi))) });
        }
      }
    }
    liqEvents.sort((a, b) => a.tau - b.tau);
    for (const e of liqEvents) liquidate(e.ps, e.prices, t0 + Math.floor((e.tau / 3) * TF + 1e-6));
    for (let s = 0; s < ns; s++) marks[s] = src(s, 'c');
    // 5. strategy
    const tm = TIME[i + 1] ?? TIME[i]! + TF;
    const mk = marks.map((x) => D(x));
    {
      let eq = cw, mm = D(0);
      pos.forEach((p, s) => { if (p) { eq = eq.plus(p.mode === 'isolated' ? p.wallet : 0).plus(upnl(p, mk[s]!)); mm = mm.plus(MMof(notional(p, mk[s]!), s)); } });
      const rec = [eq.toNumber(), mm.toNumber(), Decimal.max(0, available(mk)).toNumber()];
      for (let s = 0; s < ns; s++) {
        const p = pos[s];
        if (!p) { rec.push(NaN); continue; }
        let W = p.mode === 'isolated' ? p.wallet : cw;
        if (p.mode === 'cross') for (const { p: o, s: so } of crossLegs()) if (so !== s) W = W.plus(upnl(o, mk[so]!)).minus(MMof(notional(o, mk[so]!), so));
        const lp = lpOf(p, W, s);
        rec.push(lp && lp.gt(1e-9) ? lp.toNumber() : NaN);
      }
      VIEWREC.push(rec);
    }
    for (const a of plan[i] ?? []) {
      const p = pos[a.s];
      if (a.k === 'order') orders.push({ id: oid++, s: a.s, lots: a.lots, mode: a.mode, ro: !!a.ro, close: false, side: Math.sign(a.lots) });
      else if (a.k === 'close') { if (!p) rej(tm, a.s, 'noPosition'); else orders.push({ id: oid++, s: a.s, lots: -p.lots, ro: true, close: true, side: -Math.sign(p.lots) }); }
      else if (a.k === 'lev') {
        const L = a.L;
        if (!(L >= 1)) { rej(tm, a.s, 'invalidLeverage'); continue; }
        const N = p ? notional(p, mk[a.s]!) : D(0);
        if (L > tierOf(N, a.s).maxLev) { rej(tm, a.s, 'exceedsMaxLeverage'); continue; }
        if (p && p.mode === 'isolated' && L < lev[a.s]!) { rej(tm, a.s, 'leverageLocked'); continue; }
        if (p && p.mode === 'cross' && L < lev[a.s]!) { const old = lev[a.s]!; lev[a.s] = L; if (available(mk).lt(0)) { lev[a.s] = old; rej(tm, a.s, 'insufficientMargin'); continue; } }
        lev[a.s] = L;
      } else {
        const amt = R(D(a.amt));
        if (!p || p.mode !== 'isolated') { rej(tm, a.s, 'noPosition'); continue; }
        if (amt.isZero()) { rej(tm, a.s, 'invalidQuantity'); continue; }
        if (amt.gt(0)) {
          let mmSum = D(0); for (const { p: cp, s } of crossLegs()) mmSum = mmSum.plus(MMof(notional(cp, mk[s]!), s));
          const lim = Decimal.max(0, Decimal.min(cw.minus(mmSum), available(mk)));
          if (amt.gt(lim)) { rej(tm, a.s, 'insufficientMargin'); continue; }
        } else {
          const m = mk[a.s]!;
          const lim = Decimal.max(0, Decimal.min(p.wallet.minus(MMof(notional(p, m), a.s)), p.wallet.plus(upnl(p, m)).minus(notional(p, m).div(lev[a.s]!))));
          if (amt.neg().gt(lim)) { rej(tm, a.s, 'exceedsRemovableMargin'); continue; }
        }
        cw = cw.minus(amt); p.wallet = p.wallet.plus(amt);
        ev.push({ type: 'transfer', time: tm, symbol: a.s, amount: amt.toNumber() });
      }
    }
  }
  const wallet = cw.plus(isoSum());
  return { ev, books, wallet, views: VIEWREC };
}

// ---------------- compare
const near = (a: number, b: number, tol: number) => Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
function cmpEv(a: Ev, b: Ev): string | null {
  if (a.type !== b.type) return 'type';
  if (Math.abs((a.time as number) - (b.time as number)) > 1) return 'time';
  for (const k of Object.keys(b)) {
    if (k === 'type' || k === 'time' || k === 'message' || k === 'mode' || k === 'poolId') continue;
    const x = a[k] as unknown, y = b[k] as unknown;
    if (k === 'reason') { if (String(y).endsWith('?')) continue; if (x !== y) return k; continue; }
    if (Array.isArray(y)) { if (!Array.isArray(x) || x.length !== y.length || y.some((v, j) => !near(Number(x[j]), Number(v), 1e-9))) return k; continue; }
    if (typeof y === 'number') { if (!near(Number(x), y, k === 'penalty' || k === 'insuranceDraw' || k === 'realizedPnl' ? 1e-7 : 1e-10)) return k; }
  }
  return null;
}

type Variant = 'synthetic' | 'holes' | 'dated tiers' | 'bundled data';
let BUNDLED: MarketData[] | null = null;

/** replays one random strategy under isolated, cross and mixed; returns the first difference of each setup and counts */
function compareSeed(seed: number, variant: Variant) {
  const msgs: string[] = [];
  const counts = { events: 0, liquidations: 0, funding: 0, rejections: 0, switchLiquidations: 0 };
  const rand = rng(seed * 7919);
  const n = 120;
  const ns = rand() < 0.5 ? 1 : 2;
  VAR.real = variant === 'dated tiers';
  VAR.holes = variant === 'holes' || variant === 'dated tiers';
  T0 = VAR.real ? Date.UTC(2026, 4, 2, 12) : Date.UTC(2025, 0, 1);
  TBL = VAR.real ? REAL.a : [TIERS, TIERS];
  const names = (VAR.real ? REAL.names : ['AUSDT', 'BUSDT']).slice(0, ns);
  const fundEvery = [1, 2, 4, 8][Math.floor(rand() * 4)]!;
  const syms = names.map((_, k) => genSym(rand, n, k === 0 ? 100 : 7, rand() < 0.5, fundEvery, rand() < 0.3 ? 0.3 : 0));
  const plan = genPlan(rand, n, ns, syms.map((s) => s.o[0]!));
  const lev0 = [3, 10, 20, 40][Math.floor(rand() * 4)]!;
  const cap = ['1000', '5000', '20000'][Math.floor(rand() * 3)]!;
  // (the pessimistic multi-leg bound is not modelled here: two symbols run the optimistic check)
  const crossCheck = ns === 2 || variant === 'bundled data' || rand() < 0.5 ? 'optimistic' : 'pessimistic';
  const taker = 0.0005;
  VAR.availFirst = rand() < 0.4;
  VAR.feeRate = rand() < 0.4 ? 0.005 : 0;
  VAR.slipBps = [0, 1, 2.5, 10][Math.floor(rand() * 4)]!;
  const venue = getVenue('binance-usdm', {
    id: 'model', fees: { maker: 0.0002, taker }, ...(VAR.real ? {} : { tiers: { '*': TIER_IN } }), lotSizes: { '*': { step: 0.001 } },
    funding: { isolatedBooking: VAR.availFirst ? 'availableFirst' : 'isolatedWallet' }, liquidation: { penalty: VAR.feeRate ? { feeRate: VAR.feeRate } : 'remainingMargin' },
  } as never);
  let data = toData(names, syms, n);
  TIME = Array.from(data.time);
  TF = HOUR;
  if (variant === 'bundled data') {
    const md0 = BUNDLED![Math.floor(rand() * BUNDLED!.length)]!;
    const len = 300;
    const from = Math.floor(rand() * (md0.time.length - len));
    data = sliceMarketData(md0, from, from + len);
    TIME = Array.from(data.time);
    TF = data.timeframeMs;
    syms.length = 0;
    for (const c of data.columns) {
      const fund: Sym['fund'] = [], fo: number[] = [];
      for (let b = 0; b < len; b++) for (let e = c.fundingStart[b]!; e < c.fundingStart[b + 1]!; e++) { fund.push({ bar: b, rate: c.fundingRate[e]!, price: c.fundingPrice[e]! }); fo.push(data.time[b]! - c.fundingTime[e]!); }
      syms.push({ pr: Array.from(c.present), fo, o: Array.from(c.open), h: Array.from(c.high), l: Array.from(c.low), c: Array.from(c.close), mark: c.markAtBarTimeframe,
        mo: Array.from(c.markOpen), mh: Array.from(c.markHigh), ml: Array.from(c.markLow), mc: Array.from(c.markClose), fund });
    }
    names.splice(0, names.length, ...data.symbols);
    plan.splice(0, plan.length, ...genPlan(rand, len, names.length, syms.map((y) => y.c.find((x) => x === x)!)));
    TBL = names.map((nm) => realTable('binance-usdm-2024-10-24.json', nm));
  }
  for (const k of Object.keys(VIEWS)) delete VIEWS[k];
  const out = replay({ data, symbols: names, strategy: strategyOf(plan, names), params: {}, venue, setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed], initialCapital: cap, leverage: lev0, execution: { slippageBps: VAR.slipBps, participation: null, intrabarPath: 'nearest-first', crossCheck: crossCheck as 'optimistic' } });
  for (const so of out.setups) {
    const id = so.setup.id as 'isolated';
    if (so.error) { msgs.push(`seed ${seed} ${id}: ${so.error}`); continue; }
    const m = model(id, syms, plan, TIME.length, lev0, cap, taker, crossCheck);
    const ee = so.events.map((e) => {
      const x: Ev = { ...e } as Ev;
      for (const k of ['fee', 'realizedPnl', 'received', 'penalty', 'insuranceDraw', 'amount']) if (k in x) x[k] = Number(x[k]);
      return x;
    });
    let msg = '';
    for (let j = 0; j < Math.max(ee.length, m.ev.length) && !msg; j++) {
      const a = ee[j], b = m.ev[j];
      if (!a || !b) msg = `event ${j}: engine ${JSON.stringify(a)} model ${JSON.stringify(b)}`;
      else { const d = cmpEv(a, b); if (d) msg = `event ${j} (${d}): engine ${JSON.stringify(a)} model ${JSON.stringify(b)}`; }
    }
    const seen = VIEWS[id]!;
    for (let b = 0; b < m.views.length && !msg; b++) for (let k = 0; k < m.views[b]!.length; k++) {
      const x = seen[b]![k]!, y = m.views[b]![k]!;
      // a liquidation price the doubles put a few 1e-14 above an exact 0 (a 1× long) counts as none
      if (!(x !== x && y !== y) && !(k >= 3 && y !== y && Math.abs(x) < 1e-9) && !near(x, y, 1e-9)) { msg = `view bar ${b} field ${k}: engine ${x} model ${y}`; break; }
    }
    if (!msg && !near(Number(so.books.wallet), m.wallet.toNumber(), 1e-7)) msg = `wallet ${so.books.wallet} vs ${m.wallet}`;
    if (msg) msgs.push(`seed ${seed} ${id}: ${msg}`);
    counts.events += ee.length;
    counts.liquidations += ee.filter((e) => e.type === 'liquidation').length;
    counts.switchLiquidations += ee.filter((e) => e.type === 'liquidation' && e.time === REAL.switchAt).length;
    counts.funding += ee.filter((e) => e.type === 'funding').length;
    counts.rejections += ee.filter((e) => e.type === 'rejection').length;
  }
  return { msgs, counts };
}

describe('replay() vs an independent model of funding, tiers, transfers, leverage and liquidation', () => {
  const cases: [Variant, number, number][] = [
    ['synthetic', 1, 10],
    ['holes', 5000, 10],
    ['dated tiers', 8000, 30],
    ['bundled data', 9000, 5],
  ];
  it.each(cases)('%s: seeds %i.. (%i), every event, view and wallet agree', async (variant, start, count) => {
    if (variant === 'bundled data' && !BUNDLED) {
      BUNDLED = [];
      for (const tf of ['1h', '30m']) BUNDLED.push(selectSymbols(await loadDataset(new URL('../data/binance-usdm-2025', import.meta.url).pathname, { timeframe: tf }), ['BTCUSDT', 'ETHUSDT']));
    }
    const msgs: string[] = [];
    const total = { events: 0, liquidations: 0, funding: 0, rejections: 0, switchLiquidations: 0 };
    for (let seed = start; seed < start + count; seed++) {
      const r = compareSeed(seed, variant);
      msgs.push(...r.msgs);
      for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r.counts[k];
    }
    expect(msgs).toEqual([]);
    // the runs reach what they are meant to check
    expect(total.funding).toBeGreaterThan(100);
    expect(total.liquidations).toBeGreaterThan(variant === 'synthetic' || variant === 'holes' ? 10 : 0);
    if (variant === 'dated tiers') expect(total.switchLiquidations).toBeGreaterThan(0);
  });
});

describe('a pool of a symbol without a candle', () => {
  // AUSDT long 10 @ 100, isolated 10× (wallet 100), no fees. Funding of −12 % at bar 3 takes the
  // isolated wallet below zero (the pool is past its liquidation price at any price near 100), but
  // bar 3 has no candle: there is no open to liquidate at, so the pool waits for its next candle and
  // is liquidated at that open (bar 4, 99), not at the last known price.
  it('is liquidated at the open of its next candle', () => {
    const b = (p: number) => [p, p, p, p] as [number, number, number, number];
    const data = makeData({ AUSDT: { bars: [b(100), b(100), b(100), null, b(99), b(99)], funding: [{ bar: 3, rate: 0.12, price: 100 }] } });
    const out = run(data, scripted({ 0: (c) => c.buy(0, 10) }, ['AUSDT']), { setups: [SETUPS.isolated] });
    const s = setupOf(out, 'isolated');
    expect(s.events.filter((e) => e.type !== 'fill').map((e) => [e.type, (e.time - FIX_T0) / HOUR])).toEqual([
      ['funding', 3],
      ['liquidation', 4],
    ]);
    expect((s.events.find((e) => e.type === 'liquidation') as { prices: number[] }).prices).toEqual([99]);
  });
});

describe('funding settles in time order across symbols', () => {
  // Isolated AUSDT and BUSDT longs of 10 @ 100 at 10× (isolated wallets 100 each), capital 210: the
  // available balance is 10. Both pay 8 at bar 2: BUSDT's stamp is 5 ms past bar 1's open (a Binance-style
  // late stamp, so it settles at bar 2's open), AUSDT's is bar 2's open. On an available-balance-first
  // venue BUSDT's earlier payment takes 8 of the 10, and AUSDT's then takes 2 from the available balance
  // and 6 from its own wallet (94): its liquidation price moves, BUSDT's does not. Symbol by symbol the
  // engine settled AUSDT first and charged BUSDT's wallet instead, and listed the events out of time order.
  it('books each payment after the earlier ones (available balance first) and lists them in time order', () => {
    const b = (p: number) => [p, p, p, p] as [number, number, number, number];
    const bars = [b(100), b(100), b(100), b(100)];
    const data = makeData({ AUSDT: { bars, funding: [{ bar: 2, rate: 0.008, price: 100 }] }, BUSDT: { bars, funding: [{ bar: 2, rate: 0.008, price: 100 }] } });
    data.columns[1]!.fundingTime[0] = FIX_T0 + HOUR + 5;
    const lps: number[][] = [];
    const strat = scripted({ 0: (c) => { c.buy(0, 10); c.buy(1, 10); }, 2: (c) => lps.push([c.position(0).liquidationPrice, c.position(1).liquidationPrice]) }, ['AUSDT', 'BUSDT']);
    const venue = getVenue('binance-usdm', { id: 'avail-first', fees: { maker: 0, taker: 0 }, funding: { isolatedBooking: 'availableFirst' } } as never);
    const s = setupOf(run(data, strat, { setups: [SETUPS.isolated], capital: '210', venue }), 'isolated');
    expect(s.events.filter((e) => e.type === 'funding').map((e) => [e.symbol, e.time - FIX_T0])).toEqual([[1, HOUR + 5], [0, 2 * HOUR]]);
    // Binance isolated closed form, tier 1 (1 %, cum 0): LP = (WB − Q·EP) / (Q·MMR − Q)
    const lp = (wb: number) => (wb - 1000) / (10 * 0.01 - 10);
    expect(lps[0]![0]).toBeCloseTo(lp(94), 9);
    expect(lps[0]![1]).toBeCloseTo(lp(100), 9);
    expect(s.books.wallet).toBe('194');
  });

  // The same two positions, both stamps at bar 2's open (one funding time): the payments settle in the order of
  // the symbols' names whatever order the strategy lists them in — AUSDT takes 8 of the 10 available, BUSDT 2
  // and 6 from its own wallet. In the order of the list, [BUSDT, AUSDT] charged AUSDT's wallet instead.
  it.each([[['AUSDT', 'BUSDT']], [['BUSDT', 'AUSDT']]])('stamps of the same time settle in the order of the names (symbols %j)', (order) => {
    const b = (p: number) => [p, p, p, p] as [number, number, number, number];
    const bars = [b(100), b(100), b(100), b(100)];
    const data = makeData(Object.fromEntries(order.map((n) => [n, { bars, funding: [{ bar: 2, rate: 0.008, price: 100 }] }])));
    const lps: Record<string, number>[] = [];
    const strat = scripted({ 0: (c) => { c.buy(0, 10); c.buy(1, 10); }, 2: (c) => lps.push({ [order[0]!]: c.position(0).liquidationPrice, [order[1]!]: c.position(1).liquidationPrice }) }, order);
    const venue = getVenue('binance-usdm', { id: 'avail-first', fees: { maker: 0, taker: 0 }, funding: { isolatedBooking: 'availableFirst' } } as never);
    const s = setupOf(run(data, strat, { setups: [SETUPS.isolated], capital: '210', venue }), 'isolated');
    expect(s.events.filter((e) => e.type === 'funding').map((e) => order[e.symbol])).toEqual(['AUSDT', 'BUSDT']);
    const lp = (wb: number) => (wb - 1000) / (10 * 0.01 - 10);
    expect(lps[0]!.AUSDT).toBeCloseTo(lp(100), 9);
    expect(lps[0]!.BUSDT).toBeCloseTo(lp(94), 9);
  });
});
