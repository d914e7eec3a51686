/**
 * The one path every importer ends in (docs/data-format.md, "Appending and replacing"): series
 * read from any source are grouped per (symbol, kind, timeframe), sorted, checked row by row,
 * merged with what the dataset already holds, checked for spacing, written under temp names and
 * only then renamed into place, manifest last.
 *
 * Appending is the normal case: new rows extend a series; rows at a time the dataset already has
 * must be identical (every column, exactly), else the import fails naming the first conflicting
 * row and nothing is written. `replace` drops the dataset's series for the keys being imported.
 */
import { existsSync, lstatSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { dataError, missingInput, usageError, type UserError } from '../errors.js';
import { KindFileWriter, readKindFile } from './arrow-io.js';
import {
  FORMAT_ID, FORMAT_VERSION, MANIFEST_FILE, entryFault, manifestToJson, readManifest, seriesPath,
  type FileKind, type Manifest, type ManifestFile,
} from './manifest.js';
import { canonicalTimeframe, fmtStep, fmtTime, fundingFinerText, fundingFinerThan, fundingInterval, offExchangeGrid, otherSpacing, timeframeMs, timeframeMsOrNaN } from './timeframe.js';
import { ProblemList, fundingSanityTexts, fundingTwice, hashProblemText, implausibleTime, type GapInfo } from './validate.js';
import { signalsBeforeCommit, trackTemp } from '../util/interrupt.js';
import { placeAll, tempBeside } from '../util/atomic.js';
import { mkdirs } from '../util/outdir.js';
import { excerpt, grouped } from '../util/excerpt.js';

/** One series as read from a source, before it meets the dataset. */
export interface SeriesData {
  symbol: string;
  kind: FileKind;
  /** candles and mark: their timeframe; funding: optional nominal interval */
  timeframe?: string;
  /** ms UTC, any order */
  time: Float64Array;
  /** schema order: candles open, high, low, close, volume; mark open..close; funding rate[, price] (NaN = none) */
  cols: Float64Array[];
  /** where row i came from (file and line), for messages */
  where: (i: number) => string;
  /** the text of row i's time (k = -1) or value column k in the input, when a cell read as no number, for messages */
  raw?: (i: number, k: number) => string | undefined;
  /** the symbol the input itself names (file name or content), when any: --symbol may rename one, never several */
  named?: string;
  /** how to import the data at timeframe `other` when its spacing says so (default: `import it with --timeframe <other>`) */
  timeframeFix?: (other: string) => string;
  /**
   * funding: `timeframe` is the interval a reader took from this input's own events (fundingInterval), named by no one
   * (no --timeframe): the entry lists the interval of the events it holds after the import (files of one symbol
   * together, an append's merged series), or the one the dataset lists when that is no coarser than theirs
   */
  intervalFromEvents?: boolean;
}

export interface CommitOptions {
  /** replace the dataset's series for the imported keys instead of appending */
  replace?: boolean;
  /** venue written when the manifest is created */
  venue?: string;
  /** provenance lines added to the manifest */
  provenance?: string[];
}

export interface CommitResult {
  symbol: string;
  kind: FileKind;
  timeframe?: string;
  path: string;
  /** rows in the file now */
  rows: number;
  /** rows the file did not have before (all rows when new or replaced) */
  added: number;
  first: number | null;
  last: number | null;
  gaps: number;
  /** the widest gap (missing bars, the times either side), when there is one */
  widestGap?: Pick<GapInfo, 'missingBars' | 'from' | 'to'>;
  /** gaps the dataset's file had before this import appended to it (absent: a new or replaced file) */
  gapsBefore?: number;
  /** rows of the dataset's file that `replace` replaced (absent: appended, or a new file) */
  replacedRows?: number;
}

/** ', replacing the 1,458 rows it held' (a --replace that dropped 1,452 rows said only "imported 6 rows"), '' when none were replaced */
export const replacedText = (r: { replacedRows?: number }): string =>
  r.replacedRows === undefined ? '' : `, replacing the ${grouped(r.replacedRows)} row${r.replacedRows === 1 ? '' : 's'} it held`;

/** the first block of Bitcoin (2009-01-03): no crypto market has a price before it */
const FIRST_CRYPTO_MS = Date.UTC(2009, 0, 3);

/**
 * A series whose first time is before any crypto market (2009): epoch numbers below 1e11 are read as seconds, so an
 * Excel serial date (45717 for 2025-03-01) or a row number imported as 1970 in silence. Said at the import (the rows
 * are as written; a run may still replay them). null: the times are plausible.
 */
export function earlyTimeText(series: string, first: number | null): string | null {
  if (first === null || !(first < FIRST_CRYPTO_MS)) return null;
  return (
    `${series.trim()}: its times start at ${new Date(first).toISOString()}, before any crypto market (2009): epoch numbers below 1e11 ` +
    'are read as seconds, so an Excel serial date or a row number is not a time; export ISO-8601 times or epoch ms and import again with --replace'
  );
}

/**
 * A series with gaps imports (its rows are right), but a run refuses it by default: said at the import and the
 * download, not at the next run (an append from another period makes one gap of thousands of bars). null: no gap.
 */
export function gapWarningText(series: string, r: Pick<CommitResult, 'gaps' | 'widestGap' | 'gapsBefore'>, timeframe: string | undefined, by: 'import' | 'download' = 'import'): string | null {
  const g = r.widestGap;
  if (!g) return null;
  // the append made a gap the file did not have (its rows do not join the dataset's): say how to undo it
  const made = r.gapsBefore !== undefined && r.gaps > r.gapsBefore;
  return (
    `${series.trim()} now has ${r.gaps} gap${r.gaps === 1 ? '' : 's'} (widest: ${g.missingBars} missing bar${g.missingBars === 1 ? '' : 's'} between ${new Date(g.from).toISOString()} and ${new Date(g.to).toISOString()}); ` +
    `a run at ${timeframe ?? 'its timeframe'} refuses a dataset with gaps unless the config's data entry says gaps: 'warn' (docs/data.md)` +
    `${made ? `; this ${by}'s rows do not join the dataset's (${r.gapsBefore} gap${r.gapsBefore === 1 ? '' : 's'} before it): \`--replace\` ${by === 'import' ? 'imports the file' : 'downloads the range'} alone` : ''}`
  );
}

/**
 * The warnings a load and `data inspect` give about a funding file no venue would publish (fundingSanityTexts),
 * for a funding series an import has just written at `path`: said at the import, where the file can still be
 * fixed, as well as at every run. A file that cannot be read says nothing here (the load names it).
 */
export function importedFundingWarnings(path: string, symbol: string): string[] {
  const f = readKindFile(path, basename(path), 'funding', new ProblemList());
  if (!f || !f.columns.rate) return [];
  return fundingSanityTexts(path, symbol, f.timestamp, f.columns.rate, f.rows);
}

const MAX_LISTED = 200;

/**
 * The error for an input with no data rows (an empty file, a header only, `[]`, an archive member
 * with nothing in it): every importer refuses it (65) rather than write a series file with no rows,
 * which no backtest can load. `what` names the file (and the archive member).
 */
export function noRowsError(what: string): UserError {
  return dataError(`${what}: no data rows (the file is empty or holds a header only); nothing was imported. Re-download or re-export it, or leave it out of the import`);
}
/** what a series of each kind holds, in a message ("the file holds mark-price candles") */
export const KIND_WORDS: Record<FileKind, string> = { candles: 'trade candles', mark: 'mark-price candles', funding: 'funding rates' };

/** The gaps of sorted times `t` at timeframe `tfMs` (steps longer than it) and the widest one. */
export function gapSummary(t: ArrayLike<number>, tfMs: number): { gaps: number; widest?: Pick<GapInfo, 'missingBars' | 'from' | 'to'> } {
  let gaps = 0;
  let at = -1;
  for (let i = 1; i < t.length; i++) {
    const d = t[i]! - t[i - 1]!;
    if (d === tfMs) continue;
    gaps++;
    if (at < 0 || d > t[at]! - t[at - 1]!) at = i;
  }
  return at < 0 ? { gaps } : { gaps, widest: { missingBars: (t[at]! - t[at - 1]!) / tfMs - 1, from: t[at - 1]!, to: t[at]! } };
}

export const KIND_NAMES: Record<FileKind, readonly string[]> = {
  candles: ['open', 'high', 'low', 'close', 'volume'],
  mark: ['open', 'high', 'low', 'close'],
  funding: ['rate', 'price'],
};

/** Why one row is unusable, or null. `v` in schema order (see SeriesData.cols). */
export function rowProblem(kind: FileKind, v: ArrayLike<number>, n: number): string | null {
  if (kind === 'funding') {
    const r = v[0]!;
    if (!Number.isFinite(r)) return `rate ${r} is not a number`;
    if (Math.abs(r) >= 1) return `rate ${r} is implausible (|rate| must be < 1; rates are fractions, 0.0001 = 0.01 %)`;
    if (n === 2 && !Number.isNaN(v[1]!) && !(v[1]! > 0)) return `price ${v[1]} must be > 0`;
    return null;
  }
  for (let k = 0; k < n; k++) if (!Number.isFinite(v[k]!)) return `${KIND_NAMES[kind][k]} ${v[k]} is not a number`;
  const o = v[0]!, h = v[1]!, l = v[2]!, c = v[3]!;
  if (!(o > 0 && h > 0 && l > 0 && c > 0)) return `prices must be > 0 (open ${o}, high ${h}, low ${l}, close ${c})`;
  if (l > Math.min(o, c)) return `low ${l} is above min(open, close) = ${Math.min(o, c)}`;
  if (h < Math.max(o, c)) return `high ${h} is below max(open, close) = ${Math.max(o, c)}`;
  if (kind === 'candles' && !(v[4]! >= 0)) return `volume ${v[4]} must be ≥ 0`;
  return null;
}

const label = (s: Pick<SeriesData, 'symbol' | 'kind' | 'timeframe'>) =>
  `${s.kind} ${s.symbol}${s.kind !== 'funding' && s.timeframe ? ` ${s.timeframe}` : ''}`;
const keyOf = (s: Pick<SeriesData, 'symbol' | 'kind' | 'timeframe'>) => `${s.symbol}|${s.kind}|${s.kind === 'funding' ? '' : s.timeframe}`;

/**
 * Two readings of one value: equal, both missing, or the same decimal to 15 significant digits as two tools write it
 * (freqtrade's feather keeps float64 noise such as 1.0854300000000001, its json 1.08543): no two market values differ
 * by less than 1e-14 of themselves. The dataset's reading is kept.
 */
const same = (a: number, b: number) => a === b || (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= 1e-14 * Math.max(Math.abs(a), Math.abs(b));

/**
 * Sort by time and check every row; rows repeated with identical values (a daily file inside a
 * monthly one) are kept once; two different rows at one time are an error naming both.
 */
export function normalizeSeries(s: SeriesData): SeriesData {
  const n = s.time.length;
  const nc = s.cols.length;
  const idx = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (!(s.time[i - 1]! < s.time[i]!)) sorted = false;
  if (!sorted) idx.sort((a, b) => s.time[a]! - s.time[b]! || a - b);
  const problems: string[] = [];
  let count = 0;
  const keep = new Uint32Array(n);
  let m = 0;
  const row = new Float64Array(nc);
  for (let j = 0; j < n; j++) {
    const i = idx[j]!;
    const t = s.time[i]!;
    const late = Number.isInteger(t) && t >= 0 ? implausibleTime(t) : null;
    if (!Number.isInteger(t) || t < 0 || late !== null) {
      const text = Number.isNaN(t) ? s.raw?.(i, -1) : undefined;
      count++;
      if (problems.length < MAX_LISTED) problems.push(`${s.where(i)}: time ${text !== undefined ? `'${excerpt(text, 40)}' is not an epoch time (s, ms, µs or ns)` : late !== null ? `${t} ${late} (times are ms UTC)` : `${t} is not a valid ms UTC value`}`);
      continue;
    }
    for (let k = 0; k < nc; k++) row[k] = s.cols[k]![i]!;
    // a cell that read as no number is quoted as the input has it (a funding price may be empty: not given)
    let why: string | null = null;
    for (let k = 0; k < nc && why === null && s.raw; k++) {
      if (Number.isNaN(row[k]!) && !(s.kind === 'funding' && k === 1)) {
        const text = s.raw(i, k);
        if (text !== undefined) why = `${KIND_NAMES[s.kind][k]} '${excerpt(text, 40)}' is not a number`;
      }
    }
    why ??= rowProblem(s.kind, row, nc);
    if (why !== null) { count++; if (problems.length < MAX_LISTED) problems.push(`${s.where(i)}: ${why}`); continue; }
    if (m > 0 && s.time[keep[m - 1]!] === t) {
      const p = keep[m - 1]!;
      let k = 0;
      while (k < nc && same(s.cols[k]![p]!, row[k]!)) k++;
      if (k < nc) {
        count++;
        if (problems.length < MAX_LISTED) problems.push(`${s.where(i)}: ${fmtTime(t)} is also at ${s.where(p)} with another ${KIND_NAMES[s.kind][k]} (${row[k]} vs ${s.cols[k]![p]})`);
      }
      continue;
    }
    keep[m++] = i;
  }
  if (count > 0) {
    const more = count > problems.length ? [`... and ${count - problems.length} more`] : [];
    throw dataError(`${label(s)}: ${count} bad row${count === 1 ? '' : 's'}; nothing was written`, [...problems, ...more]);
  }
  const time = new Float64Array(m);
  const cols = s.cols.map(() => new Float64Array(m));
  for (let j = 0; j < m; j++) {
    const i = keep[j]!;
    time[j] = s.time[i]!;
    for (let k = 0; k < nc; k++) cols[k]![j] = s.cols[k]![i]!;
  }
  const where = s.where;
  return { ...s, time, cols, where: (j) => where(keep[j]!) };
}

/**
 * Check that sorted candle times are spaced by the timeframe: every step a multiple of it (a
 * larger multiple is a gap), and the most common step the timeframe itself. Returns the gap count.
 */
export function checkSpacing(s: Pick<SeriesData, 'symbol' | 'kind' | 'timeframe' | 'time' | 'cols' | 'where' | 'timeframeFix'> & { fundingNamedBy?: string }): number {
  if (s.kind === 'funding') {
    // (an append of the same events with other time stamps: kept twice, each settlement charged twice)
    const twice = s.cols[0] ? fundingTwice(s.time, s.cols[0]) : null;
    if (twice) throw dataError(`${label(s)}: ${s.where(twice.index)}: ${twice.text}; nothing was written`);
    // the interval named for the events (--timeframe, or the one the dataset lists) may not be coarser than theirs
    const named = s.timeframe ? timeframeMsOrNaN(s.timeframe) : NaN;
    const finer = named > 0 ? fundingFinerThan(s.time, named) : null;
    if (finer) throw dataError(`${label(s)}: ${s.where(finer.index)}: ${fundingFinerText(finer.step, s.time[finer.index]!, s.timeframe!, s.fundingNamedBy ?? '--timeframe')}; nothing was written`);
    return 0;
  }
  if (!s.timeframe) return 0;
  const tf = timeframeMs(s.timeframe);
  const t = s.time;
  // the steps are whole multiples of the timeframe (below), so the first row puts every row on the grid or off it
  const off = t.length > 0 ? offExchangeGrid(t[0]!, tf, s.timeframe) : null;
  if (off !== null) throw dataError(`${label(s)}: ${s.where(0)}: ${off}`);
  const counts = new Map<number, number>();
  let gaps = 0;
  for (let i = 1; i < t.length; i++) {
    const d = t[i]! - t[i - 1]!;
    if (d % tf !== 0) {
      throw dataError(`${label(s)}: ${s.where(i)}: ${fmtTime(t[i]!)} is ${fmtStep(d)} after the row before; expected a multiple of the ${s.timeframe} timeframe (${s.timeframeFix ? `${s.timeframeFix(fmtStep(d))}, if that is its timeframe` : 'check --timeframe'})`);
    }
    if (d !== tf) gaps++;
    if (counts.size < 64 || counts.has(d)) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  // named with its file: the first row a step of the other spacing leads to (a folder's import commits many series)
  const other = otherSpacing(counts, tf);
  if (other) {
    let i = 1;
    while (i < t.length - 1 && t[i]! - t[i - 1]! !== other.step) i++;
    spacingVerdict(`${label(s)}: ${s.where(i)}`, counts, tf, s.timeframe, t.length - 1, s.timeframeFix);
  }
  return gaps;
}

/** Throws (65) when the spacing of a series (`counts`: step → how often) shows another timeframe (otherSpacing). */
export function spacingVerdict(what: string, counts: Map<number, number>, tf: number, tfLabel: string, steps: number, fix?: (other: string) => string): void {
  const other = otherSpacing(counts, tf);
  if (other) {
    const { step: best, n: bestN } = other;
    throw dataError(`${what}: the data's spacing is ${fmtStep(best)} (${bestN} of ${steps} steps), not the timeframe ${tfLabel}; ${fix ? fix(fmtStep(best)) : `import it with --timeframe ${fmtStep(best)}`}`);
  }
}

