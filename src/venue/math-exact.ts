/**
 * The calculator's closed forms in decimal.js (DESIGN §3: "the calculator's closed forms use it").
 * The engine's per-bar code uses the double forms of ./math.ts; `marginlab calc` answers through
 * these, so that a price is right to the last digit a JSON number can show whatever the inputs'
 * cancellation: a long at 1.0000000001× has a margin 1e-10 below its notional, and the doubles'
 * WB − Q × EP keeps only ≈ 6 of its digits.
 *
 * The tier is chosen in decimals too (Binance's rule: the tier whose notional range holds Q times its
 * own root), so a root a hair above a floor is the upper tier's and a price far below the doubles'
 * rounding (LP < 2e-15 × EP) still exists. Only a custom table whose cum breaks the recurrence, valued
 * from a mark (the engine's case; calc gives none), or one where no tier holds its root, follows the
 * double forms of ./math.ts (the first breached price from the mark, the tier nearest consistency), and
 * then the chosen tier's root is recomputed in decimals; when the answer is a floor or the mark
 * itself, it is that input.
 */
import { Decimal } from 'decimal.js';
import type { Side, Tier, VenueProfile } from './types.js';
import { ClosedForm, DEFAULT_MAINTENANCE, jumps, tieredLiquidationPrice, tierRoot, type MaintenanceModel } from './math.js';
import { tierIndex } from './tiers.js';

/** 40 significant digits: far beyond a double's 17, so the one rounding left is the answer's to a number */
export const XD = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -30, toExpPos: 40 });
export type XDecimal = InstanceType<typeof XD>;

/**
 * What a number's text says that its decimal may have lost: decimal.js reads an exponent below
 * −9e15 as 0, so a mantissa with a non-zero digit is `nonZero` all the same, and below zero when it
 * is written with a minus (`-0` is zero, neither). `text` null: a JSON number, whose decimal is exact.
 */
export function givenSign(d: XDecimal, text: string | null): { nonZero: boolean; negative: boolean } {
  const nonZero = !d.isZero() || (text !== null && /[1-9]/.test(text.replace(/[eE].*$/, '')));
  return { nonZero, negative: nonZero && (d.isZero() ? text!.startsWith('-') : d.isNeg()) };
}

const x = (v: number | XDecimal): XDecimal => (typeof v === 'number' ? new XD(v) : v);

/** the closed form a venue's isolated liquidation price is written in (./profiles.ts's choice, read from the profile) */
export function closedFormOf(venue: VenueProfile): ClosedForm | 'bybit' {
  const m = venue.maintenance ?? DEFAULT_MAINTENANCE;
  if (m.basis === 'entry') return 'bybit';
  if (m.extraRate !== 0) return ClosedForm.Gate;
  return venue.id === 'hyperliquid' ? ClosedForm.Hyperliquid : ClosedForm.Binance;
}

/** the root of one tier's linear piece (./math.ts tierRoot, in decimals) */
export function exactTierRoot(form: ClosedForm, s: Side, q: XDecimal, ep: XDecimal, wb: XDecimal, mmr: number | XDecimal, cum: number | XDecimal, extraRate: number | XDecimal): XDecimal {
  const m = x(mmr);
  const c = x(cum);
  if (form === ClosedForm.Binance) {
    // (WB + cum − s·Q·EP) / (Q·MMR − s·Q)
    return wb.plus(c).minus(q.times(ep).times(s)).div(q.times(m).minus(q.times(s)));
  }
  if (form === ClosedForm.Hyperliquid) {
    // price − s·(margin − (Q·price·l − cum)) / Q / (1 − l·s)
    const available = wb.minus(q.times(ep).times(m).minus(c));
    return ep.minus(available.times(s).div(q).div(new XD(1).minus(m.times(s))));
  }
  // Gate / OKX: (EP − s·(margin + cum)/Q) / (1 − s·(MMR + taker))
  return ep.minus(wb.plus(c).times(s).div(q)).div(new XD(1).minus(m.plus(x(extraRate)).times(s)));
}

