/**
 * Validation at the load boundary. Every problem is reported with file, row and value; nothing is
 * silently repaired. Rows are numbered from 1 (the first data row of the file).
 */
import { fmtStep, fmtTime, fundingFinerThan, fundingSettleTime, fundingStepMs, isoTime, offExchangeGrid, otherSpacing, timeframeMsOrNaN } from './timeframe.js';
import { lowerBound } from '../util/typed-array.js';
import type { FileKind, ManifestFile } from './manifest.js';

/** the largest time a JavaScript Date holds, ms from 1970 either way (8.64e15) */
export const MAX_DATE_MS = 8_640_000_000_000_000;

/** no market data is stamped on or after 3000-01-01: a time there is µs or ns (or seconds × 1000 twice) stored as ms */
const LAST_PLAUSIBLE_MS = Date.UTC(3000, 0, 1);

/**
 * What is wrong with a time of ms UTC ≥ 0 that no market data can have (beyond what a Date holds, or in the year 3000 or
 * later, a µs or ns time taken as ms), else null. One rule for the loader and the importers.
 */
export function implausibleTime(t: number): string | null {
  if (t > MAX_DATE_MS) return `is beyond the last date a time can hold (+275760-09-13, ${MAX_DATE_MS} ms)`;
  if (t >= LAST_PLAUSIBLE_MS) return `is in the year ${new Date(t).getUTCFullYear()}: a time in µs or ns stored as ms?`;
  return null;
}

/** At most this many problems are listed per file; the rest are counted. */
export const MAX_PROBLEMS_PER_FILE = 200;

export class ProblemList {
  readonly lines: string[] = [];
  private readonly perFile = new Map<string, number>();
  private total = 0;
  private readonly hinted = new Set<string>();
  /**
   * `hint`: what to do about this kind of problem, said once, on its first listed line (145 gaps
   * repeated the gap policy's hint 145 times)
   */
  add(file: string, row: number | null, text: string, hint?: string): void {
    const n = (this.perFile.get(file) ?? 0) + 1;
    this.perFile.set(file, n);
    this.total++;
    if (n > MAX_PROBLEMS_PER_FILE) return;
    let t = text;
    if (hint !== undefined && !this.hinted.has(hint)) {
      this.hinted.add(hint);
      t = `${text} (${hint})`;
    }
    this.lines.push(row === null ? `${file}: ${t}` : `${file} row ${row}: ${t}`);
  }
  /** total problems, including those beyond the listing cap */
  get count(): number {
    return this.total;
  }
  /** files with at least one problem */
  get files(): number {
    return this.perFile.size;
  }
  /** lines, with a '... and N more' line per file over the cap */
  finish(): string[] {
    const out = [...this.lines];
    for (const [file, n] of this.perFile) {
      if (n > MAX_PROBLEMS_PER_FILE) out.push(`${file}: ... and ${n - MAX_PROBLEMS_PER_FILE} more problems (${n} in all)`);
    }
    return out;
  }
}

/** A data file whose bytes are not those the manifest recorded (loader and `data inspect` alike). */
export function hashProblemText(actual: string, listed: string): string {
  return `sha256 ${actual} differs from the manifest's ${listed} (the file changed after the manifest was written; re-import it)`;
}

/**
 * A data file against its manifest entry (loader and `data inspect` alike): bytes other than those recorded are a
 * problem (the file changed); with the same bytes, a row count or time range other than the file's (the entry was
 * edited, or written by another tool) is a warning returned: those fields describe the file, nothing reads them.
 */
export function checkEntry(f: ManifestFile, data: { sha256: string; rows: number; timestamp: Float64Array }, problems: ProblemList): string | null {
  if (data.sha256 !== f.sha256) {
    problems.add(f.path, null, hashProblemText(data.sha256, f.sha256));
    return null;
  }
  const n = data.rows;
  const first = n > 0 ? data.timestamp[0]! : null;
  const last = n > 0 ? data.timestamp[n - 1]! : null;
  if (f.rows === n && f.first === first && f.last === last) return null;
  const range = (a: number | null, b: number | null) => (a === null || b === null ? 'no time range' : `${fmtTime(a)} → ${fmtTime(b)}`);
  return `manifest.json: the entry of ${f.path} says ${f.rows} rows (${range(f.first, f.last)}), the file holds ${n} (${range(first, last)}); ` +
    'the file is read as it is: correct the entry\'s rows, first and last (or re-import the file)';
}

const num = (v: number): string => (Number.isNaN(v) ? 'NaN (missing)' : String(v));

