/**
 * Cases found by replaying seeded random order flows (limits, stops, take-profits, brackets,
 * reduce-only, closePosition, cancels, leverage changes, transfers) through replay() and through an
 * independent model written from docs/engine.md and docs/margin.md, shrunk to a few bars each.
 */
import { describe, expect, it } from 'vitest';
import { SETUPS } from '../src/engine/index.js';
import { getVenue } from '../src/venue/index.js';
import type { ExecutionOptions } from '../src/engine/types.js';
import type { StrategyContext } from '../src/strategy/types.js';
import { HOUR, T0, makeData, run, scripted, setupOf, type Bar } from './engine-fixtures.js';

/** cross setup, wallet 1000, 10×, no fees or slippage: long `qa` AUSDT and `qb` BUSDT bought at bar 1's open, then `bar1` in bar 1's onBar */
function twoLegs(a: Bar[], b: Bar[], qa: number, qb: number, bar1: (ctx: StrategyContext) => void, execution: Partial<ExecutionOptions> = {}) {
  const strat = scripted(
    {
      0: (ctx) => {
        ctx.buy(0, qa);
        ctx.buy(1, qb);
      },
      1: bar1,
    },
    ['AUSDT', 'BUSDT'],
  );
  return setupOf(run(makeData({ AUSDT: { bars: a }, BUSDT: { bars: b } }), strat, { setups: [SETUPS.cross], leverage: 10, capital: '1000', execution }), 'cross');
}

/** isolated, AUSDT at 100 unless `bars` says otherwise, volume 40 a bar, participation 0.1 (4 a bar): long 10 (filled 4, 4, 2 at bars 1–3), then `bar3` in bar 3's onBar */
function capped(n: number, bars: Record<number, Bar>, bar3: (ctx: StrategyContext) => void) {
  const b = Array.from({ length: n }, (_, i) => bars[i] ?? ([100, 100, 100, 100] as Bar));
  const strat = scripted({ 0: (ctx) => ctx.buy(0, 10), 3: bar3 }, ['AUSDT']);
  const s = setupOf(run(makeData({ AUSDT: { bars: b, volume: 40 } }), strat, { setups: [SETUPS.isolated], execution: { participation: { maxFraction: 0.1 } } }), 'isolated');
  const fills = s.events.filter((e) => e.type === 'fill') as { qty: number; positionQty: number }[];
  return { fills: fills.map((f) => [f.qty, f.positionQty]), rejections: s.rejections };
}

describe('engine vs the documented bar step', () => {
  // A two-leg cross pool (A long 45 @ 100, B long 450 @ 10, wallet 1000, 10×) gaps 12 % down at the
  // open of bar 2 — margin balance 1000 − 1080 < 0, past the liquidation threshold — and recovers by
  // the close. DESIGN §4.2 / docs/engine.md step 2: a pool the open gapped through is liquidated at
  // the open, whatever the cross check (which is about the intrabar path). Under `optimistic` the
  // engine walked the bar only when the close was past the threshold, so the gap went unseen unless
  // some unrelated order happened to be pending (then the same pool was liquidated at the open).
  it.each([false, true])('optimistic cross check: a multi-leg pool gapped through at the open is liquidated there (unrelated pending order: %s)', (pending) => {
    const s = twoLegs(
      [[100, 100, 100, 100], [100, 100, 100, 100], [88, 100, 88, 100], [100, 100, 100, 100]],
      [[10, 10, 10, 10], [10, 10, 10, 10], [8.8, 10, 8.8, 10], [10, 10, 10, 10]],
      45,
      450,
      (ctx) => {
        if (pending) ctx.order({ symbol: 0, qty: 1, type: 'limit', price: 1 });
      },
      { crossCheck: 'optimistic' },
    );
    const liqs = s.events.filter((e) => e.type === 'liquidation');
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
    const s = twoLegs(
      [[100, 100, 100, 100], [100, 100, 100, 100], [100, 105, 80, 90], [90, 90, 90, 90]],
      [[10, 10, 10, 10], [10, 10, 10, 10], [10, 10, 10, 10], [10, 10, 10, 10]],
      80,
      100,
      (ctx) => {
        ctx.closePosition(0, { type: 'takeProfit', price: 104 });
        ctx.order({ symbol: 1, qty: -100, type: 'limit', price: 9, reduceOnly: true });
      },
    );
    const ev = s.events.filter((e) => e.time >= T0 + 2 * HOUR);
    expect(ev.map((e) => [e.type, e.time, (e as { price?: number }).price])).toEqual([
      ['fill', T0 + 2 * HOUR, 10],
      ['fill', T0 + 2 * HOUR + 0.8 * HOUR / 3, 104],
    ]);
  });
});

