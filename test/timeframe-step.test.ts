import { describe, expect, it } from 'vitest';
import { mostCommonStep } from '../src/feed/timeframe.js';
import { inferTimeframe } from '../src/feed/formats/common.js';
import { ProblemList, checkSeries } from '../src/feed/validate.js';
import { spacingVerdict } from '../src/feed/ingest.js';

const H = 3_600_000;

describe('spacing: one judge (mostCommonStep) for the importers, their timeframe inference and the loader', () => {
  it('the most common step, the preferred (a file\'s own timeframe) winning a tie', () => {
    expect(mostCommonStep(new Map([[H, 3], [2 * H, 5]]), H)).toEqual({ step: 2 * H, n: 5 });
    expect(mostCommonStep(new Map([[H, 5], [2 * H, 5]]), 2 * H)).toEqual({ step: 2 * H, n: 5 });
    expect(mostCommonStep(new Map(), H)).toEqual({ step: H, n: 0 });
    expect(mostCommonStep(new Map([[H / 2, 4]]))).toEqual({ step: H / 2, n: 4 });
  });

  it('importer and loader agree on a series of 30 2h steps and 29 1h ones: 2h, said once', () => {
    const t = Float64Array.from(Array.from({ length: 90 }, (_, i) => i).filter((i) => i % 3 !== 1), (i) => i * H);
    expect(inferTimeframe(t)).toBe('2h');
    const counts = new Map<number, number>();
    for (let i = 1; i < t.length; i++) counts.set(t[i]! - t[i - 1]!, (counts.get(t[i]! - t[i - 1]!) ?? 0) + 1);
    expect(() => spacingVerdict('candles X 1h', counts, H, '1h', t.length - 1)).toThrow(/spacing is 2h \(30 of 59 steps\)/);
    const problems = new ProblemList();
    const one = (v: number) => new Float64Array(t.length).fill(v);
    checkSeries('X-candles-1h.arrow', 'candles', t, { open: one(100), high: one(101), low: one(99), close: one(100), volume: one(1) }, H, problems);
    expect(problems.finish()).toEqual([expect.stringMatching(/the file's spacing is 2h \(30 of 59 steps\), not its timeframe 1h/)]);
  });
});
