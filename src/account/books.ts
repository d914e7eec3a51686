/**
 * The books' numbers: money in integer units of 1e-8 (./fixed.ts), the margin ratio's cap, and the
 * books identity check (exact, in decimal.js, on the decimal strings a BooksSnapshot carries).
 */
import { Decimal } from 'decimal.js';
import type { BooksSnapshot } from './types.js';

export { UNIT_DP as BOOK_DP } from './fixed.js';

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

/**
 * wide enough that no sum of booked amounts rounds, at any size (decimal.js's default keeps 20
 * digits; 200 made a funding payment of 1e310 units show an imbalance of −999.95 on books that
 * balance): decimal.js's largest precision, so only a string of a billion digits could round
 */
const Exact = Decimal.clone({ precision: 1e9, rounding: Decimal.ROUND_HALF_EVEN });

/** Checks the books invariant exactly in Decimal; returns the difference (0 when the books balance). */
export function booksImbalance(b: BooksSnapshot): string {
  const dec = (v: string) => new Exact(v);
  const lhs = dec(b.initialDeposit)
    .plus(b.realizedPnl)
    .minus(b.fees)
    .plus(b.fundingReceived)
    .minus(b.fundingPaid)
    .minus(b.liquidationPenalties)
    .plus(b.insuranceDraws);
  return lhs.minus(b.wallet).toFixed();
}
