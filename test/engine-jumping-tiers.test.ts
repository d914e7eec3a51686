/**
 * A tier table whose cum breaks the recurrence (custom input: maintenance jumps at a floor) can leave a position
 * breached on more than one price range. Its liquidation price is the first breached price met from the mark moving
 * against the position (a long's highest breached price at or below the mark, a short's lowest at or above it), not
 * the root of the lowest tier that happens to be consistent, nor, when none is, the root nearest consistency.
 */
import { describe, expect, it } from 'vitest';
import { SETUPS } from '../src/engine/index.js';
import { ClosedForm, tieredLiquidationPrice } from '../src/venue/math.js';
import { buildTiers } from '../src/venue/tiers.js';
import { getVenue } from '../src/venue/index.js';
import { createAccount } from '../src/account/index.js';
import { flat, makeData, run, scripted, type Bar } from './engine-fixtures.js';
import type { StrategyContext } from '../src/index.js';

const T2025 = Date.UTC(2025, 0, 1);
// long 2 at 100 with 100 of margin: tier 0 (MMR 0.5 %) root 100 / 1.99 = 50.25; from notional 140 (price 70) MMR 40 % with cum 0,
// a jump of 55.3 at the floor: root 83.33, so the long is breached on [70, 83.33] and below 50.25
const longTable = [{ floor: 0, mmr: 0.005, maxLeverage: 100 }, { floor: 140, mmr: 0.4, cum: 0, maxLeverage: 2 }];
// short 2 at 100 with 100: tier 0 root 149.25 (beyond its cap 240 / 2 = 120); from notional 240 MMR 40 %, cum 0: its
// root 107.14 lies below its floor's price 120, so the short is breached from 120 up, and nowhere below
const shortTable = [{ floor: 0, mmr: 0.005, maxLeverage: 100 }, { floor: 240, mmr: 0.4, cum: 0, maxLeverage: 100 }];

describe('the liquidation price under a jumping tier table', () => {
  it('is the first breached price met from the mark: a long 83.33 (not 50.25), a short 120 (not 107.14)', () => {
    const lt = buildTiers(longTable, 't');
    const st = buildTiers(shortTable, 't');
    expect(tieredLiquidationPrice(ClosedForm.Binance, 1, 2, 100, 100, lt, 0, 100)).toBeCloseTo(100 / 1.2, 12);
    expect(tieredLiquidationPrice(ClosedForm.Binance, -1, 2, 100, 100, st, 0, 100)).toBe(120);
    // below the breached range the long's next one is met: at 60 it is 50.25
    expect(tieredLiquidationPrice(ClosedForm.Binance, 1, 2, 100, 100, lt, 0, 60)).toBeCloseTo(100 / 1.99, 12);
    // a mark inside a breached range is itself the threshold
    expect(tieredLiquidationPrice(ClosedForm.Binance, 1, 2, 100, 100, lt, 0, 80)).toBe(80);
    // the other closed forms follow the same rule (Gate/OKX with a taker add-on, Hyperliquid)
    for (const form of [ClosedForm.Gate, ClosedForm.Hyperliquid]) {
      const lp = tieredLiquidationPrice(form, 1, 2, 100, 100, lt, 0.0005, 100);
      expect(lp, String(form)).toBeGreaterThan(70);
      expect(lp, String(form)).toBeLessThan(100);
    }
  });

  it('agrees with the account: breached just past it, safe just before it, for both sides and every mark-basis venue', () => {
    for (const venueId of ['binance-usdm', 'okx', 'hyperliquid']) {
      for (const [side, table, mark] of [[1, longTable, 100], [-1, shortTable, 100]] as const) {
        const venue = getVenue(venueId, { fees: { maker: 0, taker: 0 }, tiers: { FOOUSDT: table } });
        const a = createAccount({ venue, symbols: ['FOOUSDT'], initialDeposit: '100', defaultMode: 'isolated', leverage: 2, asOfMs: T2025 });
        expect(a.trade({ symbol: 0, qty: 2 * side, price: 100, liquidity: 'taker', time: 0 }).ok).toBe(true);
        const pool = a.pools()[0]!;
        const lp = pool.liquidationPrice(0, new Float64Array([mark]));
        const at = (x: number) => pool.breached(new Float64Array([x]));
        const label = `${venueId} ${side > 0 ? 'long' : 'short'} lp ${lp}`;
        expect(lp, label).toBeGreaterThan(0);
        // every price between the mark and the threshold is safe; the threshold's far side is breached
        for (let f = 0.02; f < 1; f += 0.02) expect(at(mark + (lp - mark) * f), `${label} at ${mark + (lp - mark) * f}`).toBe(false);
        expect(at(lp * (1 - side * 1e-6)), label).toBe(true);
      }
    }
  });

  it('the engine liquidates the long in its upper breached range and does not liquidate the short below its floor', () => {
    const venue = getVenue('binance-usdm', { fees: { maker: 0, taker: 0 }, tiers: { FOOUSDT: longTable, BARUSDT: shortTable } });
    // the long's bar reaches 75 (inside [70, 83.33]); the short's 110 (above the old answer 107.14, below 120)
    const long = makeData({ FOOUSDT: { bars: [...flat(100, 2), [100, 100, 75, 95], ...flat(95, 2)] as Bar[] } });
    const short = makeData({ BARUSDT: { bars: [...flat(100, 2), [100, 110, 100, 105], ...flat(105, 2)] as Bar[] } });
    for (const setup of [SETUPS.isolated, SETUPS.cross]) {
      const outL = run(long, scripted({ 0: (x: StrategyContext) => void x.buy(0, 2) }, ['FOOUSDT']), { setups: [setup], capital: '100', leverage: 2, venue });
      const liqL = outL.setups[0]!.liquidations ?? [];
      expect(liqL.length, setup.id).toBe(1);
      expect(liqL[0]!.legs[0]!.triggerPrice, setup.id).toBeCloseTo(100 / 1.2, 6);
      const outS = run(short, scripted({ 0: (x: StrategyContext) => void x.sell(0, 2) }, ['BARUSDT']), { setups: [setup], capital: '100', leverage: 2, venue });
      expect(outS.setups[0]!.liquidations ?? [], setup.id).toEqual([]);
    }
  });
});
