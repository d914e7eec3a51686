/**
 * Quantity grid of a symbol (lot size): the quantity step every order and position is a multiple
 * of, the minimum order quantity, and the price tick (informational: prices are not rounded).
 *
 * Bundled table: Binance USDⓈ-M `exchangeInfo` filters (LOT_SIZE stepSize/minQty, PRICE_FILTER
 * tickSize) of the symbols the project bundles or synthesises; Hyperliquid `szDecimals` of the
 * coins its profile knows. Other symbols (and the venues whose steps are not tabulated) follow the
 * default rule: the power of ten closest below `DEFAULT_STEP_VALUE / referencePrice`, i.e. one step
 * is worth between 0.01 and 0.1 USDT at the reference price (≈ 1e-5 of a 10 000 USDT notional),
 * clamped to [1e-8, 1000]. Without a reference price the step is 1e-8.
 *
 * Quantities on the grid are held as integer numbers of steps ("lots"): exact in a double up to
 * 2^53 lots, so sums and comparisons of positions never leave floating-point dust.
 */
import { Decimal } from 'decimal.js';
import { shownValue } from '../util/excerpt.js';
import { freezeClass } from '../util/freeze.js';

export interface LotSize {
  /** quantity step (base units); every order and position is an integer multiple of it */
  step: number;
  /** minimum quantity of an order that opens or increases a position (base units, a multiple of step) */
  minQty: number;
  /** price tick (informational) */
  tick: number;
  /** where the numbers come from, for reports */
  source: string;
}

export interface LotSizeInput {
  step: number;
  minQty?: number;
  tick?: number;
}

/** one step is worth about this much quote currency at the reference price (default rule) */
export const DEFAULT_STEP_VALUE = 0.1;
const MIN_STEP = 1e-8;
const MAX_STEP = 1000;
/** 2^52: a quantity q = lots × step below 2^52 units of the step's last decimal place is written exactly by String(q) */
const EXACT_LIMIT = 2 ** 52;
/** below this many steps |q| ÷ step is within far less than half a step of the grid point */
const LOTS_EXACT = 2 ** 40;

/**
 * Binance USDⓈ-M futures filters (exchangeInfo, 2024–2025): [stepSize, minQty, tickSize].
 * minQty equals stepSize for every symbol listed.
 */
export const BINANCE_LOT_SIZES: Readonly<Record<string, readonly [number, number, number]>> = Object.freeze({
  BTCUSDT: [0.001, 0.001, 0.1],
  ETHUSDT: [0.001, 0.001, 0.01],
  BNBUSDT: [0.01, 0.01, 0.01],
  SOLUSDT: [0.01, 0.01, 0.01],
  XRPUSDT: [0.1, 0.1, 0.0001],
  ADAUSDT: [1, 1, 0.0001],
  DOGEUSDT: [1, 1, 0.00001],
  LINKUSDT: [0.01, 0.01, 0.001],
  LTCUSDT: [0.001, 0.001, 0.01],
  BCHUSDT: [0.001, 0.001, 0.01],
  DOTUSDT: [0.1, 0.1, 0.001],
  AVAXUSDT: [1, 1, 0.001],
  TRXUSDT: [1, 1, 0.00001],
});

/** Hyperliquid szDecimals (step = 10^-szDecimals) of the coins the profile tabulates */
export const HYPERLIQUID_LOT_SIZES: Readonly<Record<string, readonly [number, number, number]>> = Object.freeze({
  BTC: [0.00001, 0.00001, 1],
  ETH: [0.0001, 0.0001, 0.1],
  SOL: [0.01, 0.01, 0.001],
});

/** the default rule's step for a reference price (NaN / ≤ 0 → 1e-8) */
export function defaultStep(referencePrice: number | undefined): number {
  if (!(referencePrice !== undefined && Number.isFinite(referencePrice) && referencePrice > 0)) return MIN_STEP;
  const e = Math.floor(Math.log10(DEFAULT_STEP_VALUE / referencePrice) + 1e-12);
  const step = Number(`1e${e}`);
  return step < MIN_STEP ? MIN_STEP : step > MAX_STEP ? MAX_STEP : step;
}