interface Existing { time: Float64Array; cols: Float64Array[] }

/** Merge sorted `add` into sorted `old`; equal times must hold identical rows. */
export function mergeSeries(old: Existing, add: SeriesData, path: string): { time: Float64Array; cols: Float64Array[]; added: number } {
  const nc = Math.max(old.cols.length, add.cols.length);
  const colOf = (c: Float64Array[], k: number, i: number) => (k < c.length ? c[k]![i]! : NaN);
  const a = old.time, b = add.time;
  const time = new Float64Array(a.length + b.length);
  const cols = Array.from({ length: nc }, () => new Float64Array(a.length + b.length));
  let i = 0, j = 0, m = 0;
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i]! < b[j]!)) {
      time[m] = a[i]!;
      for (let k = 0; k < nc; k++) cols[k]![m] = colOf(old.cols, k, i);
      i++;
    } else if (i >= a.length || b[j]! < a[i]!) {
      time[m] = b[j]!;
      for (let k = 0; k < nc; k++) cols[k]![m] = colOf(add.cols, k, j);
      j++;
    } else {
      // same time: identical or a conflict (a column only one side has is not compared)
      const shared = Math.min(old.cols.length, add.cols.length);
      for (let k = 0; k < shared; k++) {
        if (!same(old.cols[k]![i]!, add.cols[k]![j]!)) {
          throw dataError(
            `${label(add)}: ${add.where(j)}: the row at ${fmtTime(b[j]!)} conflicts with the dataset's ${path}: ${KIND_NAMES[add.kind][k]} ${add.cols[k]![j]} vs ${old.cols[k]![i]}; overlapping rows must be identical. Nothing was written (--replace replaces the series)`,
          );
        }
      }
      time[m] = a[i]!;
      for (let k = 0; k < nc; k++) cols[k]![m] = Number.isNaN(colOf(old.cols, k, i)) ? colOf(add.cols, k, j) : colOf(old.cols, k, i);
      i++;
      j++;
    }
    m++;
  }
  return { time: time.subarray(0, m), cols: cols.map((c) => c.subarray(0, m)), added: m - a.length };
}

