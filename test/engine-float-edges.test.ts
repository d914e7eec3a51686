/**
 * Prices and times an event on the intrabar path gets where floating point lands a hair off an exact value
 * (found by an independent decimal re-implementation of the rules): a stop, take-profit or limit met on the way
 * fills at its own price, and an event's stamp is open + floor(τ/3 × timeframe) of the exact τ.
 */
import { describe, expect, it } from 'vitest';
import { SETUPS } from '../src/engine/index.js';
import { HOUR, T0, flat, makeData, run, scripted, type Bar, type Script } from './engine-fixtures.js';
import type { StrategyContext } from '../src/index.js';
import { getVenue } from '../src/venue/index.js';

type Ctx = StrategyContext;
const fills = (out: ReturnType<typeof run>, after: number) =>
  out.setups[0]!.events.filter((e) => e.type === 'fill' && e.time > after) as unknown as { price: number; time: number; fee: string }[];

describe('events on the intrabar path at exact values', () => {
  it('a stop, take-profit or limit met on the way fills at its own price (a stop at 15.81 filled at 15.809999999999999)', () => {
    const off: string[] = [];
    for (let k = 0; k < 300; k++) {
      const o = 18.3;
      const h = Math.round((19 + (k % 20) * 0.37) * 100) / 100;
      const l = Math.round((14 + ((k * 7) % 20) * 0.11) * 100) / 100;
      const c = 16.56;
      const lvl = Math.round((l + 0.01 + (((k * 13) % 97) / 97) * (Math.min(o, c) - l - 0.02)) * 100) / 100;
      const d = makeData({ ETHUSDT: { bars: [...flat(o, 2), [o, h, l, c], ...flat(c, 1)] as Bar[] } });
      for (const type of ['stop', 'limit', 'takeProfit'] as const) {
        const script: Script =
          type === 'stop'
            ? { 0: (x: Ctx) => void x.buy(0, 1), 1: (x: Ctx) => void x.order({ symbol: 0, qty: -1, type: 'stop', price: lvl }) }
            : type === 'limit'
              ? { 1: (x: Ctx) => void x.order({ symbol: 0, qty: 1, type: 'limit', price: lvl }) }
              : { 0: (x: Ctx) => void x.sell(0, 1), 1: (x: Ctx) => void x.order({ symbol: 0, qty: 1, type: 'takeProfit', price: lvl }) };
        const f = fills(run(d, scripted(script, ['ETHUSDT']), { setups: [SETUPS.cross], leverage: 2, capital: '100000' }), d.time[1]!);
        expect(f.length, `${type} ${lvl}`).toBe(1);
        if (f[0]!.price !== lvl) off.push(`${type} at ${lvl} filled at ${f[0]!.price}`);
      }
    }
    expect(off).toEqual([]);
  });

  it("the helper's case: a stop at 15.81 books the fee of 15.81 (1.49425844, not 1.49425843)", () => {
    const d = makeData({ ETHUSDT: { bars: [...flat(16.3, 2), [18.3, 21.72, 14.88, 16.56], ...flat(16, 1)] as Bar[] } });
    const out = run(d, scripted({ 0: (x: Ctx) => void x.buy(0, 189.027), 1: (x: Ctx) => void x.order({ symbol: 0, qty: -189.027, type: 'stop', price: 15.81 }) }, ['ETHUSDT']), {
      setups: [SETUPS.cross], leverage: 10, capital: '100000', venue: getVenue('binance-usdm'),
    });
    const f = fills(out, d.time[1]!);
    expect(f.map((x) => [x.price, x.fee])).toEqual([[15.81, '1.49425844']]);
  });

  it('an event at τ = 1.204 of an hour is stamped open + 1,444,800 ms (it was 1 ms early)', () => {
    const d = makeData({ BTCUSDT: { bars: [...flat(100, 1), [100, 104, 99, 103], ...flat(103, 1)] as Bar[] } });
    const f = fills(run(d, scripted({ 0: (x: Ctx) => void x.order({ symbol: 0, qty: -1, type: 'limit', price: 100.02 }) }, ['BTCUSDT']), { setups: [SETUPS.cross] }), T0);
    expect(f.map((x) => x.time - (T0 + HOUR))).toEqual([1_444_800]);
  });
});
