/** The intrabar path functions (src/engine/path.ts), without a replay. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { adverseOverStretch, bisectLine, firstNonPositive as firstNonPositiveInto, highFirst, hitTime as hitTimeInto, PATH_HIGH, PATH_LEVEL, PATH_OUT, PATH_TAU, pathCells, priceAt, rangeFrom, writePath, type PathFunction } from '../src/engine/path.js';

const path = (...pts: number[][]): Float64Array => Float64Array.from(pts.flat());

/** the searches take their doubles from cells and answer there (path.ts PATH_TAU): as values, for the tables below */
const io = pathCells();
function hitTime(p: Float64Array, s: number, level: number, up: boolean, tau: number): number {
  io.fill(NaN);
  io[PATH_TAU] = tau;
  io[PATH_LEVEL] = level;
  hitTimeInto(p, s, up, io);
  return io[PATH_OUT]!;
}
function firstNonPositive(f: PathFunction, tau: number): number {
  io.fill(NaN);
  io[PATH_TAU] = tau;
  firstNonPositiveInto(f, io);
  return io[PATH_OUT]!;
}

describe('path points and prices', () => {
  it('nearest-first goes to the nearer extreme first, ties high first; fixed modes ignore the bar', () => {
    expect(highFirst('nearest-first', 100, 104, 95)).toBe(true);
    expect(highFirst('nearest-first', 100, 106, 95)).toBe(false);
    expect(highFirst('nearest-first', 100, 105, 95)).toBe(true);
    expect(highFirst('high-first', 100, 200, 99)).toBe(true);
    expect(highFirst('low-first', 100, 101, 1)).toBe(false);
    const p = new Float64Array(8);
    writePath(p, 1, 100, 104, 95, 101, false);
    expect([...p]).toEqual([0, 0, 0, 0, 100, 95, 104, 101]);
  });

  it('priceAt is linear on each segment and the close from τ = 3 on', () => {
    const p = path([100, 104, 95, 101]);
    expect(priceAt(p, 0, 0)).toBe(100);
    expect(priceAt(p, 0, 0.5)).toBe(102);
    expect(priceAt(p, 0, 1)).toBe(104);
    expect(priceAt(p, 0, 1.5)).toBe(99.5);
    expect(priceAt(p, 0, 2.5)).toBe(98);
    expect(priceAt(p, 0, 3)).toBe(101);
    expect(priceAt(p, 0, 7)).toBe(101);
  });
});

describe('hitTime', () => {
  const p = path([100, 104, 95, 101]);
  it('finds the first crossing at or after τ, up or down', () => {
    expect(hitTime(p, 0, 103, true, 0)).toBeCloseTo(0.75, 12);
    expect(hitTime(p, 0, 96, false, 0)).toBeCloseTo(1 + 8 / 9, 12);
    expect(hitTime(p, 0, 103, true, 1.2)).toBe(Infinity); // after the high: down to 95, back up to 101 only
    expect(hitTime(p, 0, 98, true, 2)).toBeCloseTo(2.5, 12);
  });
  it('a level already passed at τ is hit at τ (a gap); a level never reached is Infinity', () => {
    expect(hitTime(p, 0, 102, false, 0)).toBe(0);
    expect(hitTime(p, 0, 110, true, 0)).toBe(Infinity);
    expect(hitTime(p, 0, 90, false, 0)).toBe(Infinity);
    expect(hitTime(p, 0, 100, true, 3)).toBe(3);
    expect(hitTime(p, 0, 102, true, 3)).toBe(Infinity);
  });
  it('property: the price at the hit time is the level (within rounding), and nothing earlier reaches it', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 1000, noNaN: true }), { minLength: 4, maxLength: 4 }), fc.double({ min: 1, max: 1000, noNaN: true }), fc.boolean(), fc.double({ min: 0, max: 3, noNaN: true }), (pts, level, up, tau) => {
        const q = Float64Array.from(pts);
        const t = hitTime(q, 0, level, up, tau);
        const reached = (x: number) => (up ? x >= level - 1e-9 * level : x <= level + 1e-9 * level);
        if (t === Infinity) {
          for (let k = 0; k <= 300; k++) {
            const u = tau + ((3 - tau) * k) / 300;
            expect(up ? priceAt(q, 0, u) < level : priceAt(q, 0, u) > level).toBe(true);
          }
          return;
        }
        expect(t).toBeGreaterThanOrEqual(tau);
        expect(reached(priceAt(q, 0, t))).toBe(true);
        if (t > tau) {
          for (let k = 0; k < 100; k++) {
            const u = tau + ((t - tau) * k) / 100;
            if (t - u > 1e-9) expect(up ? priceAt(q, 0, u) < level : priceAt(q, 0, u) > level).toBe(true);
          }
        }
      }),
      { numRuns: 300, seed: 3 },
    );
  });
});

