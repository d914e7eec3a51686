/**
 * The liquidation-price steps of a cross pool of many legs (EventDetails.refreshed, at every event
 * of a bar) took each leg's liquidation price on its own: for each leg a pass over every other leg
 * (its uPnL and maintenance at the mark), L² leg valuations per refresh — 37,000 for a 194-symbol
 * core-satellite run, more than half of its replay. The pool now values each leg once per refresh
 * (MarginPool.liquidationPrices), with the same sums in the same order: the prices are the same
 * doubles as liquidationPrice's, leg by leg.
 */
import { describe, expect, it } from 'vitest';
import { createAccount } from '../src/account/index.js';
import { getVenue } from '../src/venue/index.js';
import { EventDetails } from '../src/engine/event-details.js';

function crossAccount(legs: number) {
  const symbols = Array.from({ length: legs }, (_, i) => `S${i}USDT`);
  const a = createAccount({ venue: getVenue('binance-usdm'), symbols, initialDeposit: '1000000', defaultMode: 'cross', leverage: 10, asOfMs: Date.UTC(2025, 0, 1) });
  for (let i = 0; i < legs; i++) {
    const r = a.trade({ symbol: i, qty: (i % 2 === 0 ? 1 : -1) * (1 + (i % 7) / 3), price: 100 + i, liquidity: 'taker', time: 0 });
    expect(r.ok).toBe(true);
  }
  const marks = Float64Array.from({ length: legs }, (_, i) => (100 + i) * (1 + ((i % 5) - 2) / 50));
  return { a, marks };
}

describe('a cross pool of many legs: its liquidation prices at an event', () => {
  it('values each leg a bounded number of times per refresh (not once per other leg), 200 legs', () => {
    const legs = 200;
    const { a, marks } = crossAccount(legs);
    const pools = a.pools();
    expect(pools).toHaveLength(1);
    expect(pools[0]!.symbols).toHaveLength(legs);
    // every leg valuation reads its mark: count the reads of the marks (the account itself is frozen)
    let calls = 0;
    const counted = new Proxy(marks, {
      get(t, k) {
        if (typeof k === 'string' && /^\d+$/.test(k)) calls++;
        const v = Reflect.get(t, k, t) as unknown;
        return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(t) : v;
      },
    });
    const d = new EventDetails(legs);
    d.refreshed(0, new Int32Array(0), new Float64Array(0), 0, pools, counted);
    expect(d.steps.symbol.length).toBeGreaterThan(0);
    expect(calls).toBeLessThanOrEqual(3 * legs);
  });

  it('gives each leg the very double liquidationPrice gives it', () => {
    for (const legs of [1, 2, 3, 17]) {
      const { a, marks } = crossAccount(legs);
      const pool = a.pools()[0]!;
      const want = pool.symbols.map((s) => pool.liquidationPrice(s, marks));
      const d = new EventDetails(legs);
      d.refreshed(5, new Int32Array(0), new Float64Array(0), 0, [pool], marks);
      const got = new Map(d.steps.symbol.map((s, k) => [s, d.steps.price[k]!]));
      pool.symbols.forEach((s, k) => {
        if (Number.isNaN(want[k]!)) expect(got.has(s)).toBe(false);
        else expect(Object.is(got.get(s), want[k])).toBe(true);
      });
    }
  });
});
