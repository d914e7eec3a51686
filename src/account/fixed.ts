/**
 * Fixed-point money of the books (DESIGN §3, revised): every booked amount is an integer number of
 * UNITS (1e-8 of the quote currency, the settlement precision of USDⓈ-M exchanges), held as a
 * BigInt, so sums are exact at any size (a whale-sized top-tier position's cost basis of 1e9 USDT
 * is 1e17 units, beyond the 2^53 of a double).
 *
 * Products are computed exactly and rounded once, half-even, to a unit. A double such as a price,
 * a rate, a quantity step or a leverage means its shortest round-trip decimal (what `String(x)`
 * prints, and what `new Decimal(x)` takes): 0.1 is one tenth, not 0.1000000000000000055…. The fast
 * path decomposes each factor into an integer mantissa and a count of decimal places and does the
 * integer arithmetic in doubles while every intermediate is below 2^52 (exact), then makes one
 * BigInt of the result. A product with one or two long factors (a 17-digit price: synthetic,
 * slipped or a Monte Carlo path; a synthetic funding rate) or too wide for that is first computed
 * as a certified double product (the factors' doubles times the others' exact integer, with
 * Dekker's error-free product: when it lies clearly away from a half unit, the decimals round the
 * same way); only near a tie are a long factor's digits read (String), and beyond the doubles'
 * reach an exact BigInt path takes over. All paths round the same way and are property-tested
 * against decimal.js (test/fixed.test.ts).
 *
 * Why BigInt rather than doubles holding safe integers (measured: npm run bench:books): a
 * fill's ten or so additions cost about 0.06–0.1 µs in BigInt against 0.01 µs in doubles, but
 * double units overflow at 90,071,992.54740991 USDT, which the top maintenance tiers (notional up
 * to 1e9) and the property tests that cross them exceed. BigInts hold no pointers: the GC never
 * traces them, and the ones a booking makes die young.
 */
import { Decimal } from 'decimal.js';

/** decimal places of one unit */
export const UNIT_DP = 8;
/** units per quote currency unit */
export const UNITS_PER_QUOTE = 1e8;
/** the double nearest to u units (one correctly rounded division while |u| < 2^53; beyond, the exact decimal parsed) */
export function unitsToNumber(u: bigint): number {
  return small(u) ? Number(u) / UNITS_PER_QUOTE : Number(unitsToString(u));
}

const ZEROS = '0'.repeat(40);
/** the exact decimal string of u × 10^-places (Decimal.toFixed() form: no exponent, no trailing zeros) */
export function scaledToString(u: bigint, places: number): string {
  if (u === 0n) return '0';
  const neg = u < 0n;
  const digits = (neg ? -u : u).toString();
  const cut = digits.length - places;
  const int = cut > 0 ? digits.slice(0, cut) : '0';
  let end = digits.length;
  while (end > (cut > 0 ? cut : 0) && digits.charCodeAt(end - 1) === 48) end--;
  const frac = cut >= 0 ? digits.slice(cut, end) : ZEROS.slice(0, -cut) + digits.slice(0, end);
  const body = frac ? `${int}.${frac}` : int;
  return neg ? '-' + body : body;
}

/** the exact decimal string of u units, as Decimal.toFixed() writes it (no exponent, no trailing zeros) */
export function unitsToString(u: bigint): string {
  return scaledToString(u, UNIT_DP);
}

/** Decimal used by the parser: wide enough for any amount a config can state */
const Wide = Decimal.clone({ precision: 200, rounding: Decimal.ROUND_HALF_EVEN });

/** a decimal string (or a number, meaning its shortest decimal) as units, rounded half-even; TypeError naming `what` when it is not a finite decimal */
export function parseUnits(v: string | number, what: string): bigint {
  let d: Decimal;
  try {
    d = new Wide(v);
  } catch {
    throw new TypeError(`${what} must be a decimal number, got ${JSON.stringify(v)}`);
  }
  if (!d.isFinite()) throw new TypeError(`${what} must be finite, got ${JSON.stringify(v)}`);
  return roundedUnits(d.times(UNITS_PER_QUOTE));
}

