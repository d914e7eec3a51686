/**
 * `marginlab calc` on the venues other than binance-usdm, checked against an independent decimal re-derivation of
 * margin-spec.md §2–§5 (the expected numbers are worked out in the comments).
 */
import { describe, expect, it } from 'vitest';
import { runCalcLiq } from '../src/venue/calc-cli.js';

const liqJson = (opts: Record<string, string | boolean>) => JSON.parse(runCalcLiq({ json: true, ...opts })) as { liquidationPrice: number | null; notes?: string[] };

describe('calc liq, hyperliquid: the leverage note reads the maximum leverage the price was computed with', () => {
  const base = { venue: 'hyperliquid', side: 'long', entry: '100', qty: '1' };
  it('--max-leverage 50 with --leverage 40: no note (the default table\'s 10x was said to be exceeded)', () => {
    // l = 1/100, margin 2.5: LP = 100 − (2.5 − 1)/0.99 = 98.48…
    const r = liqJson({ ...base, leverage: '40', maxLeverage: '50' });
    expect(r.liquidationPrice).toBeCloseTo(100 - 1.5 / 0.99, 12);
    expect(r.notes ?? []).toEqual([]);
  });
  it('--max-leverage 50 with --leverage 60: the note names 50x (it named 10x)', () => {
    const r = liqJson({ ...base, leverage: '60', maxLeverage: '50' });
    expect(r.notes).toEqual([expect.stringMatching(/^leverage 60x is above the 50x maximum/)]);
  });
  it('--symbol BTC (50x) with --leverage 40: no note, with --leverage 60 one naming 50x', () => {
    expect(liqJson({ ...base, leverage: '40', symbol: 'BTC', asOf: '2025-01-01' }).notes ?? []).toEqual([]);
    expect(liqJson({ ...base, leverage: '60', symbol: 'BTC', asOf: '2025-01-01' }).notes).toEqual([expect.stringMatching(/^leverage 60x is above the 50x maximum/)]);
  });
});
