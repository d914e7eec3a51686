/** The analysis' exact money (src/analysis/money.ts) against decimal.js: parse, print, sum. */
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { fromU, toU, uToNumber } from '../src/analysis/money.js';

const dec = fc.tuple(fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }), fc.integer({ min: 0, max: 18 })).map(([m, k]) => new Decimal(m.toString()).div(new Decimal(10).pow(k)).toFixed());

describe('analysis money: BigInt units of 1e-18', () => {
  it('toU then fromU gives back Decimal.toFixed() of the string; uToNumber its nearest double', () => {
    fc.assert(
      fc.property(dec, (s) => {
        expect(fromU(toU(s))).toBe(new Decimal(s).toFixed());
        expect(uToNumber(toU(s))).toBe(new Decimal(s).toNumber());
      }),
      { numRuns: 3000 },
    );
  });
  it('short decimals (at most 15 digits: the parse through a double) give the exact units, at the bound too', () => {
    const short = fc.tuple(fc.bigInt({ min: -(10n ** 15n) + 1n, max: 10n ** 15n - 1n }), fc.integer({ min: 0, max: 15 })).map(([m, k]) => new Decimal(m.toString()).div(new Decimal(10).pow(k)).toFixed(k));
    fc.assert(
      fc.property(short, (s) => {
        expect(toU(s)).toBe(BigInt(new Decimal(s).times('1e18').toFixed(0)));
      }),
      { numRuns: 20000 },
    );
    // 15 digits (the double path) and 16 (the string path), with leading zeros, signs and k = 0
    for (const s of ['999999999999999', '-999999999999999', '9999999.99999999', '-0.00000000000001', '0000000000000.01', '9999999999999999', '-99999999.99999999', '0.000000000000001', '-0', '0'])
      expect(toU(s)).toBe(BigInt(new Decimal(s).times('1e18').toFixed(0)));
  });
  it('sums are exact; more than 18 places or an exponent round half-even', () => {
    fc.assert(
      fc.property(fc.array(dec, { maxLength: 30 }), (xs) => {
        const sum = xs.reduce((a, x) => a + toU(x), 0n);
        const W = Decimal.clone({ precision: 100 });
        expect(fromU(sum)).toBe(xs.reduce((a, x) => a.plus(x), new W(0)).toFixed());
      }),
    );
    expect(fromU(toU('0.0000000000000000015'))).toBe('0.000000000000000002');
    expect(fromU(toU('0.0000000000000000025'))).toBe('0.000000000000000002');
    expect(fromU(toU('1e-18'))).toBe('0.000000000000000001');
    expect(fromU(toU('-0'))).toBe('0');
  });
});
