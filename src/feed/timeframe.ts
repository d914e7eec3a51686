/**
 * Timeframes: '1s'..'59s', '1m', '5m', '1h', '8h', '1d', '1w' (any positive integer with unit s|m|h|d|w).
 */
import { usageError } from '../errors.js';

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Milliseconds of a timeframe string, or NaN when it is not one. */
export function timeframeMsOrNaN(tf: string): number {
  const m = /^([1-9][0-9]*)([smhdw])$/.exec(tf.trim());
  if (!m) return NaN;
  return Number(m[1]) * UNIT_MS[m[2]!]!;
}

/** What a timeframe is, for messages (the flags' and the config's). */
export const TIMEFRAME_FORM = 'a number and a unit s, m, h, d or w (e.g. 1m, 30m, 1h, 8h, 1d)';

/**
 * A hint for a string that is not a timeframe but one in upper case (pandas' and TradingView's
 * '1H', '4H', '1D'): units are lower case. 'M' is a month on exchanges, not a minute: said so. '' otherwise.
 */
export function timeframeHint(tf: string): string {
  const m = /^\s*([1-9][0-9]*)([A-Za-z]+)\s*$/.exec(tf);
  if (!m || m[2] === m[2]!.toLowerCase()) return '';
  if (m[2] === 'M') return " (units are lower case, and 'M', a month, is not one: minutes are m)";
  const lower = `${m[1]}${m[2]!.toLowerCase()}`;
  return Number.isFinite(timeframeMsOrNaN(lower)) ? ` (units are lower case: did you mean '${lower}'?)` : '';
}

/** Milliseconds of a timeframe string; throws a usage error (64) naming the expected form. */
export function timeframeMs(tf: string): number {
  const ms = timeframeMsOrNaN(tf);
  if (!Number.isFinite(ms)) {
    throw usageError(`invalid timeframe '${tf}': expected ${TIMEFRAME_FORM}${timeframeHint(tf)}`);
  }
  return ms;
}

/**
 * A timeframe in its one written form ('60m' → '1h', ' 1h' → '1h', '3600s' → '1h'): the name a
 * series has in a dataset's manifest and file names, so one timeframe is never two series. Throws as timeframeMs.
 */
export function canonicalTimeframe(tf: string): string {
  return fmtStep(timeframeMs(tf));
}

/** ms UTC as 'YYYY-MM-DDTHH:MM:SS.sssZ (ms)' for messages. */
export function fmtTime(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : `${d.toISOString()} (${ms})`;
}

/** ms UTC as ISO string (no raw number). */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

/** Human form of a step in ms: '1h', '30m', '8h', '1d', '90s', else 'N ms'. */
export function fmtStep(ms: number): string {
  for (const [u, k] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    if (ms >= k && ms % k === 0) return `${ms / k}${u}`;
  }
  return `${ms} ms`;
}

/**
 * A duration as a config writes one: '16h15m', '4h10m', '31h' (fmtStep's one unit, right for a timeframe, read
 * '975m' for a shock's offset); fmtStep's form when it is not whole seconds.
 */
export function fmtSpan(ms: number): string {
  if (!(ms > 0) || !Number.isFinite(ms) || ms % 1_000 !== 0) return fmtStep(ms);
  let rest = ms;
  let out = '';
  for (const [u, k] of [['h', 3_600_000], ['m', 60_000], ['s', 1_000]] as const) {
    const n = Math.floor(rest / k);
    if (n > 0) out += `${n}${u}`;
    rest -= n * k;
  }
  return out;
}

/**
 * The most common step of a series (`counts`: step in ms → how often it occurs between rows), with
 * how often: `prefer` (the timeframe a file says it has) wins a tie. The importers' spacing verdict,
 * their timeframe inference and the loader's check of a manifest entry all judge spacing by it.
 */
export function mostCommonStep(counts: ReadonlyMap<number, number>, prefer = 0): { step: number; n: number } {
  let step = prefer;
  let n = counts.get(prefer) ?? 0;
  for (const [d, c] of counts) if (c > n) { step = d; n = c; }
  return { step, n };
}

/**
 * The nominal interval of a funding series that names none (an imported CSV or feather, `data inspect` of an entry
 * listing none): fundingStepMs as a timeframe ('8h'), the interval a load and the coverage check take for it;
 * null without two settlements a minute or more apart, or when the step is no timeframe. (The most common
 * spacing said '8h' for an 8h series that turns 4h, which a load takes as 4h.)
 */
