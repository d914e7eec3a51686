/**
 * `marginlab data inspect`: per file of a dataset, rows, time range, gaps, price range, and for
 * funding the event count and mean rate; plus every validation problem found: those of each file,
 * and those the loader finds at the manifest's default timeframe (a symbol without candles there,
 * candles off the symbols' shared grid; gaps under the 'error' gap policy, the default), so that a
 * dataset inspect calls clean is one `data validate` and a backtest load.
 */
import { join } from 'node:path';
import { entryFault, readManifest, type FileKind, type Manifest, type ManifestFile } from './manifest.js';
import { readKindFile } from './arrow-io.js';
import { MARK_COVERAGE_WARN, NO_ROWS_PROBLEM, ProblemList, checkSeries, checkEntry, describeGap, fundingCoverageWarning, GAP_POLICY_HINT, gapText, markCoverageText, missingFundingTexts, markCoveredBars, checkGrid, checkMarkGrid, judgeSpans, scaleAtOpens, fundingScale, priceScaleText, markOffGridText, fundingSanityTexts } from './validate.js';
import { fundingInterval, isoTime, timeframeMsOrNaN } from './timeframe.js';
import { withFsErrors } from '../util/fs-errors.js';
import { visible } from '../util/excerpt.js';

export interface FileSummary {
  path: string;
  symbol: string;
  kind: FileKind;
  /** candles and mark: the timeframe; funding: the manifest's nominal interval, else the most common spacing of its settlements */
  timeframe: string | null;
  rows: number;
  first: string | null;
  last: string | null;
  gaps: number;
  missingBars: number;
  gapList: string[];
  priceMin: number | null;
  priceMax: number | null;
  fundingCount: number | null;
  fundingMeanRate: number | null;
}

export interface DatasetSummary {
  dir: string;
  name: string;
  venue: string;
  timeframe: string;
  symbols: string[];
  provenance: string;
  files: FileSummary[];
  problems: string[];
  problemCount: number;
  /** files the manifest lists that do not exist (each is also a problem); any makes `data inspect` exit 66, as a load */
  missingFiles: string[];
  /** mark candles covering few of a symbol's candle bars (docs/data-format.md, "Mark coverage"); not problems */
  warnings: string[];
}

export interface InspectOptions {
  /** 'error' (default, as `data validate` and a backtest): a gap is a problem; 'warn': listed only */
  gaps?: 'error' | 'warn';
}

