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
