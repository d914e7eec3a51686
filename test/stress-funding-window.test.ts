/**
 * The funding spike of a scenario reaches every event settling in the shock window, its end
 * included (none settling in it: the first event after it), by the event's settlement time: Binance stamps funding a few ms past the minute
 * (1747872000001), which the feed settles at the minute (fundingSettleTime).
 */
import { describe, expect, it } from 'vitest';
import { applyScenario } from '../src/stress/overlay.js';
import { scenarioSchema } from '../src/stress/scenario.js';
import { HOUR, T0, makeData, type Bar } from './engine-fixtures.js';

describe('funding spike at the end of the shock window', () => {
  const bars = (): Bar[] => Array.from({ length: 24 }, () => [100, 100, 100, 100] as Bar);
  // a 4h slide from bar 4's open: the window is [4h, 8h]; events settle at bars 4, 8 and 12
  const sc = scenarioSchema.parse({ id: 's', symbols: { BTC: { depth: -0.2, duration: '4h', fundingRate: -0.005 } } });
  const withStamp = (jitterMs: number) => {
    const d = makeData({ BTCUSDT: { bars: bars(), funding: [4, 8, 12].map((bar) => ({ bar, rate: 0.0001, price: 100 })) } });
    const c = d.columns[0]!;
    for (let e = 0; e < c.fundingTime.length; e++) c.fundingTime[e] = c.fundingTime[e]! + jitterMs;
    return applyScenario(d, sc, T0 + 4 * HOUR, null).columns[0]!;
  };
  it('an exchange stamp 3 ms past the window end takes the spike like an exact one', () => {
    expect(Array.from(withStamp(0).fundingRate)).toEqual([-0.005, -0.005, 0.0001]);
    expect(Array.from(withStamp(3).fundingRate)).toEqual([-0.005, -0.005, 0.0001]);
    expect(withStamp(3).fundingPrice[1]).toBeCloseTo(80, 9);
  });

  it('a window no event settles in gives its spike to the first event after it (the spike depended on where the injection time fell)', () => {
    // a 1h slide from bar 2: the window is [2h, 3h]; events settle at bars 0, 8 and 16
    const short = scenarioSchema.parse({ id: 's1', symbols: { BTC: { depth: -0.2, duration: '1h', fundingRate: -0.005 } } });
    const d = makeData({ BTCUSDT: { bars: bars(), funding: [0, 8, 16].map((bar) => ({ bar, rate: 0.0001, price: 100 })) } });
    expect(Array.from(applyScenario(d, short, T0 + 2 * HOUR, null).columns[0]!.fundingRate)).toEqual([0.0001, -0.005, 0.0001]);
    // one settling inside: it alone takes the spike (bars 4 and 8 in a [4h, 8h] window; 12 after it keeps its rate)
    expect(Array.from(withStamp(0).fundingRate)).toEqual([-0.005, -0.005, 0.0001]);
    // no event after the window either: nothing takes it
    expect(Array.from(applyScenario(d, short, T0 + 20 * HOUR, null).columns[0]!.fundingRate)).toEqual([0.0001, 0.0001, 0.0001]);
  });
});
