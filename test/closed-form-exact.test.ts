/**
 * The engine's closed forms (doubles, src/venue/math.ts) against the calculator's (decimal.js,
 * src/venue/math-exact.ts) on every venue and its tier tables: where the inputs are well
 * conditioned (leverage 1.05× up to the tier maximum) they agree to a few ulps, and the decimal form
 * is the root of the tier its price lies in (the maintenance-margin condition holds with equality).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getVenue, listVenues, tierFor } from '../src/venue/index.js';
import { exactLiquidationPrice, exactMaintenanceMargin, XD } from '../src/venue/math-exact.js';
import type { Side } from '../src/venue/types.js';

const ASOF = Date.UTC(2025, 5, 1);

describe('closed forms: doubles (engine) against decimals (calc)', () => {
  for (const { id } of listVenues()) {
    it(`${id}: within 1e-12 relative, and the decimal price zeroes the margin excess of its tier`, () => {
      const venue = getVenue(id);
      fc.assert(
        fc.property(
          fc.constantFrom<Side>(1, -1),
          fc.double({ min: 0.001, max: 50, noNaN: true }),
          fc.double({ min: 100, max: 100_000, noNaN: true }),
          fc.double({ min: 0, max: 1, noNaN: true }),
          (s, qty, ep, f) => {
            const tiers = venue.tiers('BTCUSDT', ASOF);
            const maxLev = Math.min(tierFor(tiers, qty * ep).maxLeverage, 125);
            const lev = 1.05 + f * (maxLev - 1.05);
            const wb = (qty * ep) / lev;
            const approx = venue.isolatedLiquidationPrice({ side: s, qty, entryPrice: ep, walletBalance: wb, leverage: lev, tiers });
            const exact = exactLiquidationPrice(venue, { side: s, qty: new XD(qty), entryPrice: new XD(ep), walletBalance: new XD(wb), tiers });
            if (!(approx > 0)) {
              expect(exact).toBeNull();
              return;
            }
            expect(exact).not.toBeNull();
            const rel = Math.abs(exact!.toNumber() - approx) / approx;
            expect(rel).toBeLessThan(1e-12);
            // the condition at the decimal price: wallet + uPnL = maintenance margin (+ OKX's taker add-on), to 1e-25 of the notional
            const model = venue.maintenance;
            const q = new XD(qty);
            const e = new XD(ep);
            const upnl = exact!.minus(e).times(q).times(s);
            const mm = exactMaintenanceMargin(model, tiers, q, e, exact!);
            expect(new XD(wb).plus(upnl).minus(mm).abs().div(q.times(e)).toNumber()).toBeLessThan(1e-25);
          },
        ),
        { numRuns: 300, seed: 11 },
      );
    });
  }
});
