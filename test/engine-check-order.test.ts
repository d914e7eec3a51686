/**
 * Orders of checks that docs/engine.md and docs/margin.md now state, found when an independent
 * re-implementation of the bar step (written from the docs only) had to guess them: the engine
 * already did them this way; these cases keep the docs and the engine together.
 */
import { describe, expect, it } from 'vitest';
import { SETUPS } from '../src/engine/index.js';
import { HOUR, T0, makeData, run, scripted, setupOf, type Bar } from './engine-fixtures.js';

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
