/**
 * Round trips reconstructed from a run's event records (docs/metrics.md, "Trades"): the one home
 * of round-trip reconstruction, used by the metrics (closed trips) and by trades.csv /
 * loadTrades (every trip, including those still open at the end).
 *
 * A trade on a symbol opens when its position leaves zero and closes when it returns to zero
 * (a closing fill or a liquidation) or flips sign (the flipping fill closes one trade and opens
 * the next). A trade's net PnL = realised PnL of its fills − their fees + funding settled on the
 * symbol while it was open − liquidation penalty + the insurance fund's draw on a close past the
 * bankruptcy price (the part of the realised loss the trader did not pay).
 *
 * Every money amount of the records lands in exactly one trade, in exact decimals (BigInt units
 * of 1e-18, so results of any engine version add up exactly): a flipping fill's fee is split by
 * quantity (closing share rounded half-even to 18 places, the rest to the new trade);
 * a multi-symbol cross liquidation's realised PnL goes to each leg as its own PnL from its entry
 * VWAP to the close price (rounded to 18 places), and what that does not explain, its penalty and
 * its insurance draw are split by notional at the close price (the last leg takes the exact
 * remainder). So Σ over trades of realised PnL, fees, funding, penalties and insurance draws
 * equals the books' totals exactly.
 */
import { Decimal } from 'decimal.js';
import { bigDivRound, decompose } from '../account/fixed.js';
import { fromU, toU, type U } from './money.js';
import type { LiquidationRecord, RunEventRecord } from '../shard/result-schema.js';
import { doubleFields } from '../util/double-fields.js';
import type { OrderType } from '../strategy/types.js';

const D = Decimal.clone({ precision: 64, rounding: Decimal.ROUND_HALF_EVEN });
const PLACES = 18;
/** 10^k as BigInt for the decimal places of a double's shortest decimal (k ≤ 30 in practice; more: computed) */
const POW10N: readonly bigint[] = Array.from({ length: 31 }, (_, k) => 10n ** BigInt(k));
const pow10n = (k: number): bigint => (k < POW10N.length ? POW10N[k]! : 10n ** BigInt(k));

/** round(u × a ÷ b), half-even, a and b doubles meaning their shortest decimals (b ≠ 0) */
function mulDiv(u: U, a: number, b: number): U {
  const da = decompose(a);
  const db = decompose(b);
  if (da && db) {
    // u·(ma·10^-ka) / (mb·10^-kb) = u·ma·10^kb / (mb·10^ka)
    let num = u * BigInt(da.mantissa);
    let den = BigInt(db.mantissa);
    if (db.places > 0) num *= pow10n(db.places);
    if (da.places > 0) den *= pow10n(da.places);
    if (den < 0n) {
      num = -num;
      den = -den;
    }
    return bigDivRound(num, den);
  }
  return toU(new D(fromU(u)).times(a).div(b).toFixed(PLACES, Decimal.ROUND_HALF_EVEN));
}

export type ExitReason = 'close' | 'flip' | 'liquidation' | 'open';

export interface RoundTrip {
  symbol: string;
  /** +1 long, −1 short */
  side: 1 | -1;
  /** margin mode of the position ('isolated' or 'cross') */
  mode: 'isolated' | 'cross';
  openTime: number;
  /** null while still open at the end of the run */
  closeTime: number | null;
  /** largest absolute position of the trade, base units */
  size: number;
  /** VWAP of the fills that opened or increased the position */
  entryPrice: number;
  /** VWAP of the fills (and liquidation close) that reduced it; null when nothing was reduced yet */
  exitPrice: number | null;
  /** fills of the trade (a flipping fill counts in both trades) */
  fills: number;
  /** decimal strings, exact */
  realizedPnl: string;
  fees: string;
  funding: string;
  liquidationPenalty: string;
  insuranceDraw: string;
  /** realised − fees + funding − penalty + insurance draw, decimal string */
  netPnl: string;
  /** netPnl as a number (metrics) */
  pnl: number;
  exitReason: ExitReason;
  /**
   * the type of the order whose fill closed the trade ('market', 'limit', 'stop', 'takeProfit'): which order ended a
   * trade exitReason 'close' or 'flip'; null for a liquidation, a trade still open, or records without it
   */
  exitOrder: OrderType | null;
  /** the strategy's tag of that order (null: none given) */
  exitTag: string | null;
  /** the tag of the order whose fill opened the trade (null: none given) */
  entryTag: string | null;
  liquidated: boolean;
}