export function fundingInterval(time: ArrayLike<number>): string | null {
  const ms = fundingStepMs(time);
  const tf = ms > 0 ? fmtStep(ms) : null;
  return tf !== null && /^\d+[mhdw]$/.test(tf) ? tf : null;
}

/** The step of a series of times as seriesStep judges it (the times in any order); 0 without two distinct times. */
export function stepOfTimes(time: ArrayLike<number>): number {
  return time.length < 2 ? 0 : seriesStep(stepCounts(time));
}

/** The steps between the distinct times of a series (in any order; NaN left out): step (ms) → how often. */
export function stepCounts(time: ArrayLike<number>): Map<number, number> {
  const sorted = Float64Array.from(time).sort();
  const counts = new Map<number, number>();
  for (let i = 1; i < sorted.length; i++) {
    const d = sorted[i]! - sorted[i - 1]!;
    if (d > 0) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  return counts;
}

/** a funding time with its jitter of a few ms rounded to the minute, as fundingStepMs reads it */
const toMinute = (t: number): number => Math.round(t / 60_000) * 60_000;

/**
 * The nominal interval (ms) of funding event times: their step with the jitter of a few ms rounded
 * to the minute (Binance's fundingTime 1747872000001), judged as a candle series' step is; 0 without
 * two events. The one rule for the interval an import lists and the one the load's coverage uses.
 */
export function fundingStepMs(time: ArrayLike<number>): number {
  return stepOfTimes(Array.from(time, toMinute));
}

/**
 * Funding events (sorted times) that settle more often than the interval named for them (`namedMs`:
 * an import's --timeframe, or the one their manifest entry lists): their interval (fundingStepMs) and
 * the index of the first event that far after the one before; null when the named interval is no
 * coarser than theirs. A coarser or irregular schedule is the events' to say, by fundingStepMs's rule
 * (an 8h series that turns 4h for a tenth of its steps or more is 4h; a few 4h steps in it are not).
 * A named interval finer than the events' only makes the coverage check stricter; a coarser one would
 * let it tolerate that much missing funding at the ends (docs/data-format.md, "Funding coverage").
 */
export function fundingFinerThan(time: ArrayLike<number>, namedMs: number): { step: number; index: number } | null {
  const step = fundingStepMs(time);
  if (!(step > 0 && step < namedMs)) return null;
  for (let i = 1; i < time.length; i++) if (toMinute(time[i]!) - toMinute(time[i - 1]!) === step) return { step, index: i };
  return { step, index: 1 };
}

/**
 * The sentence of fundingFinerThan: events `step` apart, the first at `t` (a row the caller names), against the
 * interval `named` that `by` gives ('--timeframe', or 'the interval manifest.json lists for it').
 */
export function fundingFinerText(step: number, t: number, named: string, by: string): string {
  const s = fmtStep(step);
  return `the funding events settle every ${s} (their usual step; the first such at ${fmtTime(t)}, ${s} after the one before), finer than ${named} (${by}), ` +
    `which a load would take as their interval (up to ${named} without funding at the ends passing the coverage check): pass --timeframe ${s}`;
}

/** The finest funding interval of a dataset's symbols (fundingStepMs of each one's events); 0 when none has two events. */
export function finestFundingStep(md: { columns: readonly { fundingTime: ArrayLike<number> }[] }): number {
  let finest = 0;
  for (const c of md.columns) {
    const step = fundingStepMs(c.fundingTime);
    if (step > 0 && (finest === 0 || step < finest)) finest = step;
  }
  return finest;
}

/**
 * The timeframe a series' steps show when no file or flag names one: its most common step, unless
 * every step is a multiple of a finer step that makes at least a tenth of them — then the finest
 * such step, the series being that timeframe with gaps (a 1h series missing every third bar has
 * as many 2h steps as 1h ones, or more; a stray finer step, a duplicate half a bar off, is too rare
 * to count). 0 when there are no steps.
 */
export function seriesStep(counts: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const c of counts.values()) total += c;
  let step = mostCommonStep(counts).step;
  for (const [d, c] of counts) {
    if (!(d > 0 && d < step && c * 10 >= total)) continue;
    let fits = true;
    for (const x of counts.keys()) if (x % d !== 0) fits = false;
    if (fits) step = d;
  }
  return step;
}

/**
 * The step a series' spacing shows instead of `tf` (the timeframe its file or flag names), or null
 * when it fits `tf`, gaps aside: its most common step, when that is not `tf` and can be the series'
 * own timeframe: finer than `tf` (30m candles behind 1h), or coarser with no step finer than it (2h
 * candles behind 1h). A 1h series missing every third bar has 2h as its most common step, but its
 * 1h steps fit no 2h timeframe: it is 1h with gaps.
 */
