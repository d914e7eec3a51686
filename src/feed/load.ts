/**
 * Load a dataset folder into one MarketData (contract: ./types.ts): every file is read once,
 * validated, and copied into SharedArrayBuffer-backed columns on one timeline of bar open times.
 *
 * Timeline: the union of the selected symbols' candle open times at the chosen timeframe, on the
 * grid anchored at the earliest candle. A symbol without a candle at a bar is `present = 0` with
 * NaN prices (never forward-filled).
 *
 * Mark candles: at the bar timeframe they fill mark* directly; finer mark candles whose timeframe
 * divides the bar's are aggregated (open of the first, max high, min low, close of the last) when
 * every sub-candle of the bar is there; coarser ones only price funding events. Mark candles that
 * reach none of the timeline's bars leave markAtBarTimeframe false; covering fewer than
 * MARK_COVERAGE_WARN of a symbol's bars, they add a warning to md.warnings.
 *
 * Funding: an event's settlement time is its funding time, normalised down to the whole minute
 * when it lies less than 1 s past it (Binance fundingTime jitter such as 1747872000001). It settles
 * at bar i when the settlement time is in (time[i-1], time[i]] (bar 0: (time[0] − timeframe, time[0]]);
 * events outside the loaded range are dropped. Price: the file's price column, else the open of a
 * mark candle opening at the settlement time, else the trade open of a bar opening there, else the open
 * of the finest mark candle containing the funding time, else the bar's trade open.
 */
import { withFsErrors } from '../util/fs-errors.js';
import { basename, join, resolve } from 'node:path';
import { createHash } from 'node:crypto';
import { configError, dataError, ExitCode, missingInput, UserError } from '../errors.js';
import type { LoadOptions, MarketData, SymbolColumns } from './types.js';
import { entryFault, readManifest, MANIFEST_FILE, type Manifest, type ManifestFile } from './manifest.js';
import { MAX_FILE_BYTES, readKindFile, type ReadColumns, type ReadStorage } from './arrow-io.js';
import { MARK_COVERAGE_WARN, checkMarkGrid, medianRatio, priceScaleText, scaleAtOpens, fundingScale, markOffGridText, fundingSanityTexts, NO_ROWS_PROBLEM, ProblemList, checkSeries, checkEntry, describeGap, fundingCoverageWarning, GAP_POLICY_HINT, gapText, markCoverageText, missingFundingTexts, checkGrid, judgeSpans, type CandleSpan, type GapInfo } from './validate.js';
import { fmtTime, fundingSettleTime, timeframeMs, timeframeMsOrNaN } from './timeframe.js';
import { lowerBound } from '../util/typed-array.js';
import { didYouMean } from '../util/nearest.js';
import { symbolListFault } from './slice.js';

/** Bytes of one column slab (see ColumnSlabs). */
export const SLAB_BYTES = 64 * 2 ** 20;

/**
 * The dataset's long-lived columns, carved out of SharedArrayBuffers of SLAB_BYTES (a larger
 * request gets a buffer of its own). Why: a SharedArrayBuffer's memory comes from the C allocator;
 * one per column (a few MB each) lands in the loader thread's malloc arena between the load's
 * temporaries (file bytes, timestamps), whose freed holes stay resident for the life of the
 * process, 230 MiB on a 750 MiB dataset. Slabs this large are mapped on their own (and unmapped
 * when dropped), and a slab's untouched tail is never resident. The load's temporaries go into
 * slabs of their own too.
 */
export class ColumnSlabs {
  private buf: SharedArrayBuffer | null = null;
  private used = 0;
  /** bytes handed out */
  allocated = 0;

  private take(bytes: number): { buf: SharedArrayBuffer; at: number } {
    const need = Math.max(8, Math.ceil(bytes / 8) * 8);
    this.allocated += need;
    if (need > SLAB_BYTES) return { buf: new SharedArrayBuffer(need), at: 0 };
    if (this.buf === null || this.used + need > SLAB_BYTES) {
      this.buf = new SharedArrayBuffer(SLAB_BYTES);
      this.used = 0;
    }
    const at = this.used;
    this.used += need;
    return { buf: this.buf, at };
  }

  f64(n: number, fill = NaN): Float64Array {
    const { buf, at } = this.take(n * 8);
    const a = new Float64Array(buf, at, n);
    if (!Object.is(fill, 0)) a.fill(fill);
    return a;
  }

