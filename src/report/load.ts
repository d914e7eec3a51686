/**
 * Reading a run folder (reports/<name>/): results/<runId>.json and manifest.json.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DataFrame } from './dataframe.js';
import { dataError, missingInput } from '../errors.js';
import { checkHeapNeed, HEAP_PER_FILE_BYTE, heapBudget, heapHint, reportHeap, type HeapNeed } from './heap.js';
import { withFsErrors } from '../util/fs-errors.js';
import { holdsDatasetManifest } from '../util/outdir.js';
import { expectedRunCount, folderRunIds, parseRunManifest, parseRunResult, RESULT_FIX } from '../shard/schema.js';
import { outcomeOnly } from '../shard/records.js';
import { sha256Hex } from '../shard/hash.js';
import type { RunManifest, RunResult } from '../shard/types.js';
import { byRunId } from './model.js';

const RESULT_FILE = /^([0-9a-f]{16})\.json$/;

function readText(path: string): string {
  return withFsErrors({ path, action: 'read', role: 'data' }, () => readFileSync(path, 'utf8'));
}

export interface RunFolder {
  /** the results that belong to the folder: their RunId re-derives from their spec and is in the manifest's plan; sorted by runId */
  results: RunResult[];
  manifest: RunManifest;
  /** result files that are valid runs but not of this folder's plan (left out of the report), relative to the folder */
  foreign: string[];
  /** RunIds of the plan with no result file */
  missing: number;
  /** how many runs the folder holds when complete */
  expected: number;
}

export interface LoadRunFolderOptions {
  /**
   * The report's own reading: a Monte Carlo path run whose stress figures hold its equity grid is
   * kept without its per-run curves (the report draws path runs from the grid, and thousands of
   * paths would otherwise hold ≈ 11 kB of curves each in memory), and the parts results repeat
   * value for value are shared between them (see interner). Default false: every result whole and
   * its own.
   */
  forReport?: boolean;
  /** heap the reading may take (bytes); default what this process has (report/heap.ts heapBudget) */
  heapBudget?: number;
  /**
   * sha256 of result files the caller wrote or validated itself, by RunId (the run command's
   * SweepOutcome.checked): a file whose bytes still hash to it is parsed without its schema checked
   * again (≈ 60 % of the reading: 170 of 300 ms for the 51 results of the repository's sweep); any
   * other file, or one changed since, is validated as always.
   */
  checked?: ReadonlyMap<string, string>;
}

/** one result file, validated unless `checked` holds the sha256 of its bytes (LoadRunFolderOptions.checked) */
function readResult(path: string, id: string | undefined, checked: ReadonlyMap<string, string> | undefined): RunResult {
  const want = id === undefined ? undefined : checked?.get(id);
  if (want === undefined) return parseRunResult(readText(path), path, id, RESULT_FIX);
  const bytes = withFsErrors({ path, action: 'read', role: 'data' }, () => readFileSync(path));
  const text = bytes.toString('utf8');
  if (sha256Hex(bytes) !== want) return parseRunResult(text, path, id, RESULT_FIX);
  return JSON.parse(text) as RunResult;
}

/**
 * The report's reading keeps one copy of the parts that thousands of results repeat value for value
 * (a stress folder's path runs all carry the same data hashes, execution options and equity-grid
 * times): the first result's object stands for every equal one. The report only reads them.
 */
function interner(): <T>(v: T) => T {
  const seen = new Map<string, unknown>();
  return <T>(v: T): T => {
    if (v === null || typeof v !== 'object') return v;
    const key = JSON.stringify(v);
    const hit = seen.get(key);
    if (hit !== undefined) return hit as T;
    seen.set(key, v);
    return v;
  };
}

/** what a path run's curves become in the report's reading (see LoadRunFolderOptions) */
const NO_CURVES = Object.freeze({ time: Object.freeze([]), equity: Object.freeze([]), drawdown: Object.freeze([]), marginRatio: Object.freeze([]) }) as unknown as RunResult['curves'];

/** Results read between two checks of the projected heap while a folder is read. */
const CHECK_EVERY = 256;

/** The report's reading keeps a Monte Carlo path run without its curves when its stress figures hold the equity grid (see LoadRunFolderOptions). */
const readWithoutCurves = (r: RunResult): boolean => r.spec.stress?.kind === 'path' && r.stress !== undefined && r.stress.equityGrid.length > 0;

/**
 * What a result from a file of `bytes` holds on the heap once read (HEAP_PER_FILE_BYTE); `forReport`: read as the report reads it.
 * The smaller ratio is a path run's without its event log (stress.pathEvents off: its curves are most of its file); one written
 * with stress.pathEvents keeps its events, liquidation-price steps and price curves without its curves, and is weighed whole
 * (as stress/plan.ts checkPlanSize weighs it).
 */
export function resultHeapBytes(r: RunResult, bytes: number, forReport: boolean): number {
  return bytes * (heldLight(r, forReport) ? HEAP_PER_FILE_BYTE.withoutCurves : HEAP_PER_FILE_BYTE.whole);
}
/** whether a result read takes the smaller ratio (resultHeapBytes) */
const heldLight = (r: RunResult, forReport: boolean): boolean => forReport && readWithoutCurves(r) && outcomeOnly(r);

