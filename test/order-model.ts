/**
 * An independent model of the documented order rules for one symbol (docs/engine.md *The bar step*
 * and *Orders*, docs/margin.md *Account*, the OrderType docs of src/strategy/types.ts), written from
 * the docs without src/engine, and the seeded random cases test/engine-order-model.test.ts replays
 * through it and through replay(). Venue: binance-usdm BTCUSDT (2024-10-24 brackets, quantity step
 * 0.001, maker 0.02 %, taker 0.05 %), trade prices only, no funding.
 *
 * What it models: market orders at the open ± slippage in submission order (participation slices);
 * stop / take-profit triggers on the intrabar path (nearest-first, ties high first; or fixed), filled
 * at the trigger ± slippage, at the open ± slippage when the open is past them; limits (marketable
 * against the close they were placed at: taker at the open ± slippage capped at their price; else
 * maker at their price, also through a gap); reduce-only clipping and rejection; close-position
 * orders; targetPosition; cancel / cancelAll / openOrders; orders placed in onStart, onBar and onFill
 * (from the next bar on); bars without a candle; the available-balance and leverage-tier checks of a
 * fill; setLeverage and transferMargin with their rejections; single-symbol liquidation (at the open
 * when gapped, on the path at the liquidation price, and before a reducing fill past bankruptcy).
 */
import { rng } from './fixtures/report/fixture.js';
import { z } from 'zod';
import type { StrategyContext, StrategyModule } from '../src/strategy/types.js';

export type Bar = [number, number, number, number];
type OrderKind = 'market' | 'limit' | 'stop' | 'takeProfit';
export type Action =
  | { k: 'order'; qty: number; type: OrderKind; price?: number; reduceOnly?: boolean }
  | { k: 'close'; type?: OrderKind; price?: number }
  | { k: 'target'; qty: number }
  | { k: 'cancel'; ref: number }
  | { k: 'cancelAll' }
  | { k: 'lev'; x: number }
  | { k: 'xfer'; amt: number };

/** a fill, a rejection or a liquidation, as compared with the engine's events */
export interface ModelEvent {
  kind: 'fill' | 'rejection' | 'liquidation';
  time: number;
  qty?: number;
  price?: number;
  fee?: number;
  liquidity?: 'maker' | 'taker';
  positionQty?: number;
  reason?: string;
}

export interface ModelCase {
  bars: (Bar | null)[];
  /** actions per bar's onBar (key −1: onStart) */
  script: Record<number, Action[]>;
  /** actions in the onFill of the k-th fill */
  fillScript: Record<number, Action[]>;
  path: 'nearest-first' | 'high-first' | 'low-first';
  slippageBps: number;
  leverage: number;
}

export interface ModelOptions {
  mode: 'isolated' | 'cross';
  capital: number;
  T0: number;
  TF: number;
  /** participation cap in quantity steps per market order and bar (Infinity: none) */
  capLots: number;
  /** mark candles are the trade candles × (1 + markFactor) (the liquidation source; not modelled: compare up to the first liquidation) */
  markFactor: number;
}

const STEP = 0.001;
const MAKER = 0.0002;
const TAKER = 0.0005;
/** BTCUSDT 2024-10-24: floor, MMR, cum, max leverage */
const TIERS: [number, number, number, number][] = [
  [0, 0.004, 0, 125],
  [50_000, 0.005, 50, 100],
  [600_000, 0.0065, 950, 75],
  [3_000_000, 0.01, 11_450, 50],
  [12_000_000, 0.02, 131_450, 25],
];
const tierOf = (notional: number) => {
  let t = TIERS[0]!;
  for (const x of TIERS) if (notional >= x[0]) t = x;
  return t;
};
const mmOf = (notional: number) => notional * tierOf(notional)[1] - tierOf(notional)[2];
/** round half-even is not needed at these magnitudes: ties do not occur with these prices */
const R = (x: number) => Math.round(x * 1e8) / 1e8;
const lotsOf = (q: number) => Math.trunc(Math.round((q / STEP) * 1e6) / 1e6);

