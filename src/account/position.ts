/** One net position of the account (internal to src/account). */
import type { Tier } from '../venue/types.js';
import type { LotGrid, LotSize } from '../venue/lots.js';
import type { D } from './books.js';
import type { MarginMode } from './modes.js';
import type { MarginPool } from './types.js';

/** One net position (one-way mode). */
export interface Position {
  readonly idx: number;
  readonly symbol: string;
  readonly tiers: readonly Tier[];
  /** quantity grid: every order and position is an integer number of steps */
  readonly grid: LotGrid;
  readonly stepD: D;
  readonly lot: LotSize;
  leverage: number;
  /** signed position in steps (exact integer) */
  lots: number;
  /** cached Decimal of `leverage` (levDOf = the leverage it was made from) */
  levD: D | null;
  levDOf: number;
  // books (Decimal)
  /** signed position = stepD × lots (exact) */
  qty: D;
  entry: D;
  /** isolated wallet (0 for cross / flat) */
  isoWallet: D;
  mode: MarginMode | null;
  // float mirrors
  qtyF: number;
  absQ: number;
  side: 1 | -1;
  entryF: number;
  isoWalletF: number;
  /** the position's own pool when its mode gives it one (kept across events while open) */
  pool: MarginPool | null;
}

