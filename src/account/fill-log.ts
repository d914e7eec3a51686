/**
 * Columnar log of booked fills. A replay books tens of thousands of fills; keeping one object per
 * fill (plus its two Decimal amounts) alive until the end makes every young-generation GC copy
 * and promote them. Here a fill is a row of typed arrays: the numbers as they are, and the two
 * booked Decimal amounts (fee, realised PnL, ≤ 18 decimal places) as exact integer parts
 * (integer part, fraction digits 1–9, fraction digits 10–18). The ledger's AccountEvent objects,
 * with the amounts as decimal strings identical to `Decimal.toFixed()`, are built when read.
 * An amount that does not fit (integer part ≥ 2^53, or more than 18 places) keeps its Decimal.
 */
import type { Decimal } from 'decimal.js';
import type { AccountEvent, ModeId } from './types.js';

type D = Decimal;
const MAX_INT = 2 ** 53;

/** exact parts of a Decimal with ≤ 18 places: v = sign × (int + f1·1e-9 + f2·1e-18); false when it does not fit */
function split(x: D, out: Float64Array, at: number): boolean {
  const d = x.d;
  if (!d || d.length === 0) return false;
  let int = 0;
  let f1 = 0;
  let f2 = 0;
  const w0 = d[0]!;
  let len0 = 1;
  for (let t = w0; t >= 10; t = Math.floor(t / 10)) len0++;
  // exponent of the least significant digit of word k: e − len0 + 1 − 7k
  let p = x.e - len0 + 1;
  for (let k = 0; k < d.length; k++) {
    let w = d[k]!;
    const n = k === 0 ? len0 : 7;
    const lsd = k === 0 ? p : p - 7 * k;
    for (let j = 0; j < n && w > 0; j++) {
      const digit = w % 10;
      w = (w - digit) / 10;
      if (digit === 0) continue;
      const q = lsd + j; // exponent of this digit
      if (q >= 0) {
        if (q > 15) return false;
        int += digit * 10 ** q;
      } else if (q >= -9) f1 += digit * 10 ** (9 + q);
      else if (q >= -18) f2 += digit * 10 ** (18 + q);
      else return false;
    }
  }
  if (!(int < MAX_INT)) return false;
  out[at] = x.s < 0 ? -1 : 1;
  out[at + 1] = int;
  out[at + 2] = f1;
  out[at + 3] = f2;
  return true;
}

const pad9 = (v: number): string => {
  const s = String(v);
  return s.length >= 9 ? s : '000000000'.slice(s.length) + s;
};

/** the decimal string of parts, as Decimal.toFixed() writes it */
function join(parts: Float64Array, at: number): string {
  const sign = parts[at]!;
  const int = parts[at + 1]!;
  const f1 = parts[at + 2]!;
  const f2 = parts[at + 3]!;
  let frac = '';
  if (f2 !== 0) frac = pad9(f1) + pad9(f2);
  else if (f1 !== 0) frac = pad9(f1);
  if (frac) frac = frac.replace(/0+$/, '');
  const body = frac ? `${int}.${frac}` : `${int}`;
  return sign < 0 && (int !== 0 || frac !== '') ? `-${body}` : body;
}

export class FillLog {
  n = 0;
  private cap = 0;
  private time = new Float64Array(0);
  private qty = new Float64Array(0);
  private price = new Float64Array(0);
  private posQty = new Float64Array(0);
  private sym = new Int32Array(0);
  private mode = new Uint8Array(0);
  /** 8 numbers per fill: fee parts (sign, int, f1, f2), realised parts */
  private amounts = new Float64Array(0);
  /** amounts that did not fit the parts, by fill index */
  private readonly big = new Map<number, [D, D]>();

  private grow(): void {
    const cap = this.cap === 0 ? 1024 : this.cap * 2;
    const f = (a: Float64Array, m = 1) => {
      const b = new Float64Array(cap * m);
      b.set(a);
      return b;
    };
    this.time = f(this.time);
    this.qty = f(this.qty);
    this.price = f(this.price);
    this.posQty = f(this.posQty);
    this.amounts = f(this.amounts, 8);
    const s = new Int32Array(cap);
    s.set(this.sym);
    this.sym = s;
    const m = new Uint8Array(cap);
    m.set(this.mode);
    this.mode = m;
    this.cap = cap;
  }

  /** records a fill; returns its index */
  push(time: number, symbol: number, qty: number, price: number, fee: D, realized: D, positionQty: number, mode: ModeId): number {
    if (this.n === this.cap) this.grow();
    const k = this.n++;
    this.time[k] = time;
    this.sym[k] = symbol;
    this.qty[k] = qty;
    this.price[k] = price;
    this.posQty[k] = positionQty;
    this.mode[k] = mode === 'cross' ? 1 : 0;
    if (!split(fee, this.amounts, 8 * k) || !split(realized, this.amounts, 8 * k + 4)) this.big.set(k, [fee, realized]);
    return k;
  }

  /** the plain AccountEvent of fill k */
  event(k: number): AccountEvent {
    const big = this.big.get(k);
    return {
      type: 'fill',
      time: this.time[k]!,
      symbol: this.sym[k]!,
      qty: this.qty[k]!,
      price: this.price[k]!,
      fee: big ? big[0].toFixed() : join(this.amounts, 8 * k),
      realizedPnl: big ? big[1].toFixed() : join(this.amounts, 8 * k + 4),
      positionQty: this.posQty[k]!,
      mode: this.mode[k] === 1 ? 'cross' : 'isolated',
    };
  }
}

/** (tests) the string FillLog writes for a Decimal, or null when it keeps the Decimal */
export function fillLogString(x: D): string | null {
  const parts = new Float64Array(4);
  return split(x, parts, 0) ? join(parts, 0) : null;
}
