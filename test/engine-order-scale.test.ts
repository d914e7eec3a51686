/**
 * Order spam: what a bar costs with many orders must not grow with the square of their number, and no count of
 * orders is an internal engine error (docs/engine.md, Orders; docs/strategies.md: order spam is the strategy's
 * business, its runs end ok or with a rejection).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { SETUPS } from '../src/engine/index.js';
import { TriggerBook } from '../src/engine/orders.js';
import { RunnerState } from '../src/engine/runner-state.js';
import type { StrategyContext, StrategyModule } from '../src/strategy/types.js';
import { flat, makeData, run, type Bar } from './engine-fixtures.js';

/** a one-symbol strategy running `onBar` (any fills counted) */
function strategy(onBar: (ctx: StrategyContext) => void, fills: { n: number } = { n: 0 }): StrategyModule {
  return {
    name: 'spam',
    description: 'order spam',
    params: z.object({}),
    symbols: () => ['AUSDT'],
    create: () => ({
      onBar,
      onFill() {
        fills.n++;
      },
    }),
  };
}

/** bar 0 flat at 100; bar 1 dips to 90 and closes at 100 (every buy limit at or above 90 fills in it) */
const dipData = () => makeData({ AUSDT: { bars: [...flat(100, 1), [100, 100, 90, 100] as Bar, ...flat(100, 2)] } });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('order spam', () => {
  it('more than 100,000 resting limits filled in one bar are an ok run with every order filled (a fixed cap of 100,000 events per bar was an internal engine error)', () => {
    const n = 100_050;
    const fills = { n: 0 };
    const out = run(
      dipData(),
      strategy((ctx) => {
        if (ctx.bar === 0) for (let k = 0; k < n; k++) ctx.order({ symbol: 0, qty: 0.001, type: 'limit', price: 99 - (k % 100) * 0.01 });
      }, fills),
      { setups: [SETUPS.cross], leverage: 20 },
    );
    const s = out.setups[0]!;
    expect(s.error).toBeUndefined();
    expect(s.rejections).toEqual({});
    expect(fills.n).toBe(n);
  }, 120_000);

  it("the resting orders a bar's path reaches are collected once per bar, not again after each fill", () => {
    const reachable = vi.spyOn(TriggerBook.prototype, 'reachable');
    const fills = { n: 0 };
    const out = run(
      dipData(),
      strategy((ctx) => {
        if (ctx.bar === 0) for (let k = 0; k < 2000; k++) ctx.order({ symbol: 0, qty: 0.001, type: 'limit', price: 99 - (k % 100) * 0.01 });
      }, fills),
      { setups: [SETUPS.isolated] },
    );
    expect(out.setups[0]!.error).toBeUndefined();
    expect(fills.n).toBe(2000);
    // one collection for the bar with fills (the old loop walked the book again after each of the 2,000 fills)
    expect(reachable.mock.calls.length).toBeLessThanOrEqual(2);
  });

  it("orders of two symbols that the path meets at the same point fill in id order, as each fill's point was met again from it (collected once, the later one's own rounding put a later id of the other symbol between)", () => {
    // both bars fall from their high through their exact middle at 01:30 (τ 1.5): the three buy limits are met at the
    // same point of the path, so they fill by id (docs/engine.md: ties to the earlier order). In doubles, AUSDT's
    // crossing is 1.4999999999999993 and BUSDT's 1.5: at AUSDT's first fill BUSDT is already at its level
    const data = makeData({
      AUSDT: { bars: [...flat(117.65, 1), [117.65, 122.42, 111.88, 117.65] as Bar, ...flat(117.65, 1)] },
      BUSDT: { bars: [...flat(119.41, 1), [119.41, 122.27, 115.55, 119.41] as Bar, ...flat(119.41, 1)] },
    });
    const filled: number[] = [];
    const out = run(
      data,
      {
        name: 'tie',
        description: 'same-point fills of two symbols',
        params: z.object({}),
        symbols: () => ['AUSDT', 'BUSDT'],
        create: () => ({
          onBar(ctx) {
            if (ctx.bar !== 0) return;
            ctx.order({ symbol: 0, qty: 1, type: 'limit', price: 117.15 });
            ctx.order({ symbol: 1, qty: 1, type: 'limit', price: 118.91 });
            ctx.order({ symbol: 0, qty: 1, type: 'limit', price: 117.15 });
          },
          onFill(f) {
            filled.push(f.orderId);
          },
        }),
      },
      { setups: [SETUPS.cross] },
    );
    expect(out.setups[0]!.error).toBeUndefined();
    expect(filled).toEqual([1, 2, 3]);
  });

  it('fills that close and reopen a position walk the pending orders only when some die with the position', () => {
    const drop = vi.spyOn(RunnerState.prototype as unknown as { dropOrders: () => number }, 'dropOrders');
    const fills = { n: 0 };
    const pairs = 1000;
    const out = run(
      dipData(),
      strategy((ctx) => {
        if (ctx.bar !== 0) return;
        // on the way down: buy limit (opens +0.001), sell stop just below (back to flat), and again
        for (let k = 0; k < pairs; k++) {
          const lv = 99.5 - k * 0.002;
          ctx.order({ symbol: 0, qty: 0.001, type: 'limit', price: lv });
          ctx.order({ symbol: 0, qty: -0.001, type: 'stop', price: lv - 0.001 });
        }
      }, fills),
      { setups: [SETUPS.isolated] },
    );
    expect(out.setups[0]!.error).toBeUndefined();
    expect(fills.n).toBe(2 * pairs);
    // no close-position order and no reduce-only limit: nothing to drop at the 1,000 closes (each walked every order)
    expect(drop.mock.calls.length).toBe(0);
  });

  it('a protective close-position order and a reduce-only limit still die when their position closes', () => {
    const log: string[] = [];
    const out = run(
      makeData({ AUSDT: { bars: flat(100, 5) } }),
      {
        ...strategy(() => {}),
        create: () => ({
          onBar(ctx) {
            if (ctx.bar === 0) ctx.buy(0, 1);
            if (ctx.bar === 1) {
              ctx.order({ symbol: 0, qty: 0, type: 'stop', price: 50, closePosition: true, tag: 'protect' });
              ctx.order({ symbol: 0, qty: -1, type: 'limit', price: 150, reduceOnly: true, tag: 'tp' });
              ctx.order({ symbol: 0, qty: -1, type: 'stop', price: 40, reduceOnly: true, tag: 'stays' });
              ctx.closePosition(0);
            }
            if (ctx.bar === 3) log.push(ctx.openOrders(0).map((o) => o.tag).join(','));
          },
        }),
      },
      { setups: [SETUPS.isolated] },
    );
    expect(out.setups[0]!.error).toBeUndefined();
    expect(out.setups[0]!.rejections).toEqual({});
    expect(log).toEqual(['stays']);
  });

  it('cancel(id) finds an order by its id whatever the number of pending orders (cancelling n orders one by one cost n²)', () => {
    const n = 64_000;
    const times: number[] = [];
    const results: unknown[] = [];
    const out = run(
      makeData({ AUSDT: { bars: flat(100, 4) } }),
      strategy((ctx) => {
        if (ctx.bar === 0) {
          const t0 = performance.now();
          for (let k = 0; k < n; k++) ctx.order({ symbol: 0, qty: 0.001, type: 'limit', price: 10 + (k % 50) * 0.01 });
          times.push(performance.now() - t0);
        }
        if (ctx.bar === 1) {
          const ids = ctx.openOrders(0).map((o) => o.id);
          const t0 = performance.now();
          // latest first: the scan from the front of the list found each one last
          let cancelled = 0;
          for (let k = ids.length - 1; k >= 0; k--) if (ctx.cancel(ids[k]!)) cancelled++;
          times.push(performance.now() - t0);
          results.push(cancelled, ctx.openOrders(0).length, ctx.cancel(ids[0]!), ctx.cancel(String(ids[1]) as unknown as number), ctx.cancel(1.5));
        }
      }),
      { setups: [SETUPS.isolated] },
    );
    expect(out.setups[0]!.error).toBeUndefined();
    expect(results).toEqual([n, 0, false, false, false]);
    // the cancels cost about what the placements did (quadratic: 60× and more)
    expect(times[1]!).toBeLessThan(3 * times[0]! + 200);
  }, 120_000);

  it('cancel(id) after the pending orders were compacted still finds the live ones, and only them', () => {
    const results: unknown[] = [];
    run(
      makeData({ AUSDT: { bars: flat(100, 4) } }),
      strategy((ctx) => {
        if (ctx.bar !== 0) return;
        const ids: number[] = [];
        for (let k = 0; k < 10; k++) ids.push(ctx.order({ symbol: 0, qty: 1, type: 'limit', price: 50 + k }));
        // cancel 6 of 10: the dead outnumber the live, the list is compacted
        for (const k of [0, 2, 4, 6, 8, 9]) ctx.cancel(ids[k]!);
        results.push(ctx.cancel(ids[4]!), ctx.cancel(ids[5]!), ctx.cancel(ids[5]!), ctx.openOrders(0).map((o) => o.price).join(','), ctx.cancel(999));
      }),
      { setups: [SETUPS.isolated] },
    );
    expect(results).toEqual([false, true, false, '51,53,57', false]);
  });

  it('cancel(NaN) cancels nothing and returns false (the binary search took NaN, unequal to every id, for a match and cancelled the middle order)', () => {
    const results: unknown[] = [];
    run(
      makeData({ AUSDT: { bars: flat(100, 4) } }),
      strategy((ctx) => {
        if (ctx.bar !== 0) return;
        for (const p of [90, 91, 92]) ctx.order({ symbol: 0, qty: 1, type: 'limit', price: p });
        results.push(ctx.cancel(Number.NaN), ctx.cancel(Number('x')), ctx.cancel(Infinity), ctx.cancel(-Infinity), ctx.openOrders(0).map((o) => o.price).join(','));
      }),
      { setups: [SETUPS.isolated] },
    );
    expect(results).toEqual([false, false, false, false, '90,91,92']);
  });

  it('targetPosition cancels the pending market orders without walking every resting order', () => {
    const rest = 20_000;
    const calls = 20_000;
    // the orders the engine's cancel-by-predicate looked at (each targetPosition walked all 20,000 resting ones: 4e8)
    let looked = 0;
    const proto = RunnerState.prototype as unknown as { dropOrders: (drop: (o: unknown) => boolean, list?: unknown[]) => number };
    const original = proto.dropOrders;
    vi.spyOn(proto, 'dropOrders').mockImplementation(function (this: unknown, drop, ...more) {
      return original.call(
        this,
        (o) => {
          looked++;
          return drop(o);
        },
        ...more,
      );
    });
    const seen: unknown[] = [];
    const out = run(
      makeData({ AUSDT: { bars: flat(100, 4) } }),
      strategy((ctx) => {
        if (ctx.bar === 0) {
          for (let k = 0; k < rest; k++) ctx.order({ symbol: 0, qty: 0.001, type: 'limit', price: 10 + (k % 50) * 0.01 });
          for (let k = 0; k < calls; k++) ctx.targetPosition(0, 1 + (k % 2));
          seen.push(ctx.openOrders(0).filter((o) => o.type === 'market').map((o) => o.qty).join(','), ctx.openOrders(0).length);
        }
        if (ctx.bar === 2) seen.push(ctx.position(0).qty);
      }),
      { setups: [SETUPS.isolated] },
    );
    expect(out.setups[0]!.error).toBeUndefined();
    // the last target's market order only; the resting orders untouched
    expect(seen).toEqual(['2', rest + 1, 2]);
    expect(looked).toBeLessThan(10 * calls);
  }, 120_000);
});