/** Read the dataset's manifest, or null for a new folder; refuses a folder of .arrow files without one. */
export function openDataset(outDir: string): Manifest | null {
  if (existsSync(join(outDir, MANIFEST_FILE))) return readManifest(outDir).manifest;
  if (existsSync(outDir) && readdirSync(outDir).some((f) => f.endsWith('.arrow'))) {
    throw dataError(`${outDir} holds .arrow files but no ${MANIFEST_FILE}; refusing to write into it`);
  }
  return null;
}

/**
 * Refuses (64) to place a series file the manifest does not list yet at `rel` when a file (or
 * anything else) is already there: it is not marginlab's (a file a user put in the dataset
 * folder, or one left when its entry was removed from manifest.json), and marginlab never
 * overwrites a file it did not write.
 */
export function refuseUnlisted(outDir: string, m: Manifest | null, rel: string): void {
  if (m?.files.some((f) => f.path === rel)) return;
  let there = false;
  try { lstatSync(join(outDir, rel)); there = true; } catch { /* free */ }
  if (there) {
    throw usageError(`${join(outDir, rel)} exists but ${MANIFEST_FILE} does not list it, so it is not marginlab's: it would be overwritten by this import. Move it out of the dataset folder (or remove it if it is a leftover), or import into another --out`);
  }
}