export interface GapInfo {
  /** row (1-based) after which the gap starts */
  row: number;
  from: number;
  to: number;
  missingBars: number;
}

/**
 * Check one series. `tfMs` is the candle spacing (candles/mark); for funding it is null (only order
 * is checked). Gaps (spacing a whole multiple of the timeframe) are returned, not added as problems;
 * other spacing errors are problems.
 */
export function checkSeries(
  file: string,
  kind: FileKind,
  timestamp: Float64Array,
  cols: Record<string, Float64Array>,
  tfMs: number | null,
  problems: ProblemList,
): GapInfo[] {
  const n = timestamp.length;
  let gaps: GapInfo[] = [];
  /** steps that are no whole number of bars, held until the spacing of the whole file is known */
  let offSteps: { row: number; text: string }[] = [];
  /** how often each step (ms) occurs between rows in order */
  const steps = new Map<number, number>();
  let prev = NaN;
  for (let i = 0; i < n; i++) {
    const t = timestamp[i]!;
    const row = i + 1;
    if (!Number.isFinite(t) || !Number.isInteger(t)) {
      problems.add(file, row, `timestamp ${num(t)} is not an integer number of ms`);
      continue;
    }
    // a date a JavaScript Date can hold (its reports, times and messages print every time as one)
    if (t < 0 && t >= -MAX_DATE_MS) {
      // import refuses a time before 1970 (and --from / --to take none): a negative epoch is a sign or unit fault
      problems.add(file, row, `timestamp ${num(t)} is before 1970-01-01 (a negative epoch); expected ms since 1970-01-01 UTC`);
      continue;
    }
    if (t < -MAX_DATE_MS) {
      problems.add(file, row, `timestamp ${num(t)} is before the first date a time can hold (-271821-04-20, ${-MAX_DATE_MS} ms); expected ms since 1970-01-01 UTC`);
      continue;
    }
    const late = implausibleTime(t);
    if (late !== null) {
      problems.add(file, row, `timestamp ${num(t)} ${late}; expected ms since 1970-01-01 UTC`);
      continue;
    }
    if (Number.isFinite(prev)) {
      if (t === prev) problems.add(file, row, `duplicate timestamp ${fmtTime(t)} (same as row ${row - 1})`);
      else if (t < prev) problems.add(file, row, `timestamp ${fmtTime(t)} is out of order (earlier than row ${row - 1}: ${fmtTime(prev)})`);
      else if (tfMs !== null) {
        const d = t - prev;
        steps.set(d, (steps.get(d) ?? 0) + 1);
        if (d === tfMs) { /* the timeframe */ }
        else if (d % tfMs === 0) gaps.push({ row: row - 1, from: prev, to: t, missingBars: d / tfMs - 1 });
        else offSteps.push({ row, text: `timestamp ${fmtTime(t)} is ${d} ms after row ${row - 1}; expected a multiple of the ${tfMs} ms timeframe` });
      }
    }
    prev = t;
  }
  if (tfMs !== null) {
    // the spacing shows another timeframe (otherSpacing): the file holds its candles (an entry edited
    // by hand, a file renamed), said once rather than as a spacing error or gap on every row
    const other = otherSpacing(steps, tfMs);
    if (other) {
      const { step: best, n: bestN } = other;
      let all = 0;
      for (const c of steps.values()) all += c;
      // a spacing of no timeframe (not whole seconds: times of another unit, or garbage) cannot be set as one
      // a thousand (a million) times the timeframe, or a thousandth: the times are in another unit than the column says
      // (an integer column takes its unit from its first value: seconds there, milliseconds after, are read as seconds)
      const unit = [1e3, 1e6, 1e-3, 1e-6].some((f) => best === tfMs * f);
      const fix = unit
        ? `a power of 1000 times the timeframe: the times are in another unit than the file's first time (seconds among milliseconds, or the whole column in another unit); write every time in one unit and re-import the series`
        : best % 1000 === 0 ? `set the entry's timeframe (and name) to ${fmtStep(best)}, or re-import the series` : 'that is no timeframe (timeframes are whole seconds or more): are the times in another unit? re-import the series';
      problems.add(file, null, `the file's spacing is ${fmtStep(best)} (${bestN} of ${all} steps), not its timeframe ${fmtStep(tfMs)} in manifest.json: ${fix}`);
      offSteps = [];
      gaps = [];
    }
    for (const o of offSteps) problems.add(file, o.row, o.text);
  }
  if (kind === 'funding') {
    const twice = fundingTwice(timestamp, cols.rate!);
    if (twice) problems.add(file, twice.index + 1, twice.text);
    const rate = cols.rate!;
    const price = cols.price;
    for (let i = 0; i < n; i++) {
      const r = rate[i]!;
      if (!Number.isFinite(r)) problems.add(file, i + 1, `rate ${num(r)} is not a finite number`);
      else if (Math.abs(r) >= 1) problems.add(file, i + 1, `rate ${r} is implausible (|rate| must be < 1; rates are fractions per interval, 0.0001 = 0.01 %)`);
      if (price) {
        const p = price[i]!;
        if (!Number.isNaN(p) && !(Number.isFinite(p) && p > 0)) problems.add(file, i + 1, `price ${num(p)} must be a finite number > 0 (or empty)`);
      }
    }
    return gaps;
  }
  const o = cols.open!, h = cols.high!, l = cols.low!, c = cols.close!;
  const v = cols.volume;
  for (let i = 0; i < n; i++) {
    const oi = o[i]!, hi = h[i]!, li = l[i]!, ci = c[i]!;
    const row = i + 1;
    let ok = true;
    if (!(Number.isFinite(oi) && oi > 0)) { problems.add(file, row, `open ${num(oi)} must be a finite price > 0`); ok = false; }
    if (!(Number.isFinite(hi) && hi > 0)) { problems.add(file, row, `high ${num(hi)} must be a finite price > 0`); ok = false; }
    if (!(Number.isFinite(li) && li > 0)) { problems.add(file, row, `low ${num(li)} must be a finite price > 0`); ok = false; }
    if (!(Number.isFinite(ci) && ci > 0)) { problems.add(file, row, `close ${num(ci)} must be a finite price > 0`); ok = false; }
    if (ok) {
      if (li > Math.min(oi, ci)) problems.add(file, row, `low ${li} is above min(open, close) = ${Math.min(oi, ci)}`);
      if (hi < Math.max(oi, ci)) problems.add(file, row, `high ${hi} is below max(open, close) = ${Math.max(oi, ci)}`);
    }
    if (v) {
      const vi = v[i]!;
      if (!(Number.isFinite(vi) && vi >= 0)) problems.add(file, row, `volume ${num(vi)} must be a finite number ≥ 0`);
    }
  }
  return gaps;
}

