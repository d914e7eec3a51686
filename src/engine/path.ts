/**
 * The intrabar path (DESIGN §4.3) as pure functions over small typed arrays, unit-tested without a
 * replay (test/engine-path.test.ts). A bar's path of one symbol is 4 points — open, first extreme,
 * second extreme, close — stored at [4s, 4s + 3] of a Float64Array and parametrised by τ ∈ [0, 3]
 * (segment k spans [k, k + 1], prices linear on it). Nothing here allocates.
 */

/** bisection steps for a liquidation point inside a segment (2^-60 of a segment: exact to the double) */
export const BISECT_STEPS = 60;

/**
 * the bar's order of extremes: true = high first (ties of nearest-first go high first). A tie is a
 * tie in the data's decimals: as doubles, two equal distances can differ by a few ulps (100.26 −
 * 100.13 = 0.13000000000000966 > 100.13 − 100 = 0.12999999999999545), so they are compared with a
 * margin of 1e-12 of the open, far below any price's own precision.
 */
export function highFirst(mode: 'nearest-first' | 'high-first' | 'low-first', open: number, high: number, low: number): boolean {
  return mode === 'high-first' ? true : mode === 'low-first' ? false : high - open <= open - low + 1e-12 * Math.abs(open);
}

/** writes the path of symbol s into p: open → (high, low | low, high) → close */
export function writePath(p: Float64Array, s: number, open: number, high: number, low: number, close: number, hiFirst: boolean): void {
  const b = 4 * s;
  p[b] = open;
  p[b + 1] = hiFirst ? high : low;
  p[b + 2] = hiFirst ? low : high;
  p[b + 3] = close;
}

/** price of symbol s at τ on path `p` */
export function priceAt(p: Float64Array, s: number, tau: number): number {
  const b = 4 * s;
  if (tau >= 3) return p[b + 3]!;
  const k = Math.floor(tau);
  const a = p[b + k]!;
  return a + (p[b + k + 1]! - a) * (tau - k);
}

/**
 * The cells a path search reads its doubles from and writes its answer to: a double passed to or
 * returned by a call V8 does not inline is boxed (a heap object per call), and whether a helper is
 * inlined into the engine's event loop depends on V8's inlining budget for the whole loop. With the
 * doubles in a Float64Array, only integers and booleans cross these calls.
 */
export const PATH_TAU = 0;
/** the level a search looks for (an order's trigger, a liquidation price) */
export const PATH_LEVEL = 1;
/** the answer: the hit time, or the range's low */
export const PATH_OUT = 2;
/** the range's high (rangeFrom) */
export const PATH_HIGH = 3;
/** a Float64Array for the cells above */
export function pathCells(): Float64Array {
  return new Float64Array(4);
}

/**
 * first τ' ≥ τ at which path p of s is at or beyond the level (up: ≥ level, down: ≤ level), Infinity
 * when never: reads τ from io[PATH_TAU] and the level from io[PATH_LEVEL], writes the answer to
 * io[PATH_OUT]
 */
export function hitTime(p: Float64Array, s: number, up: boolean, io: Float64Array): void {
  const tau = io[PATH_TAU]!;
  const level = io[PATH_LEVEL]!;
  const b = 4 * s;
  const cur = priceAt(p, s, tau);
  if (up ? cur >= level : cur <= level) {
    io[PATH_OUT] = tau;
    return;
  }
  if (tau < 3) {
    for (let seg = Math.floor(tau); seg < 3; seg++) {
      const a = p[b + seg]!;
      const e = p[b + seg + 1]!;
      if (up ? e >= level : e <= level) {
        let t = seg + (level - a) / (e - a);
        if (!(t >= tau)) t = tau;
        io[PATH_OUT] = t > seg + 1 ? seg + 1 : t;
        return;
      }
    }
  }
  io[PATH_OUT] = Infinity;
}

/**
 * the range of path p of s from τ (io[PATH_TAU]) on: its price at τ and the corners after it (what
 * hitTime crosses), low into io[PATH_OUT], high into io[PATH_HIGH]; an empty range (low +∞, high −∞)
 * when the path has no price at τ and no corner after it
 */
