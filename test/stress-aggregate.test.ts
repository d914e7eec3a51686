import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  distribution,
  expectedShortfall,
  fanBands,
  maxLeverageUnder,
  pairedBootstrap,
  quantileSorted,
  summarizeOutcomes,
  survivalCurve,
  wilson,
  type StressOutcome,
} from '../src/analysis/stress.js';

describe('Wilson score interval (95 %)', () => {
  // Newcombe (1998), "Two-sided confidence intervals for the single proportion", Stat. Med. 17:857–872, Table I, method 3
  it.each([
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
    // hand-computed: 5/10 → 0.5 ± 1.96·√(0.025 + 0.0096)/1.38415
    [5, 10, 0.2366, 0.7634],
  ])('%i of %i → [%f, %f]', (k, n, lo, hi) => {
    const w = wilson(k, n);
    expect(w.p).toBe(k / n);
    expect(w.lo!).toBeCloseTo(lo, 4);
    expect(w.hi!).toBeCloseTo(hi, 4);
  });
  it('exact ends at 0 and n; nothing for n = 0; bad input refused', () => {
    expect(wilson(0, 12)).toMatchObject({ lo: 0 });
    expect(wilson(12, 12)).toMatchObject({ hi: 1 });
    expect(wilson(12, 12).lo!).toBeCloseTo(0.7575, 4);
    expect(wilson(0, 0)).toEqual({ k: 0, n: 0, p: null, lo: null, hi: null });
    expect(() => wilson(3, 2)).toThrow(RangeError);
    expect(() => wilson(0.5, 2)).toThrow(RangeError);
  });
  it('contains the estimate and stays in [0, 1] (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5000 }), fc.double({ min: 0, max: 1, noNaN: true }), (n, f) => {
        const k = Math.floor(f * n);
        const w = wilson(k, n);
        return w.lo! >= 0 && w.hi! <= 1 && w.lo! <= w.p! + 1e-12 && w.p! <= w.hi! + 1e-12;
      }),
    );
  });
});

describe('quantiles, distributions, expected shortfall', () => {
  it('type 7 quantiles (NumPy / R default)', () => {
    const s = [1, 1, 2, 3, 4, 5, 6, 9];
    expect([0.05, 0.25, 0.5, 0.75, 0.95].map((q) => quantileSorted(s, q)!)).toEqual([1, 1.75, 3.5, 5.25, expect.closeTo(7.95, 12)]);
    expect(quantileSorted([], 0.5)).toBeNull();
    expect(quantileSorted([7], 0.95)).toBe(7);
  });
  it('distribution drops null and non-finite values', () => {
    const d = distribution([3, null, 1, Number.NaN, 2]);
    expect(d).toEqual({ n: 3, q: [1.1, 1.5, 2, 2.5, 2.9].map((x) => expect.closeTo(x, 12)), mean: 2 });
  });
  it('expected shortfall: mean of the worst ⌈α·n⌉ outcomes', () => {
    const r = Array.from({ length: 40 }, (_, i) => i - 10); // −10 … 29
    expect(expectedShortfall(r, 0.05)).toBe((-10 + -9) / 2);
    expect(expectedShortfall(r, 0.1)).toBe((-10 - 9 - 8 - 7) / 4);
    expect(expectedShortfall([5, 3], 0.05)).toBe(3); // at least one outcome
    expect(expectedShortfall([])).toBeNull();
  });
});

describe('summarizeOutcomes', () => {
  const o = (ret: number, liq: boolean, wipe = false, ttl: number | null = null): StressOutcome => ({
    totalReturn: ret,
    maxDrawdown: Math.max(0, -ret),
    liquidationLoss: liq ? -ret * 10 : 0,
    liquidated: liq,
    wipedOut: wipe,
    timeToLiquidationMs: ttl,
  });
  it('counts liquidations and wipe-outs with intervals, time to liquidation over liquidated runs only', () => {
    const s = summarizeOutcomes([o(5, false), o(-40, true, false, 3_600_000), o(-97, true, true, 7_200_000), o(2, false)]);
    expect(s.runs).toBe(4);
    expect(s.liquidation).toEqual(wilson(2, 4));
    expect(s.wipeOut).toEqual(wilson(1, 4));
    expect(s.timeToLiquidationMs.n).toBe(2);
    expect(s.timeToLiquidationMs.q[2]).toBe(5_400_000);
    expect(s.liquidationLoss.n).toBe(4);
    expect(s.expectedShortfall5).toBe(-97);
  });
});