/**
 * The default timeframe for candle files: the finest one every symbol with candles has (a run at the
 * default loads every symbol, at the finest detail imported), else the finest one; null without candles.
 */
export function defaultTimeframe(files: readonly ManifestFile[]): string | null {
  const candles = files.filter((f) => f.kind === 'candles' && f.timeframe);
  if (candles.length === 0) return null;
  const symbols = new Set(candles.map((f) => f.symbol));
  const tfs = [...new Set(candles.map((f) => f.timeframe!))].sort((a, b) => timeframeMs(a) - timeframeMs(b));
  const shared = tfs.find((tf) => [...symbols].every((sym) => candles.some((f) => f.symbol === sym && f.timeframe === tf)));
  return shared ?? tfs[0]!;
}

/**
 * The manifest after adding or replacing `entries`. A new dataset's default timeframe is
 * defaultTimeframe() of its files; an existing dataset keeps its own while it has candles at it.
 */
export function nextManifest(outDir: string, m: Manifest | null, entries: ManifestFile[], opts: { venue?: string; provenance?: string[] }): Manifest {
  const prov = (opts.provenance ?? []).filter(Boolean).join('\n');
  if (!m) {
    return {
      format: FORMAT_ID, version: FORMAT_VERSION, name: basename(outDir), venue: opts.venue ?? 'binance-usdm',
      timeframe: defaultTimeframe(entries) ?? entries.find((e) => e.timeframe)?.timeframe ?? '1h',
      symbols: [...new Set(entries.map((e) => e.symbol))], files: entries, provenance: prov,
    };
  }
  const paths = new Set(entries.map((e) => e.path));
  const files = [...m.files.filter((f) => !paths.has(f.path)), ...entries];
  const symbols = [...m.symbols];
  for (const e of entries) if (!symbols.includes(e.symbol)) symbols.push(e.symbol);
  let timeframe = m.timeframe;
  if (!files.some((f) => f.kind === 'candles' && f.timeframe === timeframe)) timeframe = defaultTimeframe(files) ?? timeframe;
  return { ...m, symbols, files, timeframe, provenance: m.provenance && prov ? `${m.provenance}\n${prov}` : m.provenance || prov };
}

