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
import { shownValue } from '../util/excerpt.js';

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
/**
 * the most steps an order or a position can count: lots are integers held in doubles, exact (and
 * their sums exact) up to 2^53 − 1; beyond, a lot added to a position is lost
 */
export const MAX_LOTS = Number.MAX_SAFE_INTEGER;

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
 * step of a grid point is that point, so a position within half a step of 0 is flat). A relative
 * tolerance of 1e-9 of a step absorbs the float error of q computed as a multiple of the step.
 */
export class LotGrid {
  readonly step: number;
  /** 1/step when it is an integer (steps of 10^-k): qty = lots / inv is then the closest double to the decimal */
  private readonly inv: number;
  constructor(step: number) {
    if (!(Number.isFinite(step) && step > 0)) throw new RangeError(`quantity step must be > 0, got ${step}`);
    this.step = step;
    const inv = Math.round(1 / step);
    this.inv = step < 1 && Math.abs(inv * step - 1) < 1e-12 ? inv : 0;
  }
  /** signed number of steps of q (toward zero or nearest); 0 for non-finite q */
  lots(q: number, mode: 'down' | 'nearest'): number {
    if (!Number.isFinite(q)) return 0;
    const a = Math.abs(q) / this.step;
    const n = mode === 'down' ? Math.floor(a + 1e-9) : Math.round(a);
    return q < 0 ? -n : n;
  }
  /** the quantity of `lots` steps (the closest double to the exact decimal when the step is 10^-k) */
  qty(lots: number): number {
    if (lots === 0) return 0;
    return this.inv !== 0 ? lots / this.inv : lots * this.step;
  }
  /** q rounded toward zero to the grid */
  floor(q: number): number {
    return this.qty(this.lots(q, 'down'));
  }
}
