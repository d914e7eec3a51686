/** Typed-array helpers: growing the arrays the engine and account grow (the same kind back, longer), searching sorted ones. */
type Growable = Float64Array | Int32Array | Uint8Array | BigInt64Array;

/** a copy of `a` in a new array of the same kind with room for `n` elements (n ≥ a.length) */
export function grown<T extends Growable>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  (b as { set(src: T): void }).set(a);
  return b;
}

/** the first index i in [lo, a.length) with a[i] ≥ x in the ascending array a (a.length when none) */
export function lowerBound(a: Float64Array, x: number, lo = 0): number {
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