  i32(n: number): Int32Array {
    const { buf, at } = this.take(n * 4);
    return new Int32Array(buf, at, n);
  }

  u8(n: number): Uint8Array {
    const { buf, at } = this.take(n);
    return new Uint8Array(buf, at, n);
  }

  /** a copy of `a` in these slabs */
  copyF64(a: Float64Array): Float64Array {
    const out = this.f64(a.length, 0);
    out.set(a);
    return out;
  }
}

interface SymbolFiles {
  symbol: string;
  candles: ManifestFile;
  marks: ManifestFile[];
  funding: ManifestFile | undefined;
}

interface LoadedSeries {
  file: ManifestFile;
  tfMs: number;
  data: ReadColumns;
}

/** Available candle timeframes of a manifest, finest first. */
export function datasetTimeframes(m: Manifest): string[] {
  const tfs = [...new Set(m.files.filter((f) => f.kind === 'candles').map((f) => f.timeframe!))];
  return tfs.sort((a, b) => timeframeMsOrNaN(a) - timeframeMsOrNaN(b));
}

const LOAD_OPTION_KEYS = ['timeframe', 'symbols', 'from', 'to', 'gaps'] as const satisfies readonly (keyof LoadOptions)[];

/**
 * loadDataset's options as plain JavaScript may pass them: a misspelt key (`gap`), a time as a date string or a
 * symbol list as one string was ignored or failed inside the loader (`from: '2025-03-01'` loaded the whole dataset,
 * `symbols: 'BTCUSDT'` read "symbols.filter is not a function"); each is refused (78) naming the option and what to pass.
 */
export function checkLoadOptions(opts: unknown): LoadOptions {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts))
    throw configError(`loadDataset: options must be an object such as { timeframe: '1h', symbols: ['BTCUSDT'], from: Date.parse('2025-03-01'), gaps: 'warn' }, got ${Array.isArray(opts) ? 'an array' : String(opts)}`);
  const o = opts as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!(LOAD_OPTION_KEYS as readonly string[]).includes(k))
      throw configError(`loadDataset: unknown option '${k}'${didYouMean(k, LOAD_OPTION_KEYS)}; the options are ${LOAD_OPTION_KEYS.join(', ')}`);
  }
  const shown = (v: unknown) => (typeof v === 'string' ? `'${v}'` : Array.isArray(v) ? 'an array' : String(v));
  if (o.timeframe !== undefined && (typeof o.timeframe !== 'string' || o.timeframe.trim() === ''))
    throw configError(`loadDataset: timeframe must be a timeframe name such as '1m', '1h' or '1d', got ${shown(o.timeframe)}`);
  const symbolsFault = o.symbols === undefined ? null : symbolListFault('loadDataset', o.symbols, 'BTCUSDT', shown);
  if (symbolsFault !== null) throw configError(symbolsFault);
  for (const k of ['from', 'to'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || Number.isNaN(v)))
      throw configError(`loadDataset: ${k} must be a time in ms UTC (a number: Date.parse('2025-03-01T00:00:00Z'), not a date string or a Date), got ${shown(v)}`);
  }
  if (o.gaps !== undefined && o.gaps !== 'error' && o.gaps !== 'warn')
    throw configError(`loadDataset: gaps must be 'error' or 'warn'${typeof o.gaps === 'string' ? didYouMean(o.gaps, ['error', 'warn']) : ''}, got ${shown(o.gaps)}`);
  return o as LoadOptions;
}