interface Open {
  symbol: string;
  side: 1 | -1;
  mode: 'isolated' | 'cross';
  openTime: number;
  size: number;
  /** Σ qty and Σ qty·price of entering / exiting fills (floats: prices are floats) */
  inQty: number;
  inVal: number;
  outQty: number;
  outVal: number;
  fills: number;
  realized: U;
  fees: U;
  funding: U;
  penalty: U;
  draw: U;
  /** when it was registered as its symbol's open trip (the order of the trips still open at the end) */
  seq: number;
  /** the tag of the order whose fill opened it; the type and tag of the order whose fill closed it (null: none) */
  entryTag: string | null;
  exitOrder: OrderType | null;
  exitTag: string | null;
}

/** a symbol in the walk: its open trip (null when flat) and its last known signed position */
interface SymbolWalk {
  trip: Open | null;
  qty: number;
  known: boolean;
}

/**
 * One entry of a run's ledger as the walks over it read it (the trade walk, the metrics' ledger
 * sums), amounts in units of 1e-18: from result records (recordItems), or from the account's ledger
 * as recorded without building a record per fill (src/shard/records.ts setupItems). Fills and
 * settlements are handed out in one object per kind, changed from entry to entry: a reader keeps
 * nothing of them past its call.
 */
export interface FillItem {
  type: 'fill';
  time: number;
  symbol: string;
  /** |quantity| and its side */
  qty: number;
  buy: boolean;
  price: number;
  positionQty: number;
  mode: 'isolated' | 'cross';
  fee: U;
  realized: U;
  /** the order the fill executed (its type and tag; null when the record has none) */
  orderType: OrderType | null;
  tag: string | null;
}
export interface FundingItem {
  type: 'funding';
  symbol: string;
  /** received (< 0 paid) */
  amount: U;
}
export type LedgerItem = FillItem | FundingItem | LiquidationRecord;
/** a run's ledger entries (fills, settlements, liquidations; other events left out), in ledger order */
export type LedgerItems = (visit: (item: LedgerItem) => void) => void;

/** the reusable objects of a walk (one per kind) */
export function fillItem(): FillItem {
  return doubleFields<FillItem>({ type: 'fill', time: 0, symbol: '', qty: 0, buy: true, price: 0, positionQty: 0, mode: 'isolated', fee: 0n, realized: 0n, orderType: null, tag: null }, ['time', 'qty', 'price', 'positionQty']);
}
/** `item` set to a fill of signed quantity `qty` (its sign is the side) */
export function asFill(item: FillItem, time: number, symbol: string, qty: number, price: number, positionQty: number, mode: 'isolated' | 'cross', fee: U, realized: U, orderType: OrderType | null, tag: string | null): FillItem {
  item.time = time;
  item.symbol = symbol;
  item.qty = Math.abs(qty);
  item.buy = qty >= 0;
  item.price = price;
  item.positionQty = positionQty;
  item.mode = mode;
  item.fee = fee;
  item.realized = realized;
  item.orderType = orderType;
  item.tag = tag;
  return item;
}
export function fundingItem(): FundingItem {
  return { type: 'funding', symbol: '', amount: 0n };
}

/** the ledger items of result records */
export function recordItems(events: readonly RunEventRecord[]): LedgerItems {
  return (visit) => {
    const fill = fillItem();
    const funding = fundingItem();
    for (const ev of events) {
      if (ev.type === 'fill') visit(asFill(fill, ev.time, ev.symbol, ev.side === 'buy' ? ev.qty : -ev.qty, ev.price, ev.positionQty, ev.mode, toU(ev.fee), toU(ev.realizedPnl), ev.orderType ?? null, ev.tag ?? null));
      else if (ev.type === 'funding') {
        funding.symbol = ev.symbol;
        funding.amount = toU(ev.amount);
        visit(funding);
      } else if (ev.type === 'liquidation') visit(ev);
    }
  };
}

/** volume-weighted average price, to 12 significant digits (the float sum's noise removed) */
const vwap = (value: number, qty: number): number => Number((value / qty).toPrecision(12));

