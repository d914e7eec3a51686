/** One net position of the account (internal to src/account). */
import type { Tier } from '../venue/types.js';
import type { LotGrid, LotSize } from '../venue/lots.js';
import type { MarginMode } from './modes.js';
import type { MarginPool } from './types.js';

/** One net position (one-way mode). Money in BigInt units of 1e-8 (./fixed.ts). */
export interface Position {
  readonly idx: number;
  readonly symbol: string;
  readonly tiers: readonly Tier[];
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
}