/** Whether every entry is listed in the manifest with the same content (an import that changes nothing). */
export function unchangedFiles(m: Manifest | null, entries: readonly ManifestFile[]): boolean {
  if (!m || entries.length === 0) return false;
  return entries.every((e) => {
    const l = m.files.find((f) => f.path === e.path);
    return l !== undefined && l.sha256 === e.sha256 && l.rows === e.rows && l.symbol === e.symbol && l.kind === e.kind && l.timeframe === e.timeframe;
  });
}

/**
 * Append (or with `replace`, replace) series into the dataset folder `out`. An import that
 * changes no file's content writes nothing (the manifest, its provenance included, stays as it was). All files are written
 * under temp names first; any error leaves the folder as it was.
 */
export function commitSeries(out: string, input: SeriesData[], opts: CommitOptions = {}): CommitResult[] {
  return stageSeries(out, input, opts).place();
}

/**
 * commitSeries for a command: a Ctrl-C gets its turn after the files are written under temp names and before they are
 * put in place (reading and writing never yield: a signal during them was handled after the commit, the dataset
 * changed under "as it was before", or dropped). On the signal the temp files go (they are tracked) and the folder is as
 * it was.
 */
export async function commitSeriesYielding(out: string, input: SeriesData[], opts: CommitOptions = {}): Promise<CommitResult[]> {
  const staged = stageSeries(out, input, opts);
  await signalsBeforeCommit();
  return staged.place();
}