export function otherSpacing(counts: ReadonlyMap<number, number>, tf: number): { step: number; n: number } | null {
  const best = mostCommonStep(counts, tf);
  if (best.step === tf) return null;
  if (best.step > tf) for (const d of counts.keys()) if (d < best.step) return null;
  return best;
}

/**
 * Funding times less than this many ms past a whole minute settle at that minute (Binance stamps a
 * settlement a few ms after it). Here, not in ./load.ts, so that the stress planning on the main
 * thread does not import the Arrow reader (146 modules of apache-arrow, ≈ 0.3 s of every command).
 */
export const FUNDING_JITTER_MS = 1000;

export function fundingSettleTime(t: number): number {
  const r = ((t % 60_000) + 60_000) % 60_000;
  return r < FUNDING_JITTER_MS ? t - r : t;
}

const DAY_MS = 86_400_000;
const WEEK_MS = 604_800_000;
/** 1970-01-05T00:00Z, a Monday: exchanges open weekly candles on Mondays at 00:00 UTC */
const FIRST_MONDAY_MS = 4 * DAY_MS;

const gcd = (a: number, b: number): number => {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
};

/**
 * Where a candle of the timeframe `tfMs` may open, as exchanges open them: at a whole multiple of
 * the timeframe after 00:00 UTC when it divides a day (1m, 5m, 1h, 4h, 8h, 1d; 7m: of gcd(7m, 1d) =
 * 1m), at 00:00 UTC for longer ones (2d, 3d), and on a Monday at 00:00 UTC for weeks. A series off
 * it has its times shifted (a time zone, seconds read as milliseconds, a stray offset), so its funding
 * and mark would be matched to the wrong bars. The one rule of the importers, the loader and `data synth`.
 */
export function gridOf(tfMs: number): { step: number; anchor: number; text: string } {
  if (tfMs % WEEK_MS === 0) return { step: WEEK_MS, anchor: FIRST_MONDAY_MS, text: 'a Monday at 00:00 UTC' };
  const step = gcd(tfMs, DAY_MS);
  return { step, anchor: 0, text: step === DAY_MS ? '00:00 UTC' : `a whole multiple of ${fmtStep(step)} after 00:00 UTC` };
}

/**
 * Null when a candle of the timeframe `tf` (ms `tfMs`) may open at `t` (gridOf), else the words of
 * the refusal: '2024-01-01T00:30:00.000Z (…) is not on the exchanges' 1h grid: a 1h candle opens at …'.
 */
export function offExchangeGrid(t: number, tfMs: number, tf: string): string | null {
  const g = gridOf(tfMs);
  const r = (((t - g.anchor) % g.step) + g.step) % g.step;
  if (r === 0) return null;
  return `${fmtTime(t)} is not on the exchanges' ${tf} grid: a ${tf} candle opens at ${g.text} (this one is ${fmtStep(r)} past one: are the times shifted, by a time zone or an offset?)`;
}

/**
 * Whether rows whose steps are `steps` (ms → count, as stepOfTimes and the csv format's first pass count them) are a
 * calendar month apart, monthly candles no fixed timeframe holds: every step 28 to 31 whole days, and either more than
 * one length (a year of months: 31d read as the timeframe made every shorter month a bad row) or every time at 00:00
 * UTC on the 1st of a month (`onFirsts`: July to September, two 31-day steps, imported as "31d" candles in silence).
 */
export function monthlySpacing(steps: ReadonlyMap<number, number>, onFirsts: boolean): boolean {
  if (steps.size === 0) return false;
  for (const k of steps.keys()) if (!(k >= 28 * DAY_MS && k <= 31 * DAY_MS && k % DAY_MS === 0)) return false;
  return steps.size > 1 || onFirsts;
}

/** Whether `t` (ms UTC) is 00:00 UTC on the 1st of a month, where a monthly candle opens. */
export const isMonthStart = (t: number): boolean => t % DAY_MS === 0 && new Date(t).getUTCDate() === 1;

/** Why monthly candles are not imported (freqtrade's -1M-, Binance's -1mo-, a CSV of rows a calendar month apart). */
export const MONTHLY_CANDLES_HINT = 'monthly candles are not supported (no fixed timeframe; docs/data.md, "Choices and what is left out")';

/** The refusal of a file whose rows are a calendar month apart (monthlySpacing), whatever its format. */
export const monthlyRowsText = (file: string): string => `${file}: its rows are a calendar month apart: ${MONTHLY_CANDLES_HINT}; import daily or finer candles of the same months`;