/** units as a Decimal of the parser's width (exact) */
export function unitsDecimal(u: bigint): Decimal {
  return new Wide(u.toString());
}

/**
 * A position's uPnL minus its initial margin at mark m, in units, exactly (a Decimal; each double
 * its shortest decimal, as every booking reads it): side × (|lots| × step × m − cost) − |lots| × step
 * × m ÷ leverage. Summed over the cross positions with the cross wallet and rounded once
 * (roundedUnits), it is the available balance a booking takes from.
 */
export function marginShareUnits(lots: number, step: number, cost: bigint, m: number, leverage: number): Decimal {
  const notional = new Wide(lots < 0 ? -lots : lots).times(new Wide(step)).times(new Wide(m)).times(UNITS_PER_QUOTE);
  const basis = new Wide(cost.toString());
  const upnl = lots < 0 ? basis.minus(notional) : notional.minus(basis);
  return upnl.minus(notional.div(new Wide(leverage)));
}

/** a Decimal of units rounded half-even to a whole unit */
export function roundedUnits(d: Decimal): bigint {
  return BigInt(d.toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).toFixed(0));
}

// ---------------------------------------------------------------- decomposition of a double

const P10: readonly number[] = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
/** mantissas at or above this take the slow path (keeps every fast-path product check simple) */
const FAST_LIMIT = 2 ** 52;

/** mantissa set by places(); the value is ± mant × 10^-places (sign kept in mant) */
let mant = 0;
/** the last double places() found too long (a price is decomposed by several bookings in a row) */
let lastLong = Number.NaN;

/**
 * Decimal places k of the shortest decimal of x, with mant set to its integer mantissa
 * (x = mant × 10^-k exactly, as decimals); −1 when the mantissa is not below 2^52 or x is not finite.
 * Below 9e14 the decimal that round-trips with the fewest places is unique (its spacing 10^-k is
 * wider than the double's rounding interval), so it is the shortest round-trip decimal.
 */
function places(x: number): number {
  if (x === Math.trunc(x)) {
    if (x < FAST_LIMIT && x > -FAST_LIMIT) {
      mant = x;
      return 0;
    }
    return -1;
  }
  if (x !== x || x === Infinity || x === -Infinity || x === lastLong) return -1;
  // the quantity steps, fee rates and recent prices a booking multiplies come back every time
  for (let i = 0; i < PMEMO; i++) {
    if (pmX[i] === x) {
      mant = pmM[i]!;
      return pmK[i]!;
    }
  }
  const k = placesOf(x);
  if (k >= 0) {
    pmX[pmNext] = x;
    pmM[pmNext] = mant;
    pmK[pmNext] = k;
    pmNext = (pmNext + 1) & (PMEMO - 1);
  }
  return k;
}

const PMEMO = 8;
const pmX = new Float64Array(PMEMO).fill(Number.NaN);
const pmM = new Float64Array(PMEMO);
const pmK = new Int32Array(PMEMO);
let pmNext = 0;

/** places() of a finite non-integer x without the memo */
function placesOf(x: number): number {
  let k = scan(x, 1, 4);
  if (k !== NOT_YET) return k;
  // more than 4 places: one test at the most places a mantissa below 9e14 allows decides whether
  // any count of places ≤ that one works (x·10^k rounds to that mantissa exactly, and the
  // correctly rounded quotient is x only if its decimal round-trips); a long decimal ends here
  const ax = x < 0 ? -x : x;
  let top = Math.floor(Math.log10(9e14 / ax));
  if (top > 22) top = 22;
  while (top < 22 && ax * P10[top + 1]! < 9e14) top++;
  while (top > 4 && ax * P10[top]! >= 9e14) top--;
  if (top > 4 && Math.round(x * P10[top]!) / P10[top]! === x) {
    k = scan(x, 5, top);
    if (k !== NOT_YET) return k;
  }
  lastLong = x;
  return -1;
}

