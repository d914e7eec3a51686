/**
 * Pending orders of a setup: the record the engine keeps per order, the order types it knows and
 * the direction in which each type's trigger is crossed.
 */
import type { ModeId } from '../account/types.js';
import type { OrderType } from '../strategy/types.js';
import { shorten } from '../util/scratch-array.js';

/** the order types the engine executes; any other `type` is rejected `invalidOrderType` */
export const ORDER_TYPES: ReadonlySet<string> = new Set<OrderType>(['market', 'limit', 'stop', 'takeProfit']);

export interface PendingOrder {
  id: number;
  symbol: number;
  qty: number;
  type: OrderType;
  price: number;
  reduceOnly: boolean;
  closePosition: boolean;
  mode: ModeId | undefined;
  tag: string | undefined;
  /** first data index at which the order may execute */
  activeFrom: number;
  /** limit order that was marketable against the close it was placed at */
  marketable: boolean;
  /** set when the order leaves the list of pending orders (filled, cancelled, died); TriggerBook skips it */
  dead: boolean;
}

/**
 * The price a taker fill pays at `price` with slippage `slip` (a fraction: bps / 10,000): a buy above it, a sell below,
 * rounded to 15 significant digits. That is the exact decimal product, price × (1 ± slip), whenever it has at most 15
 * digits (an exchange's tick prices and a whole number of bps): the double product carried its float noise into the
 * fill (100.5 bought with 1 bp at 100.51004999999999, its fee rounded to the other side of a half-unit tie). A price of
 * more digits (a synthetic path's) moves by less than 5e-15 of itself.
 */
export function slippedPrice(price: number, slip: number, buy: boolean): number {
  if (slip === 0) return price;
  return digits15(buy ? price * (1 + slip) : price * (1 - slip));
}

/**
 * A computed price as booked: rounded to 15 significant digits, the exact decimal whenever it has at most 15 (a double
 * computed from decimals lands a few ulps from it, and its shortest decimal carried that noise into the books), any other
 * moved by less than 5e-15 of itself. Slipped prices (slippedPrice), and the liquidation price a single-symbol pool the
 * path reaches is closed at: the closed form's double read 100560.24472500001 for 100560.244725, and its proceeds and
 * penalty came out 1e-8 apart from an exact re-computation at a half-unit tie.
 */
export function digits15(price: number): number {
  return Number(price.toPrecision(15));
}

/**
 * whether the order dies when its position closes: a close-position order (a protective stop dies with its position),
 * and a resting reduce-only limit (Binance expires it; reduce-only stops and take-profits stay, docs/engine.md, Orders)
 */
export function diesWithPosition(o: PendingOrder): boolean {
  return o.closePosition || (o.reduceOnly && o.type === 'limit');
}

/** direction in which the order's trigger is crossed: up = price rising to the level */
export function triggersUp(o: PendingOrder): boolean {
  const buy = o.qty > 0;
  switch (o.type) {
    case 'limit':
      return !buy;
    case 'stop':
      return buy;
    case 'takeProfit':
      return !buy;
    default:
      return buy;
  }
}


/**
 * The resting (non-market) orders of a setup indexed by trigger level, per symbol and direction, so
 * that a bar's event loop looks only at the orders its path can reach (a strategy with thousands of
 * far orders resting pays nothing for them per bar). Each direction is a binary heap on the
 * level, signed so that the top is the level reached first (orders triggered by a rising price: the
 * lowest level; by a falling one: the highest); the heap is walked, not popped, to collect every
 * order whose level lies within a price range, at a cost proportional to the orders found.
 * Removal marks the order (`PendingOrder.dead`); a heap is rebuilt without its dead orders when
 * they outnumber its live ones. The engine's list of pending orders stays the order of record
 * (submission order, ties of an event's time go to the earlier order); this is its index.
 */
