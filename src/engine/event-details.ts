/**
 * What the event records need beyond the account's ledger (src/shard's result records): per
 * liquidation the trigger prices, the liquidation prices and the pool's margin ratio just before
 * the close; and every symbol's liquidation price over time as a step function for the report's
 * chart. Recorded at events only (never per bar), appended to plain arrays.
 */
import { marginRatioOf } from '../account/index.js';
import type { Account, MarginPool } from '../account/types.js';
import type { LiquidationDetail, LiquidationPriceSteps } from './types.js';

export class EventDetails {
  readonly liquidations: LiquidationDetail[] = [];
  readonly steps: LiquidationPriceSteps = { time: [], symbol: [], price: [] };
  /** last recorded liquidation price per symbol (NaN: none) */
  private readonly last: Float64Array;
  /** scratch: this refresh's liquidation price per symbol */
  private readonly now: Float64Array;

  constructor(nSymbols: number) {
    this.last = new Float64Array(nSymbols).fill(Number.NaN);
    this.now = new Float64Array(nSymbols);
  }

  /**
   * After the pools were re-derived at an event: single-symbol pools' liquidation prices as the
   * engine computed them (sSym/sLp, n of them), multi-symbol pools' legs at `marks`.
   */
  refreshed(time: number, sSym: Int32Array, sLp: Float64Array, n: number, multi: readonly MarginPool[], marks: Float64Array): void {
    const now = this.now;
    now.fill(Number.NaN);
    for (let k = 0; k < n; k++) now[sSym[k]!] = sLp[k]!;
    for (const p of multi) p.liquidationPrices(marks, now);
    const last = this.last;
    for (let s = 0; s < now.length; s++) {
      const a = now[s]!;
      const b = last[s]!;
      if (a === b || (a !== a && b !== b)) continue;
      last[s] = a;
      this.steps.time.push(time);
      this.steps.symbol.push(s);
      this.steps.price.push(a);
    }
  }

  /** Before the account closes `pool`: `prices` are the close prices, `trigger[s]` the liquidation-source prices at the trigger. */
  liquidating(time: number, acct: Account, pool: MarginPool, prices: Float64Array, trigger: Float64Array): void {
    const mm = pool.maintenance(trigger);
    const mb = pool.marginBalance(trigger);
    // a liquidation's trigger is at or past the threshold, a ratio of 1 or more: the doubles' 0.9999999999999953 at a
    // trigger on the liquidation price (a touch, or where the path crosses it: the interpolated price an ulp short of
    // the exact one) is their rounding. A ratio further below 1 is kept (a reducing fill refused at bankruptcy)
    const ratio = marginRatioOf(mm, mb);
    this.liquidations.push({
      time,
      marginRatio: ratio < 1 && (ratio > 1 - 1e-9 || pool.breached(trigger)) ? 1 : ratio,
      legs: pool.symbols.map((s) => ({
        symbol: s,
        qty: acct.positionQty(s),
        triggerPrice: trigger[s]! === trigger[s]! ? trigger[s]! : prices[s]!,
        liquidationPrice: pool.liquidationPrice(s, trigger),
      })),
    });
  }
}