const NOT_YET = -2;
/** the first k in [from, to] whose mantissa round-trips (mant set); −1 once a mantissa reaches 9e14; else NOT_YET */
function scan(x: number, from: number, to: number): number {
  for (let k = from; k <= to; k++) {
    const m = Math.round(x * P10[k]!);
    if (m >= 9e14 || m <= -9e14) {
      lastLong = x;
      return -1;
    }
    if (m / P10[k]! === x) {
      mant = m;
      return k;
    }
  }
  return NOT_YET;
}

/** the remainder floorDiv left (module state: a second return value without an allocation) */
let fdRem = 0;

/**
 * ⌊a ÷ d⌋ for integers 0 ≤ a < 2^53 and 0 < d < 2^52, exactly (the double quotient corrected by
 * one either way), its remainder in fdRem.
 */
function floorDiv(a: number, d: number): number {
  let q = Math.floor(a / d);
  let r = a - q * d;
  if (r < 0) {
    q -= 1;
    r += d;
  } else if (r >= d) {
    q += 1;
    r -= d;
  }
  fdRem = r;
  return q;
}

/**
 * round(n ÷ d), half-even, for integers with |n| < 2^52 and 0 < d < 2^52 (every step exact:
 * |q·d| ≤ |n| + d < 2^53).
 */
function divRound(n: number, d: number): number {
  if (d === 1) return n;
  const neg = n < 0;
  const a = neg ? -n : n;
  let q = floorDiv(a, d);
  const twice = 2 * fdRem;
  if (twice > d || (twice === d && q % 2 === 1)) q += 1;
  return neg ? -q : q;
}

/**
 * Units of a × b × c × e ÷ den (each factor the shortest decimal of its double), rounded once,
 * half-even, to a unit: round(a·b·c·e / den × 1e8). den must be > 0. The four factors are
 * decomposed one after the other, written out (a loop over them measured slower on tick prices:
 * 0.29 → 0.36–0.40 µs for three bookings).
 */
