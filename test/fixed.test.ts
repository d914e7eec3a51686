/**
 * The books' fixed-point arithmetic (src/account/fixed.ts) against decimal.js: every rounding
 * function gives exactly the unit decimal.js gives for the same decimals (each double meaning its
 * shortest decimal), on the double fast path and on the BigInt path, ties included.
 */
import fc from 'fast-check';
import { Decimal } from 'decimal.js';
import { describe, expect, it } from 'vitest';
import { decompose, divUnits, mulDivUnits, mulUnits, parseUnits, roundUnits, unitsPerQty, unitsToNumber, unitsToString } from '../src/account/fixed.js';

const W = Decimal.clone({ precision: 400, rounding: Decimal.ROUND_HALF_EVEN });
const ref = (v: Decimal): string => v.times(1e8).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).toFixed(0);
const u = (x: bigint): string => x.toString();

/** doubles as a user's data has them: short decimals (tick prices, steps, rates) and arbitrary 17-digit doubles */
const shortDec = fc.tuple(fc.integer({ min: 1, max: 999_999_999 }), fc.integer({ min: 0, max: 12 })).map(([m, k]) => Number(`${m}e-${k}`));
const anyPos = fc.double({ min: 1e-9, max: 1e9, noNaN: true, noDefaultInfinity: true }).filter((x) => x > 0);
const price = fc.oneof(shortDec, anyPos, fc.constantFrom(0.1, 0.3, 65432.1, 0.000012345, 1e-8, 123456789.123, 1 / 3));
const lots = fc.oneof(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));
const step = fc.constantFrom(1, 0.1, 0.01, 0.001, 0.00001, 1e-8, 1e-9, 5, 0.025, 1000);
const rate = fc.oneof(fc.constantFrom(0.0002, 0.0005, 0.0004, 0.00075, 0.01), fc.double({ min: -0.01, max: 0.01, noNaN: true }), shortDec.map((x) => x / 1e6));
const lev = fc.oneof(fc.integer({ min: 1, max: 125 }), fc.constantFrom(12.5, 2.5, 33.3, 1.1), fc.double({ min: 1, max: 200, noNaN: true }));
const units = fc.oneof(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.bigInt({ min: -(10n ** 30n), max: 10n ** 30n }));