export function defaultLotSize(referencePrice: number | undefined): LotSize {
  const step = defaultStep(referencePrice);
  const known = referencePrice !== undefined && Number.isFinite(referencePrice) && referencePrice > 0;
  return {
    step,
    minQty: step,
    tick: NaN,
    source: known ? `default rule (step ≈ ${DEFAULT_STEP_VALUE} quote at reference price ${referencePrice})` : 'default rule (no reference price: 1e-8)',
  };
}

/** validates a lot size given in a custom venue; returns null with a reason when bad */
export function checkLotSizeInput(v: unknown): { ok: true; value: LotSizeInput } | { ok: false; reason: string } {
  const o = typeof v === 'number' ? { step: v } : v;
  if (!o || typeof o !== 'object') return { ok: false, reason: 'expected a step number or { step, minQty?, tick? }' };
  const r = o as Record<string, unknown>;
  for (const k of Object.keys(r)) if (k !== 'step' && k !== 'minQty' && k !== 'tick') return { ok: false, reason: `unknown key "${k}" (known: step, minQty, tick)` };
  const step = r.step;
  if (typeof step !== 'number' || !Number.isFinite(step) || step <= 0 || step > 1e6) return { ok: false, reason: `step: expected a number > 0, got ${shownValue(step)}` };
  const minQty = r.minQty === undefined ? step : r.minQty;
  if (typeof minQty !== 'number' || !Number.isFinite(minQty) || minQty < step) return { ok: false, reason: `minQty: expected a number ≥ step (${step}), got ${shownValue(r.minQty)}` };
  const tick = r.tick === undefined ? NaN : r.tick;
  if (typeof tick !== 'number' || (r.tick !== undefined && !(Number.isFinite(tick) && tick > 0))) return { ok: false, reason: `tick: expected a number > 0, got ${shownValue(r.tick)}` };
  return { ok: true, value: { step, minQty, tick } };
}

/**
 * Quantity ↔ lots for one step. `lots(q, 'down')` rounds |q| down to the grid (orders: never more
 * than asked); `lots(q, 'nearest')` snaps to the nearest grid point (the account: within half a
 * step of a grid point is that point, so a position within half a step of 0 is flat). A tolerance
 * of 1e-9 of a step absorbs the float error of q computed as a multiple of the step, and a q whose double is
 * at or above a grid point's quantity (`qty(n)`) is at least that point, however large the quotient.
 *
 * The step is its shortest decimal m × 10^e (m an integer without trailing zeros: 0.001 = 1 × 10^-3,
 * 0.003 = 3 × 10^-3, 1000 = 1 × 10^3). `qty(lots)` is the double nearest to the exact decimal
 * lots × m × 10^e (one correctly rounded operation on exact integers), so String(qty) writes that
 * decimal as long as lots × m ≤ `maxLots` × m < 2^52 (the double's spacing is then finer than the
 * decimal's last place); lots × 0.003 as a float product made 3 steps 0.009000000000000001.
 */