interface Order {
  id: number;
  lots: number;
  type: OrderKind;
  price: number;
  reduceOnly: boolean;
  closePosition: boolean;
  marketable: boolean;
  side: number;
  /** the first bar it can execute at */
  from: number;
}

/** the model's events and its openOrders / cancel / cancelAll log (same shape as logOf in the strategy) */
export function model(c: ModelCase, o: ModelOptions): { events: ModelEvent[]; log: string[] } {
  const { bars, script, fillScript } = c;
  const ev: ModelEvent[] = [];
  const log: string[] = [];
  let wallet = o.capital;
  let isoMargin = 0;
  let lots = 0;
  let cost = 0;
  let lev = c.leverage;
  let orders: Order[] = [];
  let nextId = 1;
  const ids: number[] = [];
  let nFills = 0;
  let bar = -1;
  let lastClose = NaN;
  let hook: { time: number; price: number } | null = null;
  const q = (l: number) => l * STEP;
  const entry = () => (lots === 0 ? 0 : cost / q(Math.abs(lots)));
  const reject = (time: number, reason: string) => void ev.push({ kind: 'rejection', time, reason });
  const slip = (p: number, side: number) => p * (1 + (side * c.slippageBps) / 1e4);

  const poolWallet = () => (o.mode === 'isolated' ? isoMargin : wallet);
  const excessAt = (p: number) => poolWallet() + Math.sign(lots) * q(Math.abs(lots)) * (p - entry()) - mmOf(q(Math.abs(lots)) * p);
  /** Binance closed form, the tier re-chosen at the liquidation notional */
  const liqPrice = () => {
    const Q = q(Math.abs(lots));
    const s = Math.sign(lots);
    for (let k = 0; k < TIERS.length; k++) {
      const [floor, mmr, cum] = TIERS[k]!;
      const p = (poolWallet() + cum - s * Q * entry()) / (Q * mmr - s * Q);
      if (Q * p >= floor && Q * p < (TIERS[k + 1]?.[0] ?? Infinity)) return p > 0 ? p : NaN;
    }
    return NaN;
  };
  const pastLiq = (x: number) => (lots > 0 ? x <= liqPrice() : lots < 0 ? x >= liqPrice() : false);
  const liquidate = (price: number, time: number) => {
    // the pool's remaining margin is lost (Binance): the isolated margin, or the whole cross wallet
    if (o.mode === 'isolated') wallet = R(wallet - isoMargin);
    else wallet = 0;
    isoMargin = 0;
    lots = 0;
    cost = 0;
    orders = [];
    ev.push({ kind: 'liquidation', time, price });
  };

  /** book a trade of dl steps at p, or reject it (available balance, leverage tier) */
  function trade(dl: number, p: number, liquidity: 'maker' | 'taker', time: number): boolean {
    const held = Math.abs(lots);
    const side = Math.sign(dl);
    const closing = lots !== 0 && Math.sign(lots) !== side ? Math.min(held, Math.abs(dl)) : 0;
    const opening = Math.abs(dl) - closing;
    const fee = R(q(Math.abs(dl)) * p * (liquidity === 'maker' ? MAKER : TAKER));
    let w = wallet - fee;
    let m = isoMargin;
    let basis = cost;
    let l = lots;
    if (closing > 0) {
      const proceeds = R(q(closing) * p);
      const released = closing === held ? basis : R((basis * closing) / held);
      w += lots > 0 ? proceeds - released : released - proceeds;
      m -= closing === held ? m : R((m * closing) / held);
      basis -= released;
      l += side * closing;
    }
    if (opening > 0) {
      const notional = R(q(opening) * p);
      basis += notional;
      l += side * opening;
      if (o.mode === 'isolated') m += R(notional / lev);
      // the available balance after the trade, the symbol at the fill price
      const Q = q(Math.abs(l));
      const available = o.mode === 'isolated' ? w - m : w + Math.sign(l) * Q * (p - basis / Q) - (Q * p) / lev;
      if (available < -1e-9) return reject(time, 'insufficientMargin'), false;
      if (lev > tierOf(Q * p)[3]) return reject(time, 'exceedsMaxLeverage'), false;
    }
    wallet = R(w);
    isoMargin = R(m);
    cost = R(basis);
    lots = l;
    ev.push({ kind: 'fill', time, qty: q(dl), price: p, fee, liquidity, positionQty: q(lots) });
    hook = { time, price: p };
    return true;
  }

  /** onFill's actions, after the fill's consequences (orders dying with the position) */
  function onFill() {
    if (!hook) return;
    const { time, price } = hook;
    hook = null;
    const prev = bar > 0 ? bars[bar - 1] : null;
    for (const a of fillScript[nFills++] ?? []) place(a, prev ? prev[3] : NaN, time, bar + 1, price);
  }

  function execute(od: Order, p: number, liquidity: 'maker' | 'taker', time: number, capLots = Infinity) {
    // the order's own checks first: a rejected order never values the pool at its price
    const refused = od.closePosition
      ? lots === 0 ? 'noPosition' : Math.sign(lots) === od.side ? 'reduceOnlyViolation' : null
      : od.reduceOnly && (lots === 0 || Math.sign(lots) === Math.sign(od.lots)) ? 'reduceOnlyViolation' : null;
    if (refused !== null) {
      orders = orders.filter((x) => x !== od);
      return reject(time, refused);
    }
    // a fill that reduces the position at a price where the pool would be bankrupt (margin balance at most the fee of
    // closing the whole position there) liquidates it at that price instead; between the threshold and bankruptcy it
    // books (a single-symbol pool past its threshold on the path was liquidated there first)
    const reduces = lots !== 0 && (od.closePosition || Math.sign(od.lots) !== Math.sign(lots));
    if (reduces && poolWallet() + Math.sign(lots) * q(Math.abs(lots)) * (p - entry()) - q(Math.abs(lots)) * p * (liquidity === 'maker' ? MAKER : TAKER) <= 0) return liquidate(p, time);
    const at = orders.indexOf(od);
    orders = orders.filter((x) => x !== od);
    let dl = od.lots;
    if (od.closePosition) dl = -lots;
    else if (od.reduceOnly && capLots > 0) dl = Math.sign(dl) * Math.min(Math.abs(dl), Math.abs(lots));
    const want = dl;
    if (Math.abs(dl) > capLots) dl = Math.sign(dl) * capLots;
    if (dl === 0) return void orders.splice(at, 0, od);
    const before = lots;
    const ok = trade(dl, p, liquidity, time);
    if (ok && dl !== want) {
      if (!od.closePosition) od.lots = want - dl;
      orders.splice(Math.min(at, orders.length), 0, od);
    }
    // close-position orders and resting reduce-only limits die with the position
    if (ok && before !== 0 && lots === 0) orders = orders.filter((x) => !x.closePosition && !(x.reduceOnly && x.type === 'limit'));
    onFill();
  }

  function place(a: Action, close: number, time: number, from: number, markNow = (Number.isNaN(close) ? lastClose : close) * (1 + o.markFactor)): void {
    const add = (od: Omit<Order, 'id'>) => {
      const id = nextId++;
      orders.push({ ...od, id });
      ids.push(id);
    };
    if (a.k === 'order' || a.k === 'close') {
      const type = a.type ?? 'market';
      const price = a.price ?? NaN;
      if (type !== 'market' && !(price > 0 && Number.isFinite(price))) return void (reject(time, 'invalidPrice'), ids.push(-1));
      if (a.k === 'close' && lots === 0) return void (reject(time, 'noPosition'), ids.push(-1));
      const l = a.k === 'close' ? -lots : lotsOf(a.qty);
      if (l === 0 || !Number.isFinite(l)) return void (reject(time, 'invalidQuantity'), ids.push(-1));
      const side = Math.sign(l);
      // marketable against the close it was placed at; with none (onStart, no candle), judged at arrival
      const marketable = type === 'limit' && (Number.isNaN(close) || (side > 0 ? price >= close : price <= close));
      return add({ lots: l, type, price, reduceOnly: a.k === 'order' && !!a.reduceOnly, closePosition: a.k === 'close', marketable, side, from });
    }
    if (a.k === 'target') {
      orders = orders.filter((x) => x.type !== 'market');
      const d = lotsOf(a.qty) - lots;
      if (d === 0) return void ids.push(0);
      return add({ lots: d, type: 'market', price: NaN, reduceOnly: false, closePosition: false, marketable: false, side: Math.sign(d), from });
    }
    if (a.k === 'cancel') {
      const n = orders.length;
      orders = orders.filter((x) => x.id !== ids[a.ref]);
      return void log.push(`cancel ${orders.length < n}`);
    }
    if (a.k === 'cancelAll') {
      log.push(`cancelAll ${orders.length}`);
      orders = [];
      return;
    }
    const Q = q(Math.abs(lots));
    const upnl = Math.sign(lots) * Q * (markNow - entry());
    if (a.k === 'xfer') {
      if (lots === 0 || o.mode !== 'isolated') return reject(time, 'noPosition');
      const amt = R(a.amt);
      if (amt === 0) return reject(time, 'invalidQuantity');
      // add ≤ cross wallet − Σ cross MM (none here) and ≤ available; remove ≤ min(iso − MM, iso + uPnL − notional/lev)
      if (amt > 0 && amt > Math.max(0, wallet - isoMargin)) return reject(time, 'insufficientMargin');
      if (amt < 0 && -amt > Math.max(0, Math.min(isoMargin - mmOf(Q * markNow), isoMargin + upnl - (Q * markNow) / lev)) + 1e-9) return reject(time, 'exceedsRemovableMargin');
      isoMargin = R(isoMargin + amt);
      return;
    }
    if (!(a.x >= 1) || !Number.isFinite(a.x)) return reject(time, 'invalidLeverage');
    if (a.x > tierOf(Q * markNow)[3]) return reject(time, 'exceedsMaxLeverage');
    if (lots !== 0 && a.x < lev && o.mode === 'isolated') return reject(time, 'leverageLocked');
    if (lots !== 0 && a.x < lev && wallet + upnl - (Q * markNow) / a.x < 0) return reject(time, 'insufficientMargin');
    lev = a.x;
  }

  /** does price x satisfy the order's trigger (stop: buy above / sell below; take-profit and limit: buy below / sell above) */
  const hit = (od: Order, x: number) => (od.type === 'stop' ? (od.side > 0 ? x >= od.price : x <= od.price) : od.side > 0 ? x <= od.price : x >= od.price);

  for (const a of script[-1] ?? []) place(a, NaN, o.T0, 0);
  for (let i = 0; i < bars.length; i++) {
    bar = i;
    const t = o.T0 + i * o.TF;
    const b = bars[i];
    if (!b) {
      for (const od of orders.filter((x) => x.type === 'market' && x.from <= i)) {
        orders = orders.filter((x) => x !== od);
        reject(t, 'symbolUnavailable');
      }
    } else {
      const [op, hi, lo, cl] = b;
      if (pastLiq(op)) liquidate(op, t);
      for (const od of orders.filter((x) => x.type === 'market' && x.from <= i)) if (orders.includes(od)) execute(od, slip(op, od.side), 'taker', t, o.capLots);
      // orders the open is already past, in submission order (a liquidation first)
      for (;;) {
        if (pastLiq(op)) liquidate(op, t);
        const od = orders.find((x) => x.type !== 'market' && x.from <= i && hit(x, op));
        if (!od) break;
        if (od.type !== 'limit') execute(od, slip(op, od.side), 'taker', t);
        else if (!od.marketable) execute(od, od.price, 'maker', t);
        else execute(od, od.side > 0 ? Math.min(slip(op, 1), od.price) : Math.max(slip(op, -1), od.price), 'taker', t);
      }
      for (const od of orders) if (od.from <= i) od.marketable = false;
      const [first, second] = c.path === 'high-first' ? [hi, lo] : c.path === 'low-first' ? [lo, hi] : hi - op <= op - lo + 1e-12 * op ? [hi, lo] : [lo, hi];
      const pts = [op, first, second, cl];
      let tau = 0;
      for (let seg = 0; seg < 3; seg++) {
        const a = pts[seg]!;
        const z = pts[seg + 1]!;
        for (;;) {
          let best: Order | null = null;
          let bestTau = Infinity;
          for (const od of orders) {
            if (od.type === 'market' || od.from > i || !hit(od, z) || (seg === 0 && hit(od, a))) continue;
            const tt = hit(od, a) ? seg : seg + (od.price - a) / (z - a);
            if (tt < bestTau - 1e-12 || (Math.abs(tt - bestTau) <= 1e-12 && best !== null && od.id < best.id)) {
              best = od;
              bestTau = tt;
            }
          }
          if (lots !== 0) {
            // ties: liquidations before orders
            const t0 = Math.max(tau, seg);
            const now = a + (z - a) * (t0 - seg);
            const lt = pastLiq(now) ? t0 : pastLiq(z) ? seg + (liqPrice() - a) / (z - a) : Infinity;
            if (lt < Infinity && lt <= bestTau + 1e-12) {
              const px = pastLiq(now) ? now : liqPrice();
              tau = lt;
              liquidate(px, t + Math.floor((tau / 3) * o.TF + 1e-6));
              continue;
            }
          }
          if (best === null) break;
          tau = bestTau;
          // (+ 1e-6 ms: the stamp of the exact τ, which floating point lands a hair below a whole millisecond it reaches)
          const time = t + Math.floor((tau / 3) * o.TF + 1e-6);
          if (best.type === 'limit') execute(best, best.price, 'maker', time);
          else execute(best, slip(best.price, best.side), 'taker', time);
        }
      }
      lastClose = cl;
    }
    log.push(`bar${i} ${openOrdersText(orders.map((x) => ({ type: x.type, qty: q(x.lots), price: x.price, reduceOnly: x.reduceOnly, closePosition: x.closePosition })))}`);
    for (const a of script[i] ?? []) place(a, b ? b[3] : NaN, t + o.TF, i + 1);
  }
  return { events: ev, log };
}

