/**
 * Cases found by replaying seeded random order flows (limits, stops, take-profits, brackets,
 * reduce-only, closePosition, cancels, leverage changes, transfers) through replay() and through an
 * independent model written from docs/engine.md and docs/margin.md, shrunk to a few bars each.
 */
import { describe, expect, it } from 'vitest';
import { SETUPS } from '../src/engine/index.js';
import { HOUR, T0, makeData, run, scripted, setupOf } from './engine-fixtures.js';

describe('engine vs the documented bar step', () => {
  // A two-leg cross pool (A long 45 @ 100, B long 450 @ 10, wallet 1000, 10×) gaps 12 % down at the
  // open of bar 2 — margin balance 1000 − 1080 < 0, past the liquidation threshold — and recovers by
  // the close. DESIGN §4.2 / docs/engine.md step 2: a pool the open gapped through is liquidated at
  // the open, whatever the cross check (which is about the intrabar path). Under `optimistic` the
  // engine walked the bar only when the close was past the threshold, so the gap went unseen unless
  // some unrelated order happened to be pending (then the same pool was liquidated at the open).
  it.each([false, true])('optimistic cross check: a multi-leg pool gapped through at the open is liquidated there (unrelated pending order: %s)', (pending) => {
    const data = makeData({
      AUSDT: { bars: [[100, 100, 100, 100], [100, 100, 100, 100], [88, 100, 88, 100], [100, 100, 100, 100]] },
      BUSDT: { bars: [[10, 10, 10, 10], [10, 10, 10, 10], [8.8, 10, 8.8, 10], [10, 10, 10, 10]] },
    });
    const strat = scripted(
      {
        0: (ctx) => {
          ctx.buy(0, 45);
          ctx.buy(1, 450);
        },
        1: (ctx) => {
          if (pending) ctx.order({ symbol: 0, qty: 1, type: 'limit', price: 1 });
        },
      },
      ['AUSDT', 'BUSDT'],
    );
    const out = run(data, strat, { setups: [SETUPS.cross], leverage: 10, capital: '1000', execution: { crossCheck: 'optimistic' } });
    const liqs = setupOf(out, 'cross').events.filter((e) => e.type === 'liquidation');
    expect(liqs.map((e) => ({ time: e.time, prices: (e as { prices: number[] }).prices }))).toEqual([{ time: T0 + 2 * HOUR, prices: [88, 8.8] }]);
  });

  // Cross A long 80 @ 100 and B long 100 @ 10 (one two-leg pool). At bar 2's open B's reduce-only
  // sell limit (marketable: 9 ≤ the close 10) fills at τ = 0, leaving A alone: a single-symbol pool,
  // liquidation price 7000 / 79.2 = 88.38. A's bar (100, 105, 80, 90) goes high first (nearest-first),
  // so its take-profit at 104 fills at τ = 0.8 before the path comes down. The engine kept checking A
  // on the adverse-first path of the pessimistic multi-leg bound it was built with (low first) and
  // liquidated A at τ = 0.58 — docs: the pessimistic bound is for the multi-leg check only; a
  // single-symbol pool's liquidation source follows the trade path's segment order.
  it('a leg left alone when its multi-leg cross pool dissolves mid-bar is checked on the real path', () => {
    const data = makeData({
      AUSDT: { bars: [[100, 100, 100, 100], [100, 100, 100, 100], [100, 105, 80, 90], [90, 90, 90, 90]] },
      BUSDT: { bars: [[10, 10, 10, 10], [10, 10, 10, 10], [10, 10, 10, 10], [10, 10, 10, 10]] },
    });
    const strat = scripted(
      {
        0: (ctx) => {
          ctx.buy(0, 80);
          ctx.buy(1, 100);
        },
        1: (ctx) => {
          ctx.closePosition(0, { type: 'takeProfit', price: 104 });
          ctx.order({ symbol: 1, qty: -100, type: 'limit', price: 9, reduceOnly: true });
        },
      },
      ['AUSDT', 'BUSDT'],
    );
    const out = run(data, strat, { setups: [SETUPS.cross], leverage: 10, capital: '1000' });
    const ev = setupOf(out, 'cross').events.filter((e) => e.time >= T0 + 2 * HOUR);
    expect(ev.map((e) => [e.type, e.time, (e as { price?: number }).price])).toEqual([
      ['fill', T0 + 2 * HOUR, 10],
      ['fill', T0 + 2 * HOUR + 0.8 * HOUR / 3, 104],
    ]);
  });
});