/** Bybit isolated in wallet form: LP = EP − s·(WB − MM)/Q */
export function exactBybitWallet(s: Side, q: XDecimal, ep: XDecimal, wb: XDecimal, mm: XDecimal): XDecimal {
  return ep.minus(wb.minus(mm).times(s).div(q));
}

/** bankruptcy price: WB + s·Q·(P − EP) = 0 ⇒ P = EP − s·WB/Q */
export function exactBankruptcyPrice(s: Side, q: XDecimal, ep: XDecimal, wb: XDecimal): XDecimal {
  return ep.minus(wb.times(s).div(q));
}

/**
 * maintenance margin of one position under `model` (./math.ts maintenanceMargin, in decimals; tier by
 * the basis notional, or `single`: one tier given by hand, as written)
 */
export function exactMaintenanceMargin(model: MaintenanceModel, tiers: readonly Tier[], q: XDecimal, ep: XDecimal, mark: XDecimal, single?: { mmr: XDecimal; cum: XDecimal }): XDecimal {
  const n = q.times(model.basis === 'entry' ? ep : mark);
  if (single) return n.times(single.mmr.plus(model.extraRate)).minus(single.cum);
  const t = tiers[tierIndex(tiers, n.toNumber())]!;
  return n.times(x(t.mmr).plus(model.extraRate)).minus(t.cum);
}

/** a price that exists: > 0, else null */
const positive = (p: XDecimal): XDecimal | null => (p.gt(0) ? p : null);

/**
 * The venue's isolated liquidation price (VenueProfile.isolatedLiquidationPrice) in decimals; null
 * when no positive price exists. `single`: one tier given by hand, its MMR and maintenance amount as
 * the user wrote them (no tier choice). `extraRate`: the rate added to the MMR (OKX's taker fee)
 * when not the venue's own.
 */
export function exactLiquidationPrice(
  venue: VenueProfile,
  p: { side: Side; qty: XDecimal; entryPrice: XDecimal; walletBalance: XDecimal; tiers: readonly Tier[]; mark?: number; single?: { mmr: XDecimal; cum: XDecimal }; extraRate?: number },
): XDecimal | null {
  const { side: s, qty: q, entryPrice: ep, walletBalance: wb } = p;
  const form = closedFormOf(venue);
  const model = venue.maintenance ?? DEFAULT_MAINTENANCE;
  const extra = p.extraRate ?? model.extraRate;
  if (form === 'bybit') {
    const mm = p.single ? q.times(ep).times(p.single.mmr).minus(p.single.cum) : exactMaintenanceMargin(model, p.tiers, q, ep, ep);
    return positive(exactBybitWallet(s, q, ep, wb, mm));
  }
  if (p.single) return positive(exactTierRoot(form, s, q, ep, wb, p.single.mmr, p.single.cum, extra));
  // the tier whose notional range holds Q × its own root, chosen in decimals: for a table that follows
  // the cum recurrence exactly one holds it (two at a floor, with one price), whatever the doubles' rounding
  if (!(p.mark !== undefined && jumps(p.tiers))) {
    const tiers = p.tiers;
    for (let i = 0; i < tiers.length; i++) {
      const r = exactTierRoot(form, s, q, ep, wb, tiers[i]!.mmr, tiers[i]!.cum, extra);
      const n = q.times(r);
      if ((i === 0 || n.gte(tiers[i]!.floor)) && (i === tiers.length - 1 || n.lt(tiers[i + 1]!.floor))) return positive(r);
    }
  }
  // a jumping custom table (no tier may hold its root; from a mark, the first breached price): the doubles
  // choose the tier, or the floor / mark the answer is, and the decimals give that tier's root
  const qn = q.toNumber();
  const epn = ep.toNumber();
  const wbn = wb.toNumber();
  const approx = tieredLiquidationPrice(form, s, qn, epn, wbn, p.tiers, extra, p.mark);
  if (!(approx > 0)) return null;
  for (const t of p.tiers) {
    if (tierRoot(form, s, qn, epn, wbn, t, extra) === approx) return positive(exactTierRoot(form, s, q, ep, wb, t.mmr, t.cum, extra));
  }
  return new XD(approx);
}