export function inspectDataset(dir: string, opts: InspectOptions = {}): DatasetSummary {
  const { manifest } = readManifest(dir);
  const problems = new ProblemList();
  const tf = manifest.timeframe;
  const tfMs = timeframeMsOrNaN(tf);
  // the default timeframe's candles: every symbol needs them, and their first rows must share one grid
  for (const symbol of manifest.symbols) {
    if (!manifest.files.some((f) => f.symbol === symbol && f.kind === 'candles' && f.timeframe === tf)) {
      problems.add('manifest.json', null, `no ${tf} candles (the default timeframe) for ${symbol}, so a backtest at the default timeframe with every symbol cannot load it: import them, remove the symbol, or choose data.timeframe / data.symbols in the config`);
    }
  }
  if (manifest.symbols.length === 0) problems.add('manifest.json', null, 'lists no symbols: import data into the dataset first');
  const firstRows: { path: string; symbol: string; t0: number; t1: number }[] = [];
  const files: FileSummary[] = [];
  const warnings: string[] = missingFundingTexts(manifest.files, manifest.symbols);
  const missingFiles: string[] = [];
  // candle, mark and funding series of the current symbol (files come per symbol), for the mark and funding
  // coverage and the price scale of its mark and funding files
  let held: { symbol: string; series: HeldSeries[] } = { symbol: '', series: [] };
  const coverage = () => warnings.push(...markCoverageWarnings(held.series), ...fundingCoverageWarnings(held.series, tf), ...priceWarnings(held.series, tf, tfMs));
  for (const f of sortFiles(manifest)) {
    if (f.symbol !== held.symbol) { coverage(); held = { symbol: f.symbol, series: [] }; }
    const path = join(dir, f.path);
    // as the loader judges the entry: missing (66), a link out of the folder or a folder (65)
    const fault = entryFault(dir, f);
    if (fault) {
      problems.add(fault.missing ? f.path : 'manifest.json', null, fault.text);
      if (fault.missing) missingFiles.push(f.path);
      continue;
    }
    const d = withFsErrors({ path, action: 'read', role: 'data' }, () => readKindFile(path, f.path, f.kind, problems));
    if (!d) continue;
    const entry = checkEntry(f, d, problems);
    if (entry !== null) warnings.push(entry);
    const fileTfMs = f.kind === 'funding' ? null : timeframeMsOrNaN(f.timeframe!);
    const gaps = checkSeries(f.path, f.kind, d.timestamp, d.columns, fileTfMs, problems);
    checkMarkGrid(f.path, f.kind, d.timestamp, fileTfMs, f.timeframe, problems);
    if (opts.gaps !== 'warn') for (const g of gaps) problems.add(f.path, g.row, gapText(g), GAP_POLICY_HINT);
    if (d.rows === 0) problems.add(f.path, null, NO_ROWS_PROBLEM);
    else if (f.kind === 'funding') {
      held.series.push({ f, time: d.timestamp, price: d.columns.price ?? null });
      warnings.push(...fundingSanityTexts(f.path, f.symbol, d.timestamp, d.columns.rate!, d.rows, f.timeframe));
    }
    else {
      held.series.push({ f, time: d.timestamp, price: d.columns.open! });
      if (f.kind === 'candles' && f.timeframe === tf) firstRows.push({ path: f.path, symbol: f.symbol, t0: d.timestamp[0]!, t1: d.timestamp[d.rows - 1]! });
    }
    let pmin = Infinity, pmax = -Infinity;
    if (f.kind !== 'funding') {
      const lo = d.columns.low!, hi = d.columns.high!;
      for (let i = 0; i < d.rows; i++) { if (lo[i]! < pmin) pmin = lo[i]!; if (hi[i]! > pmax) pmax = hi[i]!; }
    }
    let mean: number | null = null;
    if (f.kind === 'funding' && d.rows > 0) {
      let s = 0;
      for (const r of d.columns.rate!) s += r;
      mean = s / d.rows;
    }
    files.push({
      path: f.path, symbol: f.symbol, kind: f.kind, timeframe: f.timeframe ?? (f.kind === 'funding' ? fundingInterval(d.timestamp) : null), rows: d.rows,
      first: d.rows ? isoTime(d.timestamp[0]!) : null, last: d.rows ? isoTime(d.timestamp[d.rows - 1]!) : null,
      gaps: gaps.length, missingBars: gaps.reduce((a, g) => a + g.missingBars, 0), gapList: gaps.map((g) => describeGap(f.path, g)),
      priceMin: Number.isFinite(pmin) ? pmin : null, priceMax: Number.isFinite(pmax) ? pmax : null,
      fundingCount: f.kind === 'funding' ? d.rows : null, fundingMeanRate: mean,
    });
  }
  coverage();
  if (problems.count === 0 && firstRows.length > 0) {
    // as the loader: every spacing is a whole number of bars (checked), so the first rows decide the grid
    checkGrid(firstRows, tfMs, tf, problems);
    if (problems.count === 0) {
      const spans = firstRows.map((r) => ({ path: r.path, symbol: r.symbol, first: r.t0, last: r.t1 }));
      warnings.push(...judgeSpans(spans, tfMs, tf, opts.gaps, problems));
    }
  }
  return {
    dir, name: manifest.name, venue: manifest.venue, timeframe: manifest.timeframe, symbols: manifest.symbols,
    provenance: manifest.provenance, files, problems: problems.finish(), problemCount: problems.count, missingFiles, warnings,
  };
}

/** one file of the symbol being read: its times and the prices its scale is judged by (candle and mark opens, funding prices) */
interface HeldSeries {
  f: ManifestFile;
  time: Float64Array;
  price: Float64Array | null;
}

/**
 * One symbol's mark files and funding prices against its candles at the default timeframe `tf`, as a run's load
 * judges them (priceScaleText: a file of another unit or symbol), and its finer mark candles that make no bar
 * (markOffGridText) when nothing else gives it a mark at `tf`.
 */
function priceWarnings(series: HeldSeries[], tf: string, tfMs: number): string[] {
  const c = series.find((x) => x.f.kind === 'candles' && x.f.timeframe === tf);
  if (!c) return [];
  const out: string[] = [];
  const symbol = c.f.symbol;
  const marks = series.filter((x) => x.f.kind === 'mark');
  for (const m of marks) {
    const w = priceScaleText({ path: m.f.path, symbol, what: 'mark candles', scale: scaleAtOpens(m.time, m.price!, m.time.length, c.time, c.price!, null) });
    if (w !== null) out.push(w);
  }
  const fu = series.find((x) => x.f.kind === 'funding');
  if (fu?.price) {
    const w = priceScaleText({ path: fu.f.path, symbol, what: 'funding prices', scale: fundingScale(fu.time, fu.price, fu.time.length, c.time, c.price!, null, tfMs) });
    if (w !== null) out.push(w);
  }
  const ms = (x: HeldSeries) => timeframeMsOrNaN(x.f.timeframe!);
  if (!marks.some((m) => ms(m) === tfMs || (ms(m) < tfMs && tfMs % ms(m) === 0))) {
    for (const m of marks) if (ms(m) < tfMs && tfMs % ms(m) !== 0) out.push(markOffGridText({ path: m.f.path, markTimeframe: m.f.timeframe!, timeframe: tf, symbol }));
  }
  return out;
}