/** the result files of a folder's results/, sorted (the RunId order) */
const resultFileNames = (resultsDir: string): string[] =>
  withFsErrors({ path: resultsDir, action: 'read', role: 'data' }, () => readdirSync(resultsDir))
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .sort();
const fileSizes = (resultsDir: string, files: readonly string[]): number[] =>
  files.map((f) => withFsErrors({ path: join(resultsDir, f), action: 'read', role: 'data' }, () => statSync(join(resultsDir, f)).size));

/**
 * The result files of a run folder and their bytes, before anything is read (null when it has no
 * results/ folder: loadRunFolder then says what is missing). For a caller holding several folders at
 * once (compare), to weigh them together before it reads the first.
 */
export function resultFilesSize(dir: string): { runs: number; bytes: number } | null {
  const resultsDir = join(dir, 'results');
  if (!existsSync(resultsDir) || !statSync(resultsDir).isDirectory()) return null;
  const files = resultFileNames(resultsDir);
  return { runs: files.length, bytes: fileSizes(resultsDir, files).reduce((a, b) => a + b, 0) };
}

/**
 * Results and manifest of a run folder, everything validated by its schema first. UserError 66
 * when the folder, manifest or results are missing; 65 when a file is malformed or a result's
 * RunId does not re-derive from its spec; 78 when its results would take more heap than this
 * process has (checkHeapNeed). Results of other plans are left out (listed in `foreign`).
 */
export function loadRunFolder(dir: string, opts: LoadRunFolderOptions = {}): RunFolder {
  if (!existsSync(dir)) throw missingInput(`run folder ${dir} does not exist (expected a folder written by \`marginlab run\`)`);
  if (!statSync(dir).isDirectory()) throw missingInput(`run folder ${dir} is a file, not a folder (expected a folder written by \`marginlab run\`)`);
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) throw missingInput(`${manifestPath} is missing: ${dir} is not a run folder (expected manifest.json and results/*.json)`);
  // a dataset's folder (its manifest lists market data) given for a run folder: 'results is missing' read as a damaged run folder
  if (holdsDatasetManifest(dir)) throw missingInput(`${dir} is a dataset (market data), not a run folder: give a folder \`marginlab run\` wrote (its --out, by default reports/<name>)`);
  const resultsDir = join(dir, 'results');
  if (!existsSync(resultsDir)) throw missingInput(`${resultsDir} is missing: no stored results to report on`);
  const manifest = parseRunManifest(readText(manifestPath), manifestPath);
  const files = resultFileNames(resultsDir);
  const planned = folderRunIds(manifest);
  const plannedSet = planned ? new Set(planned) : null;
  const results: RunResult[] = [];
  const foreign: string[] = [];
  const shared = interner();
  // the heap the results take is weighed as they are read (their files are in RunId order, which is
  // random, so the first ones are a sample), and a folder this process cannot hold is refused
  const sizes = fileSizes(resultsDir, files);
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const budget = opts.heapBudget ?? heapBudget();
  const doing = opts.forReport ? 'reading them for the report' : 'reading them';
  const scale = (heap: number): number => (opts.forReport ? reportHeap(heap) : heap);
  // the results stay in the folder (a run's report step): its report can be rendered where it fits
  const hint = heapHint(opts.forReport ? `render its report (\`marginlab report ${dir}\`)` : 'read it');
  const base = { doing, runs: files.length, bytes: totalBytes, budget };
  // what the results held take, and the rest at the least a result can take (a path run without its curves
  // in the report's reading, else a whole one: reading them whole, the need is known from the sizes): a
  // bound checked before any is read and after each one, so that a folder of fewer than CHECK_EVERY large
  // results is refused before it runs out of heap, not once it has been read
  const least = opts.forReport ? HEAP_PER_FILE_BYTE.withoutCurves : HEAP_PER_FILE_BYTE.whole;
  const bound = (held: number, read: number): HeapNeed => ({ ...base, need: scale(held + (totalBytes - read) * least) });
  checkHeapNeed(bound(0, 0), `run folder ${dir}`, hint);
  let held = 0;
  let read = 0;
  // bytes of the results held whole and light (resultHeapBytes), and the count of the whole ones
  let wholeBytes = 0;
  let lightBytes = 0;
  let wholeCount = 0;
  // every CHECK_EVERY results, the rest projected at the ratio of those read, the whole ones' share of their
  // bytes shrunk by two standard deviations of their count (1 − 2/√count): in RunId order a folder's few large
  // results (a stress folder's history and scenario runs among thousands of path runs) can come early, and
  // the plain ratio read a folder that fits as 1.2–1.6 × its need at some check (random orders of stress
  // folders' make-up, 99th percentile); shrunk, ≤ 1.05 ×. A folder far past the heap is still refused at the
  // first check (13,000 history runs: 0.9 × their need, over the 4 GB limit), one just past it by the bound.
  const projected = (held: number, read: number): HeapNeed => {
    const f = wholeCount > 0 ? Math.max(0, 1 - 2 / Math.sqrt(wholeCount)) : 0;
    const rate = (HEAP_PER_FILE_BYTE.whole * wholeBytes * f + HEAP_PER_FILE_BYTE.withoutCurves * (wholeBytes * (1 - f) + lightBytes)) / (wholeBytes + lightBytes);
    return { ...base, need: scale(held + (wholeBytes + lightBytes > 0 ? (totalBytes - read) * rate : 0)) };
  };
  for (const [k, f] of files.entries()) {
    const p = join(resultsDir, f);
    const id = RESULT_FILE.exec(f)?.[1];
    const r = readResult(p, id, opts.checked);
    if (opts.forReport) {
      if (readWithoutCurves(r)) r.curves = NO_CURVES;
      const spec = r.spec;
      spec.params = shared(spec.params);
      spec.execution = shared(spec.execution);
      spec.dataHashes = shared(spec.dataHashes);
      spec.symbols = shared(spec.symbols);
      if (spec.venueOverrides !== undefined) spec.venueOverrides = shared(spec.venueOverrides);
      if (r.stress !== undefined) r.stress.equityGridTime = shared(r.stress.equityGridTime);
    }
    read += sizes[k]!;
    if (plannedSet && !plannedSet.has(r.runId)) foreign.push(join('results', f));
    else {
      results.push(r);
      held += resultHeapBytes(r, sizes[k]!, opts.forReport === true);
      if (heldLight(r, opts.forReport === true)) lightBytes += sizes[k]!;
      else {
        wholeBytes += sizes[k]!;
        wholeCount++;
      }
    }
    checkHeapNeed(bound(held, read), `run folder ${dir}`, hint);
    if ((k + 1) % CHECK_EVERY === 0) checkHeapNeed(projected(held, read), `run folder ${dir}`, hint);
  }
  const seen = new Set<string>();
  for (const r of results) {
    if (seen.has(r.runId)) throw dataError(`${resultsDir}: run ${r.runId} is stored twice (two files hold it); keep one`);
    seen.add(r.runId);
  }
  results.sort(byRunId);
  const expected = expectedRunCount(manifest);
  return { results, manifest, foreign, missing: Math.max(0, expected - results.length), expected };
}