describe('rangeFrom', () => {
  const range = (p: Float64Array, s: number, tau: number): [number, number] => {
    io.fill(NaN);
    io[PATH_TAU] = tau;
    rangeFrom(p, s, io);
    return [io[PATH_OUT]!, io[PATH_HIGH]!];
  };
  it('the price at τ and the corners after it; an empty range where the path has no price', () => {
    const p = path([0, 0, 0, 0], [100, 104, 95, 101]);
    expect(range(p, 1, 0)).toEqual([95, 104]);
    expect(range(p, 1, 0.5)).toEqual([95, 104]);
    expect(range(p, 1, 1.5)).toEqual([95, 101]); // the high is behind
    expect(range(p, 1, 2.5)).toEqual([98, 101]);
    expect(range(p, 1, 3)).toEqual([101, 101]);
    expect(range(path([NaN, NaN, NaN, NaN]), 0, 0)).toEqual([Infinity, -Infinity]);
  });
  it('property: every price the rest of the path takes lies in the range, and its ends are taken', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 1000, noNaN: true }), { minLength: 4, maxLength: 4 }), fc.double({ min: 0, max: 3, noNaN: true }), (pts, tau) => {
        const q = Float64Array.from(pts);
        const [lo, hi] = range(q, 0, tau);
        const seen: number[] = [];
        for (let k = 0; k <= 300; k++) seen.push(priceAt(q, 0, tau + ((3 - tau) * k) / 300));
        for (let k = Math.floor(tau) + 1; k <= 3; k++) seen.push(q[k]!);
        for (const v of seen) {
          expect(v).toBeGreaterThanOrEqual(lo);
          expect(v).toBeLessThanOrEqual(hi);
        }
        expect(seen).toContain(lo);
        expect(seen).toContain(hi);
      }),
      { numRuns: 300 },
    );
  });
});

describe('adverseOverStretch', () => {
  const p = path([100, 104, 95, 101]);
  const at = (q: number, a: number, b: number) => {
    const out = new Float64Array(1);
    adverseOverStretch(p, 0, q, a, b, out);
    return out[0];
  };
  it('takes the ends and the corners inside the stretch, per side', () => {
    expect(at(1, 0, 3)).toBe(95);
    expect(at(-1, 0, 3)).toBe(104);
    expect(at(1, 0, 0.5)).toBe(100);
    expect(at(-1, 0, 0.5)).toBe(102);
    expect(at(1, 2.5, 3)).toBe(98);
    expect(at(1, 0, 0)).toBe(100);
  });
});

describe('bisection', () => {
  /** f as the engine's path functions give it: whether f(τ) ≤ 0 */
  const judged = (f: (t: number) => number) => ({ nonPositiveAt: (t: number) => f(t) <= 0 });
  it('firstNonPositive returns τ when already ≤ 0, Infinity when never, and the root of a linear segment', () => {
    expect(firstNonPositive(judged(() => -1), 0.4)).toBe(0.4);
    expect(firstNonPositive(judged(() => 1), 0)).toBe(Infinity);
    // f falls linearly from 1 at τ = 1 to −1 at τ = 2 (root 1.5), and is positive before
    const f = (t: number) => (t < 1 ? 1 : 1 - 2 * (t - 1));
    expect(firstNonPositive(judged(f), 0)).toBeCloseTo(1.5, 12);
    expect(f(firstNonPositive(judged(f), 0))).toBeLessThanOrEqual(0);
    // starting inside the segment
    expect(firstNonPositive(judged(f), 1.2)).toBeCloseTo(1.5, 12);
  });
  it('bisectLine finds the prices on the line where excess reaches 0', () => {
    const start = Float64Array.from([100, 50]);
    const end = Float64Array.from([80, 40]);
    const out = new Float64Array(2);
    // excess = price of symbol 0 − 90: the line crosses at its middle
    bisectLine(start, end, out, (x) => x[0]! - 90 <= 0);
    expect(out[0]).toBeCloseTo(90, 9);
    expect(out[1]).toBeCloseTo(45, 9);
    bisectLine(start, end, out, (x) => x[0]! - 200 <= 0);
    expect([...out]).toEqual([100, 50]);
  });
});
