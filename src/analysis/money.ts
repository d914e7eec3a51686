/**
 * Exact money of the analysis: the records' decimal strings as BigInt units of 1e-18 (enough for
 * the 8 places of the books and for results written by earlier engine versions with 18), summed
 * exactly and converted to a number once. The one home of this parsing for metrics and trades.
 */
import { Decimal } from 'decimal.js';
import { scaledToString, UNIT_DP } from '../account/fixed.js';

const PLACES = 18;
const ZEROS18 = '000000000000000000';
/** money: BigInt units of 1e-18 */
export type U = bigint;

/** 10^(18 − k) for k = 0..18: a plain decimal with k places is its digits (as an integer) times this */
const SCALE: readonly bigint[] = Array.from({ length: PLACES + 1 }, (_, k) => 10n ** BigInt(PLACES - k));

/** an exact decimal string (a record's amount) in units of 1e-18; more places or an exponent: rounded half-even through decimal.js */
export function toU(s: string): U {
  // a plain decimal (-?digits[.digits], at most 18 places), read in one scan: while it has at most
  // 15 digits their integer m is exact in a double (< 10^15 < 2^53), and the value is m × 10^(18 − k)
  const len = s.length;
  const neg = len > 0 && s.charCodeAt(0) === 45;
  let dot = -1;
  let m = 0;
  let digits = 0;
  for (let j = neg ? 1 : 0; j < len; j++) {
    const c = s.charCodeAt(j);
    if (c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      digits++;
    } else if (c === 46 && dot < 0 && digits > 0) dot = j;
    else return fromDecimal(s);
  }
  const k = dot < 0 ? 0 : len - dot - 1;
  if (digits === 0 || (dot >= 0 && (k === 0 || k > PLACES))) return fromDecimal(s);
  if (digits <= 15) {
    const u = BigInt(m) * SCALE[k]!;
    return neg ? -u : u;
  }
  // one BigInt parse: the digits without the point, padded to 18 places
  return BigInt(dot < 0 ? s + ZEROS18 : s.slice(0, dot) + s.slice(dot + 1) + ZEROS18.slice(k));
}

/** any other decimal string: rounded half-even to 18 places through decimal.js (throws on what is not a number) */
function fromDecimal(s: string): U {
  return BigInt(new Decimal(s).toFixed(PLACES, Decimal.ROUND_HALF_EVEN).replace('.', ''));
}

/**
 * What the wallet lost to one liquidation: its penalty less the realised PnL of the forced close, less
 * what the insurance fund covered (docs/metrics.md, liquidationLoss).
 */
export function liquidationLossU(ev: { penalty: string; realizedPnl: string; insuranceDraw: string }): U {
  return toU(ev.penalty) - toU(ev.realizedPnl) - toU(ev.insuranceDraw);
}

/** the books' units (1e-8, account/fixed.ts) as units of 1e-18: what toU gives for their decimal string */
export function unitsToU(units: bigint): U {
  return units * SCALE[UNIT_DP]!;
}

/** units of 1e-18 as the exact decimal string (Decimal.toFixed() form) */
export function fromU(u: U): string {
  return scaledToString(u, PLACES);
}

/** units of 1e-18 as the nearest double */
export function uToNumber(u: U): number {
  return Number(fromU(u));
}

/** a number's text that units of 1e-18 hold exactly (a plain decimal of at most 18 places: no exponent) */
const IN_UNITS = /^-?\d+(\.\d{1,18})?$/;
/** the decimals of figures units of 1e-18 do not hold (1e-21, 1e+21 with 1e-5): exact far past a double's 17 digits, rounded once to one */
const Wide = Decimal.clone({ precision: 700, rounding: Decimal.ROUND_HALF_EVEN });

/**
 * a − b as the decimals the two numbers print as (16422.37087315 − 10000 is 6422.37087315, where
 * the doubles' difference is 6422.370873150001): a figure computed from two shown figures shows
 * what a reader gets by hand. Non-finite values: the doubles' difference.
 */
export function decimalDiff(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return a - b;
  const sa = String(a);
  const sb = String(b);
  // a figure with more than 18 places (1e-21, 1.2345678901234567e-5) in units of 1e-18 was rounded: 1e-21 − 0 read 0
  if (!IN_UNITS.test(sa) || !IN_UNITS.test(sb)) return new Wide(sa).minus(sb).toNumber();
  return uToNumber(toU(sa) - toU(sb));
}

/** Σ xs on the decimals the numbers print as (decimalDiff), converted to a number once: Σ of shown figures reads as by hand */
export function decimalSum(xs: readonly number[]): number {
  if (!xs.every(Number.isFinite)) return xs.reduce((s, x) => s + x, 0);
  const texts = xs.map(String);
  if (!texts.every((t) => IN_UNITS.test(t))) return texts.reduce((sum, t) => sum.plus(t), new Wide(0)).toNumber();
  let u = 0n;
  for (const t of texts) u += toU(t);
  return uToNumber(u);
}

/** (a − b) ÷ |b| on the decimals the two numbers print as, rounded once; b ≠ 0 */
export function decimalRelChange(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return (a - b) / Math.abs(b);
  return new Decimal(String(a)).minus(String(b)).div(new Decimal(String(b)).abs()).toNumber();
}

/** 100 × (a ÷ b − 1) on the decimals the two numbers print as (decimalDiff), rounded once; b ≠ 0 */
export function decimalPctChange(a: number, b: number): number {
  if (!Number.isFinite(a) || !Number.isFinite(b)) return 100 * (a / b - 1);
  return new Decimal(String(a)).minus(String(b)).times(100).div(String(b)).toNumber();
}
