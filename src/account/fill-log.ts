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

const P10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

/** number of decimal digits of a word (0 < w < 1e7) */
const wordDigits = (w: number): number => (w < 10 ? 1 : w < 100 ? 2 : w < 1e3 ? 3 : w < 1e4 ? 4 : w < 1e5 ? 5 : w < 1e6 ? 6 : 7);

/**
 * Exact parts of a Decimal with ≤ 18 places: v = sign × (int + f1·1e-9 + f2·1e-18), from the
 * documented instance properties (d: base-1e7 words, most significant first; e: exponent of the
 * most significant digit; s: sign). False when it does not fit.
 */
function split(x: D, out: Float64Array, at: number): boolean {
  const d = x.d;
  if (!d || d.length === 0) return false;
  let int = 0;
  let f1 = 0;
  let f2 = 0;
  const len0 = d[0] === 0 ? 1 : wordDigits(d[0]!);
  const top = x.e - len0 + 1; // exponent of the least significant digit of word 0
  for (let k = 0; k < d.length; k++) {
    let w = d[k]!;
    if (w === 0) continue;
    let lsd = top - 7 * k;
    const hsd = lsd + (k === 0 ? len0 : 7) - 1;
    if (lsd >= 0) {
      if (hsd > 15) return false;
      int += w * P10[lsd]!;
      continue;
    }
    if (hsd >= 0) {
      // digits at exponents ≥ 0 go to the integer part
      const div = P10[-lsd]!;
      const hi = Math.floor(w / div);
      int += hi;
      w -= hi * div;
    }
    if (lsd < -18) {
      // below 1e-18 only zero digits are allowed
      const div = P10[-18 - lsd]!;
      const low = w % div;
      if (low !== 0) return false;
      w = (w - low) / div;
      lsd = -18;
    }
    if (lsd >= -9) {
      f1 += w * P10[9 + lsd]!;
    } else {
      const div = P10[-9 - lsd]!;
      const hi = Math.floor(w / div);
      f1 += hi;
      f2 += (w - hi * div) * P10[18 + lsd]!;
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
