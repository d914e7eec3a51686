/**
 * Aggregation of stress runs (DESIGN §11): probabilities with 95 % Wilson intervals, quantiles,
 * expected shortfall, leverage-survival curves and a paired bootstrap interval of the difference
 * between two margin modes. Pure and deterministic (the bootstrap is seeded): the same outcomes
 * in the same order give the same numbers, byte for byte. Definitions: docs/metrics.md, Stress.
 */
import { Rng } from '../util/rng.js';

/** z for a two-sided 95 % interval (Φ⁻¹(0.975)). */
export const Z95 = 1.959963984540054;

/** One stress run of one margin setup, as the aggregation sees it. */
export interface StressOutcome {
  /** total return of the run, % (null when undefined) */
  totalReturn: number | null;
  /** max drawdown, % */
  maxDrawdown: number | null;
  /** what the wallet lost to liquidations, quote */
  liquidationLoss: number | null;
  /** at least one liquidation (a crash-pack run: at least one by the shock, at or after its start) */
  liquidated: boolean;
  /** equity fell below 5 % of the start at some time (a crash-pack run: by the shock, not before it) */
  wipedOut: boolean;
  /** from the first bar (or the shock) to the first liquidation (by the shock), ms; null when never liquidated */
  timeToLiquidationMs: number | null;
  /** crash-pack runs: what happened before the shock, counted apart (absent for Monte Carlo paths) */
  beforeShock?: { liquidated: boolean; wipedOut: boolean };
}

export interface Proportion {
  /** successes */
  k: number;
  /** trials */
  n: number;
  /** k / n (null when n = 0) */
  p: number | null;
  /** 95 % Wilson score interval, null when n = 0 */
  lo: number | null;
  hi: number | null;
}

/**
 * Wilson score interval for k successes in n trials (Wilson 1927; Newcombe 1998 method 3, no
 * continuity correction). Unlike the normal approximation it stays inside [0, 1] and is not
 * degenerate at k = 0 or k = n: 0 of 12 gives [0, 24.3 %], not [0, 0].
 */
export function wilson(k: number, n: number, z: number = Z95): Proportion {
  if (!Number.isInteger(k) || !Number.isInteger(n) || k < 0 || n < 0 || k > n) throw new RangeError(`wilson: need integers 0 ≤ k ≤ n (got k=${k}, n=${n})`);
  if (n === 0) return { k, n, p: null, lo: null, hi: null };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  // exact ends at k = 0 and k = n (the formula gives them up to rounding)
  return { k, n, p, lo: k === 0 ? 0 : Math.max(0, centre - half), hi: k === n ? 1 : Math.min(1, centre + half) };
}

