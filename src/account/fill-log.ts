/**
 * Columnar logs of booked fills and funding settlements. A replay books tens of thousands of fills; keeping one object per
 * fill alive until the end makes every young-generation GC copy and promote them. Here a fill is a
 * row of typed arrays (the numbers as they are, fee and realised PnL in units of 1e-8 in a
 * BigInt64Array, an amount beyond its ±9.2e10 USDT kept aside); the ledger's AccountEvent objects,
 * with the amounts as exact decimal strings, are built when read.
 */
import { grown } from '../util/typed-array.js';
import { unitsToString } from './fixed.js';
import type { AccountEvent, FillOrder, ModeId } from './types.js';
import type { OrderType } from '../strategy/types.js';
import { freezeClass } from '../util/freeze.js';

const I64_MAX = 2n ** 63n - 1n;

/** a fill's order type as its column stores it (0: no order given) */
const ORDER_TYPE_CODES: readonly (OrderType | null)[] = [null, 'market', 'limit', 'stop', 'takeProfit'];
const orderTypeCode = (t: OrderType): number => {
  const c = ORDER_TYPE_CODES.indexOf(t);
  return c > 0 ? c : 0;
};

export class FillLog {
  n = 0;
  private cap = 0;
  private time = new Float64Array(0);
  private qty = new Float64Array(0);
  private price = new Float64Array(0);
  private posQty = new Float64Array(0);
  private fee = new BigInt64Array(0);
  private realized = new BigInt64Array(0);
  /** amounts outside the BigInt64 range, by fill index */
  private readonly wide = new Map<number, [bigint, bigint]>();
  private sym = new Int32Array(0);
  private mode = new Uint8Array(0);
  /** the order each fill executed (TradeRequest.order): its id (NaN: none), type code, tag (by fill index, when it had one) */
  private orderId = new Float64Array(0);
  private orderType = new Uint8Array(0);
  private readonly tags = new Map<number, string>();

  private grow(): void {
    const cap = this.cap === 0 ? 1024 : this.cap * 2;
    this.orderId = grown(this.orderId, cap);
    this.orderType = grown(this.orderType, cap);
    this.time = grown(this.time, cap);
    this.qty = grown(this.qty, cap);
    this.price = grown(this.price, cap);
    this.posQty = grown(this.posQty, cap);
    this.fee = grown(this.fee, cap);
    this.realized = grown(this.realized, cap);
    this.sym = grown(this.sym, cap);
    this.mode = grown(this.mode, cap);
    this.cap = cap;
  }

  /** records a fill (fee and realised PnL in units); returns its index */
  push(time: number, symbol: number, qty: number, price: number, fee: bigint, realized: bigint, positionQty: number, mode: ModeId, order?: FillOrder): number {
    if (this.n === this.cap) this.grow();
    const k = this.n++;
    if (order !== undefined) {
      this.orderId[k] = order.id;
      this.orderType[k] = orderTypeCode(order.type);
      if (order.tag !== undefined) this.tags.set(k, order.tag);
    } else {
      this.orderId[k] = Number.NaN;
      this.orderType[k] = 0;
    }
    this.time[k] = time;
    this.sym[k] = symbol;
    this.qty[k] = qty;
    this.price[k] = price;
    this.posQty[k] = positionQty;
    if (fee < I64_MAX && fee > -I64_MAX && realized < I64_MAX && realized > -I64_MAX) {
      this.fee[k] = fee;
      this.realized[k] = realized;
    } else this.wide.set(k, [fee, realized]);
    this.mode[k] = mode === 'cross' ? 1 : 0;
    return k;
  }

  /** Σ fees of the fills (units) */
  feeTotal(): bigint {
    this.sum();
    return this.feeSum;
  }

  /** Σ realised PnL of the fills (units) */
  realizedTotal(): bigint {
    this.sum();
    return this.realizedSum;
  }

  /** the totals over fills [0, summed), extended to every fill when read (a read costs the fills since the last) */
  private summed = 0;
  private feeSum = 0n;
  private realizedSum = 0n;

  private sum(): void {
    let f = this.feeSum;
    let r = this.realizedSum;
    for (let k = this.summed; k < this.n; k++) {
      f += this.feeUnits(k);
      r += this.realizedUnits(k);
    }
    this.feeSum = f;
    this.realizedSum = r;
    this.summed = this.n;
  }