export function rangeFrom(p: Float64Array, s: number, io: Float64Array): void {
  const tau = io[PATH_TAU]!;
  let lo = priceAt(p, s, tau);
  let hi = lo;
  if (!(lo === lo)) {
    lo = Infinity;
    hi = -Infinity;
  }
  for (let k = Math.floor(tau) + 1; k <= 3; k++) {
    const v = p[4 * s + k]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  io[PATH_OUT] = lo;
  io[PATH_HIGH] = hi;
}

/**
 * the most adverse price of symbol s over the stretch [a, b] of path p for a position of sign q
 * (long: lowest, short: highest of the path at a, at b and at the corners in between), written to
 * out[s]; NaN when the path has no price there. (Written, not returned: a double returned by a call
 * V8 does not inline is boxed, and the engine asks for it at every stretch of a bar with events.)
 */
export function adverseOverStretch(p: Float64Array, s: number, q: number, a: number, b: number, out: Float64Array): void {
  let v = priceAt(p, s, a);
  const e = priceAt(p, s, b);
  if (!(v === v) || (e === e && (q > 0 ? e < v : e > v))) v = e;
  for (let k = Math.floor(a) + 1; k < b; k++) {
    const c = p[4 * s + k]!;
    if (!(v === v) || (c === c && (q > 0 ? c < v : c > v))) v = c;
  }
  out[s] = v;
}

/**
 * something that can be judged at a point τ of the path: whether f(τ) ≤ 0 (a pool's excess at the
 * path's prices at or below 0). A boolean, not the value: a double returned by a call V8 does not
 * inline is boxed, an allocation per evaluation on the bar's event path.
 */
export interface PathFunction {
  nonPositiveAt(tau: number): boolean;
}

/**
 * first τ' ≥ τ (io[PATH_TAU]) with f(τ') ≤ 0, into io[PATH_OUT]: segment ends are checked in order and
 * the crossing inside the first segment whose end is ≤ 0 is bisected (BISECT_STEPS); Infinity when f
 * stays > 0 up to the close. (f is a pool's excess with its legs moving linearly on each segment: the
 * first end at or below 0 bounds the crossing.)
 */
export function firstNonPositive(f: PathFunction, io: Float64Array): void {
  const tau = io[PATH_TAU]!;
  if (f.nonPositiveAt(tau)) {
    io[PATH_OUT] = tau;
    return;
  }
  for (let seg = Math.floor(tau); seg < 3; seg++) {
    const end = seg + 1;
    if (f.nonPositiveAt(end)) {
      let lo = tau > seg ? tau : seg;
      let hi = end;
      for (let it = 0; it < BISECT_STEPS; it++) {
        const mid = 0.5 * (lo + hi);
        if (f.nonPositiveAt(mid)) hi = mid;
        else lo = mid;
      }
      io[PATH_OUT] = hi;
      return;
    }
  }
  io[PATH_OUT] = Infinity;
}

/**
 * the prices on the straight line from `start` to `end` (per symbol) where the excess first reaches
 * ≤ 0 (`breached`: excess ≤ 0 at the prices), bisected on the line's fraction, into `out` (start
 * itself when breached there; end when the crossing is at the end). The optimistic cross check's
 * liquidation prices.
 */
export function bisectLine(start: Float64Array, end: Float64Array, out: Float64Array, breached: (prices: Float64Array) => boolean): void {
  if (breached(start)) {
    out.set(start);
    return;
  }
  const n = start.length;
  let lo = 0;
  let hi = 1;
  for (let it = 0; it < BISECT_STEPS; it++) {
    const mid = 0.5 * (lo + hi);
    for (let s = 0; s < n; s++) out[s] = start[s]! + (end[s]! - start[s]!) * mid;
    if (breached(out)) hi = mid;
    else lo = mid;
  }
  for (let s = 0; s < n; s++) out[s] = start[s]! + (end[s]! - start[s]!) * hi;
}