export async function loadDataset(dir: string, options: LoadOptions = {}): Promise<MarketData> {
  const opts = checkLoadOptions(options);
  const { manifest, raw } = readManifest(dir);
  const name = basename(resolve(dir));
  const hashes: Record<string, string> = { [MANIFEST_FILE]: createHash('sha256').update(raw).digest('hex') };

  const asked = opts.timeframe ?? manifest.timeframe;
  const tfMs = timeframeMs(asked);
  const available = datasetTimeframes(manifest);
  // one timeframe written another way ('60m', '3600s' for 1h) is the dataset's series of that length, by its name there
  const tf = available.find((a) => timeframeMsOrNaN(a) === tfMs) ?? asked;
  if (!available.includes(tf)) {
    // no candles at all (a dataset of funding only): no timeframe to choose, the candles to import
    if (available.length === 0) {
      throw dataError(`${join(dir, MANIFEST_FILE)}: the dataset holds no candles (${manifest.files.length === 0 ? 'no files' : `only ${[...new Set(manifest.files.map((f) => f.kind))].join(' and ')}`}), and a backtest replays candles: import them into it (marginlab import <file> --out ${dir}; docs/data.md)`);
    }
    // the manifest's own default names no candles: the dataset is at fault (65, as data inspect says),
    // not a choice of the caller's (a timeframe asked for that the dataset lacks: 78)
    if (opts.timeframe === undefined) {
      throw dataError(`${join(dir, MANIFEST_FILE)}: its default timeframe ${tf} has no candles (timeframes: ${available.join(', ') || 'none'}); set "timeframe" in manifest.json to one of them, or choose a timeframe (data.timeframe, --timeframe)`);
    }
    throw new UserError(`dataset ${dir} has no ${tf} candles (timeframes: ${available.join(', ') || 'none'})`, ExitCode.CONFIG, [], 'datasetTimeframe');
  }
  const symbols = opts.symbols ?? manifest.symbols;
  const unknown = symbols.filter((s) => !manifest.symbols.includes(s));
  if (unknown.length) {
    const hint = unknown.length === 1 ? didYouMean(unknown[0]!, manifest.symbols) : '';
    throw new UserError(`dataset ${dir} has no symbol${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}${hint} (symbols: ${manifest.symbols.join(', ')})`, ExitCode.CONFIG, [], 'datasetSymbols');
  }
  if (new Set(symbols).size !== symbols.length) throw new UserError(`data.symbols for dataset ${dir}: a symbol is listed twice (${symbols.join(', ')})`, ExitCode.CONFIG, [], 'datasetSymbols');
  if (symbols.length === 0) throw new UserError(`data.symbols for dataset ${dir}: no symbols selected (name one or more of ${manifest.symbols.join(', ')}, or leave it out for all)`, ExitCode.CONFIG, [], 'datasetSymbols');
  if (opts.from !== undefined && opts.to !== undefined && !(opts.from < opts.to)) {
    throw configError(`empty time range: from ${fmtTime(opts.from)} is not before to ${fmtTime(opts.to)}`);
  }

  const problems = new ProblemList();
  const slabs = new ColumnSlabs();
  /** the load's temporaries: timestamps, funding values, file bytes (one buffer, reused) */
  const scratch = new ColumnSlabs();
  let fileBuf: Uint8Array = new Uint8Array(0);
  /** bytes of price columns read into the slabs, and of those kept as views on the timeline */
  let readBytes = 0;
  let readKept = 0;
  const gapList: { file: string; gap: GapInfo }[] = [];

  /** files the manifest lists that do not exist (their problems are listed with the others; the error is then 66) */
  let missingFiles = 0;
  const plan: SymbolFiles[] = symbols.map((symbol) => {
    const files = manifest.files.filter((f) => f.symbol === symbol);
    const candles = files.find((f) => f.kind === 'candles' && f.timeframe === tf);
    if (!candles) throw dataError(`dataset ${dir}: no ${tf} candles for ${symbol} (files: ${files.map((f) => f.path).join(', ') || 'none'})`);
    return {
      symbol,
      candles,
      marks: files.filter((f) => f.kind === 'mark').sort((a, b) => timeframeMsOrNaN(a.timeframe!) - timeframeMsOrNaN(b.timeframe!)),
      funding: files.find((f) => f.kind === 'funding'),
    };
  });

  /** entries whose rows or time range are not their file's (checkEntry) */
  const entryWarnings: string[] = [];
  const read = (f: ManifestFile, tfOf: number | null): LoadedSeries | null => {
    const path = join(dir, f.path);
    // as data inspect judges the entry (one rule): listed with the dataset's other problems, a missing file making the load's error 66
    const fault = entryFault(dir, f);
    if (fault) {
      problems.add(fault.missing ? f.path : 'manifest.json', null, fault.text);
      if (fault.missing) missingFiles++;
      return null;
    }
    // price columns go straight into the column slabs (when the file's rows are the timeline they are
    // used as they are); the file's bytes, timestamps and funding values are temporaries, kept in
    // slabs of their own (see ColumnSlabs), dropped when the load returns
    const storage: ReadStorage = {
      file: (bytes) => {
        if (fileBuf.byteLength < bytes) fileBuf = new Uint8Array(Math.min(MAX_FILE_BYTES, Math.max(bytes, 2 * fileBuf.byteLength, SLAB_BYTES)));
        return fileBuf.subarray(0, bytes);
      },
      timestamp: (n) => scratch.f64(n),
      values: f.kind === 'funding' ? (n) => scratch.f64(n) : (n) => {
        readBytes += n * 8;
        return slabs.f64(n);
      },
    };
    const data = withFsErrors({ path, action: 'read', role: 'data' }, () => readKindFile(path, f.path, f.kind, problems, storage));
    if (!data) return null;
    hashes[f.path] = data.sha256;
    const entry = checkEntry(f, data, problems);
    if (entry !== null) entryWarnings.push(entry);
    const gaps: GapInfo[] = checkSeries(f.path, f.kind, data.timestamp, data.columns, tfOf, problems);
    checkMarkGrid(f.path, f.kind, data.timestamp, tfOf, f.timeframe, problems);
    for (const g of gaps) gapList.push({ file: f.path, gap: g });
    if (data.rows === 0) problems.add(f.path, null, NO_ROWS_PROBLEM);
    return { file: f, tfMs: tfOf ?? 0, data };
  };

  const loaded = plan.map((p) => {
    const candles = read(p.candles, tfMs);
    const funding = p.funding ? read(p.funding, null) : null;
    // mark files (finest first, as planned): the bar-timeframe one, finer ones that divide the bar, and (when there is funding) all for prices
    const marks: LoadedSeries[] = [];
    for (const m of p.marks) {
      const mtf = timeframeMsOrNaN(m.timeframe!);
      const useful = mtf === tfMs || (mtf < tfMs && tfMs % mtf === 0) || funding !== null;
      if (!useful) continue;
      const s = read(m, mtf);
      if (s) marks.push(s);
    }
    return { plan: p, candles, marks, funding };
  });

  if (opts.gaps !== 'warn') {
    for (const { file, gap } of gapList) problems.add(file, gap.row, gapText(gap), GAP_POLICY_HINT);
  }

  // timeline on the grid anchored at the earliest candle
  let anchor = Infinity;
  let end = -Infinity;
  for (const l of loaded) {
    if (!l.candles || l.candles.data.rows === 0) continue;
    const ts = l.candles.data.timestamp;
    anchor = Math.min(anchor, ts[0]!);
    end = Math.max(end, ts[ts.length - 1]!);
  }
  let nSlots = 0;
  if (Number.isFinite(anchor) && Number.isFinite(end) && end >= anchor) {
    nSlots = Math.floor((end - anchor) / tfMs) + 1;
    if (nSlots > 2 ** 31 - 2) {
      problems.add(dir, null, `time span ${fmtTime(anchor)} .. ${fmtTime(end)} is too long for the ${tf} timeframe`);
      nSlots = 0;
    }
  }
  if (problems.count === 0) {
    // every spacing is a whole number of bars (checked), so the first row decides grid alignment
    checkGrid(loaded.map((l) => ({ path: l.candles!.file.path, t0: l.candles!.data.timestamp[0]! })), tfMs, tf, problems);
  }
  // stretches no symbol has a candle for (disjoint date ranges) within [from, to): judged as gaps
  const holeWarnings: string[] = [];
  if (problems.count === 0) {
    const spans: CandleSpan[] = [];
    for (const l of loaded) {
      const ts = l.candles!.data.timestamp;
      const a = opts.from === undefined ? 0 : lowerBound(ts, opts.from);
      const b = opts.to === undefined ? ts.length : lowerBound(ts, opts.to);
      if (b > a) spans.push({ path: l.candles!.file.path, symbol: l.plan.symbol, first: ts[a]!, last: ts[b - 1]! });
    }
    holeWarnings.push(...judgeSpans(spans, tfMs, tf, opts.gaps, problems));
  }
  if (problems.count > 0) {
    const missing = missingFiles > 0 ? ` (${missingFiles} listed file${missingFiles === 1 ? '' : 's'} missing)` : '';
    throw (missingFiles > 0 ? missingInput : dataError)(
      `dataset ${dir}: ${problems.count} problem${problems.count === 1 ? '' : 's'} in ${problems.files} file${problems.files === 1 ? '' : 's'}${missing}; nothing was loaded`,
      problems.finish(),
    );
  }

  // occupied slots within [from, to)
  const from = opts.from ?? -Infinity;
  const to = opts.to ?? Infinity;
  let time: Float64Array;
  let nBars: number;
  const firstTs = loaded[0]!.candles!.data.timestamp;
  const allSame = loaded.every((l) => sameTimes(l.candles!.data.timestamp, firstTs, 0, firstTs.length));
  const slotToIdx = allSame ? new Int32Array(0) : new Int32Array(nSlots).fill(-1);
  if (allSame) {
    // common case: every symbol has the same candle times; the timeline is a view of them
    const a = lowerBound(firstTs, from);
    const b = to === Infinity ? firstTs.length : lowerBound(firstTs, to);
    nBars = Math.max(0, b - a);
    time = slabs.copyF64(firstTs.subarray(a, a + nBars));
  } else {
    const occupied = new Uint8Array(nSlots);
    for (const l of loaded) {
      const ts = l.candles!.data.timestamp;
      for (let i = 0; i < ts.length; i++) {
        const t = ts[i]!;
        if (t >= from && t < to) occupied[(t - anchor) / tfMs] = 1;
      }
    }
    nBars = 0;
    for (let s = 0; s < nSlots; s++) if (occupied[s]) slotToIdx[s] = nBars++;
    time = slabs.f64(nBars);
    for (let s = 0; s < nSlots; s++) if (occupied[s]) time[slotToIdx[s]!] = anchor + s * tfMs;
  }
  if (nBars === 0) {
    // the range is [from, to): say where the bars are, so the user can choose a window that holds some
    const range = `${opts.from !== undefined ? `from ${fmtTime(opts.from)} (inclusive)` : ''}${opts.from !== undefined && opts.to !== undefined ? ' ' : ''}${opts.to !== undefined ? `to ${fmtTime(opts.to)} (exclusive)` : ''}`;
    // reason emptyWindow: the CLI says it as the problem of --from/--to when a flag set the window (src/shard/run.ts)
    throw new UserError(
      `dataset ${dir}: no ${tf} bars in the selected range ${range}; the ${tf} bars of ${symbols.length === 1 ? symbols[0] : `the ${symbols.length} symbols`} open from ${fmtTime(anchor)} to ${fmtTime(end)}: choose a window that holds at least one bar's open time`,
      ExitCode.CONFIG,
      [],
      'emptyWindow',
    );
  }
  const barOf = (t: number): number => {
    if (allSame) {
      const j = lowerBound(time, t);
      return j < nBars && time[j] === t ? j : -1;
    }
    const s = (t - anchor) / tfMs;
    return Number.isInteger(s) && s >= 0 && s < nSlots ? slotToIdx[s]! : -1;
  };

  /**
   * Put a series' value columns on the timeline: views when its rows [off, off + nBars) are exactly
   * the timeline, else a scatter into fresh NaN-filled columns (returns which rows landed).
   */
  const place = (ts: Float64Array, src: Float64Array[]): { cols: Float64Array[]; hit: Uint8Array | null } => {
    const off = lowerBound(ts, time[0]!);
    if (off + nBars <= ts.length && sameTimes(ts, time, off, nBars)) {
      // only the rows on the timeline count as kept: a --from/--to range leaves the rest of a
      // file's columns behind, and past an eighth they are compacted away below
      readKept += src.length * nBars * 8;
      return { cols: src.map((c) => c.subarray(off, off + nBars)), hit: null };
    }
    const cols = src.map(() => slabs.f64(nBars));
    const hit = new Uint8Array(nBars);
    let j = 0;
    for (let i = 0; i < ts.length; i++) {
      const t = ts[i]!;
      while (j < nBars && time[j]! < t) j++;
      if (j >= nBars) break;
      if (time[j] !== t) continue;
      hit[j] = 1;
      for (let c = 0; c < src.length; c++) cols[c]![j] = src[c]![i]!;
    }
    return { cols, hit };
  };

  /** the bar times of a symbol without every bar of the timeline, for its funding coverage (presentTimes; one buffer for all symbols) */
  let presentScratch: Float64Array | undefined;
  /** mark and funding coverage warnings */
  const coverageWarnings: string[] = missingFundingTexts(plan.flatMap((p) => (p.funding ? [p.funding] : [])), symbols);
  const columns: SymbolColumns[] = loaded.map((l) => {
    const c = l.candles!.data;
    const placed = place(c.timestamp, [c.columns.open!, c.columns.high!, c.columns.low!, c.columns.close!, c.columns.volume!]);
    const present = slabs.u8(nBars);
    if (placed.hit) present.set(placed.hit);
    else present.fill(1);
    const [open, high, low, close, volume] = placed.cols as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];

    let markOpen: Float64Array, markHigh: Float64Array, markLow: Float64Array, markClose: Float64Array;
    let markAtBarTimeframe = false;
    const exact = l.marks.find((m) => m.tfMs === tfMs);
    const finer = l.marks.filter((m) => m.tfMs < tfMs && tfMs % m.tfMs === 0).sort((a, b) => b.tfMs - a.tfMs)[0];
    if (exact) {
      markAtBarTimeframe = true;
      const m = exact.data;
      [markOpen, markHigh, markLow, markClose] = place(m.timestamp, [m.columns.open!, m.columns.high!, m.columns.low!, m.columns.close!]).cols as [Float64Array, Float64Array, Float64Array, Float64Array];
    } else {
      markOpen = slabs.f64(nBars); markHigh = slabs.f64(nBars); markLow = slabs.f64(nBars); markClose = slabs.f64(nBars);
      if (finer) {
        markAtBarTimeframe = true;
        aggregateMark(finer, tfMs, anchor, barOf, time, markOpen, markHigh, markLow, markClose);
      }
    }
    // how many of the symbol's bars have a mark candle (once, here: the engine reads mark* per bar
    // and checks liquidation on trade prices where one is NaN); none at all: no mark at the bar
    // timeframe (mark candles of May beside candles of July); few: a warning
    const usable = exact ?? finer;
    if (usable) {
      let any = false, bars = 0, covered = 0, firstBar = -1, lastBar = -1;
      for (let i = 0; i < nBars; i++) {
        const has = markOpen[i] === markOpen[i];
        if (has) any = true;
        if (present[i]) {
          bars++;
          if (has) covered++;
          if (firstBar < 0) firstBar = i;
          lastBar = i;
        }
      }
      if (!any) markAtBarTimeframe = false;
      else {
        const scale = medianRatio(nBars, (i) => [markClose[i]!, present[i] ? close[i]! : Number.NaN]);
        const w = priceScaleText({ path: usable.file.path, symbol: l.plan.symbol, what: 'mark candles', scale });
        if (w !== null) coverageWarnings.push(w);
      }
      if (bars > 0 && covered < MARK_COVERAGE_WARN * bars) {
        const mt = usable.data.timestamp;
        coverageWarnings.push(markCoverageText({
          markPath: usable.file.path, symbol: l.plan.symbol, timeframe: tf, covered, bars,
          markFirst: mt[0]!, markLast: mt[mt.length - 1]!, candleFirst: time[firstBar]!, candleLast: time[lastBar]!,
        }));
      }
    }

    // finer mark candles that do not divide the bar (45m under 1h bars): no bar is made of them, so liquidation is
    // checked on trade prices: said, not left to a reader of the results
    if (!usable) {
      for (const mf of l.plan.marks) {
        const mtf = timeframeMsOrNaN(mf.timeframe!);
        if (mtf < tfMs && tfMs % mtf !== 0) {
          coverageWarnings.push(markOffGridText({ path: mf.path, markTimeframe: mf.timeframe!, timeframe: tf, symbol: l.plan.symbol }));
        }
      }
    }
    // mark candles of other timeframes (coarser ones price the funding settlements): their opens against the
    // trade opens of the bars that open at the same time
    for (const mk of l.marks) {
      if (mk === usable) continue;
      const scale = scaleAtOpens(mk.data.timestamp, mk.data.columns.open!, mk.data.rows, time, open, present);
      const w = priceScaleText({ path: mk.file.path, symbol: l.plan.symbol, what: 'mark candles', scale });
      if (w !== null) coverageWarnings.push(w);
    }

    // funding
    const nb1 = nBars + 1;
    const fundingStart = slabs.i32(nb1);
    let fTime = slabs.f64(0), fRate = slabs.f64(0), fPrice = slabs.f64(0);
    if (l.funding) {
      const f = l.funding.data;
      coverageWarnings.push(...fundingSanityTexts(l.plan.funding!.path, l.plan.symbol, f.timestamp, f.columns.rate!, f.rows, l.plan.funding!.timeframe));
      const barIdx = new Int32Array(f.rows).fill(-1);
      let count = 0;
      const firstWindowStart = time[0]! - tfMs;
      for (let k = 0; k < f.rows; k++) {
        const s = fundingSettleTime(f.timestamp[k]!);
        if (s <= firstWindowStart || s > time[nBars - 1]!) continue;
        barIdx[k] = lowerBound(time, s);
        count++;
      }
      fTime = slabs.f64(count); fRate = slabs.f64(count); fPrice = slabs.f64(count);
      // events per bar counted in place (fundingStart[b + 1]), then summed into start offsets
      for (let k = 0; k < f.rows; k++) if (barIdx[k]! >= 0) fundingStart[barIdx[k]! + 1]!++;
      for (let i = 0; i < nBars; i++) fundingStart[i + 1] = fundingStart[i]! + fundingStart[i + 1]!;
      if (f.rows > 0) {
        // bars beyond the funding file's reach settle no funding: many of them, a warning (as for mark candles)
        // (the open times of the symbol's candles: the timeline itself when it has every bar, else a
        // temporary copy of its bars' times; not an array grown by push, whose copies of 320,000 bars
        // made a quarter of a large load's fresh memory)
        const candles = placed.hit === null ? time : presentTimes(present, time, (presentScratch ??= scratch.f64(nBars, 0)));
        const w = fundingCoverageWarning({
          fundingPath: l.plan.funding!.path, symbol: l.plan.symbol, timeframe: tf, listedInterval: l.plan.funding!.timeframe,
          candles, funding: f.timestamp.subarray(0, f.rows),
        });
        if (w !== null) coverageWarnings.push(w);
      }
      let e = 0; // events are in time order and bars are monotone, so a running index suffices
      const fp = f.columns.price;
      for (let k = 0; k < f.rows; k++) {
        const b = barIdx[k]!;
        if (b < 0) continue;
        const t = f.timestamp[k]!;
        fTime[e] = t;
        fRate[e] = f.columns.rate![k]!;
        let price = fp ? fp[k]! : NaN;
        // a mark candle opening at the settlement time; else the trade open of a bar opening at it: a coarser mark
        // candle containing it opened earlier (8h mark candles priced 4h and 1h funding, after Binance moved symbols
        // to them, at a price up to 7h old while the bar opening at the settlement had it)
        const st = fundingSettleTime(t);
        if (Number.isNaN(price)) price = markOpenContaining(l.marks, st, true);
        if (Number.isNaN(price) && present[b] && time[b] === st) price = open[b]!;
        if (Number.isNaN(price)) price = markOpenContaining(l.marks, t);
        if (Number.isNaN(price)) price = present[b] ? open[b]! : lastCloseBefore(present, close, b);
        fPrice[e] = price;
        e++;
      }
      if (fp) {
        // the file's own prices against the trade open of the bar each settles at
        const scale = fundingScale(f.timestamp, fp, f.rows, time, open, present, tfMs);
        const w = priceScaleText({ path: l.plan.funding!.path, symbol: l.plan.symbol, what: 'funding prices', scale });
        if (w !== null) coverageWarnings.push(w);
      }
    }

    return {
      symbol: l.plan.symbol,
      present, open, high, low, close, volume,
      markAtBarTimeframe, markOpen, markHigh, markLow, markClose,
      fundingStart, fundingTime: fTime, fundingRate: fRate, fundingPrice: fPrice,
    };
  });

  // price columns read but not kept as views (a file not aligned with the timeline, finer or coarser
  // mark candles) still hold their slabs: past an eighth of the whole, everything is copied into
  // fresh slabs and the old ones go
  const kept = (readBytes - readKept) * 8 > slabs.allocated ? compacted(time, columns) : { time, columns };
  const md: MarketData = {
    dataset: name,
    venue: manifest.venue,
    timeframe: tf,
    timeframeMs: tfMs,
    time: kept.time,
    symbols: [...symbols],
    columns: kept.columns,
    hashes,
  };
  const warnings = [...entryWarnings, ...coverageWarnings, ...(opts.gaps === 'warn' ? gapList.map(({ file, gap }) => describeGap(file, gap)) : []), ...holeWarnings];
  if (warnings.length) md.warnings = warnings;
  return md;
}

