/**
 * Margin pools: an isolated position's own pool and the cross pool. Per-bar methods (breached,
 * liquidation and bankruptcy prices) read only the float mirrors and allocate nothing, but for
 * breached() within the float error of the threshold, which decides on the exact books (exactExcess).
 */
import { Decimal } from 'decimal.js';
import type { MaintenanceModel } from '../venue/math.js';
import type { Tier } from '../venue/types.js';
import type { AccountImpl } from './index.js';
import { nearTierEdge, positionMaintenance, type Position } from './position.js';
import type { MarginPool } from './types.js';

/** wide enough that the products of a few shortest decimals of doubles and units are exact */
const Exact = Decimal.clone({ precision: 200, rounding: Decimal.ROUND_HALF_EVEN });
const UNITS = new Exact(1e8);

/**
 * The float excess of a pool decides its sign only beyond this fraction of the magnitudes summed into it (wallet,
 * notional at the mark, basis, tier cum): each is a double within a few ε of the exact books' value and each sum
 * and product adds ε of its size, so 64 ε bounds the error many times over. Within it the sign is decided on the
 * exact books: a price exactly at the liquidation price is a liquidation (excess 0), which the doubles put on
 * either side of the threshold (51 of 345 exact touches of an isolated long's liquidation price missed).
 */
export const EXCESS_FLOAT_BAND = 64 * Number.EPSILON;

/**
 * One leg's uPnL − maintenance margin at mark m, exactly, in units (a Decimal): side × (|lots| × step × m − cost)
 * − (n × (MMR + extra) − cum) with n the basis notional (Q × m, or the cost basis for an entry-basis venue) and the
 * tier chosen by n exactly; each double is its shortest decimal, as every booking reads it.
 */
export function legExcessUnits(model: MaintenanceModel, p: Position, m: number): Decimal {
  const notional = new Exact(p.lots < 0 ? -p.lots : p.lots).times(new Exact(p.step)).times(new Exact(m)).times(UNITS);
  const cost = new Exact(p.cost.toString());
  const upnl = p.lots < 0 ? cost.minus(notional) : notional.minus(cost);
  const n = model.basis === 'entry' ? cost : notional;
  const tiers = p.tiers;
  let k = 0;
  for (let j = 1; j < tiers.length; j++) {
    if (n.gte(new Exact(tiers[j]!.floor).times(UNITS))) k = j;
    else break;
  }
  const t = tiers[k]!;
  const maintenance = n.times(new Exact(t.mmr).plus(new Exact(model.extraRate))).minus(new Exact(t.cum).times(UNITS));
  return upnl.minus(maintenance);
}

/** reusable argument object for the venue's closed forms (no per-call allocation) */
interface LpArgs {
  side: 1 | -1;
  qty: number;
  entryPrice: number;
  walletBalance: number;
  leverage: number;
  tiers: readonly Tier[];
  /** the position's price now (a jumping tier table's threshold is the first met from there) */
  mark: number;
}

/** the closed forms' arguments for position p valued at `mark` with `walletBalance` (the reused object, filled in place) */
function fillArgs(a: LpArgs, p: Position, walletBalance: number, mark: number): LpArgs {
  a.side = p.side;
  a.qty = p.absQ;
  a.entryPrice = p.entryF;
  a.walletBalance = walletBalance;
  a.leverage = p.leverage;
  a.tiers = p.tiers;
  a.mark = mark;
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
    this.args = { side: 1, qty: 0, entryPrice: 0, walletBalance: 0, leverage: 1, tiers: p.tiers, mark: Number.NaN };
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
  // Within the float error of the threshold the exact books decide (EXCESS_FLOAT_BAND)
  breached(marks: Float64Array): boolean {
    const p = this.p;
    if (p.absQ === 0) return false;
    const m = this.acc.markOf(p.idx, marks);
    const w = p.isoWalletF;
    const ex = w + p.side * p.absQ * (m - p.entryF) - positionMaintenance(this.acc.mm, p, m);
    const cum = p.tierCum;
    const band = EXCESS_FLOAT_BAND * ((w < 0 ? -w : w) + p.absQ * (m + p.entryF) + (cum < 0 ? -cum : cum));
    if ((ex > band || ex < -band) && !nearTierEdge(this.acc.mm, p, m)) return ex < 0;
    return this.exactExcess(marks).lte(0);
  }
  /** marginBalance − maintenance at marks on the exact books, in units */
  exactExcess(marks: Float64Array): Decimal {
    const p = this.p;
    return new Exact(p.isoWallet.toString()).plus(legExcessUnits(this.acc.mm, p, this.acc.markOf(p.idx, marks)));
  }
  liquidationPrice(symbol: number, marks: Float64Array): number {
    const p = this.p;
    if (symbol !== p.idx || p.absQ === 0) return Number.NaN;
    return this.acc.venue.isolatedLiquidationPrice(fillArgs(this.args, p, p.isoWalletF, this.acc.markOf(p.idx, marks)));
  }
  liquidationPrices(marks: Float64Array, out: Float64Array): void {
    out[this.p.idx] = this.liquidationPrice(this.p.idx, marks);
  }
  bankruptcyPrice(symbol: number, marks: Float64Array): number {
    const p = this.p;
    if (symbol !== p.idx || p.absQ === 0) return Number.NaN;
    return this.acc.venue.bankruptcyPrice(fillArgs(this.args, p, p.isoWalletF, this.acc.markOf(p.idx, marks)));
  }
}

