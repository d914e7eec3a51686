/**
 * The venues' published closed forms (margin-spec.md), each written in the shape the venue
 * publishes it, plus the maintenance-margin model the account's own margin check uses. Pure
 * functions on numbers; nothing here allocates (they run in the per-bar loop).
 *
 * Notation: s = side (+1 long, −1 short), Q = |size| in base units, EP = entry price,
 * WB = wallet balance of the pool (isolated wallet, or the cross wallet adjusted for the other
 * cross legs), MMR/cum from the tier table.
 */
import type { Side, Tier } from './types.js';
import { tierIndex } from './tiers.js';

/** How a venue's maintenance margin is computed (the account's margin check). */
export interface MaintenanceModel {
  /**
   * notional the MM is computed on: 'mark' = Q × mark (Binance, Hyperliquid, OKX) or
   * 'entry' = Q × entry (Bybit's isolated formula, §2.1)
   */
  basis: 'mark' | 'entry';
  /**
   * rate added to the tier MMR in the liquidation condition (OKX: the liquidation fee = position
   * value × taker rate sits in the margin-ratio denominator, §3 and the Gate/OKX formula §5); 0 elsewhere
   */
  extraRate: number;
}

export const DEFAULT_MAINTENANCE: MaintenanceModel = Object.freeze({ basis: 'mark', extraRate: 0 }) as MaintenanceModel;

/** Maintenance margin of one position under `model` (tier chosen by the basis notional). */
export function maintenanceMargin(model: MaintenanceModel, tiers: readonly Tier[], absQty: number, entryPrice: number, markPrice: number): number {
  const n = absQty * (model.basis === 'entry' ? entryPrice : markPrice);
  const t = tiers[tierIndex(tiers, n)]!;
  return n * (t.mmr + model.extraRate) - t.cum;
}

/** a price, or NaN when it is not positive and finite (every closed form below answers through this) */
const positiveOrNaN = (p: number): number => (p > 0 && Number.isFinite(p) ? p : Number.NaN);

/**
 * `x`, the difference of terms whose magnitudes add up to `scale`, or 0 when it lies within the
 * rounding of those terms (4 ε·scale): a 1× isolated long's margin equals its entry notional, so
 * its root is exactly 0 (no liquidation price), which the doubles gave as ±1e-14 — a price of
 * 1.6e-14 instead of none.
 */
const beyondRounding = (x: number, scale: number): number => (Math.abs(x) <= 4 * Number.EPSILON * scale ? 0 : x);

// ---------------------------------------------------------------------------------------------
// Binance USDⓈ-M (§1.1)

/**
 * Binance FAQ "How to Calculate Liquidation Price of USDⓈ-M Futures Contracts", one-way mode:
 * LP = (WB − TMM1 + UPNL1 + cumB − Side × Q × EP) / (Q × MMR_B − Side × Q).
 * Callers fold TMM1/UPNL1 (cross: other legs' MM and uPnL at mark; isolated: 0) into `walletBalance`.
 * Single tier (no re-selection). NaN when no positive price exists.
 */
export function binanceLiquidationPrice(s: Side, q: number, ep: number, walletBalance: number, mmr: number, cum: number): number {
  return positiveOrNaN(binanceRoot(s, q, ep, walletBalance, mmr, cum));
}

/** the raw root (tieredLiquidationPrice needs it unfiltered to find the consistent tier) */
function binanceRoot(s: Side, q: number, ep: number, walletBalance: number, mmr: number, cum: number): number {
  return beyondRounding(walletBalance + cum - s * q * ep, Math.abs(walletBalance) + Math.abs(cum) + q * ep) / (q * mmr - s * q);
}

// ---------------------------------------------------------------------------------------------
// Hyperliquid (§4): liq = price − side × margin_available / size / (1 − l × side),
// l = 1 / (2 × max_leverage), margin_available = margin − maintenance_margin_required,
// maintenance_margin_required = size × price / max_leverage / 2 (− cum for tiered tables).

export function hyperliquidLiquidationPrice(s: Side, q: number, price: number, margin: number, maxLeverage: number): number {
  return positiveOrNaN(hyperliquidRoot(s, q, price, margin, 1 / (2 * maxLeverage), 0));
}

