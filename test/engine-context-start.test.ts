/**
 * What the context shows before the first bar (onStart): the account at its deposit, as the first onBar of a flat
 * account shows it, not a snapshot of zeros (equity 0 and available 0 sized every order placed there to nothing); and a
 * flat position's notional, 0 also while its symbol has no price (it was 0 × NaN).
 */
import { describe, expect, it } from 'vitest';
import { SETUPS } from '../src/engine/index.js';
import { flat, makeData, run, scripted } from './engine-fixtures.js';

const accountOf = (c: { account: Record<string, number> }) =>
  Object.fromEntries(['equity', 'available', 'marginBalance', 'maintenanceMargin', 'marginRatio', 'initialMargin', 'grossNotional', 'capitalAtRisk'].map((k) => [k, c.account[k]]));

describe('the context before the first bar', () => {
  for (const fromIndex of [0, 2]) {
    it(`onStart sees the account at its deposit (fromIndex ${fromIndex}), as the first onBar of a flat account does`, () => {
      const data = makeData({ BTCUSDT: { bars: flat(100, 5) }, ETHUSDT: { bars: [null, null, null, ...flat(10, 2)] } });
      const seen: Record<string, unknown>[] = [];
      const strategy = scripted({}, ['BTCUSDT', 'ETHUSDT']);
      const create = strategy.create;
      strategy.create = (p) => {
        const st = create(p);
        return {
          ...st,
          onStart(ctx) {
            seen.push(accountOf(ctx as never));
          },
          onBar(ctx) {
            if (ctx.bar === 0) seen.push(accountOf(ctx as never));
          },
        };
      };
      const out = run(data, strategy, { setups: [SETUPS.isolated, SETUPS.cross], capital: '1000', fromIndex });
      for (const s of out.setups) expect(s.error).toBeUndefined();
      const expected = { equity: 1000, available: 1000, marginBalance: 0, maintenanceMargin: 0, marginRatio: 0, initialMargin: 0, grossNotional: 0, capitalAtRisk: 0 };
      expect(seen).toEqual([expected, expected, expected, expected]);
    });
  }
});

describe('a flat position', () => {
  it('has notional 0 (and unrealizedPnl 0) also while its symbol has no price yet, in onStart and before its first candle', () => {
    const data = makeData({ BTCUSDT: { bars: flat(100, 4) }, ETHUSDT: { bars: [null, null, ...flat(10, 2)] } });
    const seen: unknown[] = [];
    const strategy = scripted({}, ['BTCUSDT', 'ETHUSDT']);
    const create = strategy.create;
    const view = (ctx: { position(s: number): { notional: number; unrealizedPnl: number } }) => [0, 1].map((s) => [ctx.position(s).notional, ctx.position(s).unrealizedPnl]);
    strategy.create = (p) => ({
      ...create(p),
      onStart(ctx) {
        seen.push(view(ctx));
      },
      onBar(ctx) {
        seen.push(view(ctx));
      },
    });
    const out = run(data, strategy, { setups: [SETUPS.isolated], capital: '1000' });
    expect(out.setups[0]!.error).toBeUndefined();
    expect(seen).toEqual(Array.from({ length: 5 }, () => [[0, 0], [0, 0]]));
  });
});