/**
 * Mark candles covering less than this share of a symbol's candle bars (at the bar timeframe, or
 * finer ones aggregated) draw a warning from `data validate`, `data inspect` and `run`: at the
 * bars without one, liquidation is checked on trade prices. Funding events reaching less than this
 * share of the bars (fundingCoverageWarning) draw one too: beyond them no funding is booked.
 */
export const MARK_COVERAGE_WARN = 0.9;

/**
 * How far a median price ratio may stray from 1 before it is called a scale mistake: mark and trade
 * prices differ by the basis (a fraction of a percent, a few percent in a crash), a mark or funding
 * price of another unit or another symbol by far more.
 */
export const PRICE_SCALE_WARN = 1.5;

/** A median price ratio and how many pairs it was taken over (NaN and 0 when there were none). */
export interface PriceScale {
  ratio: number;
  n: number;
}

/**
 * The median of x / y over at most about 2001 evenly spaced pairs of the `n` that `pair(k)` gives,
 * those where both are numbers and y > 0, with the count of those pairs.
 */
export function medianRatio(n: number, pair: (k: number) => readonly [number, number]): PriceScale {
  const step = Math.max(1, Math.floor(n / 2001));
  const r: number[] = [];
  for (let k = 0; k < n; k += step) {
    const [x, y] = pair(k);
    if (x === x && y === y && y > 0) r.push(x / y);
  }
  if (r.length === 0) return { ratio: Number.NaN, n: 0 };
  r.sort((u, v) => u - v);
  return { ratio: r[(r.length - 1) >> 1]!, n: r.length };
}

const NO_PAIR = [Number.NaN, Number.NaN] as const;

/**
 * A file's prices (`price[k]` at `t[k]`, k < rows) against the trade opens of the bars opening at the same
 * times (`time`, ascending; with `present`, only the bars it marks): mark candles of any timeframe.
 */
export function scaleAtOpens(t: Float64Array, price: Float64Array, rows: number, time: Float64Array, open: Float64Array, present: Uint8Array | null): PriceScale {
  return medianRatio(rows, (k) => {
    const b = lowerBound(time, t[k]!);
    return b < time.length && time[b] === t[k] && (present === null || present[b] === 1) ? [price[k]!, open[b]!] : NO_PAIR;
  });
}