/** commitSeries up to putting the files in place: `place()` does that (or removes the temps when it fails) and returns the results. */
function stageSeries(out: string, input: SeriesData[], opts: CommitOptions): { place: () => CommitResult[] } {
  const outDir = resolve(out);
  // the readers refuse inputs without files or rows; this guards every other caller (a manifest without symbols is invalid)
  if (input.length === 0) throw dataError(`no series to import in ${outDir}; nothing was written`);
  const manifest = openDataset(outDir);
  // group per key, in first-seen order
  const groups = new Map<string, SeriesData[]>();
  for (const s of input) {
    if (s.kind !== 'funding' && !s.timeframe) throw dataError(`${label(s)}: a timeframe is needed for ${s.kind}`);
    // one written form per timeframe ('60m' is the series 1h)
    if (s.timeframe) s.timeframe = canonicalTimeframe(s.timeframe);
    const g = groups.get(keyOf(s));
    if (g) g.push(s);
    else groups.set(keyOf(s), [s]);
  }
  const createdDir = !existsSync(outDir);
  mkdirs(outDir);
  const tmps: { tmp: string; rel: string; untrack: () => void }[] = [];
  const cleanup = () => {
    for (const t of tmps) {
      rmSync(t.tmp, { force: true });
      t.untrack();
    }
    if (createdDir) { try { rmdirSync(outDir); } catch { /* not empty: leave it */ } }
  };
  try {
    const entries: ManifestFile[] = [];
    const results: CommitResult[] = [];
    let working = manifest;
    for (const parts of groups.values()) {
      // the readers refuse an input with no rows naming its file; this guards every other caller
      if (parts.every((p) => p.time.length === 0)) throw dataError(`${label(parts[0]!)}: no data rows to import; nothing was written`);
      const s = normalizeSeries(concatSeries(parts));
      const rel = seriesPath(working, s.symbol, s.kind, s.timeframe);
      refuseUnlisted(outDir, manifest, rel);
      const listed = manifest?.files.find((f) => f.path === rel);
      let time = s.time, cols = s.cols, added = s.time.length;
      let gapsBefore: number | undefined;
      if (listed && !opts.replace) {
        // as a load judges the entry: missing (66), a link out of the folder or a folder (65); appended through a
        // link, a file outside the dataset was read and the link replaced by a file
        const fault = entryFault(outDir, listed);
        if (fault) throw (fault.missing ? missingInput : dataError)(`${fault.text}; nothing was written`);
        const problems = new ProblemList();
        const old = readKindFile(join(outDir, rel), rel, s.kind, problems);
        if (!old) throw dataError(`${rel}: cannot read the dataset's file to append to it`, problems.finish());
        // a file changed behind the manifest (edited, rewritten by another tool) is not merged into: that would list its changes as the dataset's
        if (old.sha256 !== listed.sha256) throw dataError(`${join(outDir, rel)}: ${hashProblemText(old.sha256, listed.sha256)}; nothing was written. Import the whole series again with --replace, or restore the file`);
        const oldCols = KIND_NAMES[s.kind].filter((c) => old.columns[c] !== undefined).map((c) => old.columns[c]!);
        if (s.timeframe && s.kind !== 'funding') gapsBefore = gapSummary(old.timestamp, timeframeMs(s.timeframe)).gaps;
        const merged = mergeSeries({ time: old.timestamp, cols: oldCols }, s, rel);
        time = merged.time; cols = merged.cols; added = merged.added;
      }
      const where = time === s.time ? s.where : (i: number) => `${rel} row ${i + 1}`;
      // funding: an interval read from one input's events (intervalFromEvents) is not the user's to be held to: the entry
      // lists the events' own (fundingInterval of all it holds now), or the dataset's when that is no coarser
      if (s.kind === 'funding' && s.intervalFromEvents) {
        const keep = listed?.timeframe !== undefined && !opts.replace ? listed.timeframe : undefined;
        const keepMs = keep !== undefined ? timeframeMsOrNaN(keep) : NaN;
        s.timeframe = keepMs > 0 && fundingFinerThan(time, keepMs) === null ? keep : (fundingInterval(time) ?? s.timeframe);
        if (s.timeframe === undefined) delete s.timeframe;
      }
      // funding: the interval the entry will list (the series' own, else the one the dataset lists) is checked against the events
      const fromListed = s.kind === 'funding' && !s.timeframe && listed?.timeframe !== undefined;
      const gaps = checkSpacing({ ...s, time, where, ...(fromListed ? { timeframe: listed!.timeframe, fundingNamedBy: `the interval manifest.json lists for ${rel}` } : {}) });
      const tmp = tempBeside(outDir, rel, 'tmp');
      tmps.push({ tmp, rel, untrack: trackTemp(tmp) });
      const withPrice = s.kind === 'funding' && cols.length > 1 && cols[1]!.some((x) => !Number.isNaN(x));
      const w = new KindFileWriter(tmp, s.kind, { withPrice });
      const useCols = s.kind === 'funding' ? cols.slice(0, withPrice ? 2 : 1) : cols;
      const BATCH = 1 << 16;
      for (let a = 0; a < time.length; a += BATCH) {
        const b = Math.min(time.length, a + BATCH);
        w.writeBatch(time.subarray(a, b), useCols.map((c) => c.subarray(a, b)));
      }
      const sha256 = w.close();
      const entry: ManifestFile = {
        path: rel, symbol: s.symbol, kind: s.kind, ...(s.timeframe ? { timeframe: s.timeframe } : listed?.timeframe ? { timeframe: listed.timeframe } : {}),
        rows: w.rows, first: w.first, last: w.last, sha256,
      };
      entries.push(entry);
      working = nextManifest(outDir, working, [entry], {});
      const widestGap = gaps > 0 && s.timeframe ? gapSummary(time, timeframeMs(s.timeframe)).widest : undefined;
      results.push({ symbol: s.symbol, kind: s.kind, timeframe: s.timeframe, path: join(outDir, rel), rows: w.rows, added, first: w.first, last: w.last, gaps, ...(widestGap ? { widestGap } : {}), ...(gapsBefore !== undefined ? { gapsBefore } : {}), ...(listed && opts.replace ? { replacedRows: listed.rows } : {}) });
    }
    if (unchangedFiles(manifest, entries)) {
      // every series is already in the dataset as it is: nothing is written, not even a provenance
      // line (the manifest's hash is part of every RunId: --resume and compare pairing stay valid)
      cleanup();
      return { place: () => results.map(({ replacedRows: _, ...r }) => ({ ...r, added: 0 })) };
    }
    const next = nextManifest(outDir, manifest, entries, opts);
    return {
      place: () => {
        try {
          placeFiles(outDir, tmps, next);
        } catch (err) {
          cleanup();
          throw err;
        }
        for (const t of tmps) t.untrack();
        return results;
      },
    };
  } catch (err) {
    cleanup();
    throw err;
  }
}