/**
 * Quantile of ascending `sorted` values by linear interpolation between order statistics
 * (Hyndman & Fan type 7, the default of R and NumPy): h = (n − 1)·q, x⌊h⌋ + (h − ⌊h⌋)(x⌊h⌋+1 − x⌊h⌋).
 */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number | null {
  const n = sorted.length;
  if (n === 0) return null;
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1] (got ${q})`);
  const h = (n - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

const ascending = (xs: Iterable<number | null>): number[] =>
  [...xs].filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);

/** The quantile levels reported for every distribution. */
export const QUANTILES = [0.05, 0.25, 0.5, 0.75, 0.95] as const;

export interface Distribution {
  /** values counted (finite) */
  n: number;
  /** QUANTILES of the values, in order (null when n = 0) */
  q: (number | null)[];
  mean: number | null;
}

export function distribution(values: Iterable<number | null>): Distribution {
  const s = ascending(values);
  return {
    n: s.length,
    q: QUANTILES.map((q) => quantileSorted(s, q)),
    mean: s.length ? s.reduce((a, b) => a + b, 0) / s.length : null,
  };
}

/**
 * Expected shortfall of returns at level α (default 5 %): the mean of the worst ⌈α·n⌉ outcomes
 * (at least one). The lower tail of returns, so a negative number is a loss. null without values.
 */
export function expectedShortfall(returns: Iterable<number | null>, alpha = 0.05): number | null {
  if (!(alpha > 0 && alpha <= 1)) throw new RangeError(`expectedShortfall: alpha must be in (0, 1] (got ${alpha})`);
  const s = ascending(returns);
  if (!s.length) return null;
  const k = Math.max(1, Math.ceil(alpha * s.length - 1e-9));
  let sum = 0;
  for (let i = 0; i < k; i++) sum += s[i]!;
  return sum / k;
}

export interface OutcomeSummary {
  runs: number;
  /** P(at least one liquidation) */
  liquidation: Proportion;
  /** P(equity below 5 % of the start at some time) */
  wipeOut: Proportion;
  /** total return, % */
  totalReturn: Distribution;
  /** expected shortfall of the total return at 5 %, % */
  expectedShortfall5: number | null;
  /** max drawdown, % */
  maxDrawdown: Distribution;
  /** liquidation loss, quote (every run, 0 when never liquidated) */
  liquidationLoss: Distribution;
  /** time to the first liquidation, ms, over the liquidated runs only */
  timeToLiquidationMs: Distribution;
  /**
   * runs liquidated / wiped out before the shock (crash-pack runs; null when the outcomes carry no
   * shock): apart from `liquidation` and `wipeOut`, which count what the shock did
   */
  beforeShock: { liquidation: Proportion; wipeOut: Proportion } | null;
}

/** Everything reported for one configuration × margin setup over a set of stress runs. */
export function summarizeOutcomes(outcomes: readonly StressOutcome[]): OutcomeSummary {
  const n = outcomes.length;
  return {
    runs: n,
    liquidation: wilson(outcomes.filter((o) => o.liquidated).length, n),
    wipeOut: wilson(outcomes.filter((o) => o.wipedOut).length, n),
    totalReturn: distribution(outcomes.map((o) => o.totalReturn)),
    expectedShortfall5: expectedShortfall(outcomes.map((o) => o.totalReturn)),
    maxDrawdown: distribution(outcomes.map((o) => o.maxDrawdown)),
    liquidationLoss: distribution(outcomes.map((o) => o.liquidationLoss ?? 0)),
    timeToLiquidationMs: distribution(outcomes.filter((o) => o.liquidated).map((o) => o.timeToLiquidationMs)),
    beforeShock:
      n > 0 && outcomes.every((o) => o.beforeShock !== undefined)
        ? { liquidation: wilson(outcomes.filter((o) => o.beforeShock!.liquidated).length, n), wipeOut: wilson(outcomes.filter((o) => o.beforeShock!.wipedOut).length, n) }
        : null,
  };
}

// ---------------------------------------------------------------- leverage survival

export interface SurvivalPoint {
  leverage: number;
  /** P(at least one liquidation) at this leverage */
  liquidation: Proportion;
  /**
   * P(liquidated or wiped out) at this leverage: a run survives when neither happened. Wiped out
   * without a liquidation (a strategy that loses the account by trading, or whose stops close at
   * the bottom) is no more a survival than a liquidation is; this is what `maxLeverageUnder` weighs.
   */
  failure: Proportion;
  /**
   * crash-pack runs: how many of the `failure.k` failed before the shock (liquidated or wiped out in
   * the history before it; they never reached the crash alive); absent for Monte Carlo paths
   */
  failedBeforeShock?: number;
  /**
   * no run at this leverage was ever in a position (e.g. every order rejected above the venue's
   * tier limit): its 0 liquidations say nothing about the leverage, so it never counts as surviving
   */
  untested: boolean;
}

/**
 * Liquidation and failure (liquidated or wiped out) probabilities per leverage (ascending), from
 * (leverage, liquidated, wipedOut, inPosition, beforeShock) points; `wipedOut` defaults to false,
 * `inPosition` (the run held a position at some time) to true; `beforeShock` (crash-pack runs: the
 * run was liquidated or wiped out before the shock) is counted in `failedBeforeShock` when every
 * point of a leverage carries it.
 */
export function survivalCurve(points: readonly { leverage: number; liquidated: boolean; wipedOut?: boolean; inPosition?: boolean; beforeShock?: boolean }[]): SurvivalPoint[] {
  const by = new Map<number, { k: number; f: number; n: number; held: number; before: number; shock: boolean }>();
  for (const p of points) {
    const c = by.get(p.leverage) ?? { k: 0, f: 0, n: 0, held: 0, before: 0, shock: true };
    c.n++;
    if (p.liquidated) c.k++;
    if (p.liquidated || p.wipedOut === true) c.f++;
    if (p.liquidated || p.wipedOut === true || p.inPosition !== false) c.held++;
    if (p.beforeShock === undefined) c.shock = false;
    else if (p.beforeShock) c.before++;
    by.set(p.leverage, c);
  }
  return [...by.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([leverage, c]) => ({ leverage, liquidation: wilson(c.k, c.n), failure: wilson(c.f, c.n), ...(c.shock ? { failedBeforeShock: c.before } : {}), untested: c.held === 0 }));
}

/** Default threshold of maxLeverageUnder: 5 % probability of a liquidation or a wipe-out. */
export const DEFAULT_SURVIVAL_THRESHOLD = 0.05;

/**
 * Highest tested leverage whose failure probability (liquidated or wiped out) stays under
 * `threshold` (strictly): the estimate at it and at every lower tested leverage is below the
 * threshold (an untested leverage, where no run held a position, ends the search like a failing
 * one). null when even the lowest leverage reaches it (or the curve is empty). The Wilson interval
 * at that leverage says how sure the estimate is (0 of 20 paths still allows up to 16 %).
 */
export function maxLeverageUnder(curve: readonly SurvivalPoint[], threshold: number = DEFAULT_SURVIVAL_THRESHOLD): SurvivalPoint | null {
  if (!(threshold > 0 && threshold <= 1)) throw new RangeError(`maxLeverageUnder: threshold must be in (0, 1] (got ${threshold})`);
  let best: SurvivalPoint | null = null;
  for (const pt of [...curve].sort((a, b) => a.leverage - b.leverage)) {
    if (pt.untested || pt.failure.p === null || pt.failure.p >= threshold) break;
    best = pt;
  }
  return best;
}

// ---------------------------------------------------------------- mode difference

export interface PairedInterval {
  /** pairs used */
  n: number;
  /** mean of a − b over the pairs */
  mean: number | null;
  /** 2.5 % and 97.5 % percentiles of the bootstrap means (null with fewer than MIN_PAIRS pairs) */
  lo: number | null;
  hi: number | null;
  /** true when the interval contains 0: the difference is not distinguishable from noise */
  noise: boolean;
  iterations: number;
  seed: number;
}

/**
 * Equal within a relative 1e-9: money summed in a different order (the same trades under two
 * modes) may differ in the last bits. The one rule for "the same figure" in verdicts.
 */
export function nearlyEqual(x: number, y: number): boolean {
  return Math.abs(x - y) <= 1e-9 * Math.max(1, Math.abs(x), Math.abs(y));
}

/**
 * Total returns (in %) that differ by at most this many percentage points count as the same
 * return in every verdict: a history comparison (src/report/model.ts) and a stress population's
 * mean paired difference (src/report/stress.ts) alike.
 */
export const RETURN_TOL_PP = 1;

export const BOOTSTRAP_ITERATIONS = 2000;
export const BOOTSTRAP_SEED = 20_251_010;
/**
 * Fewest pairs a mode difference is decided on. With fewer, even every pair differing the same way
 * is no evidence at 95 %: an exact two-sided sign test gives 2 · 0.5⁵ = 6.25 % for 5 of 5, while the
 * percentile bootstrap of n equal differences is the point [d, d] for every n (2 of 2 injections,
 * wiped out under cross and not under isolated, read "+100 pp [+100, +100]: isolated served it",
 * next to Wilson intervals of 0–66 % and 34–100 % that overlap). Below it no interval is drawn: noise.
 */
export const MIN_PAIRS = 6;

/**
 * Percentile bootstrap of the mean paired difference a[i] − b[i] (pairs: the same path or
 * injection replayed under both modes, so path-to-path variation cancels). Resamples pairs with
 * replacement `iterations` times from a seeded PRNG: deterministic. With fewer than MIN_PAIRS pairs
 * there is no interval and the difference is noise. Non-finite pairs are dropped;
 * a pair equal within a relative 1e-9 (nearlyEqual) counts as a difference of 0.
 */
export function pairedBootstrap(
  a: readonly (number | null)[],
  b: readonly (number | null)[],
  opts: { iterations?: number; seed?: number } = {},
): PairedInterval {
  if (a.length !== b.length) throw new RangeError(`pairedBootstrap: ${a.length} vs ${b.length} values`);
  const iterations = opts.iterations ?? BOOTSTRAP_ITERATIONS;
  const seed = opts.seed ?? BOOTSTRAP_SEED;
  const d: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    // a pair equal but for rounding (the same wallet reached under both modes) differs by 0, not by its noise
    if (typeof x === 'number' && typeof y === 'number' && Number.isFinite(x - y)) d.push(nearlyEqual(x, y) ? 0 : x - y);
  }
  const n = d.length;
  if (n === 0) return { n, mean: null, lo: null, hi: null, noise: true, iterations, seed };
  const mean = d.reduce((s, x) => s + x, 0) / n;
  if (n < MIN_PAIRS) return { n, mean, lo: null, hi: null, noise: true, iterations, seed };
  const rng = new Rng(seed);
  const means = new Float64Array(iterations);
  for (let it = 0; it < iterations; it++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += d[rng.int(n)]!;
    means[it] = s / n;
  }
  means.sort();
  const lo = quantileSorted(means, 0.025)!;
  const hi = quantileSorted(means, 0.975)!;
  return { n, mean, lo, hi, noise: lo <= 0 && hi >= 0, iterations, seed };
}

// ---------------------------------------------------------------- fan charts

export interface FanBands {
  /** common time grid, ms */
  time: number[];
  /** per QUANTILES level, the value at each grid time (same length as time) */
  bands: number[][];
  /** runs contributing */
  runs: number;
}

/**
 * Quantile bands of several curves on a common grid of `points` times from the earliest start to
 * the latest end. Each curve is read as a step function (its last point at or before the grid
 * time; before its first point, its first value). Curves keep their extremes when downsampled
 * (src/analysis/curves.ts), so the bands are faithful at the grid times. Curves that all share one
 * time axis (the stress runs' equity grid: the same 101 bars) are banded at those times, point by
 * point: evenly spaced times fall between bars, and read as steps half of them took the point before.
 */
export function fanBands(curves: readonly { time: readonly number[]; value: readonly number[] }[], points = 120): FanBands {
  const usable = curves.filter((c) => c.time.length > 0 && c.time.length === c.value.length);
  if (!usable.length) return { time: [], bands: QUANTILES.map(() => []), runs: 0 };
  // a loop, not Math.min(...): one argument per curve overflowed the stack beyond ≈ 120,000 paths
  let t0 = Infinity;
  let t1 = -Infinity;
  for (const c of usable) {
    t0 = Math.min(t0, c.time[0]!);
    t1 = Math.max(t1, c.time[c.time.length - 1]!);
  }
  const axis = usable[0]!.time;
  const shared = axis.length <= Math.max(2, Math.floor(points)) && usable.every((c) => c.time === axis || (c.time.length === axis.length && c.time.every((t, i) => t === axis[i])));
  const m = shared ? axis.length : t1 > t0 ? Math.max(2, Math.floor(points)) : 1;
  const time = shared ? [...axis] : Array.from({ length: m }, (_, i) => (m === 1 ? t0 : Math.round(t0 + ((t1 - t0) * i) / (m - 1))));
  const cursor = new Int32Array(usable.length);
  const bands = QUANTILES.map(() => new Array<number>(m));
  const col = new Float64Array(usable.length);
  for (let g = 0; g < m; g++) {
    const t = time[g]!;
    for (let c = 0; c < usable.length; c++) {
      const cv = usable[c]!;
      let j = cursor[c]!;
      while (j + 1 < cv.time.length && cv.time[j + 1]! <= t) j++;
      cursor[c] = j;
      col[c] = cv.value[j]!;
    }
    col.sort();
    QUANTILES.forEach((q, qi) => {
      bands[qi]![g] = quantileSorted(col, q)!;
    });
  }
  return { time, bands, runs: usable.length };
}