describe('leverage survival', () => {
  const pts = (lev: number, k: number, n: number) => Array.from({ length: n }, (_, i) => ({ leverage: lev, liquidated: i < k }));
  it('curve per leverage and the highest leverage under the threshold', () => {
    const c = survivalCurve([...pts(10, 1, 40), ...pts(3, 0, 40), ...pts(25, 12, 40), ...pts(5, 0, 40)]);
    expect(c.map((x) => [x.leverage, x.liquidation.k, x.liquidation.n])).toEqual([[3, 0, 40], [5, 0, 40], [10, 1, 40], [25, 12, 40]]);
    expect(maxLeverageUnder(c)!.leverage).toBe(10); // 2.5 % < 5 %
    expect(maxLeverageUnder(c, 0.02)!.leverage).toBe(5);
    expect(maxLeverageUnder(survivalCurve(pts(3, 2, 10)))).toBeNull();
    // a leverage where no run held a position (every order rejected) is untested: it never counts as surviving
    const rejected = (lev: number, n: number) => Array.from({ length: n }, () => ({ leverage: lev, liquidated: false, inPosition: false }));
    const u = survivalCurve([...pts(3, 0, 10), ...rejected(125, 10)]);
    expect(u.map((x) => [x.leverage, x.untested])).toEqual([[3, false], [125, true]]);
    expect(maxLeverageUnder(u)!.leverage).toBe(3);
    expect(maxLeverageUnder(survivalCurve(rejected(3, 5)))).toBeNull();
    // one run in a position makes the leverage tested
    expect(survivalCurve([...rejected(10, 4), { leverage: 10, liquidated: false, inPosition: true }])[0]!.untested).toBe(false);
        // stays under: a leverage above a failing one never counts
    expect(maxLeverageUnder(survivalCurve([...pts(3, 5, 10), ...pts(5, 0, 10)]))).toBeNull();
  });
  it('a run wiped out without a liquidation did not survive: the highest leverage weighs liquidations and wipe-outs', () => {
    // 20×: 1 of 12 paths lost the account without a liquidation (sma-cross on the Monte Carlo paths)
    const c = survivalCurve([...pts(3, 0, 12), ...pts(10, 0, 12), ...Array.from({ length: 12 }, (_, i) => ({ leverage: 20, liquidated: false, wipedOut: i === 0 }))]);
    const at20 = c.find((x) => x.leverage === 20)!;
    expect([at20.liquidation.k, at20.failure.k, at20.failure.n]).toEqual([0, 1, 12]);
    expect(maxLeverageUnder(c)!.leverage).toBe(10);
    // a run liquidated and wiped out counts once
    expect(survivalCurve([{ leverage: 5, liquidated: true, wipedOut: true }, { leverage: 5, liquidated: false }])[0]!.failure.k).toBe(1);
    // a wiped-out run held a position: the leverage is tested
    expect(survivalCurve([{ leverage: 5, liquidated: false, wipedOut: true, inPosition: false }])[0]!.untested).toBe(false);
  });
  it('liquidation probability is monotone in leverage when liquidation is (property: fixed path set)', () => {
    // on a fixed set of paths, a path that liquidates a position at leverage L also liquidates it at L' > L
    // (the liquidation threshold only moves closer); the curve built from such outcomes never decreases
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0.001, max: 0.9, noNaN: true }), { minLength: 1, maxLength: 60 }), fc.uniqueArray(fc.integer({ min: 1, max: 125 }), { minLength: 2, maxLength: 8 }), (drops, levs) => {
        const points = levs.flatMap((L) => drops.map((d) => ({ leverage: L, liquidated: d >= 1 / L })));
        const c = survivalCurve(points);
        for (let i = 1; i < c.length; i++) if (c[i]!.liquidation.p! < c[i - 1]!.liquidation.p!) return false;
        return true;
      }),
    );
  });
});

