/**
 * Writing dataset folders from in-memory series (tests, the bundling script, small imports).
 * Streaming writers (CSV import, synth) use KindFileWriter directly.
 */
import { join, basename, resolve } from 'node:path';
import { writeDirAtomic } from '../util/atomic.js';
import { KindFileWriter, KIND_COLUMNS } from './arrow-io.js';
import { shownValue } from '../util/excerpt.js';
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
  /** write into a non-empty folder marginlab did not make (only the files of the names written are replaced) */
  force?: boolean;
}

/**
 * Write a whole dataset folder atomically: a new or empty folder, or one marginlab wrote (its files are replaced);
 * a non-empty folder of the user's only with `force`. A refused folder is a UserError (exit code 64) naming it.
 */
export async function writeDataset(dir: string, input: DatasetInput, opts: WriteDatasetOptions = {}): Promise<Manifest> {
  return writeDirAtomic(dir, (tmp) => {
    const files: ManifestFile[] = [];
    for (const s of input.series) {
      const rel = dataFileName(s.symbol, s.kind, s.timeframe);
      files.push(writeSeriesFile(join(tmp, rel), rel, s));
    }
    const symbols = input.symbols ?? [...new Set(input.series.map((s) => s.symbol))];
    const manifest: Manifest = {
      format: FORMAT_ID,
      version: FORMAT_VERSION,
      name: input.name ?? basename(resolve(dir)),
      venue: input.venue,
      timeframe: input.timeframe,
      symbols,
      files,
      provenance: input.provenance ?? '',
      ...(input.generator ? { generator: input.generator } : {}),
    };
    writeManifest(tmp, manifest);
    return manifest;
  }, { kind: 'dataset', name: 'writeDataset: dir', source: 'api', force: opts.force === true, forceFlag: 'pass { force: true } as its third argument' });
}
