/**
 * Writing dataset folders from in-memory series (tests, the bundling script, small imports).
 * Streaming writers (CSV import, synth) use KindFileWriter directly.
 */
import { readFileSync } from 'node:fs';
import { join, basename, resolve } from 'node:path';
import { writeDirAtomic } from '../util/atomic.js';
import { MARKER_FILE, openOutDir } from '../util/outdir.js';
import { UserError, dataError, usageError } from '../errors.js';
import { KindFileWriter, KIND_COLUMNS } from './arrow-io.js';
import { shownValue } from '../util/excerpt.js';
import { didYouMean } from '../util/nearest.js';
import { dataFileName, FORMAT_ID, FORMAT_VERSION, writeManifest, type FileKind, type Manifest, type ManifestFile } from './manifest.js';

export interface SeriesInput {
  symbol: string;
  kind: FileKind;
  /** candles and mark: their timeframe; funding: optional nominal interval (e.g. '8h') */
  timeframe?: string;
  /** ms UTC */
  time: Float64Array | number[];
  /** candles: open, high, low, close, volume; mark: open, high, low, close; funding: rate (+ optional price, NaN = none) */
  columns: Record<string, Float64Array | number[]>;
}

export interface DatasetInput {
  /** defaults to the folder name */
  name?: string;
  venue: string;
  /** default candle timeframe */
  timeframe: string;
  /** defaults to the symbols of `series` in first-seen order */
  symbols?: string[];
  provenance?: string;
  generator?: Record<string, unknown>;
  series: SeriesInput[];
}

const f64 = (a: Float64Array | number[]): Float64Array => (a instanceof Float64Array ? a : Float64Array.from(a));

/** Write one series as an Arrow IPC file at `path`; returns its manifest entry (path relative = `rel`). */
export function writeSeriesFile(path: string, rel: string, s: SeriesInput): ManifestFile {
  // a JavaScript caller's kind is not checked by the compiler: 'ohlcv' failed with "KIND_COLUMNS[s.kind] is not iterable"
  if (typeof s.kind !== 'string' || !Object.hasOwn(KIND_COLUMNS, s.kind)) {
    throw new TypeError(`writeSeriesFile(${rel}): kind must be ${Object.keys(KIND_COLUMNS).map((k) => `'${k}'`).join(', ')}, got ${shownValue(s.kind)}`);
  }
  const withPrice = s.kind === 'funding' && s.columns.price !== undefined;
  const names = s.kind === 'funding' ? (withPrice ? ['rate', 'price'] : ['rate']) : [...KIND_COLUMNS[s.kind]];
  const missing = names.filter((c) => s.columns[c] === undefined);
  if (missing.length) throw new Error(`writeSeriesFile(${rel}): missing columns ${missing.join(', ')}`);
  const time = f64(s.time);
  const cols = names.map((c) => f64(s.columns[c]!));
  // a column shorter than the timestamps wrote rows of NaN, a longer one was cut, without a word
  // (checked before the file is opened: nothing is left open or half-written)
  const uneven = names.flatMap((c, k) => (cols[k]!.length !== time.length ? [`${c} has ${cols[k]!.length} values`] : []));
  if (uneven.length) throw new RangeError(`writeSeriesFile(${rel}): ${uneven.join(', ')} for ${time.length} timestamps (every column one value per timestamp)`);
  const w = new KindFileWriter(path, s.kind, { withPrice });
  const BATCH = 1 << 20;
  for (let a = 0; a < time.length; a += BATCH) {
    const b = Math.min(time.length, a + BATCH);
    w.writeBatch(time.subarray(a, b), cols.map((c) => c.subarray(a, b)));
  }
  const sha256 = w.close();
  return {
    path: rel, symbol: s.symbol, kind: s.kind,
    ...(s.timeframe ? { timeframe: s.timeframe } : {}),
    rows: w.rows, first: w.first, last: w.last, sha256,
  };
}

/** Options of writeDataset. */
export interface WriteDatasetOptions {
  /**
   * write into a non-empty folder marginlab did not make, or over a dataset of imported or downloaded data (only the
   * files of the names written are replaced; that dataset's other series stay on disk, unlisted)
   */
  force?: boolean;
}

/**
 * The dataset in `dir` when marginlab did not write it whole (imported or downloaded: its series came file by file),
 * else null. A whole-folder write (writeDataset, synthesize) would replace the series of the same names and leave the
 * others on disk unlisted beside the new manifest (a later import of them is then refused): it asks for force. A
 * whole-folder write lists manifest.json and every series file in the folder's marker (a series imported into it
 * afterwards is not listed there: the folder is then partly imported); a synthetic dataset from before markers says
 * so in its generator.
 */