/** The times of the bars `present` marks, into the front of `buf` (a temporary of the timeline's length, reused symbol after symbol). */
function presentTimes(present: Uint8Array, time: Float64Array, buf: Float64Array): Float64Array {
  let j = 0;
  for (let i = 0; i < present.length; i++) if (present[i]) buf[j++] = time[i]!;
  return buf.subarray(0, j);
}

/** The timeline and columns copied into fresh slabs. */
function compacted(time: Float64Array, columns: SymbolColumns[]): { time: Float64Array; columns: SymbolColumns[] } {
  const slabs = new ColumnSlabs();
  const f = (a: Float64Array) => slabs.copyF64(a);
  return {
    time: f(time),
    columns: columns.map((c) => {
      const present = slabs.u8(c.present.length);
      present.set(c.present);
      const fundingStart = slabs.i32(c.fundingStart.length);
      fundingStart.set(c.fundingStart);
      return {
        ...c,
        present, open: f(c.open), high: f(c.high), low: f(c.low), close: f(c.close), volume: f(c.volume),
        markOpen: f(c.markOpen), markHigh: f(c.markHigh), markLow: f(c.markLow), markClose: f(c.markClose),
        fundingStart, fundingTime: f(c.fundingTime), fundingRate: f(c.fundingRate), fundingPrice: f(c.fundingPrice),
      };
    }),
  };
}