export function roundUnits(a: number, b: number, c: number, e: number, den: number): bigint {
  let exp = UNIT_DP;
  let p = 1;
  /** the one factor with a long decimal (index, −1: none yet) */
  let lw = -1;
  // the short factors' mantissas and places (for a product too wide for the fast path)
  let ma = 1;
  let mb = 1;
  let mc = 1;
  let me = 1;
  let ka = 0;
  let kb = 0;
  let kc = 0;
  let ke = 0;
  let k = places(a);
  if (k < 0) lw = 0;
  else {
    p = ma = mant;
    exp -= ka = k;
  }
  k = places(b);
  if (k < 0) {
    if (lw >= 0) return wideUnits(a, b, c, e, den);
    lw = 1;
  } else {
    p *= mb = mant;
    exp -= kb = k;
  }
  k = places(c);
  if (k < 0) {
    if (lw >= 0) return wideUnits(a, b, c, e, den);
    lw = 2;
  } else {
    p *= mc = mant;
    exp -= kc = k;
  }
  k = places(e);
  if (k < 0) {
    if (lw >= 0) return wideUnits(a, b, c, e, den);
    lw = 3;
  } else {
    p *= me = mant; // |p| only grows (or becomes an exact 0): one range test suffices
    exp -= ke = k;
  }
  if (lw >= 0) {
    // one long decimal (a 17-digit price) times short ones: the certified double product
    if (den === 1 && p < FAST_LIMIT && p > -FAST_LIMIT) {
      const x = lw === 0 ? a : lw === 1 ? b : lw === 2 ? c : e;
      if (x - x === 0) {
        const r = certified(x < 0 ? -x : x, 1, p < 0 ? -p : p, exp);
        if (r === r) return BigInt(x < 0 !== p < 0 ? -r : r);
      }
    }
    return wideUnits(a, b, c, e, den);
  }
  if (!(p < FAST_LIMIT && p > -FAST_LIMIT)) {
    if (den === 1) {
      // short decimals whose product passes 2^52 (a 15-digit price times a count): the factor with
      // the largest mantissa as the certified product's double, the others' mantissas exactly
      // (what wideUnits does, without decomposing the factors again)
      const aa = ma < 0 ? -ma : ma;
      const ab = mb < 0 ? -mb : mb;
      const ac = mc < 0 ? -mc : mc;
      const ae = me < 0 ? -me : me;
      let w = 0;
      let top = aa;
      if (ab > top) {
        w = 1;
        top = ab;
      }
      if (ac > top) {
        w = 2;
        top = ac;
      }
      if (ae > top) w = 3;
      const A = w === 0 ? mb * mc * me : w === 1 ? ma * mc * me : w === 2 ? ma * mb * me : ma * mb * mc;
      const kw = w === 0 ? ka : w === 1 ? kb : w === 2 ? kc : ke;
      if (A < FAST_LIMIT && A > -FAST_LIMIT) {
        const x = w === 0 ? a : w === 1 ? b : w === 2 ? c : e;
        // exp = UNIT_DP − Σ places; the others' places are Σ places − kw
        const r = certified(x < 0 ? -x : x, 1, A < 0 ? -A : A, exp + kw);
        if (r === r) return BigInt(x < 0 !== A < 0 ? -r : r);
      }
    }
    return wideUnits(a, b, c, e, den);
  }
  k = places(den);
  if (k < 0 || !(mant > 0)) return wideUnits(a, b, c, e, den);
  let d = mant;
  exp += k;
  if (exp >= 0) {
    if (exp > 22) return wideUnits(a, b, c, e, den);
    p *= P10[exp]!;
    if (!(p < FAST_LIMIT && p > -FAST_LIMIT)) return wideUnits(a, b, c, e, den);
  } else {
    if (-exp > 22) return wideUnits(a, b, c, e, den);
    d *= P10[-exp]!;
    if (!(d < FAST_LIMIT)) return wideUnits(a, b, c, e, den);
  }
  return BigInt(divRound(p, d));
}

/** units in (−2^52, 2^52): the double fast path may take them */
const BIG_FAST = 2n ** 52n;
const small = (u: bigint): boolean => u < BIG_FAST && u > -BIG_FAST;

/** round(u × num ÷ den), half-even: units times a ratio of integer counts (den > 0) */
export function mulDivUnits(u: bigint, num: number, den: number): bigint {
  if (small(u)) {
    const p = Number(u) * num;
    if (p < FAST_LIMIT && p > -FAST_LIMIT && den < FAST_LIMIT) return BigInt(divRound(p, den));
  }
  return bigDivRound(u * BigInt(num), BigInt(den));
}

/** round(u ÷ x), half-even: units divided by a decimal x > 0 (its double's shortest decimal) */
export function divUnits(u: bigint, x: number): bigint {
  if (small(u)) {
    const k = places(x);
    if (k >= 0 && mant > 0) {
      const p = Number(u) * P10[k]!;
      if (p < FAST_LIMIT && p > -FAST_LIMIT) return BigInt(divRound(p, mant));
    }
  }
  bigPlaces(x);
  return bigDivRound(u * pow10(bigK), bigMant);
}

/** round(u × x), half-even: units times a decimal x (its double's shortest decimal) */
export function mulUnits(u: bigint, x: number): bigint {
  if (small(u)) {
    const k = places(x);
    if (k >= 0 && k <= 15) {
      const p = Number(u) * mant;
      if (p < FAST_LIMIT && p > -FAST_LIMIT) return BigInt(divRound(p, P10[k]!));
    }
  }
  bigPlaces(x);
  return bigDivRound(u * bigMant, pow10(bigK));
}

/**
 * The double nearest to (u units) ÷ (lots × step): an average price from a cost basis. One
 * correctly rounded division when numerator and denominator are exact integers below 2^53 (so a
 * position opened at one price whose notional needed no rounding has exactly that price); else
 * the float quotient.
 */