function openOrdersText(os: { type: string; qty: number; price: number; reduceOnly: boolean; closePosition: boolean }[]): string {
  return JSON.stringify(os.map((x) => [x.type, x.closePosition ? 'C' : +x.qty.toFixed(3), Number.isNaN(x.price) ? null : x.price, x.reduceOnly, x.closePosition]));
}


/**
 * A random case: 6–13 bars around 100 in tenths (gaps, open = high / low, equal distances, missing
 * candles), 0–3 actions per callback with prices taken from the bars' own levels most of the time
 * (equal-price triggers), sizes up to twice the capital at 10×, bad quantities and prices,
 * cancels of orders of the same or earlier bars, leverage and margin changes.
 */
export function randomCase(seed: number): ModelCase {
  const r = rng(seed);
  const tenth = (x: number) => Math.round(x * 10) / 10;
  const n = 6 + Math.floor(r() * 8);
  const bars: (Bar | null)[] = [];
  let p = 100;
  for (let i = 0; i < n; i++) {
    const op = r() < 0.3 ? tenth(p * (1 + (r() - 0.5) * 0.06)) : p;
    let hi = Math.max(op, tenth(op * (1 + r() * 0.03)));
    let lo = Math.min(op, tenth(op * (1 - r() * 0.03)));
    if (r() < 0.15) hi = op;
    if (r() < 0.15) lo = op;
    if (r() < 0.1) {
      const d = tenth(op * 0.01);
      hi = tenth(op + d);
      lo = tenth(op - d);
    }
    const cl = tenth(lo + r() * (hi - lo));
    bars.push(i > 0 && r() < 0.08 ? null : [op, hi, lo, cl]);
    p = cl;
  }
  const levels = [...new Set(bars.flatMap((b) => b ?? []))];
  const price = () => (r() < 0.6 ? levels[Math.floor(r() * levels.length)]! : tenth(100 * (1 + (r() - 0.5) * 0.1)));
  const kinds = ['limit', 'stop', 'takeProfit'] as const;
  const script: Record<number, Action[]> = {};
  const fillScript: Record<number, Action[]> = {};
  let placed = 0;
  for (let k = -1; k < n - 1 + 12; k++) {
    const acts: Action[] = [];
    const m = Math.floor(r() * (k >= n - 1 ? 2 : 4));
    for (let j = 0; j < m; j++) {
      const u = r();
      const qty = (r() < 0.5 ? 1 : -1) * (Math.round(r() * (r() < 0.15 ? 200 : 40) * 1000) / 1000);
      let a: Action;
      if (u < 0.25) a = { k: 'order', qty, type: 'market', reduceOnly: r() < 0.2 };
      else if (u < 0.55) a = { k: 'order', qty, type: kinds[Math.floor(r() * 3)]!, price: price(), reduceOnly: r() < 0.25 };
      else if (u < 0.65) a = r() < 0.4 ? { k: 'close' } : { k: 'close', type: kinds[Math.floor(r() * 3)]!, price: price() };
      else if (u < 0.72) a = { k: 'target', qty: Math.round((r() - 0.5) * 60 * 1000) / 1000 };
      else if (u < 0.82 && placed > 0) a = { k: 'cancel', ref: Math.floor(r() * placed) };
      else if (u < 0.86) a = { k: 'cancelAll' };
      else if (u < 0.9) a = { k: 'lev', x: [1, 2, 3, 5, 8, 10, 20, 125, 110, 100, 0.5, NaN, 126][Math.floor(r() * 13)]! };
      else if (u < 0.94) a = { k: 'xfer', amt: Math.round((r() - 0.5) * 200 * 100) / 100 };
      else if (u < 0.96) a = { k: 'order', qty: [0.0004, 0, -0.0009, NaN][Math.floor(r() * 4)]!, type: 'market' };
      else if (u < 0.97) a = { k: 'order', qty, type: 'stop', price: [-1, 0, NaN][Math.floor(r() * 3)]! };
      else a = { k: 'order', qty, type: 'limit', price: price() };
      if (a.k === 'order' || a.k === 'close' || a.k === 'target') placed++;
      acts.push(a);
    }
    if (acts.length === 0) continue;
    if (k < n - 1) script[k] = acts;
    else fillScript[k - (n - 1)] = acts;
  }
  return {
    bars,
    script,
    fillScript,
    path: (['nearest-first', 'nearest-first', 'high-first', 'low-first'] as const)[Math.floor(r() * 4)]!,
    slippageBps: [0, 0, 1, 5][Math.floor(r() * 4)]!,
    leverage: [2, 3, 5, 10][Math.floor(r() * 4)]!,
  };
}