describe('decompose: the shortest decimal of a double', () => {
  it('mantissa × 10^-places is exactly the decimal String(x) prints', () => {
    fc.assert(
      fc.property(fc.oneof(price, rate, lots.map(Number), fc.double({ noNaN: true, noDefaultInfinity: true })), (x) => {
        const d = decompose(x);
        if (d === null) return;
        expect(new W(d.mantissa).div(new W(10).pow(d.places)).equals(new W(x))).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });
});

describe('roundUnits = decimal.js, half-even to 1e-8', () => {
  it('lots × step × price × rate ÷ leverage', () => {
    fc.assert(
      fc.property(lots, step, price, rate, lev, (l, s, p, r, L) => {
        const want = ref(new W(l).times(s).times(p).times(r).div(L));
        expect(u(roundUnits(l, s, p, r, L))).toBe(want);
      }),
      { numRuns: 4000 },
    );
  });
  it('one long factor (a 17-digit price, in any position, any sign) without a divisor: the two-limb path', () => {
    const long = fc.oneof(anyPos, anyPos.map((x) => -x), fc.double({ min: 1e-3, max: 1e5, noNaN: true }));
    const small = fc.oneof(lots.filter((l) => l < 1e6), step, rate.filter((r) => Math.abs(r) >= 1e-6));
    fc.assert(
      fc.property(long, small, small, small, fc.nat(3), (x, s1, s2, s3, at) => {
        const f = [s1, s2, s3];
        f.splice(at, 0, x);
        const want = ref(new W(f[0]!).times(f[1]!).times(f[2]!).times(f[3]!));
        expect(u(roundUnits(f[0]!, f[1]!, f[2]!, f[3]!, 1))).toBe(want);
      }),
      { numRuns: 6000 },
    );
    // halves of a unit and long mantissas, both signs
    for (const [a, b] of [[1, 0.000000005], [3, 0.000000005], [12345, 1.2345678901234567e-7], [7, 98765.43210987654]] as const) {
      expect(u(roundUnits(a, b, 1, 1, 1))).toBe(ref(new W(a).times(b)));
      expect(u(roundUnits(-a, b, 1, 1, 1))).toBe(ref(new W(-a).times(b)));
    }
  });
  it('a long factor at or next to a tie of the unit: the certified double product defers to the exact digits', () => {
    // D = m × 10^-9 with m ending in 5 (a 15–17 digit decimal): D × 1e8 ends in exactly .5 units,
    // while the double nearest to D lies a little above or below it. Also decimals one digit off the tie,
    // and the same with other factors (an integer count, a step, a rate) multiplying in.
    let checked = 0;
    fc.assert(
      fc.property(
        fc.bigInt({ min: 10n ** 14n, max: 10n ** 17n - 1n }),
        fc.constantFrom(0n, 4n, 6n),
        fc.constantFrom(9, 10, 12),
        fc.constantFrom<[number, number, number]>([1, 1, 1], [3, 1, 1], [7017, 0.001, 1], [14, 0.001, 0.0005], [2, 0.5, 1], [1, 0.01, 0.0004]),
        fc.boolean(),
        (m0, off, k, [f1, f2, f3], neg) => {
          const m = (m0 / 10n) * 10n + 5n - (off === 0n ? 0n : off - 5n);
          const str = `${neg ? '-' : ''}${m.toString().slice(0, -k) || '0'}.${m.toString().padStart(k + 1, '0').slice(-k)}`;
          const x = Number(str);
          if (!new W(String(x)).equals(new W(str))) return; // not its shortest decimal
          checked++;
          const want = ref(new W(f1).times(f2).times(x).times(f3));
          expect(u(roundUnits(f1, f2, x, f3, 1))).toBe(want);
          expect(u(roundUnits(x, f1, f2, f3, 1))).toBe(want);
        },
      ),
      { numRuns: 3000 },
    );
    expect(checked).toBeGreaterThan(500);
  });
  it('two long factors (a 17-digit mark price × a synthetic funding rate): certified or exact, both signs', () => {
    const long = fc.oneof(anyPos, fc.double({ min: 1e-3, max: 1e5, noNaN: true }).filter((x) => x > 0));
    const lrate = fc.double({ min: 1e-6, max: 0.01, noNaN: true }).filter((x) => x > 0);
    fc.assert(
      fc.property(lots.filter((l) => l < 1e7), step, long, lrate, fc.boolean(), (l, s, p, r, neg) => {
        const rr = neg ? -r : r;
        expect(u(roundUnits(l, s, p, rr, 1))).toBe(ref(new W(l).times(s).times(p).times(rr)));
      }),
      { numRuns: 4000 },
    );
    // the decimals' product (…000.48 units) and the doubles' product (…000.53) straddle a half unit
    const x = 1 + 2 ** -51; // 1.0000000000000004
    const y = 1 + 2 ** -52; // 1.0000000000000002
    expect(ref(new W(8_000_000).times(x).times(y))).toBe('800000000000000');
    expect(roundUnits(8_000_000, 1, x, y, 1)).toBe(800_000_000_000_000n);
    expect(roundUnits(-8_000_000, 1, x, y, 1)).toBe(-800_000_000_000_000n);
  });
  it('a product of short decimals beyond 2^52 (a large count at a 15-digit price): exact, both signs', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 8_000_000 }), fc.constantFrom(0.001, 0.01, 1), fc.bigInt({ min: 10n ** 13n, max: 9n * 10n ** 14n - 1n }), fc.constantFrom(1, 0.0005, 0.0002), (n, st, pm, r) => {
        const p = Number(pm) / 1e10;
        const want = ref(new W(n).times(st).times(p).times(r));
        expect(u(roundUnits(n, st, p, r, 1))).toBe(want);
        expect(u(roundUnits(-n, st, p, r, 1))).toBe(ref(new W(-n).times(st).times(p).times(r)));
      }),
      { numRuns: 3000 },
    );
  });
  it('funding of a large position: short factors whose product of the small ones passes 9e6 (certified, else exact), ties included, both signs', () => {
    const bigLots = fc.oneof(fc.integer({ min: 9_000, max: 1e9 }), fc.integer({ min: 1, max: 2 ** 40 }));
    const tick = fc.tuple(fc.integer({ min: 1, max: 9_999_999 }), fc.integer({ min: 0, max: 4 })).map(([m, k]) => Number(`${m}e-${k}`));
    // funding rates with up to 8 places, and multiples of 5e-9 (products at exactly half a unit)
    const frate = fc.oneof(fc.integer({ min: 1, max: 300_000 }).map((m) => m / 1e8), fc.integer({ min: 1, max: 200_000 }).map((m) => Number(`${5 * m}e-9`)));
    let n = 0;
    fc.assert(
      fc.property(bigLots, fc.constantFrom(1, 0.1, 0.01, 0.001, 0.0001), fc.oneof(tick, anyPos), frate, fc.boolean(), (l, st, px, r, neg) => {
        const rr = neg ? -r : r;
        n++;
        expect(u(roundUnits(l, st, px, rr, 1))).toBe(ref(new W(l).times(st).times(px).times(rr)));
        expect(u(roundUnits(-l, st, px, rr, 1))).toBe(ref(new W(-l).times(st).times(px).times(rr)));
      }),
      { numRuns: 6000 },
    );
    expect(n).toBe(6000);
    // exact half units through this path: 10,001,000 × 0.001 × 0.5 × 1e-8 = 5000.5 units → 5000 (even); 10,003,000 → 5001.5 → 5002
    expect(roundUnits(10_001_000, 0.001, 0.5, 1e-8, 1)).toBe(5000n);
    expect(roundUnits(10_003_000, 0.001, 0.5, 1e-8, 1)).toBe(5002n);
    expect(roundUnits(-10_003_000, 0.001, 0.5, 1e-8, 1)).toBe(-5002n);
  });
  it('ties go to the even unit, on both signs', () => {
    expect(roundUnits(1, 0.000000005, 1, 1, 1)).toBe(0n);
    expect(roundUnits(1, 0.000000015, 1, 1, 1)).toBe(2n);
    expect(roundUnits(-1, 0.000000015, 1, 1, 1)).toBe(-2n);
    expect(roundUnits(-1, 0.000000025, 1, 1, 1)).toBe(-2n);
    expect(roundUnits(3, 0.1, 0.00000005, 1, 1)).toBe(2n); // 1.5e-8 exactly (0.1 means one tenth)
    expect(roundUnits(1, 1, 1, 1, 3)).toBe(33_333_333n);
    expect(roundUnits(2, 1, 1, 1, 3)).toBe(66_666_667n);
  });
  it('0.1 is one tenth: 3 × 0.1 × 1 is exactly 0.3', () => {
    expect(unitsToString(roundUnits(3, 0.1, 1, 1, 1))).toBe('0.3');
  });
});

