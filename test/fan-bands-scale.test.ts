/**
 * The fan chart of a stress population holds one curve per Monte Carlo path: fanBands took the
 * earliest start and latest end with Math.min(...) / Math.max(...) of one value per curve, a call
 * of that many arguments, which overflows the stack beyond ≈ 120,000 of them (RangeError: Maximum
 * call stack size exceeded), so the report of a population of 150,000 paths (`stress --paths 150000
 * --max-runs …`, one setup) crashed after every run was done.
 */
import { describe, expect, it } from 'vitest';
import { fanBands } from '../src/analysis/stress.js';

describe('fanBands of many curves', () => {
  it('bands 200,000 curves without a RangeError (shared axis)', () => {
    const n = 200_000;
    const axis = [0, 1000];
    const curves = Array.from({ length: n }, (_, i) => ({ time: axis, value: [100, i % 1000] }));
    const f = fanBands(curves, 101);
    expect(f.runs).toBe(n);
    expect(f.time).toEqual(axis);
    expect(f.bands.every((b) => b[0] === 100)).toBe(true);
  });

  it('bands 200,000 curves of different spans on a grid from the earliest start to the latest end', () => {
    const n = 200_000;
    const curves = Array.from({ length: n }, (_, i) => ({ time: [i, i + 10, i + 20], value: [1, 2, 3] }));
    const f = fanBands(curves, 5);
    expect(f.runs).toBe(n);
    expect(f.time[0]).toBe(0);
    expect(f.time[f.time.length - 1]).toBe(n - 1 + 20);
  });
});