export function unitsPerQty(u: bigint, lots: number, step: number): number {
  const a = lots < 0 ? -lots : lots;
  if (a === 0) return 0;
  const un = Number(u);
  const k = places(step);
  if (k >= 0 && small(u)) {
    let num = un;
    let den = a * mant;
    const e = k - UNIT_DP;
    if (e >= 0) num *= P10[e]!;
    else den *= P10[-e]!;
    if (num < FAST_LIMIT && num > -FAST_LIMIT && den < FAST_LIMIT) return num / den;
  }
  // beyond the double fast path (a cost basis above 2^52 units, ≈ 45 million): the exact quotient, correctly rounded
  return new Wide(u.toString()).div(UNITS_PER_QUOTE).div(new Wide(a).times(step)).toNumber();
}

// ---------------------------------------------------------------- one long factor: two double limbs

/** the small factors' product must stay below this for the two-limb path (A × 1e9 < 2^53) */
const LIMB_A = 9e6;
/** a long factor's digits as hi × 1e8 + lo (set by longDigits) and its places (the caller keeps the sign) */
let lh = 0;
let ll = 0;
let lk = 0;
const LMEMO = 8;
const lmX = new Float64Array(LMEMO).fill(Number.NaN);
const lmH = new Float64Array(LMEMO);
const lmL = new Float64Array(LMEMO);
const lmK = new Int32Array(LMEMO);
let lmNext = 0;

/**
 * The shortest decimal of x (≤ 17 significant digits, as String(x) prints it) as two exact double
 * limbs: |x| = (lh × 1e8 + ll) × 10^-lk. False when lk would be negative (a huge integer).
 */
function longDigits(x: number): boolean {
  const ax = x < 0 ? -x : x;
  for (let i = 0; i < LMEMO; i++) {
    if (lmX[i] === ax) {
      lh = lmH[i]!;
      ll = lmL[i]!;
      lk = lmK[i]!;
      return true;
    }
  }
  const str = String(ax);
  let hi = 0;
  let lo = 0;
  let frac = -1;
  let exp10 = 0;
  // digits left to right; the last 8 significant digits end up in lo
  let digits = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c === 46) frac = 0;
    else if (c === 101) {
      exp10 = Number(str.slice(i + 1));
      break;
    } else {
      if (frac >= 0) frac++;
      if (digits === 0 && c === 48) continue; // leading zeros carry no digits
      digits++;
      lo = lo * 10 + (c - 48);
      if (digits > 8) {
        // move the digit that left lo's 8 places into hi
        const top = Math.floor(lo / 1e8);
        lo -= top * 1e8;
        hi = hi * 10 + top;
      }
    }
  }
  if (digits > 17) return false;
  const k = (frac < 0 ? 0 : frac) - exp10;
  if (k < 0) return false;
  lh = hi;
  ll = lo;
  lk = k;
  lmX[lmNext] = ax;
  lmH[lmNext] = hi;
  lmL[lmNext] = lo;
  lmK[lmNext] = k;
  lmNext = (lmNext + 1) % LMEMO;
  return true;
}

/** places() and mantissas of the four factors (NaN mantissa: a long decimal) */
const fK = new Int32Array(4);
const fM = new Float64Array(4);

/**
 * round(a·b·c·e × 1e8) half-even when the fast path's product is too wide (den = 1; else the
 * BigInt path): factor w — the one with a long decimal (a 17-digit price), else the one with the
 * largest mantissa — is "wide" (a second long factor joins it in the certified product only),
 * and the others' mantissas multiply to an exact A (< 9e6). First the certified double product
 * (certified()); when that cannot decide, the wide factor's digits as two exact double limbs, A
 * times each; else the BigInt path.
 */