  /** fill k's fields, read without building its event (src/shard/records.ts) */
  timeOf(k: number): number {
    return this.time[k]!;
  }
  symbolOf(k: number): number {
    return this.sym[k]!;
  }
  /** signed quantity of the fill */
  qtyOf(k: number): number {
    return this.qty[k]!;
  }
  priceOf(k: number): number {
    return this.price[k]!;
  }
  positionQtyOf(k: number): number {
    return this.posQty[k]!;
  }
  modeOf(k: number): ModeId {
    return this.mode[k] === 1 ? 'cross' : 'isolated';
  }
  /** the type of the order fill k executed (null when none was given) */
  orderTypeOf(k: number): OrderType | null {
    return ORDER_TYPE_CODES[this.orderType[k]!] ?? null;
  }
  /** that order's tag (null when none) */
  tagOf(k: number): string | null {
    return (this.tags.size > 0 ? this.tags.get(k) : undefined) ?? null;
  }
  /** the order fill k executed, undefined when none was given */
  orderOf(k: number): FillOrder | undefined {
    const type = this.orderTypeOf(k);
    if (type === null) return undefined;
    const tag = this.tagOf(k);
    return tag === null ? { id: this.orderId[k]!, type } : { id: this.orderId[k]!, type, tag };
  }
  /** the fee in units (1e-8; an amount beyond the column's range was kept aside, its cell holds 0) */
  feeUnits(k: number): bigint {
    const wide = this.wide.size > 0 ? this.wide.get(k) : undefined;
    return wide ? wide[0] : this.fee[k]!;
  }
  /** the realised PnL in units (1e-8) */
  realizedUnits(k: number): bigint {
    const wide = this.wide.size > 0 ? this.wide.get(k) : undefined;
    return wide ? wide[1] : this.realized[k]!;
  }
  /** the fee as its exact decimal string */
  feeText(k: number): string {
    return unitsToString(this.feeUnits(k));
  }
  /** the realised PnL as its exact decimal string */
  realizedText(k: number): string {
    return unitsToString(this.realizedUnits(k));
  }

  /** the plain AccountEvent of fill k */
  event(k: number): AccountEvent {
    return {
      type: 'fill',
      time: this.time[k]!,
      symbol: this.sym[k]!,
      qty: this.qty[k]!,
      price: this.price[k]!,
      fee: this.feeText(k),
      realizedPnl: this.realizedText(k),
      positionQty: this.posQty[k]!,
      mode: this.modeOf(k),
      ...this.orderField(k),
    };
  }
  private orderField(k: number): { order?: FillOrder } {
    const order = this.orderOf(k);
    return order ? { order } : {};
  }
}

/**
 * Columnar log of funding settlements (the most frequent event of a replay that holds positions:
 * one per symbol held and funding time). The amount received is in units of 1e-8 in a
 * BigInt64Array (beyond its range kept aside); the ledger's AccountEvent is built when read.
 */
export class FundingLog {
  n = 0;
  private cap = 0;
  private time = new Float64Array(0);
  private rate = new Float64Array(0);
  private price = new Float64Array(0);
  private received = new BigInt64Array(0);
  private sym = new Int32Array(0);
  /** amounts outside the BigInt64 range, by index */
  private readonly wide = new Map<number, bigint>();

  private grow(): void {
    const cap = this.cap === 0 ? 256 : this.cap * 2;
    this.time = grown(this.time, cap);
    this.rate = grown(this.rate, cap);
    this.price = grown(this.price, cap);
    this.received = grown(this.received, cap);
    this.sym = grown(this.sym, cap);
    this.cap = cap;
  }

  /** records a settlement (received in units: > 0 received, < 0 paid); returns its index */
  push(time: number, symbol: number, rate: number, price: number, received: bigint): number {
    if (this.n === this.cap) this.grow();
    const k = this.n++;
    this.time[k] = time;
    this.sym[k] = symbol;
    this.rate[k] = rate;
    this.price[k] = price;
    if (received < I64_MAX && received > -I64_MAX) this.received[k] = received;
    else this.wide.set(k, received);
    return k;
  }

  /** settlement k's fields, read without building its event (src/shard/records.ts) */
  timeOf(k: number): number {
    return this.time[k]!;
  }
  symbolOf(k: number): number {
    return this.sym[k]!;
  }
  rateOf(k: number): number {
    return this.rate[k]!;
  }
  priceOf(k: number): number {
    return this.price[k]!;
  }
  /** the amount received (< 0 paid) in units (1e-8) */
  receivedUnits(k: number): bigint {
    const wide = this.wide.size > 0 ? this.wide.get(k) : undefined;
    return wide ?? this.received[k]!;
  }
  /** the amount received (< 0 paid) as its exact decimal string */
  receivedText(k: number): string {
    return unitsToString(this.receivedUnits(k));
  }

  /** the plain AccountEvent of settlement k */
  event(k: number): AccountEvent {
    return {
      type: 'funding',
      time: this.time[k]!,
      symbol: this.sym[k]!,
      received: this.receivedText(k),
      rate: this.rate[k]!,
      price: this.price[k]!,
    };
  }
}

/**
 * The ledger as the account recorded it, for a reader that wants the fills and funding settlements
 * without their event objects (the result records: src/shard/records.ts): an entry k ≥ 0 is fill k
 * of `fills`, −1 − k settlement k of `funding`, an object any other event (or a fill or settlement
 * already built by a read of Account.events). Read-only: valid until the account books again.
 */
export interface Ledger {
  readonly entries: readonly (AccountEvent | number)[];
  readonly fills: FillLog;
  readonly funding: FundingLog;
}

// one per worker, reachable from a strategy (through createAccount, the context or the package entry):
// frozen so that a strategy changing it cannot change the later runs of its worker (src/engine/context.ts)
for (const c of [FillLog, FundingLog]) freezeClass(c);