/**
 * Put written temp files in place (`rel` in `outDir`) and the manifest `m` beside them, all or
 * nothing (util/atomic.ts placeAll): the manifest is written to a temp name first, the files it
 * replaces are set aside until the manifest is renamed into place, and when any step fails (a
 * manifest.json that cannot be replaced, a full disk) every file is put back as it was. The temp
 * files stay the caller's to remove. (A file in a sub-folder has its temps beside it: tempBeside.)
 */
export function placeFiles(outDir: string, files: readonly { tmp: string; rel: string }[], m: Manifest): void {
  const manifestTmp = tempBeside(outDir, MANIFEST_FILE, 'tmp');
  const untrack = trackTemp(manifestTmp);
  try {
    writeFileSync(manifestTmp, manifestToJson(m));
    placeAll([...files.map((f) => ({ tmp: f.tmp, dest: join(outDir, f.rel) })), { tmp: manifestTmp, dest: join(outDir, MANIFEST_FILE) }]);
  } finally {
    rmSync(manifestTmp, { force: true });
    untrack();
  }
}

/** Concatenate same-key series (rows keep their own `where`). */
export function concatSeries(parts: SeriesData[]): SeriesData {
  if (parts.length === 1) return parts[0]!;
  const n = parts.reduce((a, p) => a + p.time.length, 0);
  const nc = Math.max(...parts.map((p) => p.cols.length));
  const time = new Float64Array(n);
  const cols = Array.from({ length: nc }, () => new Float64Array(n).fill(NaN));
  const starts: number[] = [];
  let at = 0;
  for (const p of parts) {
    starts.push(at);
    time.set(p.time, at);
    for (let k = 0; k < p.cols.length; k++) cols[k]!.set(p.cols[k]!, at);
    at += p.time.length;
  }
  const part = (i: number) => {
    let q = starts.length - 1;
    while (starts[q]! > i) q--;
    return q;
  };
  const where = (i: number) => { const q = part(i); return parts[q]!.where(i - starts[q]!); };
  const raw = (i: number, k: number) => { const q = part(i); return parts[q]!.raw?.(i - starts[q]!, k); };
  // an interval read from the events of each part: the whole series' is read again (stageSeries)
  const fromEvents = parts.every((p) => p.intervalFromEvents);
  return { symbol: parts[0]!.symbol, kind: parts[0]!.kind, timeframe: parts[0]!.timeframe, time, cols, where, raw, ...(fromEvents ? { intervalFromEvents: true } : {}) };
}
