/**
 * Chart curves of a run, downsampled so that a page stays quick with millions of bars.
 *
 * Downsampling keeps extremes: the bars are cut into equal buckets and each bucket contributes
 * the bars holding the minimum and maximum of every tracked series (equity min/max, drawdown max,
 * margin ratio max), plus the first and last bar of the whole series; indices are merged in time
 * order without duplicates. The result never exceeds `maxPoints` and always contains the global
 * extremes of every tracked series, so a chart's min, max and end points are exact.
 */
import type { SetupSeries } from '../engine/types.js';
import type { MarketData, SymbolColumns } from '../feed/types.js';
import type { PriceCurves, RunCurves } from '../shard/types.js';

export const DEFAULT_CURVE_POINTS = 2000;

/**
 * Indices (ascending, unique) that preserve, per bucket, the min and max of each `mins` /
 * `maxs` series (NaN never wins: a bucket of NaN only keeps its first bar; ties keep the
 * earliest). Returns every index when n ≤ maxPoints.
 */
export function downsampleIndices(
  n: number,
  maxPoints: number,
  track: { min?: readonly ArrayLike<number>[]; max?: readonly ArrayLike<number>[] },
): number[] {
  if (n <= 0) return [];
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  const mins = track.min ?? [];
  const maxs = track.max ?? [];
  const perBucket = Math.max(1, mins.length + maxs.length);
  const buckets = Math.max(1, Math.floor((maxPoints - 2) / perBucket));
  // the kept bars are collected, not flagged in an array of n (a fresh array of a million bars
  // page-faults: ≈ 1 ms per MB on the 2-core VM, more than the search itself)
  const kept: number[] = [0];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.floor(((b + 1) * n) / buckets);
    if (hi <= lo) continue;
    for (let k = 0; k < mins.length; k++) kept.push(extremeIndex(mins[k]!, lo, hi, 1));
    for (let k = 0; k < maxs.length; k++) kept.push(extremeIndex(maxs[k]!, lo, hi, -1));
  }
  kept.push(n - 1);
  kept.sort((a, b) => a - b);
  const out: number[] = [];
  for (let j = 0; j < kept.length; j++) if (j === 0 || kept[j] !== kept[j - 1]) out.push(kept[j]!);
  return out;
}

/** index of the smallest (dir 1) or largest (dir −1) value of s in [lo, hi), the earliest on ties; NaN never wins (lo when all are NaN) */
function extremeIndex(s: ArrayLike<number>, lo: number, hi: number, dir: 1 | -1): number {
  let best = lo;
  let bv = dir * s[lo]!;
  for (let i = lo + 1; i < hi; i++) {
    const v = dir * s[i]!;
    // (bv !== bv): the bar kept so far is NaN, and v is not
    if (v < bv || (bv !== bv && v === v)) {
      best = i;
      bv = v;
    }
  }
  return best;
}

/**
 * Drawdown per bar in percent (0 at a peak, 100 at zero equity); the peak starts at `startPeak` when
 * given. Written into `into` (a view of its first equity.length cells) when it has room, else into a
 * new array.
 */
export function drawdownSeries(equity: ArrayLike<number>, startPeak?: number, into?: Float64Array): Float64Array {
  const dd = into !== undefined && into.length >= equity.length ? into.subarray(0, equity.length) : new Float64Array(equity.length);
  let peak = startPeak ?? (equity.length ? equity[0]! : 0);
  for (let i = 0; i < equity.length; i++) {
    const e = equity[i]!;
    if (e > peak) peak = e;
    dd[i] = peak > 0 ? 100 * (1 - e / peak) : 0;
  }
  return dd;
}

const round = (x: number, digits: number): number => {
  if (!Number.isFinite(x)) return 0;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

/**
 * buildCurves' drawdown column, reused from call to call (grown when a run is longer): a sweep's
 * worker builds the curves of every setup of every pass, and a fresh column each time is fresh
 * memory whose pages fault on first write (≈ 10 ms for 320,000 bars on the 2-core VM)
 */
let ddScratch = new Float64Array(0);

/**
 * Downsampled curves of one setup: time (ms), equity (quote), drawdown (% below running peak),
 * margin ratio (% — the intrabar peak ratio of each bar, as in the `marginRatioMax` metric).
 * `initialCapital`, when given, is the starting peak for drawdown (as in the `maxDrawdown` metric).
 */
export function buildCurves(series: SetupSeries, maxPoints: number = DEFAULT_CURVE_POINTS, initialCapital?: number): RunCurves {
  const n = series.equity.length;
  if (ddScratch.length < n) ddScratch = new Float64Array(n);
  const dd = drawdownSeries(series.equity, initialCapital, ddScratch);
  const mr = series.marginRatioPeak.length === n ? series.marginRatioPeak : series.marginRatio;
  const idx = downsampleIndices(n, Math.max(8, Math.floor(maxPoints)), { min: [series.equity], max: [series.equity, dd, mr] });
  const curves: RunCurves = { time: [], equity: [], drawdown: [], marginRatio: [] };
  for (const i of idx) {
    curves.time.push(series.time[i]!);
    curves.equity.push(round(series.equity[i]!, 6));
    curves.drawdown.push(round(dd[i]!, 4));
    curves.marginRatio.push(round(100 * mr[i]!, 4));
  }
  return curves;
}

/**
 * Trade close prices of `symbols` at the replayed bars `time` (a slice of data.time), downsampled
 * like the curves: per bucket the bars of each symbol's lowest and highest close, plus the ends.
 * Absent bars are null. For the report's price chart (entries, exits, liquidations marked).
 */
export function buildPriceCurves(
  data: Pick<MarketData, 'time'> & { columns: readonly Pick<SymbolColumns, 'symbol' | 'close'>[] },
  time: ArrayLike<number>,
  symbols: readonly string[], maxPoints: number = DEFAULT_CURVE_POINTS): PriceCurves {
  const n = time.length;
  const out: PriceCurves = { time: [], close: {} };
  if (n === 0) {
    for (const s of symbols) out.close[s] = [];
    return out;
  }
  // the replayed slice starts at the data index of time[0]
  let lo = 0;
  let hi = data.time.length - 1;
  const t0 = time[0]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (data.time[mid]! < t0) lo = mid + 1;
    else hi = mid;
  }
  const cols = symbols.map((s) => data.columns.find((c) => c.symbol === s)).map((c) => (c ? c.close.subarray(lo, lo + n) : new Float64Array(n).fill(Number.NaN)));
  // (an absent bar, NaN, never wins the extreme search)
  const idx = downsampleIndices(n, Math.max(8, Math.floor(maxPoints)), { min: cols, max: cols });
  for (const i of idx) out.time.push(time[i]!);
  symbols.forEach((s, k) => {
    const c = cols[k]!;
    out.close[s] = idx.map((i) => (Number.isFinite(c[i]!) ? c[i]! : null));
  });
  return out;
}