/**
 * Funding prices (`price[k]` of the event stamped `t[k]`) against the trade open of the bar each settles at (the
 * bar of `time` opening at or after its settlement time, within a bar of it; with `present`, only the bars it marks).
 */
export function fundingScale(t: Float64Array, price: Float64Array, rows: number, time: Float64Array, open: Float64Array, present: Uint8Array | null, tfMs: number): PriceScale {
  return medianRatio(rows, (k) => {
    const s = fundingSettleTime(t[k]!);
    const b = lowerBound(time, s);
    return b < time.length && time[b]! < s + tfMs && (present === null || present[b] === 1) ? [price[k]!, open[b]!] : NO_PAIR;
  });
}

/**
 * A warning when a symbol's mark candles or funding prices are far from its trade candles (median
 * ratio beyond PRICE_SCALE_WARN either way): a mis-scaled file moves every liquidation (the mark)
 * or every funding payment (its price), and nothing else would say so. null when the ratio is fine.
 */
export function priceScaleText(o: { path: string; symbol: string; what: 'mark candles' | 'funding prices'; scale: PriceScale }): string | null {
  const r = o.scale.ratio;
  if (!(r === r) || (r <= PRICE_SCALE_WARN && r >= 1 / PRICE_SCALE_WARN)) return null;
  const shown = r >= 1 ? `${Number(r.toPrecision(3))}×` : `1/${Number((1 / r).toPrecision(3))} of`;
  return `${o.path}: the ${o.what} of ${o.symbol} are ${shown} its trade candles (the median ratio over ${o.scale.n} ${o.what === 'mark candles' ? 'bars' : 'settlements'}): a file of another unit or another symbol? ` +
    `${o.what === 'mark candles' ? 'liquidations are judged on the mark' : 'every funding payment is rate × position × this price'}; check the file`;
}

/**
 * Finer mark candles whose timeframe does not divide the bar (45m under 1h bars) make no bar, so liquidation
 * is checked on trade prices: a warning, from a run's load and from `data inspect`.
 */
export function markOffGridText(o: { path: string; markTimeframe: string; timeframe: string; symbol: string }): string {
  return `${o.path}: mark candles at ${o.markTimeframe} do not make ${o.timeframe} bars (${o.markTimeframe} does not divide ${o.timeframe}), so liquidation of ${o.symbol} is checked on trade prices; import its mark candles at ${o.timeframe} or at a timeframe that divides it`;
}

/** What the mark coverage of one symbol's bars is, as a warning (see MARK_COVERAGE_WARN). */
export function markCoverageText(o: {
  markPath: string; symbol: string; timeframe: string; covered: number; bars: number;
  markFirst: number; markLast: number; candleFirst: number; candleLast: number;
}): string {
  const pct = o.bars > 0 ? (100 * o.covered) / o.bars : 0;
  const share = o.covered === 0 ? 'none' : `${o.covered} (${pct < 1 ? pct.toFixed(2) : pct.toFixed(0)} %)`;
  return `${o.markPath}: mark candles cover ${share} of the ${o.bars} ${o.timeframe} bars of ${o.symbol} ` +
    `(mark ${isoTime(o.markFirst)} → ${isoTime(o.markLast)}, candles ${isoTime(o.candleFirst)} → ${isoTime(o.candleLast)}); ` +
    `liquidation is checked on trade prices at the ${o.bars - o.covered} bars without one`;
}

/**
 * The funding interval of a funding file: its manifest entry's nominal interval, else the interval
 * an import lists for such events (fundingStepMs), else 8 h (one event).
 */
export function fundingIntervalMs(listed: string | undefined, times: Float64Array): number {
  const ms = fundingStepMs(times);
  if (listed) {
    const named = timeframeMsOrNaN(listed);
    // a listed interval coarser than the events' (a dataset written before imports checked it) is not taken: fundingSanityTexts warns
    if (named > 0) return ms > 0 && ms < named ? ms : named;
  }
  return ms > 0 ? ms : 8 * 3_600_000;
}

/** Funding events of one symbol closer than this with one rate are one settlement twice: no venue settles funding within a minute. */
export const FUNDING_TWICE_MS = 60_000;

/**
 * The first pair of consecutive funding events (sorted times) closer than FUNDING_TWICE_MS with the same rate, as a sentence naming
 * the second's index, null when none. The same events from two sources whose time stamps differ by a few ms (a
 * freqtrade file and a Binance CSV: …001 and …000) were kept as two events each and every settlement was charged
 * twice, with every check saying ok.
 */
