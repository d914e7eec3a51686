/**
 * ctx.position(s).qty is a copy of the account's positions (RunnerState.qtyCells, so that reading it
 * allocates nothing: test/engine-alloc.test.ts), taken after every fill and liquidation. This checks
 * the copy is never stale: in every callback — onBar, onFill, onFunding, onLiquidation, for every
 * symbol — the quantity the strategy reads equals the one the callbacks' own records imply (each
 * fill's positionQty; 0 for the symbols of a liquidated pool), over random gaps, funding, market,
 * stop, take-profit and limit orders, isolated, cross and mixed, liquidations included.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { SETUPS } from '../src/engine/index.js';
import type { StrategyContext, StrategyModule } from '../src/strategy/types.js';
import { makeData, run, type Bar } from './engine-fixtures.js';

type Act = { act: 'buy' | 'sell' | 'close' | 'stop' | 'tp' | 'limit'; sym: number; size: number };

function checker(script: Act[][], mismatches: string[], seen: { liquidations: number; fills: number }): StrategyModule {
  return {
    name: 'position-view',
    description: 'compares the position views with the callbacks records',
    params: z.object({}),
    symbols: () => ['BTCUSDT', 'ETHUSDT'],
    create() {
      // what the callbacks' records say each position is, per setup instance
      const expected = [0, 0];
      const check = (ctx: StrategyContext, where: string) => {
        for (let s = 0; s < 2; s++) {
          const q = ctx.position(s).qty;
          if (q !== expected[s]) mismatches.push(`${ctx.setup} ${where} bar ${ctx.bar} symbol ${s}: view ${q}, records ${expected[s]}`);
        }
      };
      return {
        onBar(ctx) {
          check(ctx, 'onBar');
          for (const a of script[ctx.bar] ?? []) {
            const px = ctx.close(a.sym);
            const qty = a.size * (a.sym === 0 ? 0.01 : 0.2);
            const pos = ctx.position(a.sym).qty;
            if (a.act === 'buy') ctx.buy(a.sym, qty, { mode: a.size % 2 ? 'isolated' : 'cross' });
            else if (a.act === 'sell') ctx.sell(a.sym, qty);
            else if (a.act === 'close') ctx.closePosition(a.sym);
            else if (a.act === 'stop' && pos !== 0) ctx.closePosition(a.sym, { type: 'stop', price: px * (pos > 0 ? 0.97 : 1.03) });
            else if (a.act === 'tp' && pos !== 0) ctx.closePosition(a.sym, { type: 'takeProfit', price: px * (pos > 0 ? 1.02 : 0.98) });
            else if (a.act === 'limit') ctx.buy(a.sym, qty, { type: 'limit', price: px * 0.98 });
          }
        },
        onFill(f, ctx) {
          seen.fills++;
          expected[f.symbol] = f.positionQty;
          check(ctx, 'onFill');
        },
        onFunding(_f, ctx) {
          check(ctx, 'onFunding');
        },
        onLiquidation(l, ctx) {
          seen.liquidations++;
          for (const s of l.symbols) expected[s] = 0;
          check(ctx, 'onLiquidation');
        },
      };
    },
  };
}

describe('ctx.position(s).qty', () => {
  it('property: in every callback it equals the position the fills and liquidations leave', () => {
    const seen = { liquidations: 0, fills: 0 };
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ min: -0.3, max: -0.08, noNaN: true }), fc.double({ min: -0.03, max: 0.03, noNaN: true }), fc.double({ min: 0.08, max: 0.3, noNaN: true })), { minLength: 6, maxLength: 16 }),
        fc.array(fc.array(fc.record({ act: fc.constantFrom('buy', 'sell', 'close', 'stop', 'tp', 'limit'), sym: fc.integer({ min: 0, max: 1 }), size: fc.integer({ min: 1, max: 40 }) }), { maxLength: 3 }), { minLength: 6, maxLength: 16 }),
        fc.integer({ min: 5, max: 75 }),
        (moves, script, leverage) => {
          const btc: Bar[] = [];
          const eth: Bar[] = [];
          let p = 30000;
          for (const mv of moves) {
            const o = p * (1 + mv);
            const c = o * (1 + mv / 3);
            btc.push([o, Math.max(o, c) * 1.01, Math.min(o, c) * 0.99, c]);
            eth.push([o / 15, (Math.max(o, c) * 1.02) / 15, (Math.min(o, c) * 0.98) / 15, c / 15]);
            p = c;
          }
          const funding = moves.map((_, bar) => ({ bar, rate: bar % 2 ? 0.001 : -0.0005, price: 30000 }));
          const data = makeData({ BTCUSDT: { bars: btc, funding }, ETHUSDT: { bars: eth, funding: funding.map((f) => ({ ...f, price: 2000 })) } });
          const mismatches: string[] = [];
          const out = run(data, checker(script as Act[][], mismatches, seen), { setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed], leverage, capital: '2000' });
          for (const s of out.setups) expect(s.error).toBeUndefined();
          expect(mismatches).toEqual([]);
        },
      ),
      { numRuns: 120, seed: 36 },
    );
    // the runs did what the property is about: many fills, and liquidations among them
    expect(seen.fills).toBeGreaterThan(500);
    expect(seen.liquidations).toBeGreaterThan(20);
  });

  it('an index that is not a symbol reads 0, as the account answers, and the view of a symbol is its own', () => {
    const data = makeData({ BTCUSDT: { bars: Array.from({ length: 4 }, () => [100, 100, 100, 100] as Bar) }, ETHUSDT: { bars: Array.from({ length: 4 }, () => [10, 10, 10, 10] as Bar) } });
    const got: number[][] = [];
    const strat: StrategyModule = {
      name: 'reads',
      description: 'reads positions',
      params: z.object({}),
      symbols: () => ['BTCUSDT', 'ETHUSDT'],
      create: () => ({
        onBar(ctx) {
          if (ctx.bar === 0) ctx.sell(1, 3);
          if (ctx.bar === 2) got.push([ctx.position(0).qty, ctx.position(1).qty, ctx.targetPosition(1, -3), ctx.position(1).notional]);
        },
      }),
    };
    const out = run(data, strat, { setups: [SETUPS.cross] });
    expect(out.setups[0]!.error).toBeUndefined();
    // targetPosition(1, −3) with the position already −3 places nothing (0)
    expect(got).toEqual([[0, -3, 0, 30]]);
  });
});