function wideUnits(a: number, b: number, c: number, e: number, den: number): bigint {
  if (den !== 1) return slowUnits(a, b, c, e, den);
  let w = -1;
  /** a second long factor (its double multiplies in the certified product only) */
  let w2 = -1;
  for (let f = 0; f < 4; f++) {
    const x = f === 0 ? a : f === 1 ? b : f === 2 ? c : e;
    const k = places(x);
    fK[f] = k;
    fM[f] = k >= 0 ? mant : Number.NaN;
    if (k < 0) {
      if (w >= 0 && fK[w]! < 0) {
        if (w2 >= 0) return slowUnits(a, b, c, e, 1); // three long factors
        w2 = f;
      } else w = f;
    } else if (w < 0 || (fK[w]! >= 0 && Math.abs(mant) > Math.abs(fM[w]!))) w = f;
  }
  let A = 1;
  let kA = 0;
  for (let f = 0; f < 4; f++) {
    if (f === w || f === w2) continue;
    A *= fM[f]!;
    kA += fK[f]!;
  }
  // A exact (below 2^52) is all the certified product needs; the limbs below need A < LIMB_A
  if (!(A < FAST_LIMIT && A > -FAST_LIMIT)) return slowUnits(a, b, c, e, 1);
  const wx = w === 0 ? a : w === 1 ? b : w === 2 ? c : e;
  const wy = w2 < 0 ? 1 : w2 === 0 ? a : w2 === 1 ? b : w2 === 2 ? c : e;
  if (!Number.isFinite(wx) || !Number.isFinite(wy)) return slowUnits(a, b, c, e, 1);
  const neg = A < 0 !== wx < 0 !== wy < 0;
  const aa = A < 0 ? -A : A;
  const r = certified(wx < 0 ? -wx : wx, wy < 0 ? -wy : wy, aa, UNIT_DP - kA);
  if (r === r) return BigInt(neg ? -r : r);
  if (w2 >= 0 || !(aa < LIMB_A)) return slowUnits(a, b, c, e, 1);
  if (fK[w]! >= 0) {
    // a short wide factor: its mantissa's limbs
    const m = Math.abs(fM[w]!);
    lh = Math.floor(m / 1e8);
    ll = m - lh * 1e8;
    lk = fK[w]!;
  } else if (!longDigits(wx)) return slowUnits(a, b, c, e, 1);
  // value in units = aa × (lh·1e8 + ll) × 10^-(kA + lk − 8) = (H·1e8 + Lo) / 10^j
  let H = aa * lh;
  let Lo = aa * ll;
  const carry = Math.floor(Lo / 1e8);
  Lo -= carry * 1e8;
  H += carry;
  const j = kA + lk - UNIT_DP;
  let q: number;
  if (j >= UNIT_DP) {
    const jj = j - UNIT_DP;
    if (jj > 15) return slowUnits(a, b, c, e, 1);
    const D = P10[jj]!;
    q = floorDiv(H, D);
    const r = fdRem;
    // the remainder (r·1e8 + Lo) against half of D·1e8
    let up: boolean;
    if (jj === 0) up = 2 * Lo > 1e8 || (2 * Lo === 1e8 && q % 2 === 1);
    else {
      const t = 2 * r - D; // even: D is a power of ten ≥ 10
      up = t > 0 || (t === 0 && (Lo > 0 || q % 2 === 1));
    }
    if (up) q += 1;
  } else if (j >= 0) {
    const D = P10[j]!;
    let qlo = Math.floor(Lo / D);
    const rem = Lo - qlo * D;
    if (2 * rem > D || (2 * rem === D && qlo % 2 === 1)) qlo += 1;
    const scale = P10[UNIT_DP - j]!;
    const big = H * scale;
    if (!(big + qlo < FAST_LIMIT)) {
      const u = BigInt(H) * BIG_P10[UNIT_DP - j]! + BigInt(qlo);
      return neg ? -u : u;
    }
    q = big + qlo;
  } else return slowUnits(a, b, c, e, 1);
  return BigInt(neg ? -q : q);
}

// ---------------------------------------------------------------- a certified double product