export function importedDatasetAt(dir: string): { name: string | null } | null {
  const json = (f: string): unknown => {
    try {
      return JSON.parse(readFileSync(join(dir, f), 'utf8').replace(/^\uFEFF/, ''));
    } catch {
      return null;
    }
  };
  const m = json('manifest.json') as { format?: unknown; name?: unknown; generator?: { kind?: unknown }; files?: unknown } | null;
  // (a manifest.json of another kind, a run folder's or a web app's, is not a dataset: the output-folder rules judge it)
  if (m === null || typeof m !== 'object' || m.format !== FORMAT_ID) return null;
  const marker = json(MARKER_FILE) as { entries?: unknown } | null;
  const entries = marker !== null && typeof marker === 'object' && Array.isArray(marker.entries) ? (marker.entries as unknown[]) : null;
  const paths = Array.isArray(m.files) ? m.files.map((f) => (f !== null && typeof f === 'object' ? (f as { path?: unknown }).path : undefined)) : [];
  const whole = entries !== null ? entries.includes('manifest.json') && paths.every((p) => typeof p === 'string' && entries.includes(p.split('/')[0]!)) : m.generator?.kind === 'synth';
  return whole ? null : { name: typeof m.name === 'string' ? m.name : null };
}

/** The refusal of a whole-folder write over an imported dataset (importedDatasetAt), in the caller's words. */
export function importedDatasetError(prefix: string, dir: string, found: { name: string | null }, fix: string): UserError {
  return usageError(`${prefix}${dir} holds the dataset ${found.name !== null ? `'${found.name}' ` : ''}of imported or downloaded data, whose files this write would replace (its other series left unlisted beside the new manifest); ${fix}`);
}

/**
 * Write a whole dataset folder atomically: a new or empty folder, or one marginlab wrote whole (its files are
 * replaced); a non-empty folder of the user's, or a dataset of imported data, only with `force`. A refused folder is
 * a UserError (exit code 64) naming it. The series are checked as a default load checks them (the dataset's
 * timeframe, every symbol; gaps allowed, as `gaps: 'warn'` loads them): a dataset that load could not read, an empty
 * series or one given twice is a UserError (65) naming the series, file and row, and nothing is written.
 */
