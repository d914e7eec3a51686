/**
 * The margin modes. Each MarginMode object decides what it owns: how initial margin is held and
 * released, where funding is booked, the pool a position belongs to (a pool is a key: every
 * isolated position its own, every cross position the one cross pool), its share of the available
 * balance, whether a leverage change or a margin transfer is allowed, where a liquidation's margin
 * comes from and where the remainder goes. The account calls these and never compares mode ids.
 */
import type { Decimal } from 'decimal.js';
import { divUnits, marginShareUnits, mulDivUnits } from './fixed.js';
import { CrossPool, IsolatedPool } from './pools.js';
import type { AccountImpl } from './index.js';
import type { Position } from './position.js';
import type { MarginPool, ModeId, RejectReason } from './types.js';

/** How a margin mode holds margin, books funding and forms pools. */
export interface MarginMode {
  readonly id: ModeId;
  /** hold the initial margin of an opened notional (units): out of the cross wallet into the position's wallet (isolated), or nothing (cross) */
  allocate(acc: AccountImpl, p: Position, notional: bigint): void;
  /** release the part closeLots/curLots (0..1] of the position's own margin back to the cross wallet when it is reduced/closed */
  release(acc: AccountImpl, p: Position, closeLots: number, curLots: number): void;
  /** book a funding amount (received > 0, paid < 0) for the position */
  bookFunding(acc: AccountImpl, p: Position, received: bigint): void;
  /** true: each position is its own pool (isolated); false: every position of the mode shares one pool (cross) */
  ownsPool: boolean;
  /**
   * why changing the leverage of the open position p from `from` to `to` is refused (reason code
   * and message), or null when allowed; p.leverage is already `to` when called
   */
  leverageChangeRefusal(acc: AccountImpl, p: Position, from: number, to: number): { reason: RejectReason; message: string } | null;
  /** the key of the pool p belongs to (positions with the same key share one pool) */
  poolKey(p: Position): string;
  /** the pool of `members` (symbol indexes) under `key`; `previous` is the position's pool before the event, reused when still valid */
  createPool(acc: AccountImpl, key: string, members: readonly number[], previous: MarginPool | null): MarginPool;
  /** p's share of the available balance at mark m, beyond the cross wallet (cross: uPnL − initial margin; isolated: none) */
  availableShare(p: Position, m: number): number;
  /** the same share in units, exactly (a Decimal), or null for none: what a booking from the available balance sums */
  availableShareUnits(p: Position, m: number): Decimal | null;
  /** why margin cannot be moved into or out of p (message), or null when it can */
  transferRefusal(p: Position): string | null;
  /** the margin a liquidation of the pool of `members` consumes (the isolated wallet; the cross wallet) */
  liquidationMargin(acc: AccountImpl, members: readonly number[]): bigint;
  /** books what is `returned` of that margin after the penalty and leaves the pool's own wallets empty */
  settleLiquidation(acc: AccountImpl, members: readonly number[], returned: bigint): void;
}

export const IsolatedMargin: MarginMode = {
  id: 'isolated',
  ownsPool: true,
  leverageChangeRefusal(_acc, p, from, to) {
    // raising: the isolated wallet is not re-sized, the leverage applies to what the position opens
    // next. Lowering an open isolated position is refused, as on Binance (error −4161, "leverage
    // reduction is not supported in Isolated Margin Mode with open positions")
    if (to >= from) return null;
    return { reason: 'leverageLocked', message: `${p.symbol}: the leverage of an open isolated position cannot be lowered (${from}x to ${to}x); close it first or add margin with transferMargin` };
  },
  poolKey(p) {
    return `isolated:${p.symbol}`;
  },
  createPool(acc, _key, members, previous) {
    return previous instanceof IsolatedPool ? previous : new IsolatedPool(acc, acc.pos[members[0]!]!);
  },
  availableShare() {
    return 0;
  },
  availableShareUnits() {
    return null;
  },
  transferRefusal() {
    return null;
  },
  liquidationMargin(acc, members) {
    return acc.pos[members[0]!]!.isoWallet;
  },
  settleLiquidation(acc, members, returned) {
    // the isolated wallet leaves the books with the position; what is returned goes to the cross wallet
    acc.crossWallet = acc.crossWallet + returned;
    acc.pos[members[0]!]!.isoWallet = 0n;
  },
  allocate(acc, p, notional) {
    // initial margin of the opened part: the booked notional ÷ leverage, rounded half-even to a unit
    const im = divUnits(notional, p.leverage);
    p.isoWallet = p.isoWallet + im;
    acc.crossWallet = acc.crossWallet - im;
  },
  release(acc, p, closeLots, curLots) {
    // a full close returns the whole wallet (rounding remainders included); a reduce the same fraction
    const amt = closeLots >= curLots ? p.isoWallet : mulDivUnits(p.isoWallet, closeLots, curLots);
    p.isoWallet -= amt;
    acc.crossWallet = acc.crossWallet + amt;
  },
  bookFunding(acc, p, received) {
    if (acc.venue.funding.isolatedBooking === 'isolatedWallet') {
      p.isoWallet = p.isoWallet + received;
      return;
    }
    // 'availableFirst': receipts go to the available balance; payments come from it first and
    // from the position margin only for the part the available balance cannot cover (the available
    // balance summed exactly and rounded half-even to a unit: availableUnits)
    if (received >= 0n) {
      acc.crossWallet = acc.crossWallet + received;
      return;
    }
    const need = -received;
    // the available balance rounded once from its exact value (its float view, rounded, could land a
    // unit off where the exact sum ends on half a unit: a quantity × price ÷ leverage often does)
    const a = acc.availableUnits();
    const avail = a > 0n ? a : 0n;
    const fromAvail = need < avail ? need : avail;
    acc.crossWallet -= fromAvail;
    p.isoWallet = p.isoWallet - (need - fromAvail);
  },
};

export const CrossMargin: MarginMode = {
  id: 'cross',
  ownsPool: false,
  leverageChangeRefusal(acc, p, from, to) {
    // raising the leverage lowers the initial margin (always allowed, as on the exchanges);
    // lowering it raises the initial margin, which must fit in the available balance (the fill's check and tolerance)
    if (to >= from || acc.availableCovers()) return null;
    return { reason: 'insufficientMargin', message: `${p.symbol}: lowering leverage from ${from}x to ${to}x needs more initial margin than the available balance` };
  },
  poolKey() {
    return 'cross';
  },
  createPool(acc, _key, members) {
    return new CrossPool(acc, Object.freeze([...members]));
  },
  availableShare(p, m) {
    return p.side * p.absQ * (m - p.entryF) - (p.absQ * m) / p.leverage;
  },
  availableShareUnits(p, m) {
    return marginShareUnits(p.lots, p.step, p.cost, m, p.leverage);
  },
  transferRefusal(p) {
    return `${p.symbol}: margin can only be moved for an open isolated position`;
  },
  liquidationMargin(acc) {
    return acc.crossWallet;
  },
  settleLiquidation(acc, _members, returned) {
    acc.crossWallet = returned;
  },
  allocate() {
    /* the margin stays in the cross wallet; it is counted through Σ cross IM in the available balance */
  },
  release() {
    /* nothing held apart */
  },
  bookFunding(acc, _p, received) {
    acc.crossWallet = acc.crossWallet + received;
  },
};

export const MarginModes: Readonly<Record<ModeId, MarginMode>> = Object.freeze({ isolated: IsolatedMargin, cross: CrossMargin });

