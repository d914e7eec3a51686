/**
 * The known name a misspelt one was most likely meant to be, for "did you mean" hints (strategy
 * names, parameter names, config keys): the candidate at the smallest edit distance (insertions,
 * deletions, substitutions and swaps of neighbours, case ignored), when that distance is small for
 * the name's length (at most 1 for up to 4 letters, 2 up to 8, else 3). null when none is that close.
 */
export function nearest(name: string, candidates: Iterable<string>): string | null {
  const a = name.toLowerCase();
  const limit = a.length <= 4 ? 1 : a.length <= 8 ? 2 : 3;
  let best: string | null = null;
  let bestD = limit + 1;
  for (const c of candidates) {
    if (c === name) continue;
    const d = editDistance(a, c.toLowerCase());
    if (d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

/**
 * ` (did you mean 'x'?)` for nearest(name, candidates), else for the one candidate that begins with `name` (3 letters or
 * more, case ignored: `maxFrac` for maxFraction, `nearest` for 'nearest-first', too far for nearest's edit distance), else ''
 */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const list = [...candidates];
  const n = nearest(name, list) ?? uniqueStart(name, list);
  return n === null ? '' : ` (did you mean '${n}'?)`;
}

/** the one candidate (other than `name`) that begins with `name`, case ignored, when `name` has 3 letters or more; else null */
function uniqueStart(name: string, candidates: readonly string[]): string | null {
  const a = name.toLowerCase();
  if (a.length < 3) return null;
  const hits = [...new Set(candidates.filter((c) => c !== name && c.toLowerCase().startsWith(a)))];
  return hits.length === 1 ? hits[0]! : null;
}

/** optimal string alignment distance */
export function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 3) return Math.abs(a.length - b.length);
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