describe('optimistic cross check: the line to the close starts at the previous event of the path', () => {
  // Cross A long 45 @ 100 and B long 450 @ 10 (wallet 1000, 10×, AUSDT/BUSDT default bracket 1 %). In bar 2
  // A (100, 104, 79, 80) and B (10, 10.1, 7.9, 8) both go high first; A's take-profit sells 20 at 103 at τ = 0.75
  // (B at 10.075 then), realising 60. At the close the pool (A 25, B 450, wallet 1060) is past its threshold,
  // so its close prices are bisected on the straight line from the prices of that fill — not from the open —
  // to the close (docs/engine.md step 3; the line from the open would give A 85.71…, B 8.571…, not 86.10…, 8.550…).
  it('liquidates at the root of excess on the line from (103, 10.075) to (80, 8)', () => {
    const s = twoLegs(
      [[100, 100, 100, 100], [100, 100, 100, 100], [100, 104, 79, 80], [80, 80, 80, 80]],
      [[10, 10, 10, 10], [10, 10, 10, 10], [10, 10.1, 7.9, 8], [8, 8, 8, 8]],
      45,
      450,
      (ctx) => ctx.order({ symbol: 0, qty: -20, type: 'takeProfit', price: 103 }),
      { crossCheck: 'optimistic' },
    );
    const excess = (a: number, b: number) => 1060 + 25 * (a - 100) + 450 * (b - 10) - 0.01 * (25 * a + 450 * b);
    const f = excess(103, 10.075) / (excess(103, 10.075) - excess(80, 8));
    const liq = s.events.filter((e) => e.type === 'liquidation') as { prices: number[] }[];
    expect(liq).toHaveLength(1);
    expect(liq[0]!.prices[0]).toBeCloseTo(103 - 23 * f, 7);
    expect(liq[0]!.prices[1]).toBeCloseTo(10.075 - 2.075 * f, 8);
  });
});

describe('gap liquidations at one open: isolated pools before the cross pool, whatever the order of the symbols', () => {
  // Mixed, no fees, liquidation penalty 0.1 % of the closed notional (the rest returned), capital 207: AUSDT
  // cross long 10 @ 100 and BUSDT isolated long 10 @ 100 at 10× (isolated wallet 100, cross wallet 107). Bar 2
  // opens at A 90, B 90.5: both pools are past their thresholds (cross 107 − 100 − 9 = −2; isolated
  // 100 − 95 − 9.05 = −4.05). The isolated pool's liquidation leaves 5 − 0.905 = 4.095, returned to the cross
  // wallet (111.095), which keeps the cross pool (111.095 − 109 = 2.095 > 0). The engine took the pools in the
  // order of their first symbol, so with the symbols listed [AUSDT, BUSDT] the cross pool went first and was
  // liquidated (final wallet 10.195), with [BUSDT, AUSDT] it survived: the result depended on the list's order.
  it.each([[['AUSDT', 'BUSDT']], [['BUSDT', 'AUSDT']]])('symbols %j: only the isolated pool is liquidated', (order) => {
    const b = (p: number): Bar => [p, p, p, p];
    const bars: Record<string, Bar[]> = { AUSDT: [b(100), b(100), b(90), b(90)], BUSDT: [b(100), b(100), b(90.5), b(90.5)] };
    const data = makeData(Object.fromEntries(order.map((n) => [n, { bars: bars[n]! }])));
    const ia = order.indexOf('AUSDT');
    const ib = order.indexOf('BUSDT');
    const venue = getVenue('binance-usdm', { id: 'fee-penalty', fees: { maker: 0, taker: 0 }, liquidation: { penalty: { feeRate: 0.001 } } } as never);
    const strat = scripted({ 0: (c) => { c.order({ symbol: ia, qty: 10, type: 'market', mode: 'cross' }); c.order({ symbol: ib, qty: 10, type: 'market', mode: 'isolated' }); } }, order);
    const s = setupOf(run(data, strat, { setups: [SETUPS.mixed], capital: '207', venue }), 'mixed');
    const liqs = s.events.filter((e) => e.type === 'liquidation') as { poolId: string; penalty: string; time: number }[];
    expect(liqs.map((e) => [e.poolId, e.penalty, e.time])).toEqual([['isolated:BUSDT', '0.905', T0 + 2 * HOUR]]);
    expect(s.books.wallet).toBe('111.095');
  });
});

