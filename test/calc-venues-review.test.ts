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

describe('calc liq, okx: the explanation holds every term of the price', () => {
  it('BTCUSDT tier 3 (MMR 0.8 %, cum 7,000): the terms printed reproduce the price (cum was left out)', () => {
    // cum = 500,000 × 0.002 + 3,000,000 × 0.002 = 7,000; LP = (60,000 − (600,000 + 7,000)/100) / (1 − 0.0085) = 54,392.33…
    // (without cum, 54,462.93)
    const text = runCalcLiq({ venue: 'okx', side: 'long', entry: '60000', qty: '100', leverage: '10', symbol: 'BTCUSDT', asOf: '2025-01-01' });
    expect(text).toMatch(/^liquidation price: 54392\.3348462$/m);
    expect(text).toMatch(/^ {2}MMR, cum {4}0\.008, 7000 /m);
    expect(text).toMatch(/\(Margin \+ cum\)/);
  });
});