/** the case's actions as a strategy on BTCUSDT; `log` gets the same lines as the model's log */
export function caseStrategy(c: ModelCase, logs: string[][]): StrategyModule {
  return {
    name: 'order-model-case',
    description: 'random orders of test/order-model.ts',
    params: z.object({}),
    symbols: () => ['BTCUSDT'],
    create() {
      const ids: number[] = [];
      const log: string[] = [];
      logs.push(log);
      let fills = 0;
      const act = (ctx: StrategyContext, acts: Action[] | undefined) => {
        for (const a of acts ?? []) {
          if (a.k === 'order') ids.push(ctx.order({ symbol: 0, qty: a.qty, type: a.type, price: a.price, reduceOnly: a.reduceOnly }));
          else if (a.k === 'close') ids.push(ctx.closePosition(0, a.type ? { type: a.type, price: a.price } : undefined));
          else if (a.k === 'target') ids.push(ctx.targetPosition(0, a.qty));
          else if (a.k === 'cancel') log.push(`cancel ${ctx.cancel(ids[a.ref]!)}`);
          else if (a.k === 'cancelAll') log.push(`cancelAll ${ctx.cancelAll()}`);
          else if (a.k === 'lev') ctx.setLeverage(0, a.x);
          else ctx.transferMargin(0, a.amt);
        }
      };
      return {
        onStart: (ctx) => act(ctx, c.script[-1]),
        onBar: (ctx) => {
          log.push(`bar${ctx.bar} ${openOrdersText(ctx.openOrders(0))}`);
          act(ctx, c.script[ctx.bar]);
        },
        onFill: (_f, ctx) => act(ctx, c.fillScript[fills++]),
      };
    },
  };
}