describe('participation: the carried rest of a close-position order is still a close-position order', () => {
  // AUSDT, volume 40 per bar, maxFraction 0.1: at most 4 a bar. Long 10 (bought over three opens),
  // then a market closePosition: 4 close at bar 4's open and 6 are carried. docs/engine.md: a
  // closePosition order "at execution closes whatever the position is" and dies with the position;
  // the carried rest (same order id) is that order. It had become a plain reduce-only order of 6
  // (the slice's flags were copied into the rest).
  it('closes the whole position at the next opens when the position grew meanwhile', () => {
    // a buy stop adds 5 inside bar 4 (position 11): the rest closes 4, 4, 3 (it left 5 open)
    const r = capped(9, { 4: [100, 103, 100, 102] }, (ctx) => {
      ctx.closePosition(0);
      ctx.order({ symbol: 0, qty: 5, type: 'stop', price: 102 });
    });
    expect(r.fills).toEqual([[4, 4], [4, 8], [2, 10], [-4, 6], [5, 11], [-4, 7], [-4, 3], [-3, 0]]);
    expect(r.rejections).toEqual({});
  });

  it('dies with the position when the position is closed otherwise (no reduce-only rejection later)', () => {
    // a close-position stop closes the 6 inside bar 4 (the rest was rejected at bars 5 and 6)
    const r = capped(8, { 4: [100, 100, 95, 96] }, (ctx) => {
      ctx.closePosition(0);
      ctx.closePosition(0, { type: 'stop', price: 97 });
    });
    expect(r.fills).toEqual([[4, 4], [4, 8], [2, 10], [-4, 6], [-6, 0]]);
    expect(r.rejections).toEqual({});
  });

  // Keeping the flags exposed the other half: a sell stop of 20 flips the position to a short of
  // 14 inside bar 4, so at bar 5's open the carried close-position sell meets a position on its own
  // side — docs/engine.md: rejected reduceOnlyViolation (once). Sliced by the cap first, it traded
  // as a reduce-only buy of 4.
  it('is rejected once at the next open when the position is on its own side, not sliced into a reduce-only order of the other side', () => {
    const r = capped(8, { 4: [100, 100, 98, 98] }, (ctx) => {
      ctx.closePosition(0);
      ctx.order({ symbol: 0, qty: -20, type: 'stop', price: 99 });
    });
    expect(r.fills).toEqual([[4, 4], [4, 8], [2, 10], [-4, 6], [-20, -14]]);
    expect(r.rejections).toEqual({ reduceOnlyViolation: 1 });
  });
});

describe('participation: a rejected slice ends its order (the rest is not carried)', () => {
  // AUSDT, volume 40 a bar, maxFraction 0.1: at most 4 a bar. docs/engine.md: an order the engine
  // cannot execute is a rejection, and a close-position order that meets a flat position is
  // "rejected whole, not sliced". The rest of any other order was carried before its slice was
  // tried, so a rejected slice left the rest queued: it was rejected again at every later open
  // (one rejection per slice of one order) and, once a position allowed it, filled — a reduce-only
  // sell placed while flat sold part of a long opened two bars later.
  const partRun = (script: Record<number, (ctx: StrategyContext) => void>, capital = '10000') => {
    const b = Array.from({ length: 8 }, () => [100, 100, 100, 100] as Bar);
    const s = setupOf(
      run(makeData({ AUSDT: { bars: b, volume: 40 } }), scripted(script, ['AUSDT']), {
        setups: [SETUPS.isolated],
        capital,
        leverage: 1,
        execution: { participation: { maxFraction: 0.1 } },
      }),
      'isolated',
    );
    const fills = s.events.filter((e) => e.type === 'fill') as { qty: number; positionQty: number; time: number }[];
    return { fills: fills.map((f) => [(f.time - T0) / HOUR, f.qty, f.positionQty]), rejections: s.rejections };
  };

  it('a reduce-only order that meets a flat position is rejected once and never fills later', () => {
    // bar 0: reduce-only sell 10 while flat (rejected at bar 1's open); bar 1: buy 10 (4, 4, 2 at bars 2–4)
    const r = partRun({ 0: (ctx) => ctx.sell(0, 10, { reduceOnly: true }), 1: (ctx) => ctx.buy(0, 10) });
    expect(r.fills).toEqual([[2, 4, 4], [3, 4, 8], [4, 2, 10]]);
    expect(r.rejections).toEqual({ reduceOnlyViolation: 1 });
  });

  it('a reduce-only order larger than the position is shrunk to it before it is sliced (no rest past the close)', () => {
    // docs/margin.md: a reduce-only order larger than the position is shrunk to a close. Sliced at
    // its own size (30) it carried a rest of 18 past the close, rejected at the next open.
    const r = capped(9, {}, (ctx) => ctx.sell(0, 30, { reduceOnly: true }));
    expect(r.fills).toEqual([[4, 4], [4, 8], [2, 10], [-4, 6], [-4, 2], [-2, 0]]);
    expect(r.rejections).toEqual({});
  });

  it('a bar whose cap is below one step leaves a reduce-only order as it is (not shrunk to the position then)', () => {
    // long 10 (4, 4, 2 at bars 1–3); at bar 3 a reduce-only sell 30; bar 4 trades no volume (cap 0)
    // while a buy stop inside it adds 5: the order, untouched at bar 4, closes all 15 from bar 5
    const b = Array.from({ length: 10 }, (_, i) => (i === 4 ? [100, 103, 100, 102] : [100, 100, 100, 100]) as Bar);
    const data = makeData({ AUSDT: { bars: b, volume: 40 } });
    data.columns[0]!.volume[4] = 0;
    const strat = scripted({ 0: (ctx) => ctx.buy(0, 10), 3: (ctx) => { ctx.sell(0, 30, { reduceOnly: true }); ctx.order({ symbol: 0, qty: 5, type: 'stop', price: 102 }); } }, ['AUSDT']);
    const s = setupOf(run(data, strat, { setups: [SETUPS.isolated], execution: { participation: { maxFraction: 0.1 } } }), 'isolated');
    const fills = (s.events.filter((e) => e.type === 'fill') as { qty: number; positionQty: number }[]).map((f) => [f.qty, f.positionQty]);
    expect(fills).toEqual([[4, 4], [4, 8], [2, 10], [5, 15], [-4, 11], [-4, 7], [-4, 3], [-3, 0]]);
    expect(s.rejections).toEqual({});
  });

  it('an order whose slice the margin check refuses is rejected once, not once per slice', () => {
    // 1000 at 1x: a buy of 20 fills 4, 4 (800 of margin); the third slice (400) is refused
    const r = partRun({ 0: (ctx) => ctx.buy(0, 20) }, '1000');
    expect(r.fills).toEqual([[1, 4, 4], [2, 4, 8]]);
    expect(r.rejections).toEqual({ insufficientMargin: 1 });
  });
});