/**
 * The runs of a folder as a danfo.js DataFrame, one row per run: runId, status, strategy,
 * params (canonical JSON), venue, mode, leverage, dataset, timeframe, symbols, bars, then every
 * registry metric (NaN where undefined).
 */
export async function loadResults(dir: string): Promise<DataFrame> {
  const { results } = loadRunFolder(dir);
  const { runsDataFrame } = await import('./aggregate.js');
  return runsDataFrame(results);
}

/**
 * Every round trip of every run of a folder as a danfo.js DataFrame, one row per trade, the
 * columns of trades.csv (docs/report.md) in the same order: times as ISO strings, money columns
 * as numbers (the exact decimal strings are in trades.csv and `runTrades(result)`). Runs that
 * kept only part of their events (`eventsCap`) are named in a process warning with code
 * MARGINLAB_PARTIAL_EVENTS: their trades are missing or partial.
 */
export async function loadTrades(dir: string): Promise<DataFrame> {
  const { results } = loadRunFolder(dir);
  // a frame cannot carry a note: runs that kept part of their events (or none) are named in a warning
  const cut = results.filter((r) => r.eventsCap !== undefined);
  if (cut.length > 0) {
    const none = cut.filter((r) => r.eventsCap!.kept === 0).length;
    const part = cut.length - none;
    const which = [part ? `${part} ${part === 1 ? 'keeps' : 'keep'} part of their events (their trades cover those events only)` : '', none ? `${none} ${none === 1 ? 'keeps' : 'keep'} none (no trades)` : ''].filter(Boolean).join(' and ');
    process.emitWarning(
      `loadTrades(${dir}): of ${results.length} runs, ${which}: maxEventsPerRun, or Monte Carlo path runs without stress.pathEvents; metrics and books cover the whole runs`,
      { code: 'MARGINLAB_PARTIAL_EVENTS' },
    );
  }
  const [{ loadDanfo }, { runTrades, tradeCells, TRADE_COLUMNS, MONEY_COLUMNS }] = await Promise.all([import('./aggregate.js'), import('./trades.js')]);
  const dfd = await loadDanfo();
  const numeric = new Set<string>([...MONEY_COLUMNS, 'leverage', 'pathIndex', 'size', 'entryPrice', 'exitPrice', 'fills']);
  const rows: Record<string, string | number>[] = [];
  for (const r of results) {
    for (const t of runTrades(r)) {
      const cells = tradeCells(r, t);
      const row: Record<string, string | number> = {};
      TRADE_COLUMNS.forEach((c, k) => {
        const v = cells[k];
        row[c] = numeric.has(c) ? (v === null || v === undefined ? NaN : Number(v)) : (v ?? '');
      });
      rows.push(row);
    }
  }
  if (rows.length === 0) return new dfd.DataFrame([], { columns: [...TRADE_COLUMNS] });
  return new dfd.DataFrame(rows);
}