/** a[off + k] === b[k] for k < n (b may be a's own prefix) */
function sameTimes(a: Float64Array, b: Float64Array, off: number, n: number): boolean {
  if (a.length < off + n || b.length < n) return false;
  if (n === 0) return true;
  if (a[off] !== b[0] || a[off + n - 1] !== b[n - 1]) return false;
  for (let k = 0; k < n; k++) if (a[off + k] !== b[k]) return false;
  return true;
}

/**
 * open of the finest mark candle containing t (open ≤ t < open + timeframe), else NaN; `marks` is finest first (as
 * planned); with `opening`, only a candle that opens at t
 */
function markOpenContaining(marks: LoadedSeries[], t: number, opening = false): number {
  for (const m of marks) {
    const ts = m.data.timestamp;
    const j = lowerBound(ts, t + 1) - 1; // last open ≤ t
    if (j >= 0 && t < ts[j]! + m.tfMs && (!opening || ts[j] === t)) {
      const v = m.data.columns.open![j]!;
      if (Number.isFinite(v)) return v;
    }
  }
  return NaN;
}

function lastCloseBefore(present: Uint8Array, close: Float64Array, b: number): number {
  for (let i = b - 1; i >= 0; i--) if (present[i]) return close[i]!;
  return NaN;
}

function aggregateMark(
  m: LoadedSeries, tfMs: number, anchor: number, barOf: (t: number) => number, time: Float64Array,
  mo: Float64Array, mh: Float64Array, ml: Float64Array, mc: Float64Array,
): void {
  const per = tfMs / m.tfMs;
  const ts = m.data.timestamp;
  const o = m.data.columns.open!, h = m.data.columns.high!, l = m.data.columns.low!, c = m.data.columns.close!;
  let i = 0;
  while (i < ts.length) {
    const barOpen = anchor + Math.floor((ts[i]! - anchor) / tfMs) * tfMs;
    const b = barOf(barOpen);
    // rows of this bar
    let j = i;
    while (j < ts.length && ts[j]! < barOpen + tfMs) j++;
    if (b >= 0 && time[b] === barOpen && j - i === per && ts[i] === barOpen) {
      let hi = -Infinity, lo = Infinity;
      for (let k = i; k < j; k++) { if (h[k]! > hi) hi = h[k]!; if (l[k]! < lo) lo = l[k]!; }
      mo[b] = o[i]!; mh[b] = hi; ml[b] = lo; mc[b] = c[j - 1]!;
    }
    i = j;
  }
}