describe('a marketable limit takes liquidity at the open like a market order: slippage, capped at its price', () => {
  // A limit marketable against the close it was placed at fills at the next open as taker. It filled
  // at the bare open while a market order at the same open paid `slippageBps`, so a buy limit at
  // twice the price was a market order without slippage. On an exchange a marketable limit crosses
  // the book as a market order does, up to its limit price: open ± slippage, never past its price.
  const fillAt = (place: (ctx: StrategyContext) => void) => {
    const strat = scripted({ 0: place }, ['BTCUSDT']);
    const s = setupOf(run(makeData({ BTCUSDT: { bars: Array.from({ length: 3 }, () => [100, 100, 100, 100] as Bar) } }), strat, { setups: [SETUPS.isolated], execution: { slippageBps: 10 } }), 'isolated');
    return (s.events.filter((e) => e.type === 'fill') as { price: number; time: number }[]).map((f) => [(f.time - T0) / HOUR, f.price]);
  };

  it('a buy limit far above the open pays the slippage of a market order', () => {
    expect(fillAt((ctx) => ctx.buy(0, 1))).toEqual([[1, 100 * 1.001]]);
    expect(fillAt((ctx) => ctx.buy(0, 1, { type: 'limit', price: 200 }))).toEqual([[1, 100 * 1.001]]);
    expect(fillAt((ctx) => ctx.sell(0, 1, { type: 'limit', price: 50 }))).toEqual([[1, 100 * 0.999]]);
  });

  it('a limit between the open and the slipped open fills at its own price', () => {
    expect(fillAt((ctx) => ctx.buy(0, 1, { type: 'limit', price: 100.05 }))).toEqual([[1, 100.05]]);
    expect(fillAt((ctx) => ctx.sell(0, 1, { type: 'limit', price: 99.95 }))).toEqual([[1, 99.95]]);
  });
});