export class CrossPool implements MarginPool {
  readonly id = 'cross';
  private readonly args: LpArgs;
  /** liquidationPrices' scratch: each leg's mark, uPnL and maintenance at the marks */
  private legU = new Float64Array(0);
  private legMm = new Float64Array(0);
  private legMark = new Float64Array(0);
  constructor(
    private readonly acc: AccountImpl,
    readonly symbols: readonly number[],
  ) {
    this.args = { side: 1, qty: 0, entryPrice: 0, walletBalance: 0, leverage: 1, tiers: [], mark: Number.NaN };
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
  /**
   * marginBalance(marks) − maintenance(marks) ≤ 0 in one loop, the same sums in the same order (see
   * IsolatedPool.breached); within the float error of the threshold the exact books decide (EXCESS_FLOAT_BAND)
   */
  breached(marks: Float64Array): boolean {
    const acc = this.acc;
    const w = acc.crossWalletF;
    let mb = w;
    let mm = 0;
    let size = w < 0 ? -w : w;
    let edge = false;
    for (let k = 0; k < this.symbols.length; k++) {
      const p = acc.pos[this.symbols[k]!]!;
      const m = acc.markOf(p.idx, marks);
      mb += p.side * p.absQ * (m - p.entryF);
      mm += positionMaintenance(acc.mm, p, m);
      const cum = p.tierCum;
      size += p.absQ * (m + p.entryF) + (cum < 0 ? -cum : cum);
      if (nearTierEdge(acc.mm, p, m)) edge = true;
    }
    const ex = mb - mm;
    const band = EXCESS_FLOAT_BAND * size;
    if ((ex > band || ex < -band) && !edge) return ex < 0;
    return this.exactExcess(marks).lte(0);
  }
  /** marginBalance − maintenance at marks on the exact books, in units */
  exactExcess(marks: Float64Array): Decimal {
    const acc = this.acc;
    let ex = new Exact(acc.crossWallet.toString());
    for (let k = 0; k < this.symbols.length; k++) {
      const p = acc.pos[this.symbols[k]!]!;
      if (p.lots !== 0) ex = ex.plus(legExcessUnits(acc.mm, p, acc.markOf(p.idx, marks)));
    }
    return ex;
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
    return this.acc.venue.isolatedLiquidationPrice(fillArgs(this.args, p, this.others(symbol, marks, true), this.acc.markOf(symbol, marks)));
  }
  /**
   * liquidationPrice of every leg, each leg valued once: the same sums in the same order as
   * others(symbol, marks, true) (cross wallet, then each other leg's uPnL less its maintenance, in
   * symbol order), so the same doubles, in O(legs) valuations and O(legs²) additions instead of
   * O(legs²) valuations (a refresh of a 200-leg pool: 40,000 maintenance look-ups). The part before
   * a leg is the running prefix, shared by all legs.
   */
  liquidationPrices(marks: Float64Array, out: Float64Array): void {
    const acc = this.acc;
    const syms = this.symbols;
    const n = syms.length;
    if (this.legU.length < n) {
      this.legU = new Float64Array(n);
      this.legMm = new Float64Array(n);
      this.legMark = new Float64Array(n);
    }
    const u = this.legU;
    const mm = this.legMm;
    const mk = this.legMark;
    for (let k = 0; k < n; k++) {
      const j = syms[k]!;
      const p = acc.pos[j]!;
      const m = (mk[k] = acc.markOf(j, marks));
      u[k] = p.side * p.absQ * (m - p.entryF);
      mm[k] = positionMaintenance(acc.mm, p, m);
    }
    let prefix = acc.crossWalletF;
    for (let k = 0; k < n; k++) {
      const s = syms[k]!;
      const p = acc.pos[s]!;
      if (p.absQ === 0) out[s] = Number.NaN;
      else {
        let wb = prefix;
        for (let j = k + 1; j < n; j++) {
          wb += u[j]!;
          wb -= mm[j]!;
        }
        out[s] = acc.venue.isolatedLiquidationPrice(fillArgs(this.args, p, wb, mk[k]!));
      }
      prefix += u[k]!;
      prefix -= mm[k]!;
    }
  }
  bankruptcyPrice(symbol: number, marks: Float64Array): number {
    const p = this.member(symbol);
    if (!p || p.absQ === 0) return Number.NaN;
    return this.acc.venue.bankruptcyPrice(fillArgs(this.args, p, this.others(symbol, marks, false), this.acc.markOf(symbol, marks)));
  }
}