export function fundingTwice(time: ArrayLike<number>, rate: ArrayLike<number>, rows = time.length): { index: number; text: string } | null {
  for (let i = 1; i < rows; i++) {
    const d = time[i]! - time[i - 1]!;
    if (d > 0 && d < FUNDING_TWICE_MS && sameRate(rate[i]!, rate[i - 1]!)) return { index: i, text: fundingTwiceText(time[i - 1]!, time[i]!) };
  }
  return null;
}

/** two funding rates that are one published rate (to 15 significant digits: one source's reading of it and another's) */
export const sameRate = (a: number, b: number): boolean => a === b || Math.abs(a - b) <= 1e-14 * Math.max(Math.abs(a), Math.abs(b));

/** The sentence of fundingTwice for events at `a` and `b` (a < b). */
export function fundingTwiceText(a: number, b: number): string {
  return `funding events at ${fmtTime(a)} and ${fmtTime(b)} are ${fmtStep(b - a)} apart: one settlement twice (the same events from two sources with other time stamps?), as no venue settles funding within a minute; each would be charged: keep one source (import the series again from it with --replace)`;
}

/** A funding rate beyond this, either way, per settlement is beyond every venue's cap (Binance ±0.75–4 %, Hyperliquid 4 % an hour). */
export const FUNDING_RATE_WARN = 0.05;
/**
 * A median |rate| above this per settlement (0.1 %, ten times the usual 0.01 % of an 8-hourly venue, whose hourly rates are
 * smaller still: 110 % a year as a whole file's median) reads as percentages written as fractions. It was 0.5 %: real
 * 2025 BTCUSDT rates written ×100 (a median of 0.42 %) passed without a word, and turned a +31 % buy-and-hold into a
 * liquidation
 */
export const FUNDING_MEDIAN_WARN = 0.001;
/** A share of rates at exactly 0.01 (0.0001, the venues' default 0.01 %, written as a percentage) from which a file reads as percentages. */
export const FUNDING_PERCENT_DEFAULT_SHARE = 0.1;

/**
 * Warnings for a funding file no venue would publish (the loader and `data inspect` alike), each booked as it is:
 * events more often than hourly (their usual step; no venue settles more often), a median |rate| above FUNDING_MEDIAN_WARN
 * (percentages written as fractions), rates beyond ±FUNDING_RATE_WARN (a cumulative or annualised rate). Rates of 1 or
 * more are problems (checkSeries).
 */
