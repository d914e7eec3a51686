/**
 * Shortens `list` to `n` elements in place, keeping its backing store. `list.length = 0` makes V8
 * drop the store (the array gets the empty one), so the next push allocates a new one (≈ 150 bytes
 * for a few elements): a scratch list emptied and refilled per bar was an allocation per bar.
 * Popping to `n` keeps the store.
 */
export function shorten<T>(list: T[], n: number): void {
  while (list.length > n) list.pop();
}