describe('paired bootstrap of the mode difference', () => {
  it('deterministic for a seed, and the interval covers the mean', () => {
    const a = Array.from({ length: 50 }, (_, i) => Math.sin(i) * 10 + 2);
    const b = Array.from({ length: 50 }, (_, i) => Math.sin(i) * 10);
    const x = pairedBootstrap(a, b, { iterations: 500, seed: 7 });
    expect(pairedBootstrap(a, b, { iterations: 500, seed: 7 })).toEqual(x);
    // a − b is exactly 2 on every pair: no spread at all
    expect(x.mean).toBeCloseTo(2, 12);
    expect(x.lo).toBeCloseTo(2, 12);
    expect(x.hi).toBeCloseTo(2, 12);
    expect(x.noise).toBe(false);
  });
  it('a difference centred on 0 is reported as noise; a clear one is not', () => {
    const noise = Array.from({ length: 60 }, (_, i) => (i % 2 ? 3 : -3) + (i % 7) * 0.01);
    const r = pairedBootstrap(noise, new Array(60).fill(0), { seed: 1 });
    expect(r.noise).toBe(true);
    expect(r.lo!).toBeLessThan(0);
    expect(r.hi!).toBeGreaterThan(0);
    const clear = pairedBootstrap(noise.map((x) => x + 5), new Array(60).fill(0), { seed: 1 });
    expect(clear.noise).toBe(false);
    expect(clear.lo!).toBeGreaterThan(0);
  });
  it('pairs equal but for rounding (the same wallet under both modes) are a tie, not a winner', () => {
    // total returns of one wallet reached by two summation orders: 2e-14 apart on 3 of 6 views
    const a = [-0.895485428, -0.895485428, 1.2, 0.3, 0.3, -0.1];
    const b = a.map((x, i) => (i % 2 ? x + 2e-14 * Math.max(1, Math.abs(x)) : x));
    const r = pairedBootstrap(b, a, { seed: 3 });
    expect(r).toMatchObject({ mean: 0, lo: 0, hi: 0, noise: true });
    // a real difference of 1e-6 stays one
    expect(pairedBootstrap(a.map((x) => x + 1e-6), a, { seed: 3 }).noise).toBe(false);
  });
  it('drops unpaired values; too few pairs give no interval', () => {
    expect(pairedBootstrap([1, null], [0, 2])).toMatchObject({ n: 1, mean: 1, lo: null, hi: null, noise: true });
    // 2 to 5 pairs all differing the same way: a sign test cannot reach 5 % (5 of 5: 6.25 %), yet the
    // bootstrap of equal differences is the point [d, d]; 2 of 2 wiped out under cross only decided a verdict
    for (const n of [2, 3, 5]) {
      expect(pairedBootstrap(new Array(n).fill(1), new Array(n).fill(0))).toMatchObject({ n, mean: 1, lo: null, hi: null, noise: true });
    }
    expect(pairedBootstrap(new Array(6).fill(1), new Array(6).fill(0))).toMatchObject({ n: 6, mean: 1, lo: 1, hi: 1, noise: false });
    expect(() => pairedBootstrap([1], [1, 2])).toThrow(RangeError);
  });
});

describe('fan bands', () => {
  it('quantiles per grid time of step-interpolated curves', () => {
    const curves = [0, 1, 2, 3, 4].map((k) => ({ time: [0, 50, 100], value: [100, 100 + k, 100 + 2 * k] }));
    const f = fanBands(curves, 3);
    expect(f.time).toEqual([0, 50, 100]);
    expect(f.runs).toBe(5);
    expect(f.bands[2]).toEqual([100, 102, 104]); // median
    expect(f.bands[0]![2]).toBeCloseTo(100.4, 12); // 5 % of [100,102,104,106,108]
    // a curve with fewer points (downsampled) is read as a step function
    const g = fanBands([{ time: [0, 100], value: [1, 3] }, { time: [0, 40, 100], value: [1, 2, 3] }], 3);
    expect(g.bands[2]).toEqual([1, 1.5, 3]);
    expect(fanBands([]).runs).toBe(0);
  });
  it('curves on one time axis (the equity grid: 101 bars of the run) are banded at those times, every point its own', () => {
    // 480 hourly bars: grid point k is bar round(k · 479 / 100); evenly spaced times fell between bars and half the
    // points read the one before (the median read 0, 0, 1, 3, 4, 4, …: point 2 never shown, a crash drawn a step late)
    const t0 = Date.UTC(2025, 5, 1);
    const gridTime = Array.from({ length: 101 }, (_, k) => t0 + Math.round((k * 479) / 100) * 3_600_000);
    const f = fanBands([0, 1, 2].map((d) => ({ time: gridTime, value: gridTime.map((_, k) => k + d) })), 101);
    expect(f.time).toEqual(gridTime);
    expect(f.bands[2]).toEqual(gridTime.map((_, k) => k + 1));
  });
});