export function fundingSanityTexts(path: string, symbol: string, time: Float64Array, rate: Float64Array, rows: number, listed?: string): string[] {
  const out: string[] = [];
  // an interval its manifest entry lists coarser than the events' (an import before it was checked, an entry edited)
  const named = listed ? timeframeMsOrNaN(listed) : NaN;
  const finer = named > 0 ? fundingFinerThan(time.subarray(0, rows), named) : null;
  if (finer) {
    out.push(`${path}: row ${finer.index + 1}: the funding events of ${symbol} settle every ${fmtStep(finer.step)} (their usual step), finer than the interval ${listed} manifest.json lists for the file: ` +
      `the coverage check takes theirs; set the entry's timeframe to ${fmtStep(finer.step)}, or import the series again with --replace --timeframe ${fmtStep(finer.step)}`);
  }
  if (rows >= 3) {
    const step = fundingStepMs(time.subarray(0, rows));
    if (step > 0 && step < 3_600_000)
      out.push(`${path}: the funding events of ${symbol} come every ${fmtStep(step)} (their usual step): no venue settles funding more often than hourly, and every event is booked as a payment of rate × position × price; a file of another kind or unit? check the file`);
    else {
      // a few events off the schedule (another source's appended to an 8h series: 1h, 37m and 40m apart) left the usual
      // step at 8h and passed every check, each charged as a settlement
      let close = 0;
      let first = -1;
      // (at their settlement times: Binance's 00:00:00.001 and an hourly venue's 01:00:00.000 are an hour apart)
      const gap = (k: number) => fundingSettleTime(time[k]!) - fundingSettleTime(time[k - 1]!);
      for (let k = 1; k < rows; k++) {
        const d = gap(k);
        if (d > 0 && d < 3_600_000 && close++ === 0) first = k;
      }
      if (close > 0)
        out.push(`${path}: ${close} funding event${close === 1 ? '' : 's'} of ${symbol} ${close === 1 ? 'comes' : 'come'} less than an hour after the one before (the first at ${fmtTime(time[first]!)}, ${fmtStep(gap(first))} after it, row ${first + 1}): no venue settles funding more often than hourly, and every event is booked as a payment of rate × position × price; events of another source or schedule appended? keep one source (import the series again from it with --replace)`);
    }
  }
  let beyond = 0;
  let worst = -1;
  for (let k = 0; k < rows; k++) {
    const r = rate[k]!;
    if (Math.abs(r) > FUNDING_RATE_WARN && Math.abs(r) < 1) {
      beyond++;
      if (worst < 0 || Math.abs(r) > Math.abs(rate[worst]!)) worst = k;
    }
  }
  // percentages written as fractions (0.01 for 0.01 %: a hundred times every payment), an annualised rate
  const abs: number[] = [];
  let atDefault = 0;
  for (let k = 0; k < rows; k++) {
    const r = rate[k]!;
    if (r !== r) continue;
    abs.push(Math.abs(r));
    if (r === 0.01) atDefault++;
  }
  abs.sort((a, b) => a - b);
  const median = abs.length ? abs[(abs.length - 1) >> 1]! : 0;
  const percentDefault = abs.length >= 10 && atDefault >= FUNDING_PERCENT_DEFAULT_SHARE * abs.length;
  if (median > FUNDING_MEDIAN_WARN || percentDefault) {
    const why =
      median > FUNDING_MEDIAN_WARN
        ? `the median |funding rate| of ${symbol} is ${Number((median * 100).toPrecision(3))} % a settlement (${Number(median.toPrecision(3))} in the file), where venues' rates sit near 0.01 %`
        : `${atDefault} of the ${abs.length} funding rates of ${symbol} are exactly 0.01, the venues' default rate of 0.01 % written as a percentage`;
    out.push(`${path}: ${why}: rates are fractions (0.0001 = 0.01 %); a file of percentages or annualised rates? check the file`);
  }
  if (beyond > 0)
    out.push(`${path}: ${beyond} funding rate${beyond === 1 ? '' : 's'} of ${symbol} ${beyond === 1 ? 'is' : 'are'} beyond ±${FUNDING_RATE_WARN * 100} % a settlement, past every venue's cap (the largest ${rate[worst]} at row ${worst + 1}); rates are fractions per interval (0.0001 = 0.01 %): a percentage, cumulative or annualised rate? check the file`);
  return out;
}

/** Bars beyond `first − interval` … `last + interval` settle no funding: when more than 1 − MARK_COVERAGE_WARN of them, a warning. */
const beyondFunding = (t: number, first: number, last: number, intervalMs: number): boolean => t < first - intervalMs || t > last + intervalMs;

/**
 * The funding coverage warning of one symbol, or null: its candle open times `candles` (sorted)
 * against its funding file's event times. Bars more than one funding interval before the first
 * event or after the last (funding downloaded for fewer months than the candles) settle no funding
 * at all, so a run there books none: when they are more than 1 − MARK_COVERAGE_WARN of the bars, a
 * warning, as for mark candles. The one judgement of the loader and of `data inspect`.
 */
export function fundingCoverageWarning(o: {
  fundingPath: string; symbol: string; timeframe: string;
  /** the manifest entry's nominal interval (fundingIntervalMs) */
  listedInterval: string | undefined;
  candles: ArrayLike<number>; funding: Float64Array;
}): string | null {
  const { candles, funding } = o;
  if (candles.length === 0 || funding.length === 0) return null;
  const intervalMs = fundingIntervalMs(o.listedInterval, funding);
  const first = funding[0]!, last = funding[funding.length - 1]!;
  let uncovered = 0;
  for (let i = 0; i < candles.length; i++) if (beyondFunding(candles[i]!, first, last, intervalMs)) uncovered++;
  const bars = candles.length;
  if (!(bars - uncovered < MARK_COVERAGE_WARN * bars)) return null;
  const share = uncovered === bars ? 'none' : `${bars - uncovered}`;
  return `${o.fundingPath}: funding events reach ${share} of the ${bars} ${o.timeframe} bars of ${o.symbol} ` +
    `(funding ${isoTime(first)} → ${isoTime(last)}, candles ${isoTime(candles[0]!)} → ${isoTime(candles[bars - 1]!)}); ` +
    `no funding is booked at the ${uncovered} bars more than one funding interval (${fmtStep(intervalMs)}) before its first or after its last event: import funding for them`;
}

/**
 * Symbols without a funding file in a dataset where others have one (funding imported for BTCUSDT,
 * forgotten for ETHUSDT): a run books no funding for them, so a warning each; one warning when no
 * symbol has funding (a run books none at all).
 */
