/**
 * Dated tier tables inside a replay (margin-spec §1.2: "brackets change over time — store them per
 * backtest date"): a run whose bars cross a bundled snapshot date (2026-05-03) switches its open
 * positions to the new table at the first bar opening on or after it.
 */
import { describe, expect, it } from 'vitest';
import { flat, makeData, run, scripted, setupOf, HOUR } from './engine-fixtures.js';
import { getVenue, maintenanceMargin } from '../src/venue/index.js';
import { SETUPS } from '../src/engine/index.js';
import { tierSwitchBars } from '../src/engine/market.js';
import type { MarketData } from '../src/feed/types.js';

const SWITCH = Date.UTC(2026, 4, 3); // the 2026-05-03 snapshot of data/binance-tiers

/** 10 hourly bars of 1000CATUSDT at a flat 10 whose first bar opens at `start` */
function catData(start: number): MarketData {
  const data = makeData({ '1000CATUSDT': { bars: flat(10, 10), mark: flat(10, 10) } });
  for (let i = 0; i < data.time.length; i++) data.time[i] = start + i * HOUR;
  return data;
}

// long 2,000 at 10 (notional 20,000) at 20x: 1,000 of isolated margin. 1000CATUSDT's maintenance at
// 20,000 is 2 % − 75 = 325 under the 2024-10-24 table and 10 % − 625 = 1,375 under the 2026-05-03 one
const buy = scripted({ 0: (ctx) => void ctx.buy(0, 2000) }, ['1000CATUSDT']);
const opts = { setups: [SETUPS.isolated, SETUPS.cross], leverage: 20, capital: '2000', venue: getVenue('binance-usdm', { fees: { maker: 0, taker: 0 } }) };

describe('dated maintenance tiers inside a replay', () => {
  it('switches open positions to the new table at the first bar opening at or after its date', () => {
    const data = catData(SWITCH - 4 * HOUR); // bar 4 opens at 2026-05-03T00:00Z
    const out = run(data, buy, opts);
    const cross = setupOf(out, 'cross');
    expect(cross.error).toBeUndefined();
    const mm = Array.from(cross.series.maintenanceMargin);
    expect(mm.slice(1, 4)).toEqual([325, 325, 325].map((x) => expect.closeTo(x, 9)));
    expect(mm.slice(4)).toEqual(mm.slice(4).map(() => expect.closeTo(1375, 9)));
    expect(cross.events.filter((e) => e.type === 'liquidation')).toHaveLength(0);
    // isolated: 1,000 of margin is below the new 1,375 at the switch: liquidated at that bar's open
    const iso = setupOf(out, 'isolated');
    const liq = iso.events.filter((e) => e.type === 'liquidation');
    expect(liq).toHaveLength(1);
    expect(liq[0]!.time).toBe(SWITCH);
    expect(iso.series.maintenanceMargin[3]).toBeCloseTo(325, 9);
    expect(iso.series.marginRatioPeak[4]).toBeGreaterThanOrEqual(1);
    expect(iso.series.grossNotional[4]).toBe(0);
    // the liquidation-price record steps at the switch
    const steps = iso.liquidationPrices;
    expect(steps?.time).toContain(SWITCH);
  });

  it('a bar opening after the date (not exactly on it) switches, a run inside one table does not', () => {
    const data = catData(SWITCH - 3.5 * HOUR); // bars open at 20:30, …, 23:30, 00:30: bar 4 is the first on or after
    const cross = setupOf(run(data, buy, opts), 'cross');
    expect(cross.series.maintenanceMargin[3]).toBeCloseTo(325, 9);
    expect(cross.series.maintenanceMargin[4]).toBeCloseTo(1375, 9);
    const before = setupOf(run(catData(SWITCH - 20 * HOUR), buy, opts), 'cross');
    for (let i = 1; i < 10; i++) expect(before.series.maintenanceMargin[i]).toBeCloseTo(325, 9);
    // from the date on, 20x at 20,000 exceeds the new table's 5x: the same order is refused
    const after = setupOf(run(catData(SWITCH + HOUR), buy, opts), 'cross');
    expect(after.rejections).toEqual({ exceedsMaxLeverage: 1 });
    expect(Array.from(after.series.grossNotional).every((x) => x === 0)).toBe(true);
  });

  it('tierSwitchBars: each later table date once, at the first bar at or after it; none for a custom flat table', () => {
    const venue = getVenue('binance-usdm');
    const time = Float64Array.from({ length: 10 }, (_, i) => SWITCH - 4 * HOUR + i * HOUR);
    expect(Array.from(tierSwitchBars(venue, time, 0, 10))).toEqual([4]);
    expect(Array.from(tierSwitchBars(venue, time, 4, 10))).toEqual([]); // in force from the first bar
    expect(Array.from(tierSwitchBars(venue, time, 0, 4))).toEqual([]); // ends before it
    expect(Array.from(tierSwitchBars(venue, time, 3, 5))).toEqual([4]);
    const custom = getVenue('binance-usdm', { tiers: { '1000CATUSDT': [{ floor: 0, mmr: 0.01, maxLeverage: 50 }] } });
    // the date is still a change for other symbols; the account keeps 1000CATUSDT's custom table
    const c = setupOf(run(catData(SWITCH - 4 * HOUR), buy, { ...opts, venue: custom }), 'cross');
    for (let i = 1; i < 10; i++) expect(c.series.maintenanceMargin[i]).toBeCloseTo(200, 9);
    // a hand-made profile without tierChanges keeps the first table
    const { tierChanges: _omit, ...plain } = getVenue('binance-usdm', { fees: { maker: 0, taker: 0 } });
    const p = setupOf(run(catData(SWITCH - 4 * HOUR), buy, { ...opts, venue: plain }), 'cross');
    for (let i = 1; i < 10; i++) expect(p.series.maintenanceMargin[i]).toBeCloseTo(325, 9);
  });

  it('the maintenance margin agrees with the venue formula at every bar across the switch', () => {
    const venue = getVenue('binance-usdm');
    const data = catData(SWITCH - 4 * HOUR);
    const cross = setupOf(run(data, buy, opts), 'cross');
    for (let i = 1; i < 10; i++) {
      const tiers = venue.tiers('1000CATUSDT', data.time[i]!);
      expect(cross.series.maintenanceMargin[i]).toBeCloseTo(maintenanceMargin(venue.maintenance, tiers, 2000, 10, 10), 9);
    }
  });
});
