/**
 * The books' numbers: the Decimal constructor every booked amount is made with, its rounding rule
 * (BOOK_DP places, half-even), the exact Decimal → double conversion of the float mirrors, the
 * margin ratio's cap, and the books identity check.
 */
import { Decimal } from 'decimal.js';
import type { BooksSnapshot } from './types.js';

/** Decimal constructor of the books: 64 significant digits, half-even. */
export const BookDecimal = Decimal.clone({ precision: 64, rounding: Decimal.ROUND_HALF_EVEN });
export type D = Decimal;
/** decimal places every booked amount is rounded to */
export const BOOK_DP = 18;

export const ZERO = new BookDecimal(0);
export const dec = (n: number | string): D => new BookDecimal(n);
/** round to BOOK_DP places (half-even); a value that already has ≤ BOOK_DP places is returned as is (same value, no allocation) */
export const book = (d: D): D => (d.decimalPlaces() <= BOOK_DP ? d : d.toDecimalPlaces(BOOK_DP, Decimal.ROUND_HALF_EVEN));

/**
 * Decimal of a fill price, remembering the last one: the setups of a replay fill at the same bar
 * prices one after the other, so the second construction is usually a hit. Same value either way.
 */
let memoPrice = Number.NaN;
let memoPriceD: D = ZERO;
export function priceDecimal(price: number): D {
  if (price !== memoPrice) {
    memoPriceD = dec(price);
    memoPrice = price;
  }
  return memoPriceD;
}


const PAD7 = ['', '000000', '00000', '0000', '000', '00', '0', ''];
/**
 * `d.toNumber()` without decimal.js's string formatting: the digit words of the documented
 * instance properties (d: base-1e7 words, e: decimal exponent, s: sign) are joined and parsed as
 * `<digits>e<exp>`. Number parsing rounds the exact decimal correctly, as toNumber does, so the
 * result is the same double (tested against toNumber in test/account.props.test.ts).
 */
export function decimalToNumber(x: D): number {
  const d = x.d;
  if (!d || d.length === 0) return x.toNumber();
  let str = '' + d[0]!;
  for (let k = 1; k < d.length; k++) {
    const w = '' + d[k]!;
    str += PAD7[w.length]! + w;
  }
  const v = +(str + 'e' + (x.e - (str.length - 1)));
  return x.s < 0 ? -v : v;
}

/**
 * Ceiling of the margin ratio. MM ÷ margin balance has no meaning once the margin balance is ≤ 0
 * (it would be ∞ or negative): a pool whose margin balance is at or below MM / MARGIN_RATIO_CAP —
 * bankrupt, or within a tenth of its maintenance margin — counts as MARGIN_RATIO_CAP, so a ratio
 * is always finite and never decreases as the margin balance falls (≥ 1 = liquidation territory).
 */
export const MARGIN_RATIO_CAP = 10;
/**
 * the same value as a module-local constant: the per-bar code reads this one (reading the exported
 * binding there made V8 box the ratio it is mixed with — an allocation per bar, seen with the
 * sampling heap profiler)
 */
const RATIO_CAP = 10;

/** margin ratio of one pool: MM ÷ MB, capped at MARGIN_RATIO_CAP (MB ≤ 0 included); 0 without maintenance margin */
export function marginRatioOf(mm: number, mb: number): number {
  return !(mm > 0) ? 0 : mb * RATIO_CAP > mm ? mm / mb : RATIO_CAP;
}

/** Checks the books invariant exactly in Decimal; returns the difference (0 when the books balance). */
export function booksImbalance(b: BooksSnapshot): string {
  const lhs = dec(b.initialDeposit)
    .plus(b.realizedPnl)
    .minus(b.fees)
    .plus(b.fundingReceived)
    .minus(b.fundingPaid)
    .minus(b.liquidationPenalties)
    .plus(b.insuranceDraws);
  return lhs.minus(b.wallet).toFixed();
}