/**
 * One symbol's candle files against its mark files, as the loader pairs them: the mark candles at
 * the candles' timeframe, else the coarsest finer ones that divide it (aggregated per bar).
 */
function markCoverageWarnings(series: HeldSeries[]): string[] {
  const out: string[] = [];
  const marks = series.filter((x) => x.f.kind === 'mark').map((x) => ({ ...x, ms: timeframeMsOrNaN(x.f.timeframe!) }));
  for (const c of series) {
    if (c.f.kind !== 'candles') continue;
    const barMs = timeframeMsOrNaN(c.f.timeframe!);
    const m = marks.find((x) => x.ms === barMs) ?? marks.filter((x) => x.ms < barMs && barMs % x.ms === 0).sort((a, b) => b.ms - a.ms)[0];
    if (!m) continue;
    const covered = markCoveredBars(c.time, barMs, m.time, m.ms);
    const bars = c.time.length;
    if (covered < MARK_COVERAGE_WARN * bars) {
      out.push(markCoverageText({
        markPath: m.f.path, symbol: c.f.symbol, timeframe: c.f.timeframe!, covered, bars,
        markFirst: m.time[0]!, markLast: m.time[m.time.length - 1]!, candleFirst: c.time[0]!, candleLast: c.time[bars - 1]!,
      }));
    }
  }
  return out;
}

/** One symbol's candles at the default timeframe `tf` against its funding file, as the loader judges them (fundingCoverageWarning). */
function fundingCoverageWarnings(series: HeldSeries[], tf: string): string[] {
  const c = series.find((x) => x.f.kind === 'candles' && x.f.timeframe === tf);
  const fu = series.find((x) => x.f.kind === 'funding');
  if (!c || !fu) return [];
  const w = fundingCoverageWarning({ fundingPath: fu.f.path, symbol: c.f.symbol, timeframe: tf, listedInterval: fu.f.timeframe, candles: c.time, funding: fu.time });
  return w === null ? [] : [w];
}

function sortFiles(m: Manifest) {
  const order: Record<FileKind, number> = { candles: 0, mark: 1, funding: 2 };
  return [...m.files].sort((a, b) =>
    m.symbols.indexOf(a.symbol) - m.symbols.indexOf(b.symbol) || order[a.kind] - order[b.kind] ||
    timeframeMsOrNaN(a.timeframe ?? '1s') - timeframeMsOrNaN(b.timeframe ?? '1s'));
}

const fmtNum = (v: number | null): string => (v === null ? '-' : Number(v.toPrecision(8)).toString());

export function formatSummary(s: DatasetSummary): string {
  const lines: string[] = [];
  // a manifest's text (its name: the folder's; venue, provenance) as the terminal shows it, control characters escaped
  lines.push(`dataset ${visible(s.name)} (${visible(s.dir)})`);
  lines.push(`venue ${visible(s.venue)} · default timeframe ${s.timeframe} · symbols ${s.symbols.join(', ')}`);
  if (s.provenance) lines.push(`provenance: ${visible(s.provenance.split('\n')[0]!)}${s.provenance.includes('\n') ? ' (…)' : ''}`);
  lines.push('');
  const rows = [['symbol', 'kind', 'tf', 'rows', 'first', 'last', 'gaps', 'price low', 'price high', 'funding n', 'mean rate']];
  for (const f of s.files) {
    rows.push([
      f.symbol, f.kind, f.timeframe ?? '-', String(f.rows), f.first ?? '-', f.last ?? '-',
      f.kind === 'funding' ? '-' : f.gaps ? `${f.gaps} (${f.missingBars} bars)` : '0',
      fmtNum(f.priceMin), fmtNum(f.priceMax),
      f.fundingCount === null ? '-' : String(f.fundingCount),
      f.fundingMeanRate === null ? '-' : `${(f.fundingMeanRate * 100).toFixed(5)} %`,
    ]);
  }
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) lines.push(r.map((v, c) => (c >= 3 && c !== 4 && c !== 5 ? v.padStart(w[c]!) : v.padEnd(w[c]!))).join('  ').trimEnd());
  const gapLines = s.files.flatMap((f) => f.gapList);
  if (gapLines.length) {
    lines.push('', 'gaps:');
    for (const g of gapLines.slice(0, 50)) lines.push(`  ${g}`);
    if (gapLines.length > 50) lines.push(`  ... and ${gapLines.length - 50} more`);
  }
  if (s.warnings.length) {
    lines.push('', 'warnings:');
    for (const w of s.warnings) lines.push(`  ${w}`);
  }
  lines.push('', s.problemCount ? `${s.problemCount} validation problem${s.problemCount === 1 ? '' : 's'}:` : 'validation: ok (no problems)');
  for (const p of s.problems) lines.push(`  ${p}`);
  return lines.join('\n');
}
