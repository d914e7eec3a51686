/**
 * CONTRACT: venue profiles (src/venue). A profile is plain data plus pure functions; the account
 * and the engine read it, never a venue id.
 */

/** One maintenance bracket. MM = notional × mmr − cum for floor ≤ notional < cap. */
export interface Tier {
  floor: number;
  cap: number;
  mmr: number;
  maxLeverage: number;
  /** Binance "maintenance amount" (cum); follows cum_n = cum_{n-1} + floor_n × (mmr_n − mmr_{n-1}) */
  cum: number;
}

export type Side = 1 | -1;

import type { LotSize } from './lots.js';
export type { LotSize } from './lots.js';

export interface VenueProfile {
  id: string;
  name: string;
  fees: { maker: number; taker: number };
  funding: {
    intervalHours: number;
    /**
     * the price the venue settles funding at, which a funding file's `price` column should hold. Descriptive: a replay
     * charges the file's price when given, else the mark open at the funding time, else the trade open (docs/margin.md)
     */
    priceSource: 'mark' | 'oracle';
    /** where isolated positions' funding is booked: into the isolated wallet (Binance), or the available (cross) balance first */
    isolatedBooking: 'isolatedWallet' | 'availableFirst';
    /**
     * (added by the margin engine) a position opened at most this many ms after a funding
     * timestamp still counts as open at it (Binance: 15 000, freqtrade `funding_fee_cutoff`); 0 elsewhere.
     */
    openCutoffMs?: number;
  };
  liquidation: {
    /**
     * what the trader loses when a pool is liquidated at its liquidation price:
     * 'remainingMargin' = all remaining margin of the pool goes to the insurance fund;
     * { feeRate } = a fee of feeRate × closed notional, the rest of the margin is returned.
     */
    penalty: 'remainingMargin' | { feeRate: number };
  };
  /** maintenance tiers in force for `symbol` at time `asOfMs` (the dated table whose date is the latest ≤ asOf, else the earliest). */
  tiers(symbol: string, asOfMs: number): readonly Tier[];
  /**
   * The venue's published closed-form isolated liquidation price for a single position.
   * `walletBalance` is the isolated wallet (margin incl. transfers and booked funding).
   * Returns NaN when no positive price exists. `mark` (optional) is the price the position is valued at now: a tier
   * table whose cum breaks the recurrence (maintenance jumping at a floor) can be breached at several prices, and the
   * engine wants the first one the price meets moving against the position from there (tieredLiquidationPrice).
   */
  isolatedLiquidationPrice(p: {
    side: Side; qty: number; entryPrice: number; walletBalance: number; leverage: number; tiers: readonly Tier[]; mark?: number;
  }): number;
  /**
   * (added by the margin engine) how maintenance margin is computed in the margin check, so that the
   * check and `isolatedLiquidationPrice` agree: on the mark notional (Binance, Hyperliquid, OKX) or
   * the entry notional (Bybit), plus a rate added to the MMR (OKX: taker fee). Absent = mark, 0.
   */
  maintenance?: { basis: 'mark' | 'entry'; extraRate: number };
  /** (added by the margin engine) label of the tier table used for `symbol` at `asOfMs`, for reports */
  tierSource?(symbol: string, asOfMs: number): string;
  /** (added by the margin engine) the symbols with a tier table of their own at `asOfMs`, as the venue names them (the rest take its default table) */
  tableSymbols?(asOfMs: number): readonly string[];
  /**
   * (added for dated tier tables) the times t with fromMs < t ≤ toMs at which another dated table
   * takes effect, ascending: a replay switches its positions' tiers at the first bar opening at or
   * after each (docs/margin.md). Absent: the table in force at a replay's first bar is kept.
   */
  tierChanges?(fromMs: number, toMs: number): readonly number[];
  /**
   * (added for lot sizes) quantity grid of `symbol`: step, minimum order quantity, price tick.
   * Symbols without a table entry follow the default rule from `referencePrice` (docs/margin.md).
   * Absent on a hand-made profile = the default rule.
   */
  lotSize?(symbol: string, referencePrice?: number): LotSize;
  /** bankruptcy price of an isolated position (margin balance = 0). NaN when none. */
  bankruptcyPrice(p: { side: Side; qty: number; entryPrice: number; walletBalance: number }): number;
}

/**
 * A profile as `getVenue` builds it: the parts optional in a hand-made `VenueProfile`
 * (`maintenance`, `tierSource`, `tableSymbols`, `tierChanges`, `lotSize`) are always there, so `getVenue(id).lotSize(symbol)`
 * needs no check.
 */
export type BuiltVenueProfile = VenueProfile & Required<Pick<VenueProfile, 'maintenance' | 'tierSource' | 'tableSymbols' | 'tierChanges' | 'lotSize'>>;