function hyperliquidRoot(s: Side, q: number, price: number, margin: number, l: number, cum: number): number {
  const mmRequired = q * price * l - cum;
  const marginAvailable = margin - mmRequired;
  const move = (s * marginAvailable) / q / (1 - l * s);
  return beyondRounding(price - move, price + Math.abs(move) + (Math.abs(margin) + q * price * l + Math.abs(cum)) / q);
}

// ---------------------------------------------------------------------------------------------
// Gate / OKX isolated (§5, §3): LP = (EP ∓ Margin / Size) / [1 ∓ (MMR + TakerRate)], "−" long, "+" short
// (ContractMultiplier = 1 for sizes in base units). With a tier maintenance amount `cum` the margin
// is raised by cum (the same root; cum = 0 in the published form).

export function gateLiquidationPrice(s: Side, q: number, ep: number, margin: number, mmr: number, takerFee: number, cum = 0): number {
  return positiveOrNaN(gateRoot(s, q, ep, margin, mmr, takerFee, cum));
}

function gateRoot(s: Side, q: number, ep: number, margin: number, mmr: number, takerFee: number, cum: number): number {
  return beyondRounding(ep - (s * (margin + cum)) / q, ep + (Math.abs(margin) + Math.abs(cum)) / q) / (1 - s * (mmr + takerFee));
}

// ---------------------------------------------------------------------------------------------
// Bybit USDT isolated (§2.1): LP = EP ∓ (IM − MM)/Q ∓ ExtraMargin/Q, IM = Q × EP / leverage,
// MM = Q × EP × MMR − mmDeduction (on the ENTRY notional). In wallet form (WB = IM + extra):
// LP = EP − s × (WB − MM) / Q.

export function bybitLiquidationPrice(s: Side, q: number, ep: number, leverage: number, mmr: number, extraMargin = 0, mmDeduction = 0): number {
  const im = (q * ep) / leverage;
  const mm = q * ep * mmr - mmDeduction;
  return positiveOrNaN(beyondRounding(ep - (s * (im - mm)) / q - (s * extraMargin) / q, ep + (im + Math.abs(mm) + Math.abs(extraMargin)) / q));
}

export function bybitLiquidationPriceWallet(s: Side, q: number, ep: number, walletBalance: number, mm: number): number {
  return positiveOrNaN(beyondRounding(ep - (s * (walletBalance - mm)) / q, ep + (Math.abs(walletBalance) + Math.abs(mm)) / q));
}

// ---------------------------------------------------------------------------------------------
// Bankruptcy price: the price at which the pool's margin balance is 0: WB + s × Q × (P − EP) = 0.
// With WB = Q × EP / leverage this is Bybit's published BP = EP × (1 ∓ 1/leverage) (§2.2).

export function bankruptcyPriceOf(s: Side, q: number, ep: number, walletBalance: number): number {
  return positiveOrNaN(beyondRounding(ep - (s * walletBalance) / q, ep + Math.abs(walletBalance) / q));
}

// ---------------------------------------------------------------------------------------------
// Tier re-selection (Binance's rule, applied to every mark-basis venue): compute the price with
// each tier and keep the one whose notional at that price lies in the tier. Because cum follows
// the recurrence, MM is continuous in notional and exactly one tier holds the root.

export const enum ClosedForm {
  Binance = 0,
  Hyperliquid = 1,
  Gate = 2,
}

/**
 * Closed-form liquidation price with the tier re-chosen at the liquidation notional. `extraRate`
 * is the OKX taker add-on (Gate form) and ignored by the others. NaN when no positive price.
 *
 * A table whose cum breaks the recurrence (custom input: maintenance jumps at a floor) can be breached on several
 * price ranges. With `mark`, the position's price now, the answer is then the first breached price met moving
 * against the position from the mark (a long: the highest breached price at or below it, a short: the lowest at or
 * above it), which is where a falling (rising) price liquidates it; without a mark, the tier nearest consistency.
 * A continuous table has one root, the same either way.
 */