/** a trip's net PnL in units: realised − fees + funding − penalty + insurance draw */
const netOf = (t: Open): U => t.realized - t.fees + t.funding - t.penalty + t.draw;

function finish(t: Open, closeTime: number | null, reason: ExitReason): RoundTrip {
  const netS = fromU(netOf(t));
  return {
    symbol: t.symbol,
    side: t.side,
    mode: t.mode,
    openTime: t.openTime,
    closeTime,
    size: t.size,
    entryPrice: t.inQty > 0 ? vwap(t.inVal, t.inQty) : Number.NaN,
    exitPrice: t.outQty > 0 ? vwap(t.outVal, t.outQty) : null,
    fills: t.fills,
    realizedPnl: fromU(t.realized),
    fees: fromU(t.fees),
    funding: fromU(t.funding),
    liquidationPenalty: fromU(t.penalty),
    insuranceDraw: fromU(t.draw),
    netPnl: netS,
    pnl: Number(netS),
    exitReason: reason,
    exitOrder: t.exitOrder,
    exitTag: t.exitTag,
    entryTag: t.entryTag,
    liquidated: reason === 'liquidation',
  };
}

/** an open trip's fields that take fractions (util/double-fields.ts) */
const DOUBLE_TRIP_FIELDS = ['size', 'inQty', 'inVal', 'outQty', 'outVal'] as const;

function opened(symbol: string, side: 1 | -1, mode: 'isolated' | 'cross', time: number): Open {
  return doubleFields<Open>({ symbol, side, mode, openTime: time, size: 0, inQty: 0, inVal: 0, outQty: 0, outVal: 0, fills: 0, realized: 0n, fees: 0n, funding: 0n, penalty: 0n, draw: 0n, seq: 0, entryTag: null, exitOrder: null, exitTag: null }, DOUBLE_TRIP_FIELDS);
}

/** `amount` split by `weights` (≥ 0), each share rounded half-even to 18 places, the last share the exact remainder */
function split(amount: U, weights: readonly number[]): U[] {
  const total = weights.reduce((a, w) => a + w, 0);
  const out: U[] = [];
  let rest = amount;
  for (let k = 0; k < weights.length; k++) {
    if (k === weights.length - 1) out.push(rest);
    else {
      const share = total > 0 ? mulDiv(amount, weights[k]!, total) : mulDiv(amount, 1, weights.length);
      out.push(share);
      rest -= share;
    }
  }
  return out;
}

/**
 * The walk over the records that every reader of round trips shares: `closed` receives each trip
 * as it closes (in close order); the trips still open after the last event are returned, in the
 * order they opened.
 */