export function missingFundingTexts(files: readonly { symbol: string; kind: string; path: string }[], symbols: readonly string[]): string[] {
  const withFunding = symbols.filter((s) => files.some((f) => f.symbol === s && f.kind === 'funding'));
  // none at all: the runs are perpetuals that never settle funding, which a report's "Funding net 0.00" does not say
  if (withFunding.length === 0) {
    if (symbols.length === 0) return [];
    const which = symbols.length === 1 ? symbols[0] : `any of its ${symbols.length} symbols`;
    return [`no funding file for ${which}: no funding is booked (a perpetual pays or receives it every few hours, every 8h on most venues), so the runs leave out what holding costs or earns; import its funding rates into the dataset to include it (marginlab's docs/data.md; marginlab data download fetches Binance's)`];
  }
  const example = files.find((f) => f.symbol === withFunding[0] && f.kind === 'funding')!.path;
  return symbols.filter((s) => !withFunding.includes(s)).map((s) =>
    `${s}: no funding file, while ${withFunding.length === 1 ? withFunding[0] : `${withFunding.length} other symbols`} ${withFunding.length === 1 ? 'has' : 'have'} one (${example}); no funding is booked for ${s}: import its funding`);
}


/**
 * Bars of sorted candle open times `candles` (bar length `barMs`) a sorted mark series covers: at
 * the bar timeframe, a mark candle at the bar's open; finer (`markMs` divides `barMs`), every
 * sub-candle of the bar (as the loader aggregates them).
 */
export function markCoveredBars(candles: Float64Array, barMs: number, marks: Float64Array, markMs: number): number {
  const per = barMs / markMs;
  let covered = 0;
  let j = 0;
  for (let i = 0; i < candles.length; i++) {
    const t = candles[i]!;
    while (j < marks.length && marks[j]! < t) j++;
    if (j + per - 1 < marks.length && marks[j] === t && marks[j + per - 1] === t + (per - 1) * markMs) covered++;
  }
  return covered;
}

/** The problem a series file with no rows is (load and inspect agree: no backtest can use it). */
export const NO_ROWS_PROBLEM = 'has no rows (no backtest can load it): re-import the series from a file with rows (import --replace), or remove its entry from manifest.json';

export function gapText(g: GapInfo): string {
  return `gap of ${g.missingBars} bar${g.missingBars === 1 ? '' : 's'} between ${fmtTime(g.from)} and ${fmtTime(g.to)}`;
}

/**
 * A gap is a problem under the 'error' gap policy (the loader's and `data inspect`'s wording): where
 * that policy is set, said once with the first gap listed (ProblemList.add's hint).
 */
export const GAP_POLICY_HINT = "gaps are errors: data.gaps: 'warn' in the config, --gaps warn of data validate and data inspect, or loadDataset's { gaps: 'warn' } loads the data with them (nothing is filled in: a bar no symbol has is left out of the timeline)";

/** One symbol's candles on the shared timeline: its candle file and first and last open time (ms). */
export interface CandleSpan {
  path: string;
  symbol: string;
  first: number;
  last: number;
}

/** A stretch of the shared timeline where no symbol has a candle (see timelineHoles). */
export interface TimelineHole {
  /** the candle file of the symbol whose series starts after the hole */
  path: string;
  text: string;
}

/**
 * Stretches where no symbol has a candle because one symbol's series ends before the next one's
 * starts (symbols with disjoint date ranges, a delisted coin beside a new one). Each series' own
 * gaps are found by checkSeries; these are not, yet the timeline (the union of the candle times)
 * would join the bars before and after such a stretch as adjacent bars, as it does a gap: funding
 * of the stretch settling at its next bar, return and annualisation over bars counting it as one
 * bar. So they are judged by the gap policy, as gaps are (loader and `data inspect` alike).
 */
export function timelineHoles(spans: CandleSpan[], tfMs: number, tf: string): TimelineHole[] {
  const sorted = [...spans].sort((a, b) => a.first - b.first);
  const out: TimelineHole[] = [];
  let reach = -Infinity;
  let reachSymbol = '';
  for (const s of sorted) {
    if (Number.isFinite(reach) && s.first > reach + tfMs) {
      const missing = Math.round((s.first - reach) / tfMs) - 1;
      out.push({
        path: s.path,
        text: `no symbol has a ${tf} candle for ${missing} bar${missing === 1 ? '' : 's'} between ${fmtTime(reach)} (the last of ${reachSymbol}) and ${fmtTime(s.first)} (the first of ${s.symbol}): the timeline would join them as adjacent bars`,
      });
    }
    if (s.last > reach) {
      reach = s.last;
      reachSymbol = s.symbol;
    }
  }
  return out;
}

