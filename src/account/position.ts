/** One net position of the account (internal to src/account). */
import type { Tier } from '../venue/types.js';
import { tierIndex } from '../venue/tiers.js';
import { jumpsAt, type MaintenanceModel } from '../venue/math.js';
import type { LotGrid, LotSize } from '../venue/lots.js';
import type { MarginMode } from './modes.js';
import type { MarginPool } from './types.js';

/** One net position (one-way mode). Money in BigInt units of 1e-8 (./fixed.ts). */
export interface Position {
  readonly idx: number;
  readonly symbol: string;
  /** the venue's table in force (replaced when a later dated table takes effect: Account.useTiersAt) */
  tiers: readonly Tier[];
  /** quantity grid: every order and position is an integer number of steps */
  readonly grid: LotGrid;
  /** the quantity step (its shortest decimal is the step) */
  readonly step: number;
  readonly lot: LotSize;
  leverage: number;
  /** signed position in steps (exact integer) */
  lots: number;
  // books (units)
  /** cost basis of the open position, ≥ 0: Σ booked opening notionals − basis released by reduces */
  cost: bigint;
  /** isolated wallet (0 for cross / flat) */
  isoWallet: bigint;
  mode: MarginMode | null;
  // float mirrors
  qtyF: number;
  absQ: number;
  side: 1 | -1;
  /** average entry price: cost basis ÷ size, correctly rounded */
  entryF: number;
  isoWalletF: number;
  /** the position's own pool when its mode gives it one (kept across events while open) */
  pool: MarginPool | null;
  /**
   * the tier last used (positionMaintenance): its notional bracket [tierLo, tierHi) and rates; the
   * tier table is searched again only when the basis notional leaves the bracket
   */
  tierLo: number;
  tierHi: number;
  tierMmr: number;
  tierCum: number;
  /**
   * whether the maintenance margin jumps at an edge of the tier last used (a table whose cum breaks the recurrence):
   * only there can the float tier choice near an edge be off by more than the excess's float band (nearTierEdge)
   */
  tierJump: boolean;
}

/**
 * Whether the basis notional of p at `mark` lies within float error of its tier's bracket (positionMaintenance's last
 * tier, call it first): the double chose the tier, and a table whose cum breaks the recurrence makes the maintenance
 * margin jump there, far more than the float band of the excess (MarginPool.breached then asks the exact books)
 */
export function nearTierEdge(model: MaintenanceModel, p: Position, mark: number): boolean {
  // a continuous table: the tier chosen an ulp off changes the maintenance by float noise, inside the excess's band (a
  // bybit position whose cost basis sat on a floor went to the exact books at every check while it was held)
  if (!p.tierJump) return false;
  const n = p.absQ * (model.basis === 'entry' ? p.entryF : mark);
  const e = 8 * Number.EPSILON * n;
  return n - p.tierLo <= e || p.tierHi - n <= e;
}

/** the tier fields of a new position (an empty bracket: the first valuation looks the tier up) */
export const NO_TIER = { tierLo: Infinity, tierHi: -Infinity, tierMmr: 0, tierCum: 0, tierJump: false } as const;

/**
 * Maintenance margin of p at `mark` under `model` (venue/math.ts maintenanceMargin, same formula
 * and tier), with the tier looked up only when the basis notional leaves the last tier's bracket.
 */
export function positionMaintenance(model: MaintenanceModel, p: Position, mark: number): number {
  const n = p.absQ * (model.basis === 'entry' ? p.entryF : mark);
  if (!(n >= p.tierLo && n < p.tierHi)) {
    const tiers = p.tiers;
    const k = tierIndex(tiers, n);
    const t = tiers[k]!;
    // tier 0 reaches down to every notional below tier 1's floor (tierIndex's rule)
    p.tierLo = k === 0 ? -Infinity : t.floor;
    p.tierHi = k + 1 < tiers.length ? tiers[k + 1]!.floor : Infinity;
    p.tierMmr = t.mmr;
    p.tierCum = t.cum;
    p.tierJump = (k > 0 && jumpsAt(tiers, k)) || (k + 1 < tiers.length && jumpsAt(tiers, k + 1));
  }
  return n * (p.tierMmr + model.extraRate) - p.tierCum;
}
