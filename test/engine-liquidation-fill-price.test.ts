// A single-symbol pool the path reaches its liquidation price at is closed at that price as a decimal of 15 significant
// digits (engine 1.5.40): the closed form's double lands a few ulps from the exact price, and its shortest decimal was
// booked (100560.24472500001 for 100560.244725, found by an independent decimal re-implementation: the proceeds and the
// penalty 1e-8 apart at a half-unit tie).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { replay, DEFAULT_EXECUTION, SETUPS } from '../src/engine/index.js';
import { digits15 } from '../src/engine/orders.js';
import type { StrategyModule } from '../src/strategy/types.js';
import { getVenue } from '../src/venue/index.js';
import { makeData, type Bar } from './engine-fixtures.js';

/** opens one position at the second bar's open (qty > 0 long), then holds */
const opener = (qty: number): StrategyModule => ({
  name: 'opener',
  description: 'one market order, then holds',
  params: z.object({}),
  symbols: () => ['BTCUSDT'],
  create() {
    let sent = false;
    return {
      onBar(ctx) {
        if (!sent) {
          if (qty > 0) ctx.buy(0, qty, { mode: 'isolated' });
          else ctx.sell(0, -qty, { mode: 'isolated' });
        }
        sent = true;
      },
    };
  },
});

describe('the price a pool reached on the path is liquidated at', () => {
  it('digits15: the exact decimal of at most 15 digits from a double a few ulps off it; others move < 5e-15 of themselves', () => {
    expect(digits15(100560.24472500001)).toBe(100560.244725);
    expect(digits15(100560.244725)).toBe(100560.244725);
    for (const x of [90.36144578313253, 1 / 3, 12345.678901234567, 0.1 + 0.2]) expect(Math.abs(digits15(x) - x)).toBeLessThan(5e-15 * x);
  });

  // every venue, a long and a short at 50x (isolated): the path crosses the liquidation price inside the bar (the
  // open on the safe side), so the pool closes at the price itself, not at a gapped open
  for (const venueId of ['binance-usdm', 'bybit-linear', 'okx', 'hyperliquid']) {
    for (const side of [1, -1] as const) {
      it(`${venueId}, ${side > 0 ? 'long' : 'short'}: booked at the rounded price, not a double's 17-digit noise`, () => {
        const venue = getVenue(venueId);
        const flat: Bar = [100000, 100010, 99990, 100000];
        // bar 2 moves 5 % against the position on the way (its open and close back near the entry)
        const swing: Bar = side > 0 ? [100000, 100020, 95000, 99990] : [100000, 105000, 99980, 100010];
        const bars: Bar[] = [flat, flat, swing, flat];
        const data = makeData({ BTCUSDT: { bars, mark: bars } });
        const out = replay({ data, symbols: ['BTCUSDT'], strategy: opener(side * 0.037), params: {}, venue, setups: [SETUPS.isolated], initialCapital: '10000', leverage: 50, execution: { ...DEFAULT_EXECUTION, slippageBps: 0 } });
        const s = out.setups[0]!;
        expect(s.error).toBeUndefined();
        const liq = s.events.filter((e) => e.type === 'liquidation');
        expect(liq).toHaveLength(1);
        const px = liq[0]!.prices[0]!;
        // inside the bar's range (not the open: the path reached it), and a decimal of at most 15 digits
        expect(px).toBeGreaterThan(95000);
        expect(px).toBeLessThan(105000);
        expect(px).toBe(Number(px.toPrecision(15)));
      });
    }
  }
});
