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
