/**
 * Orders of checks that docs/engine.md and docs/margin.md now state, found when an independent
 * re-implementation of the bar step (written from the docs only) had to guess them: the engine
 * already did them this way; these cases keep the docs and the engine together.
 */
import { describe, expect, it } from 'vitest';
import { SETUPS } from '../src/engine/index.js';
import { getVenue } from '../src/venue/index.js';
import { HOUR, T0, makeData, run, scripted, setupOf, type Bar } from './engine-fixtures.js';
import type { StrategyContext } from '../src/strategy/types.js';

const flat100 = (n: number) => Array.from({ length: n }, () => [100, 100, 100, 100] as Bar);

describe('marketable limits arrive at tau 0, after every market order of the open', () => {
  it('a market order placed after a marketable limit still fills first', () => {
    const strat = scripted(
      {
        0: (ctx) => {
          ctx.buy(0, 1, { type: 'limit', price: 200, tag: 'limit' }); // marketable against the close 100
          ctx.buy(0, 2, { tag: 'market' });
        },
      },
      ['BTCUSDT'],
    );
    const s = setupOf(run(makeData({ BTCUSDT: { bars: flat100(3) } }), strat, { setups: [SETUPS.cross], execution: { slippageBps: 10 } }), 'cross');
    const fills = (s.events.filter((e) => e.type === 'fill') as { qty: number; price: number; time: number }[]).map((f) => [(f.time - T0) / HOUR, f.qty, f.price]);
    expect(fills).toEqual([
      [1, 2, 100 * 1.001],
      [1, 1, 100 * 1.001],
    ]);
  });
});

describe('a margin transfer on a symbol with no isolated position', () => {
  it('is noPosition whatever the amount, also one that rounds to 0 (before invalidQuantity)', () => {
    const strat = scripted(
      {
        0: (ctx) => {
          ctx.transferMargin(0, 4e-9); // flat
          ctx.transferMargin(0, 5);
          ctx.buy(0, 1);
        },
        1: (ctx) => {
          ctx.transferMargin(0, 4e-9); // open isolated position: the amount rounds to 0
        },
      },
      ['BTCUSDT'],
    );
    const s = setupOf(run(makeData({ BTCUSDT: { bars: flat100(3) } }), strat, { setups: [SETUPS.isolated] }), 'isolated');
    const reasons = (s.events.filter((e) => e.type === 'rejection') as { reason: string }[]).map((e) => e.reason);
    expect(reasons).toEqual(['noPosition', 'noPosition', 'invalidQuantity']);
  });
});

describe('an order its own checks reject never values the pool at its trade price', () => {
  // a short from bar 1's open, then flipped long at bar 2's open; bar 2's trades dip to 90 while
  // its mark candle never leaves 99-101: the long (20x, liquidation price ≈ 95) is never liquidated
  // by the mark. A take-profit buy placed to close the short (close-position, or reduce-only) now
  // faces the long: it triggers at 90 on the trade path and is rejected, and the pool stays
  const bars: Bar[] = [
    [100, 100, 100, 100],
    [100, 100, 100, 100],
    [100, 100.5, 90, 100],
    [100, 100, 100, 100],
  ];
  const mark: Bar[] = [
    [100, 100, 100, 100],
    [100, 100, 100, 100],
    [100, 101, 99, 100],
    [100, 100, 100, 100],
  ];
  const cases = [
    ['a close-position take-profit', (ctx: StrategyContext) => ctx.closePosition(0, { type: 'takeProfit', price: 90 })],
    ['a reduce-only take-profit', (ctx: StrategyContext) => ctx.buy(0, 1, { type: 'takeProfit', price: 90, reduceOnly: true })],
  ] as const;
  for (const [name, place] of cases) {
    for (const setup of [SETUPS.isolated, SETUPS.cross]) {
      it(`${name} facing a flipped position (${setup.id})`, () => {
        const strat = scripted(
          {
            0: (ctx) => void ctx.sell(0, 1),
            1: (ctx) => {
              place(ctx);
              ctx.buy(0, 2); // flips the short to a long of 1 at bar 2's open
            },
          },
          ['BTCUSDT'],
        );
        const s = setupOf(run(makeData({ BTCUSDT: { bars, mark } }), strat, { setups: [setup], leverage: 20, capital: setup.id === 'cross' ? '10' : '10000' }), setup.id);
        expect(s.error).toBeUndefined();
        const events = s.events.map((e) => [e.type, Math.floor((e.time - T0) / HOUR), 'reason' in e ? e.reason : 'qty' in e ? e.qty : null]);
        expect(events).toEqual([
          ['fill', 1, -1],
          ['fill', 2, 2],
          ['rejection', 2, 'reduceOnlyViolation'],
        ]);
        expect(s.liquidations).toEqual([]);
        expect(s.series.equity[3]).toBeCloseTo(setup.id === 'cross' ? 10 : 10000, 9);
      });
    }
  }
});

describe('a slipped price is the exact decimal product of the price and 1 ± bps / 10,000', () => {
  // 100.5 × 1.0001 = 100.51005; the double product was 100.51004999999999, and 3 × it × 0.05 % (0.150765075, a half-unit
  // tie at 1e-8) was booked 0.15076507 instead of half-even's 0.15076508
  const fee = (s: ReturnType<typeof setupOf>) => (s.events.filter((e) => e.type === 'fill') as { price: number; fee: string }[]).map((f) => [f.price, f.fee]);
  const venue = getVenue('binance-usdm', { fees: { maker: 0.0002, taker: 0.0005 } });
  it('market orders at the open, buy and sell', () => {
    const strat = scripted({ 0: (ctx) => ctx.buy(0, 3), 1: (ctx) => ctx.sell(0, 3) }, ['BTCUSDT']);
    const bars: Bar[] = [[100, 100, 100, 100.5], [100.5, 100.5, 100.5, 100.5], [118302, 118302, 118302, 118302], [118302, 118302, 118302, 118302]];
    const s = setupOf(run(makeData({ BTCUSDT: { bars } }), strat, { setups: [SETUPS.cross], execution: { slippageBps: 1 }, venue }), 'cross');
    expect(fee(s)).toEqual([[100.51005, '0.15076508'], [118290.1698, '177.4352547']]);
  });
  it('a stop met on the path, and a marketable limit at the open', () => {
    const strat = scripted({ 0: (ctx) => { ctx.buy(0, 0.35); ctx.sell(0, 0.35, { type: 'stop', price: 118302 }); }, 2: (ctx) => ctx.buy(0, 1, { type: 'limit', price: 200 }) }, ['BTCUSDT']);
    const bars: Bar[] = [[120000, 120000, 120000, 120000], [120000, 120000, 118000, 118500], [100.5, 100.5, 100.5, 100.5], [100.5, 100.5, 100.5, 100.5]];
    const s = setupOf(run(makeData({ BTCUSDT: { bars } }), strat, { setups: [SETUPS.cross], execution: { slippageBps: 3 }, venue }), 'cross');
    // the stop: 118302 × 0.9997 = 118266.5094 (the double product 118266.50940000001, its fee 20.69663915)
    expect(fee(s).slice(1)).toEqual([[118266.5094, '20.69663914'], [100.530150, '0.05026508']]);
  });
});
