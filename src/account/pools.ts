/**
 * Margin pools: an isolated position's own pool and the cross pool. Per-bar methods (breached,
 * liquidation and bankruptcy prices) read only the float mirrors and allocate nothing.
 */
import type { Tier } from '../venue/types.js';
import type { AccountImpl } from './index.js';
import { positionMaintenance, type Position } from './position.js';
import type { MarginPool } from './types.js';

/** reusable argument object for the venue's closed forms (no per-call allocation) */
interface LpArgs {
  side: 1 | -1;
  qty: number;
  entryPrice: number;
  walletBalance: number;
  leverage: number;
  tiers: readonly Tier[];
}

/** the closed forms' arguments for position p with `walletBalance` (the reused object, filled in place) */
function fillArgs(a: LpArgs, p: Position, walletBalance: number): LpArgs {
  a.side = p.side;
  a.qty = p.absQ;
  a.entryPrice = p.entryF;
  a.walletBalance = walletBalance;
  a.leverage = p.leverage;
  a.tiers = p.tiers;
  return a;
}

export class IsolatedPool implements MarginPool {
  readonly id: string;
  readonly symbols: readonly number[];
  private readonly args: LpArgs;
  constructor(
    private readonly acc: AccountImpl,
    private readonly p: Position,
  ) {
    this.id = `isolated:${p.symbol}`;
    this.symbols = Object.freeze([p.idx]);
    this.args = { side: 1, qty: 0, entryPrice: 0, walletBalance: 0, leverage: 1, tiers: p.tiers };
  }
  marginBalance(marks: Float64Array): number {
    const p = this.p;
    const m = this.acc.markOf(p.idx, marks);
    return p.isoWalletF + p.side * p.absQ * (m - p.entryF);
  }
  maintenance(marks: Float64Array): number {
    const p = this.p;
    return positionMaintenance(this.acc.mm, p, this.acc.markOf(p.idx, marks));
  }
  excess(marks: Float64Array): number {
    if (this.p.absQ === 0) return Number.POSITIVE_INFINITY;
    return this.marginBalance(marks) - this.maintenance(marks);
  }
  // breached() is marginBalance(marks) − maintenance(marks) ≤ 0 written out, the same arithmetic:
  // the engine asks it at every point of a bar's path, and where V8 did not inline marginBalance
  // into it, its double came back boxed (32 bytes per setup-bar in some runs of
  // test/engine-alloc.test.ts, the brackets under the pessimistic check)
  breached(marks: Float64Array): boolean {
    const p = this.p;
    if (p.absQ === 0) return false;
    const m = this.acc.markOf(p.idx, marks);
    return p.isoWalletF + p.side * p.absQ * (m - p.entryF) - positionMaintenance(this.acc.mm, p, m) <= 0;
  }
  liquidationPrice(symbol: number, _marks: Float64Array): number {
    const p = this.p;
    if (symbol !== p.idx || p.absQ === 0) return Number.NaN;
    return this.acc.venue.isolatedLiquidationPrice(fillArgs(this.args, p, p.isoWalletF));
  }
  bankruptcyPrice(symbol: number, _marks: Float64Array): number {
    const p = this.p;
    if (symbol !== p.idx || p.absQ === 0) return Number.NaN;
    return this.acc.venue.bankruptcyPrice(fillArgs(this.args, p, p.isoWalletF));
  }
}

export class CrossPool implements MarginPool {
  readonly id = 'cross';
  private readonly args: LpArgs;
  constructor(
    private readonly acc: AccountImpl,
    readonly symbols: readonly number[],
  ) {
    this.args = { side: 1, qty: 0, entryPrice: 0, walletBalance: 0, leverage: 1, tiers: [] };
  }
  marginBalance(marks: Float64Array): number {
    const acc = this.acc;
    let mb = acc.crossWalletF;
    for (let k = 0; k < this.symbols.length; k++) {
      const p = acc.pos[this.symbols[k]!]!;
      mb += p.side * p.absQ * (acc.markOf(p.idx, marks) - p.entryF);
    }
    return mb;
  }
  maintenance(marks: Float64Array): number {
    const acc = this.acc;
    let mm = 0;
    for (let k = 0; k < this.symbols.length; k++) {
      const p = acc.pos[this.symbols[k]!]!;
      mm += positionMaintenance(acc.mm, p, acc.markOf(p.idx, marks));
    }
    return mm;
  }
  excess(marks: Float64Array): number {
    return this.marginBalance(marks) - this.maintenance(marks);
  }
  /** marginBalance(marks) − maintenance(marks) ≤ 0 in one loop, the same sums in the same order (see IsolatedPool.breached) */
  breached(marks: Float64Array): boolean {
    const acc = this.acc;
    let mb = acc.crossWalletF;
    let mm = 0;
    for (let k = 0; k < this.symbols.length; k++) {
      const p = acc.pos[this.symbols[k]!]!;
      const m = acc.markOf(p.idx, marks);
      mb += p.side * p.absQ * (m - p.entryF);
      mm += positionMaintenance(acc.mm, p, m);
    }
    return mb - mm <= 0;
  }
  /** cross wallet + Σ over the OTHER legs of (uPnL − MM [when withMM]) at marks */
  private others(symbol: number, marks: Float64Array, withMM: boolean): number {
    const acc = this.acc;
    let wb = acc.crossWalletF;
    for (let k = 0; k < this.symbols.length; k++) {
      const j = this.symbols[k]!;
      if (j === symbol) continue;
      const p = acc.pos[j]!;
      const m = acc.markOf(j, marks);
      wb += p.side * p.absQ * (m - p.entryF);
      if (withMM) wb -= positionMaintenance(acc.mm, p, m);
    }
    return wb;
  }
  private member(symbol: number): Position | null {
    for (let k = 0; k < this.symbols.length; k++) if (this.symbols[k] === symbol) return this.acc.pos[symbol]!;
    return null;
  }
  liquidationPrice(symbol: number, marks: Float64Array): number {
    const p = this.member(symbol);
    if (!p || p.absQ === 0) return Number.NaN;
    // Binance §1.1: WB − TMM1 + UPNL1, other legs at mark
    return this.acc.venue.isolatedLiquidationPrice(fillArgs(this.args, p, this.others(symbol, marks, true)));
  }
  bankruptcyPrice(symbol: number, marks: Float64Array): number {
    const p = this.member(symbol);
    if (!p || p.absQ === 0) return Number.NaN;
    return this.acc.venue.bankruptcyPrice(fillArgs(this.args, p, this.others(symbol, marks, false)));
  }
}

