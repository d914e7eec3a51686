/**
 * The margin modes. Each MarginMode object decides what it owns: how initial margin is held and
 * released, where funding is booked, the pool a position belongs to (a pool is a key: every
 * isolated position its own, every cross position the one cross pool), its share of the available
 * balance, whether a leverage change or a margin transfer is allowed, where a liquidation's margin
 * comes from and where the remainder goes. The account calls these and never compares mode ids.
 */
import { Decimal } from 'decimal.js';
import { book, dec, ZERO, type D } from './books.js';
import { CrossPool, IsolatedPool } from './pools.js';
import type { AccountImpl } from './index.js';
import type { Position } from './position.js';
import type { MarginPool, ModeId } from './types.js';

/** How a margin mode holds margin, books funding and forms pools. */
export interface MarginMode {
  readonly id: ModeId;
  /** move initial margin `im` for a new or increased position out of the cross wallet (isolated) or leave it (cross) */
  allocate(acc: AccountImpl, p: Position, openQty: D, priceD: D): void;
  /** release the part closeLots/curLots (0..1] of the position's own margin back to the cross wallet when it is reduced/closed */
  release(acc: AccountImpl, p: Position, closeLots: number, curLots: number): void;
  /** book a funding amount (received > 0, paid < 0) for the position */
  bookFunding(acc: AccountImpl, p: Position, received: D): void;
  /** true: each position is its own pool (isolated); false: every position of the mode shares one pool (cross) */
  ownsPool: boolean;
  /**
   * why changing the leverage of the open position p from `from` to `to` is refused (message), or
   * null when allowed; p.leverage is already `to` when called
   */
  leverageChangeRefusal(acc: AccountImpl, p: Position, from: number, to: number): string | null;
  /** the key of the pool p belongs to (positions with the same key share one pool) */
  poolKey(p: Position): string;
  /** the pool of `members` (symbol indexes) under `key`; `previous` is the position's pool before the event, reused when still valid */
  createPool(acc: AccountImpl, key: string, members: readonly number[], previous: MarginPool | null): MarginPool;
  /** p's share of the available balance at mark m, beyond the cross wallet (cross: uPnL − initial margin; isolated: none) */
  availableShare(p: Position, m: number): number;
  /** why margin cannot be moved into or out of p (message), or null when it can */
  transferRefusal(p: Position): string | null;
  /** the margin a liquidation of the pool of `members` consumes (the isolated wallet; the cross wallet) */
  liquidationMargin(acc: AccountImpl, members: readonly number[]): D;
  /** books what is `returned` of that margin after the penalty and leaves the pool's own wallets empty */
  settleLiquidation(acc: AccountImpl, members: readonly number[], returned: D): void;
}

export const IsolatedMargin: MarginMode = {
  id: 'isolated',
  ownsPool: true,
  leverageChangeRefusal() {
    // the isolated wallet is not re-sized: the leverage applies to what the position opens next
    return null;
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
  transferRefusal() {
    return null;
  },
  liquidationMargin(acc, members) {
    return acc.pos[members[0]!]!.isoWallet;
  },
  settleLiquidation(acc, members, returned) {
    // the isolated wallet leaves the books with the position; what is returned goes to the cross wallet
    acc.crossWallet = acc.crossWallet.plus(returned);
    acc.pos[members[0]!]!.isoWallet = ZERO;
  },
  allocate(acc, p, openQty, priceD) {
    // initial margin of the opened part, notional / leverage, booked into the position's wallet
    const im = book(openQty.times(priceD).div(acc.leverageD(p)));
    p.isoWallet = p.isoWallet.isZero() ? im : p.isoWallet.plus(im);
    acc.crossWallet = acc.crossWallet.minus(im);
  },
  release(acc, p, closeLots, curLots) {
    if (closeLots >= curLots) {
      // the whole isolated wallet goes back
      if (!p.isoWallet.isZero()) acc.crossWallet = acc.crossWallet.plus(p.isoWallet);
      p.isoWallet = ZERO;
      return;
    }
    const amt = book(p.isoWallet.times(dec(closeLots).div(curLots)));
    p.isoWallet = p.isoWallet.minus(amt);
    acc.crossWallet = acc.crossWallet.plus(amt);
  },
  bookFunding(acc, p, received) {
    if (acc.venue.funding.isolatedBooking === 'isolatedWallet') {
      p.isoWallet = p.isoWallet.plus(received);
      return;
    }
    // 'availableFirst': receipts go to the available balance; payments come from it first and
    // from the position margin only for the part the available balance cannot cover
    if (received.gte(0)) {
      acc.crossWallet = acc.crossWallet.plus(received);
      return;
    }
    const need = received.neg();
    const avail = book(dec(Math.max(0, acc.availableF())));
    const fromAvail = Decimal.min(need, avail) as D;
    acc.crossWallet = acc.crossWallet.minus(fromAvail);
    p.isoWallet = p.isoWallet.minus(need.minus(fromAvail));
  },
};

export const CrossMargin: MarginMode = {
  id: 'cross',
  ownsPool: false,
  leverageChangeRefusal(acc, p, from, to) {
    // raising the leverage lowers the initial margin (always allowed, as on the exchanges);
    // lowering it raises the initial margin, which must fit in the available balance
    if (to >= from || acc.availableF() >= 0) return null;
    return `${p.symbol}: lowering leverage from ${from}x to ${to}x needs more initial margin than the available balance`;
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
    acc.crossWallet = acc.crossWallet.plus(received);
  },
};

export const MarginModes: Readonly<Record<ModeId, MarginMode>> = Object.freeze({ isolated: IsolatedMargin, cross: CrossMargin });