export function tieredLiquidationPrice(form: ClosedForm, s: Side, q: number, ep: number, walletBalance: number, tiers: readonly Tier[], extraRate: number, mark?: number): number {
  if (!(q > 0) || !(ep > 0) || !Number.isFinite(walletBalance)) return Number.NaN;
  if (mark !== undefined && mark > 0 && mark < Infinity && jumps(tiers)) return firstBreached(form, s, q, ep, walletBalance, tiers, extraRate, mark);
  let best = Number.NaN;
  let bestMiss = Number.POSITIVE_INFINITY;
  for (let i = 0; i < tiers.length; i++) {
    const t = tiers[i]!;
    const p = tierRoot(form, s, q, ep, walletBalance, t, extraRate);
    if (!Number.isFinite(p)) continue;
    const n = q * p;
    const lo = t.floor * (1 - 1e-12);
    const hi = t.cap * (1 + 1e-12);
    if ((i === 0 || n >= lo) && (n < hi || i === tiers.length - 1)) return p > 0 ? p : Number.NaN;
    // tables whose cum breaks the recurrence (custom input) may have no consistent tier: keep the nearest
    const miss = n < lo ? (lo - n) / Math.max(lo, 1) : (n - hi) / Math.max(hi, 1);
    if (miss < bestMiss) {
      bestMiss = miss;
      best = p;
    }
  }
  return best > 0 ? best : Number.NaN;
}

/** the root of tier t's linear piece of the excess (unfiltered; ./math-exact.ts finds the tier it chose by it) */
export function tierRoot(form: ClosedForm, s: Side, q: number, ep: number, walletBalance: number, t: Tier, extraRate: number): number {
  if (form === ClosedForm.Binance) return binanceRoot(s, q, ep, walletBalance, t.mmr, t.cum);
  if (form === ClosedForm.Hyperliquid) return hyperliquidRoot(s, q, ep, walletBalance, t.mmr, t.cum);
  return gateRoot(s, q, ep, walletBalance, t.mmr, extraRate, t.cum);
}

const jumpCache = new WeakMap<readonly Tier[], boolean>();

/** whether MM = n × MMR − cum jumps at some floor (cum_k ≠ cum_{k−1} + floor_k × (MMR_k − MMR_{k−1}) beyond rounding) */
export function jumps(tiers: readonly Tier[]): boolean {
  let j = jumpCache.get(tiers);
  if (j === undefined) {
    j = false;
    for (let k = 1; k < tiers.length && !j; k++) j = jumpsAt(tiers, k);
    jumpCache.set(tiers, j);
  }
  return j;
}

/** whether MM jumps at tier k's floor (k ≥ 1) */
export function jumpsAt(tiers: readonly Tier[], k: number): boolean {
  const a = tiers[k - 1]!;
  const b = tiers[k]!;
  const d = b.floor * (b.mmr - a.mmr) - (b.cum - a.cum);
  return Math.abs(d) > 1e-9 * Math.max(1, b.floor * b.mmr);
}

/**
 * The first breached price met from `mark` against the position, tier by tier: on tier i's price range
 * [floor_i, floor_{i+1}) / Q the excess is linear with root r_i, rising with the price for a long (uPnL moves by Q
 * per unit, maintenance by Q × rate < Q), falling for a short. A long is breached there on [floor_i / Q, r_i] (the
 * whole range when r_i passes its top), a short on [r_i, floor_{i+1} / Q). A long's threshold is the highest breached
 * price ≤ mark (the mark itself when it is breached), a short's the lowest ≥ mark; NaN when the price can move
 * against the position without end and stay above water.
 */
function firstBreached(form: ClosedForm, s: Side, q: number, ep: number, walletBalance: number, tiers: readonly Tier[], extraRate: number, mark: number): number {
  let best = s > 0 ? -Infinity : Infinity;
  for (let i = 0; i < tiers.length; i++) {
    const t = tiers[i]!;
    const r = tierRoot(form, s, q, ep, walletBalance, t, extraRate);
    if (r !== r) continue;
    const lo = i === 0 ? 0 : t.floor / q;
    const hi = i + 1 < tiers.length ? tiers[i + 1]!.floor / q : Infinity;
    if (s > 0) {
      // breached on [lo, min(r, hi)); met from the mark at min(r, hi, mark) when lo ≤ mark
      if (!(r >= lo) || lo > mark) continue;
      const top = Math.min(r, hi, mark);
      if (top > best) best = top;
    } else {
      // breached on [max(r, lo), hi); met from the mark at max(r, lo, mark) when hi > mark
      if (!(r < hi) || !(hi > mark)) continue;
      const bottom = Math.max(r, lo, mark);
      if (bottom < best) best = bottom;
    }
  }
  return best > 0 && best < Infinity ? best : Number.NaN;
}
