/** `marginlab calc` review: inputs a demanding user sends (independent decimal reference in the comments). */
import { describe, expect, it } from 'vitest';
import { evaluate, evaluateLine } from '../src/venue/calc.js';

describe('calc liquidationPrice, okx', () => {
  it('takerFee enters the condition with a symbol tier table too (not only with mmr)', () => {
    // default okx table tier 1: MMR 1 %; LP = (EP − M/Q) / (1 − (MMR + taker)) = 8 / (1 − 0.011)
    const line = { op: 'liquidationPrice', venue: 'okx', side: 'long', qty: 1, entryPrice: 10, walletBalance: 2, symbol: 'XYZUSDT' };
    expect(evaluate({ ...line, takerFee: 0.001 }).liquidationPrice).toBeCloseTo(8 / (1 - 0.011), 12);
    expect(evaluate({ ...line, takerFee: 0 }).liquidationPrice).toBeCloseTo(8 / (1 - 0.01), 12);
    expect(evaluate(line).liquidationPrice).toBeCloseTo(8 / (1 - 0.0105), 12);
  });
});

describe('calc liquidationPrice, okx cross', () => {
  it('takerFee is the add-on of the other legs\' maintenance margin and of the target', () => {
    const line = (takerFee?: number) => ({
      op: 'liquidationPrice', venue: 'okx', mode: 'cross', walletBalance: 1000, target: 'AUSDT', ...(takerFee === undefined ? {} : { takerFee }),
      positions: [
        { symbol: 'AUSDT', side: 'long', qty: 1, entryPrice: 1000, markPrice: 1000, mmr: 0.01 },
        { symbol: 'BUSDT', side: 'short', qty: 10, entryPrice: 100, markPrice: 110, mmr: 0.01 },
      ],
    });
    // WB' = 1000 − 100 (B uPnL) − 1100 × (0.01 + t); LP = (EP − WB'/Q) / (1 − (0.01 + t))
    const lp = (t: number) => (1000 - (900 - 1100 * (0.01 + t))) / (1 - (0.01 + t));
    expect(evaluate(line(0.001)).liquidationPrice).toBeCloseTo(lp(0.001), 9);
    expect(evaluate(line()).liquidationPrice).toBeCloseTo(lp(0.0005), 9);
  });
});

describe('calc op and venue names', () => {
  it('names of Object.prototype members are unknown ops and venues, not a copy of the input or an internal error', () => {
    for (const op of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
      const r = evaluateLine(JSON.stringify({ op, side: 'long' }));
      expect(r.ok).toBe(false);
      expect(JSON.parse(r.text).error).toMatch(new RegExp(`^unknown op "${op}"; known ops: liquidationPrice, `));
    }
    for (const venue of ['constructor', '__proto__', 'toString']) {
      const r = evaluateLine(JSON.stringify({ op: 'liquidationPrice', venue, side: 'long', qty: 1, entryPrice: 1, walletBalance: 1, mmr: 0.01 }));
      expect(JSON.parse(r.text).error).toBe(`unknown venue "${venue}"; known venues: binance-usdm, bybit-linear, hyperliquid, okx`);
    }
  });
});
