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
/** money: BigInt units of 1e-18 */
export type U = bigint;

/** an exact decimal string (a record's amount) in units of 1e-18; more places or an exponent: rounded half-even through decimal.js */
export function toU(s: string): U {
  if (PLAIN.test(s)) {
    // one BigInt parse: the digits without the point, padded to 18 places
    const dot = s.indexOf('.');
    return BigInt(dot < 0 ? s + ZEROS18 : s.slice(0, dot) + s.slice(dot + 1) + ZEROS18.slice(s.length - dot - 1));
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
