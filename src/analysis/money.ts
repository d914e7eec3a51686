/**
 * Exact money of the analysis: the records' decimal strings as BigInt units of 1e-18 (enough for
 * the 8 places of the books and for results written by earlier engine versions with 18), summed
 * exactly and converted to a number once. The one home of this parsing for metrics and trades.
 */
import { Decimal } from 'decimal.js';
import { scaledToString } from '../account/fixed.js';

const PLACES = 18;
const ZEROS18 = '000000000000000000';
/** a plain decimal with at most 18 places (what the books and earlier engine versions write) */
const PLAIN = /^-?\d+(?:\.\d{1,18})?$/;
/** 10^k as doubles, k = 0..18 (exact up to 10^22) */
const POW10: readonly number[] = Array.from({ length: PLACES + 1 }, (_, k) => 10 ** k);
/** money: BigInt units of 1e-18 */
export type U = bigint;

/** 10^(18 − k) for k = 0..18: a plain decimal with k places is its digits (as an integer) times this */
const SCALE: readonly bigint[] = Array.from({ length: PLACES + 1 }, (_, k) => 10n ** BigInt(PLACES - k));

/** an exact decimal string (a record's amount) in units of 1e-18; more places or an exponent: rounded half-even through decimal.js */
export function toU(s: string): U {
  if (PLAIN.test(s)) {
    const dot = s.indexOf('.');
    const k = dot < 0 ? 0 : s.length - dot - 1;
    // at most 15 digits (sign and point aside): the digits m are an integer below 10^15 < 2^50, and
    // Number(s) · 10^k is within m · 2^-52 < 1/2 of it, so the rounding recovers m exactly (the
    // books' amounts, 8 places, always take this path); one BigInt instead of a parsed string
    if (s.length - (dot < 0 ? 0 : 1) - (s.charCodeAt(0) === 45 ? 1 : 0) <= 15) return BigInt(Math.round(Number(s) * POW10[k]!)) * SCALE[k]!;
    // one BigInt parse: the digits without the point, padded to 18 places
    return BigInt(dot < 0 ? s + ZEROS18 : s.slice(0, dot) + s.slice(dot + 1) + ZEROS18.slice(k));
  }
  return BigInt(new Decimal(s).toFixed(PLACES, Decimal.ROUND_HALF_EVEN).replace('.', ''));
}

/** units of 1e-18 as the exact decimal string (Decimal.toFixed() form) */
export function fromU(u: U): string {
  return scaledToString(u, PLACES);
}

/** units of 1e-18 as the nearest double */
export function uToNumber(u: U): number {
  return Number(fromU(u));
}
