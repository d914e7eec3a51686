/**
 * Ranking the margin setups of one configuration by a pairwise rule (the history verdict's
 * return / liquidations / drawdown rule, the stress population's wipe-out / return / liquidation
 * rule). Both rules compare with a tolerance (1 pp, or a bootstrap interval containing 0), so with
 * three setups they need not be transitive: isolated can beat cross on liquidations (returns
 * within 1 pp), cross beat mixed the same way, and mixed beat isolated on a return 1.8 pp higher.
 * Sorting with such a comparator gives an order that depends on the sort, and "the first beat the
 * second" then says nothing about the third. So:
 *
 * - the **winner** is the setup that beats every other one; there is none on a tie or a circle;
 * - the order lists the setups that lost to none first, then by wins minus losses over all pairs
 *   (then setup order), so the winner comes first; on a tie (no circle) the first setup is one that
 *   lost to none and the second one it ties with, the pair a tie's line names;
 * - with `same`, an item identical to an earlier one (mixed with every position in its default
 *   cross mode repeats the cross run exactly) is **folded** into it: ranked among the others as one
 *   item, it wins, ties or loses with it (two identical runs read "tie: cross and mixed" although
 *   both beat isolated by 80 pp).
 */
import { setupRank, type SetupId } from '../engine/setups.js';

export interface SetupRanking<T> {
  ranked: T[];
  /** the item that beats every other one (null: a tie, or the rule goes round in a circle) */
  winner: T | null;
  /** true when every item loses to some other one: the rule goes round in a circle */
  circular: boolean;
  /** each folded item → the item it is identical to (which is in `ranked`; folded items are not) */
  twinOf: Map<T, T>;
}

/**
 * `cmp(a, b)` < 0 when `a` served better than `b`, > 0 when worse, 0 when equal within the rule's tolerance;
 * `same(a, b)`: the two are identical (folded into the first of them in `items` order).
 */
export function rankSetups<T>(all: readonly T[], setupOf: (x: T) => SetupId, cmp: (a: T, b: T) => number, same?: (a: T, b: T) => boolean): SetupRanking<T> {
  const twinOf = new Map<T, T>();
  const items: T[] = [];
  for (const x of all) {
    const twin = same ? items.find((y) => same(y, x)) : undefined;
    if (twin === undefined) items.push(x);
    else twinOf.set(x, twin);
  }
  const n = items.length;
  const score = new Map<T, number>();
  const beaten = new Set<T>();
  for (const x of items) score.set(x, 0);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = items[i]!;
      const b = items[j]!;
      const c = cmp(a, b);
      if (c === 0) continue;
      const [w, l] = c < 0 ? [a, b] : [b, a];
      score.set(w, score.get(w)! + 1);
      score.set(l, score.get(l)! - 1);
      beaten.add(l);
    }
  }
  const ranked = [...items].sort(
    (x, y) => +beaten.has(x) - +beaten.has(y) || score.get(y)! - score.get(x)! || setupRank(setupOf(x)) - setupRank(setupOf(y)),
  );
  const top = ranked[0];
  const winner = top !== undefined && n >= 2 && items.every((y) => y === top || cmp(top, y) < 0) ? top : null;
  const circular = n >= 2 && beaten.size === n;
  if (top !== undefined && winner === null && !circular) {
    // a tie: the first setup the top one does not beat comes second
    const k = ranked.findIndex((y) => y !== top && cmp(top, y) === 0);
    if (k > 1) ranked.splice(1, 0, ...ranked.splice(k, 1));
  }
  return { ranked, winner, circular, twinOf };
}