/**
 * Symbols whose candles end well before the others' (a coin delisted mid-window, an export cut
 * short): a position a run still holds there is valued at its last close from then on, pays funding
 * at that price and cannot be closed, which no figure of the run shows. Warned when the stretch
 * after its last candle is more than the share MARK_COVERAGE_WARN leaves of the symbols' whole span
 * (loader and `data inspect` alike).
 */
export function earlyEndWarnings(spans: CandleSpan[], tfMs: number, tf: string): string[] {
  if (spans.length < 2) return [];
  const start = Math.min(...spans.map((s) => s.first));
  const end = Math.max(...spans.map((s) => s.last));
  return spans
    .filter((s) => end - s.last > (1 - MARK_COVERAGE_WARN) * (end - start + tfMs))
    .map((s) => `${s.path}: the ${tf} candles of ${s.symbol} end at ${fmtTime(s.last)}, ${Math.round((end - s.last) / tfMs)} bars before the other symbols' (${fmtTime(end)}): a position a run still holds in ${s.symbol} then stays open at its last close (valued at it, funding still settling on it) and cannot be closed`);
}

/** What to do about a timeline hole under the 'error' gap policy (said once). */
export const TIMELINE_HOLE_HINT = "symbols whose date ranges neither overlap nor touch: load them apart (data.symbols, or a dataset each), or with data.gaps: 'warn' (--gaps warn, loadDataset's { gaps: 'warn' }) the stretch is left out of the timeline";

/**
 * The symbols' spans judged as one timeline (the loader and `data inspect` alike): its holes are
 * problems under the 'error' gap policy and warnings under 'warn'; early ends are warnings. Returns
 * the warnings.
 */
export function judgeSpans(spans: CandleSpan[], tfMs: number, tf: string, gaps: 'error' | 'warn' | undefined, problems: ProblemList): string[] {
  const warnings: string[] = [];
  for (const h of timelineHoles(spans, tfMs, tf)) {
    if (gaps === 'warn') warnings.push(`${h.path}: ${h.text}`);
    else problems.add(h.path, 1, h.text, TIMELINE_HOLE_HINT);
  }
  warnings.push(...earlyEndWarnings(spans, tfMs, tf));
  return warnings;
}

/** A first candle off the symbols' shared grid. */
function offGridText(t0: number, tf: string, anchor: number): string {
  return `timestamp ${fmtTime(t0)} is off the dataset's ${tf} grid anchored at ${fmtTime(anchor)} (the symbols' candles must share one grid)`;
}

/**
 * The loader's and `data inspect`'s check of the symbols' first candles (every spacing a whole number
 * of bars, checked before): they share one grid, anchored at the earliest, and that grid is where
 * exchanges open candles (timeframe.ts offExchangeGrid; the importers refuse it too). Adds a problem
 * per file off it.
 */
export function checkGrid(firstRows: readonly { path: string; t0: number }[], tfMs: number, tf: string, problems: ProblemList): void {
  let anchor = Infinity;
  for (const r of firstRows) anchor = Math.min(anchor, r.t0);
  if (!Number.isFinite(anchor)) return;
  const off = offExchangeGrid(anchor, tfMs, tf);
  for (const r of firstRows) {
    if ((r.t0 - anchor) % tfMs !== 0) problems.add(r.path, 1, offGridText(r.t0, tf, anchor));
    else if (off !== null && r.t0 === anchor) problems.add(r.path, 1, off);
  }
}

/**
 * A mark file's candles where exchanges open them, as the importers require (its first row: every
 * other is a whole number of its bars from it, checkSeries). Off that grid none of them meets a bar,
 * so the loader and `data inspect` refuse it (a problem naming row 1) rather than warn of a coverage
 * of none. Candles are judged by checkGrid.
 */
export function checkMarkGrid(file: string, kind: FileKind, timestamp: Float64Array, tfMs: number | null, tf: string | undefined, problems: ProblemList): void {
  if (kind !== 'mark' || tfMs === null || !(tfMs > 0) || tf === undefined || timestamp.length === 0) return;
  const off = offExchangeGrid(timestamp[0]!, tfMs, tf);
  if (off !== null) problems.add(file, 1, off);
}

export function describeGap(file: string, g: GapInfo): string {
  return `${file} row ${g.row}: ${gapText(g)}`;
}
