import { describe, expect, it } from 'vitest';
import { mostCommonStep, otherSpacing, seriesStep } from '../src/feed/timeframe.js';
import { inferTimeframe } from '../src/feed/formats/common.js';
import { ProblemList, checkMarkGrid, checkSeries } from '../src/feed/validate.js';
import { spacingVerdict } from '../src/feed/ingest.js';

const H = 3_600_000;
const stepsOf = (t: Float64Array) => {
  const counts = new Map<number, number>();
  for (let i = 1; i < t.length; i++) counts.set(t[i]! - t[i - 1]!, (counts.get(t[i]! - t[i - 1]!) ?? 0) + 1);
  return counts;
};
/** the loader's problems for candles at `t` behind an entry of timeframe `tf`, and the gaps it finds */
const loaderSays = (t: Float64Array, tf: number) => {
  const problems = new ProblemList();
  const one = (v: number) => new Float64Array(t.length).fill(v);
  const gaps = checkSeries('X-candles.arrow', 'candles', t, { open: one(100), high: one(101), low: one(99), close: one(100), volume: one(1) }, tf, problems);
  return { problems: problems.finish(), gaps: gaps.length };
};

describe('times a date can hold', () => {
  it('a timestamp past the last JavaScript date is a problem naming its row (data validate printed the range and crashed, run reported raw numbers)', () => {
    const t = Float64Array.from([8.64e15 - H, 8.64e15, 8.64e15 + H, 8.64e15 + 2 * H]);
    const { problems } = loaderSays(t, H);
    expect(problems).toEqual([
      // no market data is stamped in the year 3000 or later: µs or ns taken as ms
      'X-candles.arrow row 1: timestamp 8639999996400000 is in the year 275760: a time in µs or ns stored as ms?; expected ms since 1970-01-01 UTC',
      'X-candles.arrow row 2: timestamp 8640000000000000 is in the year 275760: a time in µs or ns stored as ms?; expected ms since 1970-01-01 UTC',
      'X-candles.arrow row 3: timestamp 8640000003600000 is beyond the last date a time can hold (+275760-09-13, 8640000000000000 ms); expected ms since 1970-01-01 UTC',
      'X-candles.arrow row 4: timestamp 8640000007200000 is beyond the last date a time can hold (+275760-09-13, 8640000000000000 ms); expected ms since 1970-01-01 UTC',
    ]);
    expect(loaderSays(Float64Array.from([-8.64e15 - H, -8.64e15]), H).problems).toEqual([
      'X-candles.arrow row 1: timestamp -8640000003600000 is before the first date a time can hold (-271821-04-20, -8640000000000000 ms); expected ms since 1970-01-01 UTC',
      'X-candles.arrow row 2: timestamp -8640000000000000 is before 1970-01-01 (a negative epoch); expected ms since 1970-01-01 UTC',
    ]);
  });

  it('a time before 1970 is a problem, as import refuses it (a 1969 dataset loaded and ran, under a table of today)', () => {
    expect(loaderSays(Float64Array.from([-2 * H, -H, 0, H]), H).problems).toEqual([
      'X-candles.arrow row 1: timestamp -7200000 is before 1970-01-01 (a negative epoch); expected ms since 1970-01-01 UTC',
      'X-candles.arrow row 2: timestamp -3600000 is before 1970-01-01 (a negative epoch); expected ms since 1970-01-01 UTC',
    ]);
  });

  it('a spacing a power of 1000 times the timeframe names mixed time units, not a timeframe of 1000h to set', () => {
    // the first time written in seconds, the rest in ms: the column read as seconds puts every later step at 1000 h
    const t0 = Date.UTC(2025, 0, 1);
    const t = Float64Array.from({ length: 20 }, (_, i) => t0 + i * H * 1000);
    const [p] = loaderSays(t, H).problems;
    expect(p).toMatch(/the file's spacing is 1000h \(19 of 19 steps\), not its timeframe 1h in manifest\.json: a power of 1000 times the timeframe: the times are in another unit/);
    expect(p).not.toContain("set the entry's timeframe");
  });
});

describe('mark candles on the exchanges\' grid', () => {
  it('a mark file whose first candle is off its timeframe\'s grid is a problem naming row 1 (it met no bar: the loader warned of a coverage of none); candles and funding are judged elsewhere', () => {
    const t0 = Date.UTC(2025, 0, 1);
    const at = (first: number) => Float64Array.from({ length: 4 }, (_, i) => first + i * H);
    const said = (kind: 'mark' | 'candles' | 'funding', first: number) => {
      const p = new ProblemList();
      checkMarkGrid('X-mark-1h.arrow', kind, at(first), H, '1h', p);
      return p.finish();
    };
    expect(said('mark', t0)).toEqual([]);
    expect(said('mark', t0 + 30 * 60_000)).toEqual([expect.stringMatching(/^X-mark-1h\.arrow row 1: 2025-01-01T00:30:00\.000Z .* is not on the exchanges' 1h grid/)]);
    expect(said('candles', t0 + 30 * 60_000)).toEqual([]);
    expect(said('funding', t0 + 30 * 60_000)).toEqual([]);
  });
});

describe('spacing: one judge for the importers and the loader (feed/timeframe.ts)', () => {
  it('mostCommonStep: the most common step, the preferred one (a file\'s own timeframe) winning a tie', () => {
    expect(mostCommonStep(new Map([[H, 3], [2 * H, 5]]), H)).toEqual({ step: 2 * H, n: 5 });
    expect(mostCommonStep(new Map([[H, 5], [2 * H, 5]]), 2 * H)).toEqual({ step: 2 * H, n: 5 });
    expect(mostCommonStep(new Map(), H)).toEqual({ step: H, n: 0 });
  });

  it('a 1h series missing every third bar (30 2h steps, 29 1h) is 1h with 30 gaps for both, not "2h candles" (its 1h steps fit no 2h timeframe)', () => {
    const t = Float64Array.from(Array.from({ length: 90 }, (_, i) => i).filter((i) => i % 3 !== 1), (i) => i * H);
    expect(otherSpacing(stepsOf(t), H)).toBeNull();
    expect(() => spacingVerdict('candles X 1h', stepsOf(t), H, '1h', t.length - 1)).not.toThrow();
    expect(loaderSays(t, H)).toEqual({ problems: [], gaps: 30 });
  });

  it('inferred timeframe (no file or flag names one): a finer step every step is a multiple of, if a tenth of the steps; a stray one is not', () => {
    const every3rd = Float64Array.from(Array.from({ length: 90 }, (_, i) => i).filter((i) => i % 3 !== 1), (i) => i * H);
    expect(inferTimeframe(every3rd, "x.json")).toBe('1h');
    // only 3h steps: a 3h series
    expect(inferTimeframe(Float64Array.from({ length: 30 }, (_, i) => 3 * i * H), "x.json")).toBe('3h');
    // a 1h series with one row half an hour off: two 30m steps in 60, too rare to be the timeframe
    const stray = Float64Array.from([...Array.from({ length: 60 }, (_, i) => i * H), 30.5 * H].sort((a, b) => a - b));
    expect(inferTimeframe(stray, "x.json")).toBe('1h');
    // a finer step: a tenth of the steps (6 of 57) and a divisor of every step wins; not a divisor (1.5h of 3h... 2h) or
    // fewer than a tenth (4 of 54), the most common step stays
    expect(seriesStep(new Map([[2 * H, 50], [H, 6], [3 * H, 1]]))).toBe(H);
    expect(seriesStep(new Map([[2 * H, 50], [1.5 * H, 6], [3 * H, 1]]))).toBe(2 * H);
    expect(seriesStep(new Map([[2 * H, 50], [H, 4]]))).toBe(2 * H);
    expect(seriesStep(new Map())).toBe(0);
  });

  it('finer or coarser candles than the timeframe are said once, by both, a stray step aside', () => {
    const finer = Float64Array.from({ length: 40 }, (_, i) => (i < 20 ? i : i + 1) * (H / 2)); // 30m with one missing bar (a 1h step)
    const coarser = Float64Array.from({ length: 40 }, (_, i) => (i < 20 ? 2 * i : 2 * i + 1) * H); // 2h with one 3h step
    for (const [t, step, n] of [[finer, H / 2, 38], [coarser, 2 * H, 38]] as const) {
      expect(otherSpacing(stepsOf(t), H)).toEqual({ step, n });
      expect(() => spacingVerdict('candles X 1h', stepsOf(t), H, '1h', t.length - 1)).toThrow(new RegExp(`spacing is ${step === H / 2 ? '30m' : '2h'} \\(38 of 39 steps\\)`));
      expect(loaderSays(t, H).problems).toEqual([expect.stringMatching(new RegExp(`^X-candles\\.arrow: the file's spacing is ${step === H / 2 ? '30m' : '2h'} \\(38 of 39 steps\\), not its timeframe 1h`))]);
    }
  });

  it('a spacing of no timeframe (1 ms: times of another unit) is not offered as the entry\'s timeframe', () => {
    const ms = Float64Array.from({ length: 40 }, (_, i) => 1_735_689_600_000 + i);
    expect(loaderSays(ms, H).problems).toEqual(["X-candles.arrow: the file's spacing is 1 ms (39 of 39 steps), not its timeframe 1h in manifest.json: that is no timeframe (timeframes are whole seconds or more): are the times in another unit? re-import the series"]);
  });
});

describe('a timeframe written in upper case (pandas, TradingView: 1H, 4H, 1D)', () => {
  // it said only "expected a number and a unit s, m, h, d or w", in the config without the value given
  it('is refused with the lower-case form meant, by the flags and the config alike; 1M (a month) is not read as minutes', async () => {
    const { timeframeHint, timeframeMs } = await import('../src/feed/timeframe.js');
    expect(timeframeHint('1H')).toBe(" (units are lower case: did you mean '1h'?)");
    expect(timeframeHint('1D')).toBe(" (units are lower case: did you mean '1d'?)");
    expect(timeframeHint('1M')).toBe(" (units are lower case, and 'M', a month, is not one: minutes are m)");
    expect(timeframeHint('1h')).toBe('');
    expect(timeframeHint('hourly')).toBe('');
    expect(timeframeHint('1HOUR')).toBe('');
    expect(() => timeframeMs('4H')).toThrow("invalid timeframe '4H': expected a number and a unit s, m, h, d or w (e.g. 1m, 30m, 1h, 8h, 1d) (units are lower case: did you mean '4h'?)");
    const { resolveConfig } = await import('../src/config/index.js');
    const err = await resolveConfig({ name: 'x', data: { path: 'd', timeframe: '1H' }, strategies: 'all' }, { configDir: '/x' }).catch((e: unknown) => e);
    expect((err as { exitCode: number }).exitCode).toBe(78);
    expect((err as { details: string[] }).details).toEqual([
      `data.timeframe: expected a timeframe: a number and a unit s, m, h, d or w (e.g. 1m, 30m, 1h, 8h, 1d), got "1H" (units are lower case: did you mean '1h'?)`,
    ]);
  });
});