function walkTrades(items: LedgerItems, closed: (t: Open, closeTime: number, reason: ExitReason) => void): Open[] {
  // one record per symbol, changed in place (no map entry made or dropped per trip)
  const symbols = new Map<string, SymbolWalk>();
  const walkOf = (symbol: string): SymbolWalk => {
    let w = symbols.get(symbol);
    if (!w) symbols.set(symbol, (w = doubleFields<SymbolWalk>({ trip: null, qty: 0, known: false }, ['qty'])));
    return w;
  };
  let seq = 0;

  items((ev) => {
    switch (ev.type) {
      case 'fill': {
        const signed = ev.buy ? ev.qty : -ev.qty;
        const after = ev.positionQty;
        const w = walkOf(ev.symbol);
        const before = w.known ? w.qty : after - signed;
        const fee = ev.fee;
        const realized = ev.realized;
        const flips = before !== 0 && after !== 0 && Math.sign(before) !== Math.sign(after);
        let t = w.trip;
        if (t && (after === 0 || flips)) {
          // closing (part of) the fill: |before| of |qty|; it carries the fill's realised PnL
          const closing = flips ? Math.abs(before) : ev.qty;
          const feeClose = flips ? mulDiv(fee, Math.abs(before), ev.qty) : fee;
          t.realized += realized;
          t.fees += feeClose;
          t.outQty += closing;
          t.outVal += closing * ev.price;
          t.fills++;
          t.exitOrder = ev.orderType;
          t.exitTag = ev.tag;
          closed(t, ev.time, flips ? 'flip' : 'close');
          w.trip = null;
          if (flips) {
            const n = opened(ev.symbol, after > 0 ? 1 : -1, ev.mode, ev.time);
            n.entryTag = ev.tag;
            const rest = Math.abs(after);
            n.fees = fee - feeClose;
            n.inQty = rest;
            n.inVal = rest * ev.price;
            n.size = rest;
            n.fills = 1;
            n.seq = seq++;
            w.trip = n;
          }
        } else {
          if (!t && after !== 0) {
            // opening from flat (or the first sight of a position whose opening we did not see)
            t = opened(ev.symbol, after > 0 ? 1 : -1, ev.mode, ev.time);
            t.seq = seq++;
            t.entryTag = ev.tag;
            w.trip = t;
          }
          if (t) {
            t.realized += realized;
            t.fees += fee;
            t.fills++;
            if (Math.abs(after) > Math.abs(before)) {
              t.inQty += ev.qty;
              t.inVal += ev.qty * ev.price;
            } else {
              t.outQty += ev.qty;
              t.outVal += ev.qty * ev.price;
            }
            if (Math.abs(after) > t.size) t.size = Math.abs(after);
          }
        }
        w.qty = after;
        w.known = true;
        break;
      }
      case 'funding': {
        const t = symbols.get(ev.symbol)?.trip;
        if (t) t.funding += ev.amount;
        break;
      }
      case 'liquidation': {
        const legs = ev.legs;
        const trades = legs.map((l) => symbols.get(l.symbol)?.trip ?? undefined);
        // each leg's own PnL from its entry, the last leg the exact remainder of the pool's
        const own = legs.map((l, k) => {
          const t = trades[k];
          const sideQ = (l.side === 'long' ? 1 : -1) * l.qty;
          return t && t.inQty > 0 ? sideQ * (l.closePrice - t.inVal / t.inQty) : 0;
        });
        const ownU = own.map((x) => toU(new D(Number.isFinite(x) ? x : 0).toFixed(PLACES, Decimal.ROUND_HALF_EVEN)));
        const notional = legs.map((l) => l.qty * l.closePrice);
        // what the legs' own PnL does not explain (rounding, or an entry we did not see) goes by notional
        const residual = split(ownU.reduce((a, x) => a - x, toU(ev.realizedPnl)), notional);
        const realized = ownU.map((x, k) => x + residual[k]!);
        const penalty = split(toU(ev.penalty), notional);
        const draw = split(toU(ev.insuranceDraw), notional);
        for (let k = 0; k < legs.length; k++) {
          const l = legs[k]!;
          let t = trades[k];
          if (!t) {
            // a position whose opening we did not see: its own trade, so the amounts still land somewhere
            t = opened(l.symbol, l.side === 'long' ? 1 : -1, ev.mode, ev.time);
            t.size = l.qty;
          }
          t.realized += realized[k]!;
          t.penalty += penalty[k]!;
          t.draw += draw[k]!;
          t.outQty += l.qty;
          t.outVal += l.qty * l.closePrice;
          closed(t, ev.time, 'liquidation');
          const w = walkOf(l.symbol);
          w.trip = null;
          w.qty = 0;
          w.known = true;
        }
        break;
      }
    }
  });
  const still: Open[] = [];
  for (const w of symbols.values()) if (w.trip) still.push(w.trip);
  return still.sort((a, b) => a.seq - b.seq);
}

/**
 * Every round trip of the records, in close order; trades still open after the last event follow
 * (closeTime null, exitReason 'open'), in the order they opened.
 */
export function reconstructTrades(events: readonly RunEventRecord[]): RoundTrip[] {
  const out: RoundTrip[] = [];
  const open = walkTrades(recordItems(events), (t, time, reason) => out.push(finish(t, time, reason)));
  for (const t of open) out.push(finish(t, null, 'open'));
  return out;
}

/**
 * The net PnL of every closed round trip, in close order: `pnl` of closedTrades(reconstructTrades(events)),
 * without building the trips (what the metrics read).
 */
export function closedTradePnls(source: readonly RunEventRecord[] | LedgerItems): number[] {
  const out: number[] = [];
  walkTrades(typeof source === 'function' ? source : recordItems(source), (t) => out.push(Number(fromU(netOf(t)))));
  return out;
}

/** The trades the metrics count: closed round trips only (still-open ones are in netPnl). */
export function closedTrades(trades: readonly RoundTrip[]): RoundTrip[] {
  return trades.filter((t) => t.closeTime !== null);
}