describe('the other roundings = decimal.js', () => {
  it('mulDivUnits: units × count ÷ count', () => {
    fc.assert(
      fc.property(units, fc.integer({ min: 0, max: 1e9 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (x, n, d) => {
        const want = new W(x.toString()).times(n).div(d).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).toFixed(0);
        expect(u(mulDivUnits(x, n, d))).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });
  it('divUnits: units ÷ a decimal (leverage)', () => {
    fc.assert(
      fc.property(units, lev, (x, L) => {
        const want = new W(x.toString()).div(L).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).toFixed(0);
        expect(u(divUnits(x, L))).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });
  it('mulUnits: units × a decimal (fee rate)', () => {
    fc.assert(
      fc.property(units, rate, (x, r) => {
        const want = new W(x.toString()).times(r).toDecimalPlaces(0, Decimal.ROUND_HALF_EVEN).toFixed(0);
        expect(u(mulUnits(x, r))).toBe(want);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('strings and numbers of units', () => {
  it('unitsToString writes Decimal.toFixed() of units × 1e-8; parseUnits reads it back', () => {
    fc.assert(
      fc.property(units, (x) => {
        const s = unitsToString(x);
        expect(s).toBe(new W(x.toString()).div(1e8).toFixed());
        expect(parseUnits(s, 'x')).toBe(x);
        expect(unitsToNumber(x)).toBe(new W(x.toString()).div(1e8).toNumber());
      }),
      { numRuns: 3000 },
    );
    expect(unitsToString(0n)).toBe('0');
    expect(unitsToString(-1n)).toBe('-0.00000001');
    expect(unitsToString(100_000_000n)).toBe('1');
  });
  it('parseUnits rounds half-even and names what it cannot read', () => {
    expect(parseUnits('1000.123456785', 'deposit')).toBe(100_012_345_678n);
    expect(parseUnits('1000.123456775', 'deposit')).toBe(100_012_345_678n);
    expect(parseUnits('1e12', 'deposit')).toBe(10n ** 20n);
    expect(() => parseUnits('abc', 'initialDeposit')).toThrow(/initialDeposit must be a decimal number/);
    expect(() => parseUnits('Infinity', 'initialDeposit')).toThrow(/finite/);
  });
  it('unitsPerQty: cost ÷ size is the correctly rounded double (a single fill at an exact notional gives its price back)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.constantFrom(1, 0.1, 0.01, 0.001), shortDec, (l, s, p) => {
        const cost = roundUnits(l, s, p, 1, 1);
        const exact = new W(cost.toString()).div(1e8).div(new W(l).times(s));
        expect(unitsPerQty(cost, l, s)).toBe(exact.toNumber());
        if (new W(l).times(s).times(p).times(1e8).isInteger()) expect(unitsPerQty(cost, -l, s)).toBe(p);
      }),
      { numRuns: 3000 },
    );
  });
});