describe('a resting reduce-only limit expires when its position closes', () => {
  // Binance (dev.binance.vision "Futures LIMIT order got expired, what could be the reason?", a
  // Binance answer): "The reduceOnly open order is expired due to current position has been
  // closed", while a reduce-only stop / take-profit stays and expires only if it triggers with no
  // position to reduce. The engine kept the limit, which then sold part of the next long.
  const bars: Bar[] = [[100, 100, 100, 100], [100, 100, 100, 100], [100, 100, 88, 92], [95, 95, 95, 95], [95, 95, 95, 95], [100, 112, 100, 111], [111, 111, 111, 111]];
  const strat = (stopType: 'limit' | 'takeProfit') =>
    scripted(
      {
        0: (ctx) => ctx.buy(0, 1),
        1: (ctx) => {
          ctx.sell(0, 1, { type: stopType, price: 110, reduceOnly: true });
          ctx.closePosition(0, { type: 'stop', price: 90 });
        },
        3: (ctx) => ctx.buy(0, 1),
      },
      ['AUSDT'],
    );
  const fillsOf = (stopType: 'limit' | 'takeProfit') => {
    const s = setupOf(run(makeData({ AUSDT: { bars } }), strat(stopType), { setups: [SETUPS.cross] }), 'cross');
    return (s.events.filter((e) => e.type === 'fill') as { qty: number; price: number; positionQty: number }[]).map((f) => [f.qty, f.price, f.positionQty]);
  };

  it('the limit is gone after the stop closes the position: the next long keeps its size', () => {
    expect(fillsOf('limit')).toEqual([[1, 100, 1], [-1, 90, 0], [1, 95, 1]]);
  });

  it('a reduce-only take-profit stays (Binance keeps conditional reduce-only orders) and reduces the next long', () => {
    expect(fillsOf('takeProfit')).toEqual([[1, 100, 1], [-1, 90, 0], [1, 95, 1], [-1, 110, 0]]);
  });
});

describe('nearest-first: ties go high first, in the data\'s decimals', () => {
  // Open 100.13, high 100.26, low 100.00: both extremes 0.13 away, a tie (docs/engine.md: ties
  // high first). In doubles 100.26 − 100.13 = 0.13000000000000966 > 100.13 − 100.00 =
  // 0.12999999999999545, so the bar went low first: a long's stop at the low filled before its
  // take-profit at the high. (In the bundled 1h data 6 of 20 such ties went low first.)
  it('a take-profit at the high fills before a stop at the low', () => {
    const data = makeData({ AUSDT: { bars: [[100.13, 100.13, 100.13, 100.13], [100.13, 100.13, 100.13, 100.13], [100.13, 100.26, 100, 100.1], [100.1, 100.1, 100.1, 100.1]] } });
    const strat = scripted(
      {
        0: (ctx) => ctx.buy(0, 1),
        1: (ctx) => {
          ctx.closePosition(0, { type: 'stop', price: 100 });
          ctx.closePosition(0, { type: 'takeProfit', price: 100.26 });
        },
      },
      ['AUSDT'],
    );
    const s = setupOf(run(data, strat, { setups: [SETUPS.isolated] }), 'isolated');
    const fills = s.events.filter((e) => e.type === 'fill') as { price: number; time: number }[];
    expect(fills.map((f) => [f.price, f.time])).toEqual([
      [100.13, T0 + HOUR],
      [100.26, T0 + 2 * HOUR + HOUR / 3],
    ]);
  });
});

describe('the margin check of a fill at a gapped open values the other legs at that open', () => {
  // Cross, wallet 1000, 10×, no fees: long 80 AUSDT @ 100. AUSDT gaps to 90 at bar 2's open (margin
  // balance 200 > MM: no liquidation); a market buy of 15 BUSDT @ 10 (IM 15) fills at that open.
  // At the open the available balance is 1000 − 800 − 720 − 15 < 0: refused. The account valued
  // AUSDT at the previous close (100) — available 185, accepted — unless an unrelated AUSDT fill
  // earlier at the same open had moved its mark to 90: the same order was accepted or refused
  // depending on that fill.
  it.each([false, true])('a buy of BUSDT is refused insufficientMargin (an AUSDT reduce fills first: %s)', (reduceFirst) => {
    const b = (p: number) => [p, p, p, p] as Bar;
    const strat = scripted(
      {
        0: (ctx) => ctx.buy(0, 80),
        1: (ctx) => {
          if (reduceFirst) ctx.sell(0, 1);
          ctx.buy(1, 15);
        },
      },
      ['AUSDT', 'BUSDT'],
    );
    const s = setupOf(run(makeData({ AUSDT: { bars: [b(100), b(100), b(90), b(90)] }, BUSDT: { bars: [b(10), b(10), b(10), b(10)] } }), strat, { setups: [SETUPS.cross], capital: '1000' }), 'cross');
    const atOpen = s.events.filter((e) => e.time === T0 + 2 * HOUR);
    expect(atOpen.map((e) => (e.type === 'rejection' ? [e.symbol, e.reason] : [e.type, (e as { symbol: number }).symbol]))).toEqual([
      ...(reduceFirst ? [['fill', 0]] : []),
      [1, 'insufficientMargin'],
    ]);
  });
});