export async function writeDataset(dir: string, input: DatasetInput, opts: WriteDatasetOptions = {}): Promise<Manifest> {
  // said in writeDataset's words before anything is made (the load's own lines named manifest.json, which the caller
  // never wrote, and advised `import --replace`)
  const seen = new Map<string, number>();
  // a JavaScript caller's shapes are not checked by the compiler: the timestamps of a CSV read into `columns` (its
  // `timestamp` column) and no `time` failed with "Cannot read properties of undefined (reading 'length')"
  const series: unknown = (input as Partial<DatasetInput> | null)?.series;
  if (!Array.isArray(series)) throw dataError(`writeDataset: series must be an array of { symbol, kind, timeframe?, time, columns }, got ${shownValue(series)}`);
  input.series.forEach((s, i) => {
    if (typeof s !== 'object' || s === null) throw dataError(`writeDataset: series[${i}] must be an object { symbol, kind, timeframe?, time, columns }, got ${shownValue(s)}`);
    const what = `series[${i}] (${s.symbol} ${s.kind}${s.timeframe ? ` ${s.timeframe}` : ''})`;
    if (typeof s.symbol !== 'string' || s.symbol === '') throw dataError(`writeDataset: series[${i}].symbol must be the symbol's name (e.g. 'BTCUSDT'), got ${shownValue(s.symbol)}`);
    const cols: unknown = s.columns;
    if (typeof cols !== 'object' || cols === null || Array.isArray(cols)) {
      throw dataError(`writeDataset: ${what}.columns must be an object of arrays by column name (${s.kind === 'funding' ? 'rate, price?' : 'open, high, low, close, volume'}), got ${shownValue(cols)}`);
    }
    if (!Array.isArray(s.time) && !(s.time instanceof Float64Array)) {
      const inColumns = ['timestamp', 'time', 'date', 'open_time'].find((k) => Object.hasOwn(cols, k));
      throw dataError(
        `writeDataset: ${what}.time must be the rows' times (ms UTC) as an array or a Float64Array, got ${shownValue(s.time)}${inColumns !== undefined ? `; its columns hold '${inColumns}': give those values as time` : ''}`,
      );
    }
    if (s.time.length === 0) throw dataError(`writeDataset: ${what} has no rows; a dataset holds no empty series: leave it out`);
    // the columns by name: a misspelt one ('clsoe') was a plain Error from the file writer, and a funding series'
    // misspelt optional 'prcie' was dropped in silence; one value per timestamp
    if (typeof s.kind === 'string' && Object.hasOwn(KIND_COLUMNS, s.kind)) {
      const known = KIND_COLUMNS[s.kind];
      const given = cols as Record<string, unknown>;
      // (a mark series' volume, which freqtrade's mark rows carry and no mark file keeps, is left out as before)
      const unknown = Object.keys(given).filter((k) => !known.includes(k) && !(s.kind === 'mark' && k === 'volume'));
      const missing = known.filter((k) => (s.kind !== 'funding' || k !== 'price') && given[k] === undefined);
      if (unknown.length > 0 || missing.length > 0) {
        const said = [
          ...(unknown.length > 0 ? [`no column ${unknown.map((k) => `'${k}'${didYouMean(k, known)}`).join(', ')}`] : []),
          ...(missing.length > 0 ? [`lacks ${missing.map((k) => `'${k}'`).join(', ')}`] : []),
        ];
        throw dataError(`writeDataset: ${what}.columns: ${said.join('; ')} (${s.kind} columns: ${s.kind === 'funding' ? 'rate, price (optional)' : known.join(', ')})`);
      }
      const uneven = known.flatMap((k) => {
        const v = given[k] as ArrayLike<number> | undefined;
        return v !== undefined && v.length !== s.time.length ? [`${k} has ${v.length} values`] : [];
      });
      if (uneven.length > 0) throw dataError(`writeDataset: ${what}.columns: ${uneven.join(', ')} for ${s.time.length} timestamps (every column one value per timestamp)`);
    }
    const rel = dataFileName(s.symbol, s.kind, s.timeframe);
    const j = seen.get(rel);
    if (j !== undefined) throw dataError(`writeDataset: ${what} is the series of series[${j}] again (both are ${rel}); give each series once`);
    seen.set(rel, i);
  });
  const force = 'pass { force: true } as its third argument';
  const out = openOutDir(dir, { kind: 'dataset', name: 'writeDataset: dir', source: 'api', force: opts.force === true, forceFlag: force });
  try {
    const found = opts.force ? null : importedDatasetAt(out.path);
    if (found) throw importedDatasetError('writeDataset: dir ', out.path, found, `choose another folder, or ${force} to replace them`);
    return await writeDirAtomic(out, async (tmp) => {
      const manifest = writeDatasetFiles(tmp, basename(out.path), input);
      // what no load could read is not written (it was, and loadDataset refused it later: low above the open, times
      // unsorted or off the grid, a series with no rows or given twice); the loader's own checks, named at `dir`
      const { loadDataset } = await import('./load.js');
      try {
        await loadDataset(tmp, { gaps: 'warn' });
      } catch (err) {
        if (err instanceof UserError) {
          const at = (s: string) => s.split(tmp).join(out.path).replace("nothing was loaded", "nothing was written");
          throw new UserError(`writeDataset: ${at(err.message)}`, err.exitCode, err.details.map(at), err.reason);
        }
        throw err;
      }
      return manifest;
    });
  } finally {
    out.release();
  }
}

/**
 * Write a dataset's files and manifest into `dir` (a folder of its own, made by the caller) without checking them:
 * for tests that need a damaged dataset. Not part of the package's API.
 */
export async function writeDatasetUnchecked(dir: string, input: DatasetInput): Promise<Manifest> {
  return writeDirAtomic(dir, (tmp) => writeDatasetFiles(tmp, basename(resolve(dir)), input));
}

function writeDatasetFiles(tmp: string, folderName: string, input: DatasetInput): Manifest {
  const files: ManifestFile[] = [];
  for (const s of input.series) {
    const rel = dataFileName(s.symbol, s.kind, s.timeframe);
    files.push(writeSeriesFile(join(tmp, rel), rel, s));
  }
  const symbols = input.symbols ?? [...new Set(input.series.map((s) => s.symbol))];
  const manifest: Manifest = {
    format: FORMAT_ID,
    version: FORMAT_VERSION,
    name: input.name ?? folderName,
    venue: input.venue,
    timeframe: input.timeframe,
    symbols,
    files,
    provenance: input.provenance ?? '',
    ...(input.generator ? { generator: input.generator } : {}),
  };
  writeManifest(tmp, manifest);
  return manifest;
}