/** Veltkamp's splitter for doubles: 2^27 + 1 */
const SPLIT = 134_217_729;
const EPS52 = 2 ** -52;
/**
 * the error of the last twoProduct (x × y = product + tpErr[0] exactly); a typed-array cell, not a
 * module variable: a fractional double stored in a module variable is a new heap number each time
 */
const tpErr = new Float64Array(1);

/** x × y rounded, with the exact error in tpErr[0] (Dekker's two-product; |x|, |y| well inside the double range) */
function twoProduct(x: number, y: number): number {
  const p = x * y;
  let t = SPLIT * x;
  const xh = t - (t - x);
  const xl = x - xh;
  t = SPLIT * y;
  const yh = t - (t - y);
  const yl = y - yh;
  tpErr[0] = xh * yh - p + xh * yl + xl * yh + xl * yl;
  return p;
}

/**
 * round(Dx × Dy × A × 10^j) half-even, where Dx, Dy are the shortest decimals of the doubles x > 0
 * and y > 0 (y = 1: one factor) and A ≥ 0 an exact integer, without finding their digits; NaN when
 * this cannot be certain.
 *
 * A shortest decimal round-trips to its double, so |Dx − x| ≤ ulp(x)/2 ≤ x·2^-53 (the same for y):
 * Dx·Dy·A·10^j lies within V·2^-52 (one factor: V·2^-53) of V = x·y·A·10^j. V is computed exactly
 * (j ≥ 0, one factor: a two-product by the integer A·10^j) or within a relative few 2^-52 (a second
 * two-product's rounded tail, one division by 10^-j). When V is farther than twice those bounds
 * from every half-integer, the decimals' product rounds to the same integer; otherwise — a
 * near-tie, about one booking in a thousand at typical sizes — the caller reads the digits.
 */
function certified(x: number, y: number, A: number, j: number): number {
  if (!(x > 1e-290 && y > 1e-290 && x * y > 1e-290)) return Number.NaN;
  const one = y === 1;
  let v: number;
  let err: number;
  let M: number;
  if (j >= 0) {
    if (j > 22) return Number.NaN;
    M = A * P10[j]!;
  } else {
    if (-j > 22) return Number.NaN;
    M = A;
  }
  if (!(M < FAST_LIMIT)) return Number.NaN;
  if (one) {
    v = twoProduct(x, M);
    err = tpErr[0]!;
  } else {
    const p1 = twoProduct(x, y);
    const e1 = tpErr[0]!;
    v = twoProduct(p1, M);
    err = tpErr[0]! + e1 * M;
  }
  let slack = v * (one ? EPS52 : 4 * EPS52);
  if (j < 0) {
    const P = P10[-j]!;
    v /= P;
    err /= P;
    slack = slack / P + v * (4 * EPS52);
  }
  if (!(v < 2 ** 51)) return Number.NaN;
  const fl = Math.floor(v);
  // the fractional part of V (v − fl is exact), in (−0.25, 1.25)
  const t = v - fl + err;
  const k = Math.floor(t + 0.5);
  const d = t - k;
  // distance to the nearest half-integer, against the bounds plus the rounding of t itself
  if (!(0.5 - (d < 0 ? -d : d) > slack + 1e-12)) return Number.NaN;
  return fl + k;
}

// ---------------------------------------------------------------- the exact slow path (BigInt)

const BIG_P10: readonly bigint[] = Array.from({ length: 64 }, (_, k) => 10n ** BigInt(k));
const pow10 = (k: number): bigint => (k < BIG_P10.length ? BIG_P10[k]! : 10n ** BigInt(k));
/** mantissa and places set by bigPlaces() */
let bigMant = 0n;
let bigK = 0;
/** the last few decompositions (prices repeat: the setups of a replay fill at the same prices) */
const MEMO = 8;
const memoX = new Float64Array(MEMO).fill(Number.NaN);
const memoM: bigint[] = new Array<bigint>(MEMO).fill(0n);
const memoK = new Int32Array(MEMO);
let memoNext = 0;