export class TriggerBook {
  /** per symbol: [rising, falling] heaps of orders; keys (level × sign) in parallel arrays */
  private readonly heaps: PendingOrder[][];
  private readonly keys: number[][];
  private readonly dead: Int32Array;
  /** the heap walk's stack (reused) */
  private stack: number[] = [];
  /** entries in all heaps, dead ones included */
  private entries = 0;

  constructor(readonly symbols: number) {
    this.heaps = Array.from({ length: 2 * symbols }, () => []);
    this.keys = Array.from({ length: 2 * symbols }, () => []);
    this.dead = new Int32Array(2 * symbols);
  }

  private static slot(o: PendingOrder): number {
    return 2 * o.symbol + (triggersUp(o) ? 0 : 1);
  }

  /** indexes a resting order (market orders are not indexed) */
  add(o: PendingOrder): void {
    if (o.type === 'market') return;
    const h = TriggerBook.slot(o);
    const heap = this.heaps[h]!;
    const keys = this.keys[h]!;
    const key = h & 1 ? -o.price : o.price;
    // sift up
    let k = heap.length;
    this.entries++;
    heap.push(o);
    keys.push(key);
    while (k > 0) {
      const parent = (k - 1) >> 1;
      if (!(keys[parent]! > key)) break;
      heap[k] = heap[parent]!;
      keys[k] = keys[parent]!;
      k = parent;
    }
    heap[k] = o;
    keys[k] = key;
  }

  /** an indexed order left the list of pending orders (already marked dead) */
  removed(o: PendingOrder): void {
    if (o.type === 'market') return;
    const h = TriggerBook.slot(o);
    const n = this.heaps[h]!.length;
    if (++this.dead[h]! * 2 > n) this.rebuild(h);
  }

  private rebuild(h: number): void {
    const live = this.heaps[h]!.filter((o) => !o.dead);
    this.entries -= this.heaps[h]!.length;
    shorten(this.heaps[h]!, 0);
    shorten(this.keys[h]!, 0);
    this.dead[h] = 0;
    for (const o of live) this.add(o);
  }

  /**
   * appends to `out` every live order of symbol s that a price path ranging over [lo, hi] reaches:
   * rising orders with level ≤ hi, falling orders with level ≥ lo (none when the range is empty or
   * NaN). The range is read from cells[loAt] and cells[hiAt] (doubles passed to a call V8 does not
   * inline are boxed: path.ts PATH_TAU). Returns the number appended.
   */
  reachable(s: number, cells: Float64Array, loAt: number, hiAt: number, out: PendingOrder[]): number {
    const lo = cells[loAt]!;
    const hi = cells[hiAt]!;
    let found = 0;
    for (let d = 0; d < 2; d++) {
      const h = 2 * s + d;
      const heap = this.heaps[h]!;
      if (heap.length === 0) continue;
      const keys = this.keys[h]!;
      const limit = d === 0 ? hi : -lo;
      if (!(keys[0]! <= limit)) continue;
      // (empty: each walk pops it to the end; never `length = 0`, which drops its store: util/scratch-array.ts)
      const stack = this.stack;
      stack.push(0);
      while (stack.length) {
        const k = stack.pop()!;
        const o = heap[k]!;
        if (!o.dead) {
          out.push(o);
          found++;
        }
        const c = 2 * k + 1;
        if (c < heap.length && keys[c]! <= limit) stack.push(c);
        if (c + 1 < heap.length && keys[c + 1]! <= limit) stack.push(c + 1);
      }
    }
    return found;
  }

  /** whether any order is indexed (dead ones may be among them) */
  any(): boolean {
    return this.entries > 0;
  }

  /** whether symbol s has indexed orders (dead ones may be among them) */
  has(s: number): boolean {
    return this.heaps[2 * s]!.length + this.heaps[2 * s + 1]!.length > 0;
  }

  /** live indexed orders (tests) */
  size(): number {
    let n = 0;
    for (const heap of this.heaps) for (const o of heap) if (!o.dead) n++;
    return n;
  }
}