export class LotGrid {
  readonly step: number;
  /** the most steps an order or a position may count: lots × m below 2^52 (so lots and their sums are exact integers, and every quantity is written exactly) */
  readonly maxLots: number;
  /** the step's decimal mantissa m and power of ten e (step = m × 10^e) */
  private readonly m: number;
  private readonly p10: number;
  private readonly e: number;
  constructor(step: number) {
    if (!(Number.isFinite(step) && step > 0)) throw new RangeError(`quantity step must be > 0, got ${step}`);
    this.step = step;
    // the shortest decimal of the step: digits and exponent of String(step) ("0.003", "1e-8", "2.5e-7", "1000")
    const [, int = '', frac = '', ex = '0'] = /^(\d*)\.?(\d*)(?:e([+-]?\d+))?$/.exec(String(step)) ?? [];
    let digits = (int + frac).replace(/^0+/, '');
    let e = Number(ex) - frac.length;
    while (digits.length > 1 && digits.endsWith('0')) {
      digits = digits.slice(0, -1);
      e++;
    }
    const m = Number(digits);
    const exactP10 = e >= -22 && e <= 22 && Number.isSafeInteger(m);
    this.m = exactP10 ? m : 0;
    this.e = e;
    this.p10 = exactP10 ? Number(`1e${e < 0 ? -e : e}`) : 0;
    this.maxLots = Math.max(1, Math.floor((EXACT_LIMIT - 1) / (exactP10 ? m : 1)));
  }
  /** signed number of steps of q (toward zero or nearest); 0 for non-finite q */
  lots(q: number, mode: 'down' | 'nearest'): number {
    if (!Number.isFinite(q)) return 0;
    const aq = Math.abs(q);
    const a = aq / this.step;
    let n = mode === 'down' ? Math.floor(a + 1e-9) : Math.round(a);
    // a quantity within float error of half a step past a grid point: whether its shortest decimal is exactly the half (a
    // tie, which goes away from zero as 0.5 steps does) is the decimal's to say, not the quotient's (1.005 at a step of
    // 0.01 is 100.49999999999999 as doubles: snapped to 1.00, where 0.015 went to 0.02)
    // (the window grows with the quotient, whose float error is about ε of it)
    if (mode === 'nearest' && Math.abs(a - Math.floor(a) - 0.5) < 1e-9 + 8 * Number.EPSILON * a && a < LOTS_EXACT) {
      const exact = new Decimal(aq).div(new Decimal(this.step));
      n = exact.toDecimalPlaces(0, Decimal.ROUND_HALF_UP).toNumber();
    }
    // the quotient's error grows with it (about 1e-16 of a, past the 1e-9 tolerance from 1e7 steps on): a quantity
    // that is a grid point's decimal (21645.207 at 0.001 gave 21645206.999999996) is that point, never a step below
    if (mode === 'down' && n < this.maxLots && this.qty(n + 1) <= aq) n++;
    if (n > LOTS_EXACT && n <= this.maxLots + 1) {
      // the quotient's rounding is about a step here: the grid point whose quantity is nearest (not above, 'down') to |q|,
      // so qty(lots) turns back into lots exactly (a close of -positionQty closes, not flips by one step)
      if (mode === 'down') {
        while (this.qty(n + 1) <= aq) n++;
        while (n > 0 && this.qty(n) > aq) n--;
      } else {
        while (Math.abs(this.qty(n + 1) - aq) < Math.abs(this.qty(n) - aq)) n++;
        while (n > 0 && Math.abs(this.qty(n - 1) - aq) < Math.abs(this.qty(n) - aq)) n--;
      }
    }
    return q < 0 ? -n : n;
  }
  /** the quantity of `lots` steps: the double nearest to the exact decimal lots × step while lots × m is below 2^53 */
  qty(lots: number): number {
    if (lots === 0) return 0;
    const p = lots * this.m;
    if (this.m === 0 || !(p < 2 ** 53 && p > -(2 ** 53))) return lots * this.step;
    return this.e < 0 ? p / this.p10 : p * this.p10;
  }
  /**
   * q rounded toward zero to the grid. A finite q whose quotient by the step overflows (|q| near
   * Number.MAX_VALUE at a step below 1) is its own floor: the grid cannot count it, and the account
   * refuses it as more steps than a position can hold. (Its step count was Infinity, so the floor
   * was Infinity: buy(s, Number.MAX_VALUE) placed an order of Infinity, and targetPosition(s,
   * Number.MAX_VALUE) ordered nothing and returned 0, "already there", since floor(Infinity) is 0.)
   */
  floor(q: number): number {
    const f = this.qty(this.lots(q, 'down'));
    return Number.isFinite(f) || !Number.isFinite(q) ? f : q;
  }
}

// one per worker, reachable from a strategy (through createAccount, the context or the package entry):
// frozen so that a strategy changing it cannot change the later runs of its worker (src/engine/context.ts)
freezeClass(LotGrid);