/** the shortest decimal of a finite x as bigMant × 10^-bigK (BigInt mantissa, any size) */
function bigPlaces(x: number): void {
  for (let i = 0; i < MEMO; i++) {
    if (memoX[i] === x) {
      bigMant = memoM[i]!;
      bigK = memoK[i]!;
      return;
    }
  }
  if (!Number.isFinite(x)) throw new RangeError(`books: ${x} is not a finite amount`);
  // digits of the shortest decimal read with charCodeAt into two exact double limbs (no substrings)
  const str = String(x < 0 ? -x : x);
  let hi = 0;
  let lo = 0;
  let loDigits = 0;
  let nDigits = 0;
  let frac = -1;
  let exp10 = 0;
  for (let i = 0; i < str.length; i++) {
    const c = str.charCodeAt(i);
    if (c === 46 /* . */) frac = 0;
    else if (c === 101 /* e */) {
      exp10 = Number(str.slice(i + 1));
      break;
    } else {
      if (nDigits < 9) hi = hi * 10 + (c - 48);
      else {
        lo = lo * 10 + (c - 48);
        loDigits++;
      }
      nDigits++;
      if (frac >= 0) frac++;
    }
  }
  let m = loDigits === 0 ? BigInt(hi) : BigInt(hi) * pow10(loDigits) + BigInt(lo);
  let k = (frac < 0 ? 0 : frac) - exp10;
  if (k < 0) {
    m *= pow10(-k);
    k = 0;
  }
  if (x < 0) m = -m;
  bigMant = m;
  bigK = k;
  memoX[memoNext] = x;
  memoM[memoNext] = m;
  memoK[memoNext] = k;
  memoNext = (memoNext + 1) % MEMO;
}

/** round(n ÷ d), half-even, in BigInt (d > 0) */
export function bigDivRound(n: bigint, d: bigint): bigint {
  const neg = n < 0n;
  const a = neg ? -n : n;
  let q = a / d;
  const r2 = 2n * (a - q * d);
  if (r2 > d || (r2 === d && (q & 1n) === 1n)) q += 1n;
  return neg ? -q : q;
}

/** product state of the exact path: a double part (exact, < 2^52), a BigInt part, a power of ten */
let sp = 1;
let bp = 1n;
let spExp = 0;

/** multiplies the exact path's product by x (as its shortest decimal) */
function take(x: number): void {
  const k = places(x);
  if (k >= 0) {
    const t = sp * mant;
    if (t < FAST_LIMIT && t > -FAST_LIMIT) sp = t;
    else {
      bp *= BigInt(sp);
      sp = mant;
    }
    spExp += k;
    return;
  }
  bigPlaces(x);
  bp *= bigMant;
  spExp += bigK;
}

/**
 * The exact path: the same rule in BigInt (any mantissa, any size). Factors with short decimals
 * are multiplied in doubles while exact; only a long mantissa (a 17-digit price) or a large
 * product becomes a BigInt, so a booking makes a handful of BigInts.
 */
function slowUnits(a: number, b: number, c: number, e: number, den: number): bigint {
  sp = 1;
  bp = 1n;
  spExp = 0;
  take(a);
  take(b);
  take(c);
  take(e);
  const numExp = spExp;
  const num = bp * BigInt(sp);
  sp = 1;
  bp = 1n;
  spExp = 0;
  take(den);
  let d = bp * BigInt(sp);
  if (!(d > 0n)) throw new RangeError(`books: divisor ${den} must be > 0`);
  // value = num·10^-numExp ÷ (d·10^-spExp), in units: × 10^8
  const exp = UNIT_DP - numExp + spExp;
  let n = num;
  if (exp >= 0) n *= pow10(exp);
  else d *= pow10(-exp);
  return bigDivRound(n, d);
}

/** (tests) the places/mantissa decomposition of x, or null when x takes the slow path */
export function decompose(x: number): { mantissa: number; places: number } | null {
  const k = places(x);
  return k < 0 ? null : { mantissa: mant, places: k };
}

