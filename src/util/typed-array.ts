/** The typed arrays the engine and account grow (the same kind back, longer). */
type Growable = Float64Array | Int32Array | Uint8Array | BigInt64Array;

/** a copy of `a` in a new array of the same kind with room for `n` elements (n ≥ a.length) */
export function grown<T extends Growable>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  (b as { set(src: T): void }).set(a);
  return b;
}