describe('participation: the carried rest of a close-position order is still a close-position order', () => {
  // AUSDT, volume 40 per bar, maxFraction 0.1: at most 4 a bar. Long 10 (bought over three opens),
  // then a market closePosition: 4 close at bar 4's open and 6 are carried. During bar 4 a buy stop
  // adds 5 (position 11). docs/engine.md: a closePosition order "at execution closes whatever the
  // position is"; the carried rest (same order id) is that order. It had become a plain reduce-only
  // order of 6 (the slice's flags were copied into the rest), so 5 stayed open after bar 5's open.
  const bars = (n: number) => Array.from({ length: n }, () => [100, 100, 100, 100] as [number, number, number, number]);
  it('closes the whole position at the next opens when the position grew meanwhile', () => {
    const b = bars(9);
    b[4] = [100, 103, 100, 102];
    const data = makeData({ AUSDT: { bars: b, volume: 40 } });
    const strat = scripted(
      {
        0: (ctx) => ctx.buy(0, 10),
        3: (ctx) => {
          ctx.closePosition(0);
          ctx.order({ symbol: 0, qty: 5, type: 'stop', price: 102 });
        },
      },
      ['AUSDT'],
    );
    const out = run(data, strat, { setups: [SETUPS.isolated], execution: { participation: { maxFraction: 0.1 } } });
    const fills = setupOf(out, 'isolated').events.filter((e) => e.type === 'fill') as { qty: number; positionQty: number }[];
    expect(fills.map((f) => [f.qty, f.positionQty])).toEqual([
      [4, 4],
      [4, 8],
      [2, 10],
      [-4, 6],
      [5, 11],
      [-4, 7],
      [-4, 3],
      [-3, 0],
    ]);
    expect(setupOf(out, 'isolated').rejections).toEqual({});
  });

  it('dies with the position when the position is closed otherwise (no reduce-only rejection later)', () => {
    const b = bars(8);
    b[4] = [100, 100, 95, 96];
    const data = makeData({ AUSDT: { bars: b, volume: 40 } });
    const strat = scripted(
      {
        0: (ctx) => ctx.buy(0, 10),
        3: (ctx) => {
          ctx.closePosition(0);
          ctx.closePosition(0, { type: 'stop', price: 97 });
        },
      },
      ['AUSDT'],
    );
    const out = run(data, strat, { setups: [SETUPS.isolated], execution: { participation: { maxFraction: 0.1 } } });
    const s = setupOf(out, 'isolated');
    const fills = s.events.filter((e) => e.type === 'fill') as { qty: number; positionQty: number }[];
    expect(fills.map((f) => [f.qty, f.positionQty])).toEqual([
      [4, 4],
      [4, 8],
      [2, 10],
      [-4, 6],
      [-6, 0],
    ]);
    expect(s.rejections).toEqual({});
  });
});

describe('participation: a close-position order facing a position on its own side', () => {
  // Long 10; a market closePosition (a sell) closes 4 at bar 4's open (cap 4 = 0.1 × volume 40) and
  // carries 6; a sell stop of 20 then flips the position to a short of 14 inside bar 4. At bar 5's
  // open the carried close-position sell meets a position on its own side: docs/engine.md, rejected
  // reduceOnlyViolation (once). Sliced by the cap first, it would have traded as a reduce-only buy.
  it('is rejected once at the next open, not sliced into a reduce-only order of the other side', () => {
    const bars = Array.from({ length: 8 }, () => [100, 100, 100, 100] as [number, number, number, number]);
    bars[4] = [100, 100, 98, 98];
    const data = makeData({ AUSDT: { bars, volume: 40 } });
    const strat = scripted(
      {
        0: (ctx) => ctx.buy(0, 10),
        3: (ctx) => {
          ctx.closePosition(0);
          ctx.order({ symbol: 0, qty: -20, type: 'stop', price: 99 });
        },
      },
      ['AUSDT'],
    );
    const out = run(data, strat, { setups: [SETUPS.isolated], execution: { participation: { maxFraction: 0.1 } } });
    const s = setupOf(out, 'isolated');
    const fills = s.events.filter((e) => e.type === 'fill') as { qty: number; positionQty: number }[];
    expect(fills.map((f) => [f.qty, f.positionQty])).toEqual([
      [4, 4],
      [4, 8],
      [2, 10],
      [-4, 6],
      [-20, -14],
    ]);
    expect(s.rejections).toEqual({ reduceOnlyViolation: 1 });
  });
});
