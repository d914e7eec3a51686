/**
 * V8 keeps a numeric object field as a small integer until the first fraction is stored in it; then
 * it gives every object of that shape a new layout and throws away the code compiled for the old one.
 * For an engine object made per replay (a position starting flat at 0) that happened in each worker's
 * first or second pass: a wave of deoptimisations and ≈ 100 ms of recompiling per worker (measured with
 * --trace-deopt: `wrong map` in a dozen account and engine functions). Storing a fraction once, right
 * after the object is made, gives the fields their final layout before any code is compiled for them.
 */
export function doubleFields<T extends object>(o: T, keys: readonly (keyof T & string)[]): T {
  const rec = o as Record<string, unknown>;
  for (const k of keys) {
    const v = rec[k];
    rec[k] = 0.5;
    rec[k] = v;
  }
  return o;
}
