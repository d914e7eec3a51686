import { describe, expect, it } from 'vitest';
import { SETUPS } from '../src/engine/index.js';
import { flat, makeData, run, scripted, setupOf, HOUR, T0 } from './engine-fixtures.js';

describe('market orders at the open', () => {
  it('every market order placed at the previous close fills at this open, also after a fill cancels an earlier protective order', () => {
    const data = makeData({ AUSDT: { bars: flat(100, 5) }, BUSDT: { bars: flat(50, 5) } });
    const strategy = scripted(
      {
        0: (ctx) => ctx.buy(0, 1),
        1: (ctx) => {
          // a protective close-position stop (queued first), then a market close of the same
          // position and a market order on another symbol, all for the next open
          ctx.closePosition(0, { type: 'stop', price: 80 });
          ctx.closePosition(0);
          ctx.buy(1, 2);
        },
      },
      ['AUSDT', 'BUSDT'],
    );
    const out = run(data, strategy, { setups: [SETUPS.isolated, SETUPS.cross, SETUPS.mixed] });
    for (const id of ['isolated', 'cross', 'mixed']) {
      const fills = setupOf(out, id).events.filter((e) => e.type === 'fill');
      expect(fills.map((f) => [f.time, f.symbol, f.qty])).toEqual([
        [T0 + HOUR, 0, 1],
        [T0 + 2 * HOUR, 0, -1],
        [T0 + 2 * HOUR, 1, 2],
      ]);
    }
  });
});

describe('the mark path of a bar without a trade candle', () => {
  it("nearest-first walks the mark candle's nearer extreme first (there is no trade path to follow)", () => {
    // BUSDT has no trade candle at bar 3 but a mark candle whose high (+3) is nearer than its low (−30):
    // a short liquidated at the high is liquidated a third of the way into the bar, before the low
    const bars = flat(100, 6);
    const mark = flat(100, 6);
    const b = flat(50, 6) as (ReturnType<typeof flat>[number] | null)[];
    b[3] = null;
    const bMark = flat(50, 6);
    bMark[3] = [50, 53, 20, 50];
    const data = makeData({ AUSDT: { bars, mark }, BUSDT: { bars: b as ReturnType<typeof flat>, mark: bMark } });
    const strategy = scripted({ 0: (ctx) => ctx.sell(1, 20) }, ['AUSDT', 'BUSDT']);
    const out = run(data, strategy, { setups: [SETUPS.isolated], leverage: 20, execution: { intrabarPath: 'nearest-first' } });
    const liq = setupOf(out, 'isolated').events.find((e) => e.type === 'liquidation')!;
    expect(liq).toBeDefined();
    // path open → high → low → close over τ ∈ [0, 3]: the liquidation is on the first segment (before T0 + 3h + 1/3 of the bar)
    expect(liq.time).toBeGreaterThan(T0 + 3 * HOUR);
    expect(liq.time).toBeLessThan(T0 + 3 * HOUR + HOUR / 3);
  });
});
