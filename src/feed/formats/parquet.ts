/**
 * Apache Parquet files (pandas `df.to_parquet`, polars `write_parquet`, pyarrow, DuckDB, Spark):
 * one file is one series of one symbol, as a CSV file is: `--kind` and `--symbol` name it, and its
 * columns are found by the CSV importer's names and aliases (`timestamp|time|date|open_time|…`,
 * `open|o`, …; any case) or mapped with `--columns`. pandas writes an unnamed DatetimeIndex as the
 * column `__index_level_0__`: it is the time when no column is named like one.
 *
 * Times: parquet's TIMESTAMP (ms, µs or ns; floored to the ms), DATE, an integer or floating epoch
 * read by magnitude as in a CSV (< 1e11 s, < 1e14 ms, < 1e17 µs, else ns; integers exactly), or an
 * ISO-8601 string. Values: any number type (integers, floats, DECIMAL), or numeric strings; a null
 * is no number (the row is reported as a CSV's would be). Compression: uncompressed, SNAPPY, GZIP,
 * BROTLI, ZSTD, LZ4 and LZ4_RAW. The rows are checked and committed by the one path every importer
 * takes (../ingest.ts): any order, identical overlaps, a bad row fails the import naming it (65).
 */
import { accessSync, closeSync, constants as fsConstants, existsSync, openSync, readSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { parquetMetadata, parquetRead, parquetSchema, type Compressors, type FileMetaData } from 'hyparquet';
import { fileURLToPath } from 'node:url';
import { dataError, missingInput, usageError, UserError, type ExitCodeValue } from '../../errors.js';
import { excerpt, excerptList, grouped } from '../../util/excerpt.js';
import { float32Decimal } from '../../util/float32.js';
import { withFsErrors } from '../../util/fs-errors.js';
import type { ThreadErrorData } from '../../util/thread-error.js';
import { mapColumns, mapHeader, missingColumnsFix, parseTime, REQUIRED, severalSymbolsError, symbolColumnOf, utcOffsetOfHeader } from '../csv.js';
import type { FileKind } from '../manifest.js';
import { noRowsError, type SeriesData } from '../ingest.js';
import { epochMs, fundingInterval, inferTimeframe, isNumeric, readInput } from './common.js';

const MAGIC = 0x31524150; // 'PAR1' little-endian
/** rows one Parquet import reads into memory at once (a 1m series of 190 years; the columns take ≈ 5 GB) */
const MAX_ROWS = 100_000_000;
/** cells that are no number whose text is kept for messages (the import lists a few hundred rows) */
const MAX_RAW_TEXT = 100_000;

/** Whether the file starts and ends with parquet's magic 'PAR1'. */
export function hasParquetMagic(file: string): boolean {
  const size = statSync(file).size;
  if (size < 12) return false;
  const fd = openSync(file, 'r');
  try {
    const b = Buffer.alloc(4);
    readSync(fd, b, 0, 4, 0);
    const head = b.readUInt32LE(0);
    readSync(fd, b, 0, 4, size - 4);
    return head === MAGIC && b.readUInt32LE(0) === MAGIC;
  } finally {
    closeSync(fd);
  }
}

/** LZ4 block (LZ4_RAW, and Hadoop's framing of LZ4 that parquet-mr wrote): its decoded bytes, exactly outputLength of them. */
function lz4Block(input: Uint8Array, outputLength: number): Uint8Array {
  const out = new Uint8Array(outputLength);
  let i = 0;
  let o = 0;
  while (i < input.length) {
    const token = input[i++]!;
    let lit = token >>> 4;
    if (lit === 15) for (let b = 255; b === 255 && i < input.length; ) lit += b = input[i++]!;
    if (o + lit > outputLength || i + lit > input.length) throw new Error('LZ4 block: literals run past the page');
    out.set(input.subarray(i, i + lit), o);
    i += lit;
    o += lit;
    if (i >= input.length) break;
    const offset = input[i]! | (input[i + 1]! << 8);
    i += 2;
    if (offset === 0 || offset > o) throw new Error('LZ4 block: bad match offset');
    let len = (token & 15) + 4;
    if ((token & 15) === 15) for (let b = 255; b === 255 && i < input.length; ) len += b = input[i++]!;
    if (o + len > outputLength) throw new Error('LZ4 block: match runs past the page');
    for (let k = 0; k < len; k++, o++) out[o] = out[o - offset]!;
  }
  if (o !== outputLength) throw new Error(`LZ4 block: ${o} bytes decoded, the page says ${outputLength}`);
  return out;
}

/** parquet's deprecated LZ4: Hadoop's framing (big-endian sizes before each block), or a bare block as some writers wrote it. */
function lz4Hadoop(input: Uint8Array, outputLength: number): Uint8Array {
  const view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  if (input.length >= 8 && view.getUint32(0) === outputLength && view.getUint32(4) === input.length - 8) return lz4Block(input.subarray(8), outputLength);
  return lz4Block(input, outputLength);
}

const COMPRESSORS: Compressors = {
  GZIP: (input) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input) => new Uint8Array(brotliDecompressSync(input)),
  ZSTD: (input) => zstdDecompress(input),
  LZ4_RAW: lz4Block,
  LZ4: lz4Hadoop,
};

/** timestamps as ms numbers (floored), dates as ms: no Date objects, no precision lost for ns */
const PARSERS = {
  timestampFromMilliseconds: (v: bigint) => Number(v),
  timestampFromMicroseconds: (v: bigint) => Number(floorDiv(v, 1000n)),
  timestampFromNanoseconds: (v: bigint) => Number(floorDiv(v, 1_000_000n)),
  dateFromDays: (d: number) => d * 86_400_000,
};

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** An integer epoch by magnitude (s, ms, µs, ns), exactly (a double holds an ns epoch only to 256 ns). */
function epochMsBig(v: bigint): number {
  if (v < 0n) return NaN;
  return v < 100_000_000_000n ? Number(v) * 1000 : v < 100_000_000_000_000n ? Number(v) : v < 100_000_000_000_000_000n ? Number(v / 1000n) : Number(v / 1_000_000n);
}

type Cell = unknown;

function timeOf(c: Cell, isTimestamp: boolean): number {
  if (typeof c === 'number') return isTimestamp ? c : epochMs(c);
  if (typeof c === 'bigint') return epochMsBig(c);
  if (c instanceof Date) return c.getTime();
  if (typeof c === 'string') {
    const t = parseTime(c);
    return typeof t === 'number' ? t : NaN;
  }
  return NaN;
}

function valueOf(c: Cell): number {
  if (typeof c === 'number') return c;
  if (typeof c === 'bigint') return Number(c);
  if (typeof c === 'string') {
    const s = c.trim();
    if (s.endsWith('%') && isNumeric(s.slice(0, -1))) return Number(s.slice(0, -1)) / 100;
    return isNumeric(s) ? Number(s) : NaN;
  }
  return NaN;
}

const shown = (c: Cell): string => (c === null || c === undefined ? 'null' : typeof c === 'object' ? (c instanceof Date ? c.toISOString() : Array.isArray(c) ? '[…]' : '{…}') : String(c));

export interface ParquetOptions {
  symbol: string;
  kind: FileKind;
  /** candles and mark: the candles' length; without it, the rows' spacing gives it */
  timeframe?: string;
  /** the CSV importer's --columns mapping, against the file's column names */
  columns?: string;
}

/** What the decoding thread sends back: the series' columns (transferred), or the UserError it met. */
export type DecodeReply =
  | { ok: true; time: Float64Array; cols: Float64Array[]; timeframe?: string; inferredTimeframe?: string; alsoNamed?: string[]; rawText: [number, string][] }
  | ({ ok: false } & ThreadErrorData);

/** How long decoding may go without finishing a page before the file is judged damaged (ms; MARGINLAB_PARQUET_STALL_MS). */
function stallMs(): number {
  const v = Number(process.env.MARGINLAB_PARQUET_STALL_MS);
  return Number.isFinite(v) && v > 0 ? v : 15_000;
}

const DECODE_ENTRY = new URL('./parquet-entry.mjs', import.meta.url);

/**
 * One Parquet file as one series (errors: 66 missing, 65 not parquet / unreadable / damaged /
 * missing columns / no rows). Decoded in a thread of its own: a damaged page can send the decoder
 * through billions of empty steps (a run length read from garbage), so a decode that finishes no
 * page for stallMs() is stopped and the file reported as damaged, not left to hang the import.
 */
export async function readParquet(file: string, o: ParquetOptions): Promise<SeriesData & { inferredTimeframe?: string; alsoNamed?: string[] }> {
  const name = basename(file);
  // a file this process may not read is said as for every other format (66, "permission denied"), not as a damaged
  // Parquet file (65: the decoding thread's EACCES)
  if (existsSync(file)) withFsErrors({ path: file, action: 'read the input', role: 'input' }, () => accessSync(file, fsConstants.R_OK));
  const { Worker } = await import('node:worker_threads');
  const worker = new Worker(fileURLToPath(DECODE_ENTRY), { workerData: { file, options: o }, execArgv: [] });
  const limit = stallMs();
  let reply: DecodeReply;
  try {
    reply = await new Promise<DecodeReply>((res, rej) => {
      // (the thread's start, loading its modules, is not watched as strictly: a loaded machine may take seconds)
      let timer = setTimeout(() => stalled(), Math.max(limit, 120_000));
      const stalled = () => rej(dataError(`${file}: decoding its pages made no progress for ${limit / 1000} s: the file is damaged (a page's lengths or levels read as garbage); write it again from its source`));
      worker.on('message', (m: DecodeReply | 'page') => {
        if (m === 'page') {
          clearTimeout(timer);
          timer = setTimeout(() => stalled(), limit);
          return;
        }
        clearTimeout(timer);
        res(m);
      });
      worker.once('error', (e) => { clearTimeout(timer); rej(dataError(`${file}: not a readable Parquet file (${excerpt(e.message ?? String(e), 120)})`)); });
      worker.once('exit', (code) => { clearTimeout(timer); rej(dataError(`${file}: the Parquet decoding thread stopped (exit code ${code}) before it finished`)); });
    });
  } finally {
    await worker.terminate();
  }
  if (!reply.ok) {
    // what the decoder threw unforeseen is the file's: named, one line
    if (reply.exitCode === null) throw dataError(`${file}: not a readable Parquet file (${excerpt(reply.message, 120)})`);
    throw new UserError(reply.message, reply.exitCode as ExitCodeValue, reply.details, reply.reason);
  }
  const rawText = new Map(reply.rawText);
  return {
    symbol: o.symbol,
    kind: o.kind,
    ...(reply.timeframe !== undefined ? { timeframe: reply.timeframe } : {}),
    // funding without --timeframe: the interval of its events (ingest.ts SeriesData.intervalFromEvents)
    ...(o.kind === 'funding' && o.timeframe === undefined ? { intervalFromEvents: true } : {}),
    time: reply.time,
    cols: reply.cols,
    where: (i) => `${name} row ${i + 1}`,
    raw: (i, k) => rawText.get(i * 8 + k + 1),
    ...(reply.inferredTimeframe ? { inferredTimeframe: reply.inferredTimeframe } : {}),
    ...(reply.alsoNamed ? { alsoNamed: reply.alsoNamed } : {}),
  };
}

/** The decoding itself (run by parquet-worker.ts in its thread); `page` is called as each page is decoded. */
export async function decodeParquet(file: string, o: ParquetOptions, page: () => void): Promise<Extract<DecodeReply, { ok: true }>> {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw missingInput(`${file} is a folder: a Parquet import reads one file (one symbol's ${o.kind}); name the file`);
    size = st.size;
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') throw missingInput(`not found: ${file}`);
    throw e;
  }
  const name = basename(file);
  if (size === 0) throw noRowsError(file);
  if (!hasParquetMagic(file)) throw dataError(`${file}: not a Parquet file (it lacks the PAR1 marks a Parquet file starts and ends with); is it cut short, or another format? (--format csv for text)`);
  const buf = readInput(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  let metadata: FileMetaData;
  try {
    metadata = parquetMetadata(ab);
  } catch (e) {
    throw dataError(`${file}: not a readable Parquet file (${excerpt((e as Error).message ?? String(e), 120)})`);
  }
  const rows = Number(metadata.num_rows);
  if (rows === 0) throw noRowsError(file);
  if (!Number.isSafeInteger(rows) || rows < 0 || rows > MAX_ROWS) throw dataError(`${file}: its metadata counts ${metadata.num_rows} rows, ${rows > MAX_ROWS ? `more than the ${grouped(MAX_ROWS)} one import reads: split the file (by year, say) and import the parts one after another (they append)` : 'not a row count: the file is damaged'}`);
  const fields = parquetSchema(metadata).children;
  const names = fields.map((f) => f.element.name);
  const typeOf = new Map(fields.map((f) => [f.element.name, f.element]));
  // the columns: --columns, or the CSV importer's names and aliases (pandas' unnamed index as the time: mapHeader)
  let index: Record<string, number>;
  let alsoNamed: string[] = [];
  if (o.columns !== undefined) index = mapColumns(o.columns, names, o.kind);
  else {
    const m = mapHeader(names, o.kind);
    alsoNamed = m.alsoNamed;
    if (m.duplicate !== null) throw dataError(`${file}: ${m.duplicate}`);
    index = m.index;
    const missing = REQUIRED[o.kind].filter((c) => index[c] === undefined);
    if (missing.length) {
      throw dataError(`${file}: no column for ${missing.join(', ')} among the file's columns (${excerptList(names, 12, 200)}); a ${o.kind} file needs ${REQUIRED[o.kind].join(', ')}: ${missingColumnsFix(names, o.kind).replace('the header has', 'the file has').replace(' CSV', ' file')}`);
    }
  }
  const wanted = o.kind === 'candles' ? ['open', 'high', 'low', 'close', 'volume'] : o.kind === 'mark' ? ['open', 'high', 'low', 'close'] : ['rate', ...(index.price !== undefined ? ['price'] : [])];
  const colName = (k: string) => names[index[k]!]!;
  const tCol = colName('timestamp');
  // a time column naming a zone other than UTC ('Time(UTC+8)'): the CSV importer reads its zone-less
  // times in it; here they would be read as UTC, hours off without a word
  if (utcOffsetOfHeader(tCol) !== 0) throw dataError(`${file}: the time column '${excerpt(tCol, 60)}' names a zone other than UTC, which a Parquet import does not convert: write the times in UTC (pandas: df.index.tz_convert('UTC')), or export the file as CSV, whose import reads them in that zone`);
  const tType = typeOf.get(tCol);
  const isTimestamp = tType?.logical_type?.type === 'TIMESTAMP' || tType?.logical_type?.type === 'DATE' || tType?.converted_type === 'TIMESTAMP_MILLIS' || tType?.converted_type === 'TIMESTAMP_MICROS' || tType?.converted_type === 'DATE' || tType?.type === 'INT96';
  // every needed column, from its chunks (row groups, pages) in one read, converted as it arrives;
  // the text of a cell that is no number is kept for the message that names its row
  const n = rows;
  const time = new Float64Array(n);
  const cols = wanted.map(() => new Float64Array(n));
  /** column name → its roles: -1 the time, k ≥ 0 value column k (one column may serve two) */
  const roles = new Map<string, number[]>();
  const addRole = (c: string, k: number) => roles.set(c, [...(roles.get(c) ?? []), k]);
  addRole(tCol, -1);
  wanted.forEach((k, j) => addRole(colName(k), j));
  // a column naming the rows' symbol must hold one (a file of several symbols read as one series: csv.ts)
  const symCol = symbolColumnOf(names);
  const symName = symCol >= 0 ? names[symCol]! : null;
  let symFirst: string | null = null;
  let symOther: { row: number; value: string } | null = null;
  // a value column's numbers as written: a FLOAT (float32) column's as the decimal it was written from (109609.6, not
  // 109609.6015625, as an Arrow float32 column reads), a DECIMAL column's at its scale (10970001 at scale 2 is 109700.01,
  // which the reader's unscaled × 10^-scale made 109700.01000000001): the same prices from any file format
  const exactOf = (c: string): ((v: number) => number) | null => {
    const el = typeOf.get(c);
    if (el === undefined) return null;
    if (el.type === 'FLOAT') return float32Decimal;
    const scale = el.logical_type?.type === 'DECIMAL' ? el.logical_type.scale : el.converted_type === 'DECIMAL' ? el.scale : undefined;
    if (typeof scale === 'number' && scale > 0 && scale <= 100) return (v) => (Number.isFinite(v) && Math.abs(v) < 1e21 ? Number(v.toFixed(scale)) : v);
    return null;
  };
  const exact = new Map([...roles.keys()].map((c) => [c, exactOf(c)]));
  const rawText = new Map<number, string>();
  const priceAt = o.kind === 'funding' ? wanted.indexOf('price') : -1;
  let notPrice = -1;
  try {
    await parquetRead({
      file: ab, metadata, columns: [...new Set([...roles.keys(), ...(symName !== null ? [symName] : [])])], compressors: COMPRESSORS, parsers: PARSERS,
      onPage: page,
      onChunk: ({ columnName, columnData, rowStart, rowEnd }) => {
        if (columnName === symName && symOther === null) {
          const data = columnData as ArrayLike<Cell>;
          for (let i = rowStart; i < Math.min(rowEnd, n); i++) {
            const v = String(data[i - rowStart] ?? '').trim();
            if (symFirst === null) symFirst = v;
            else if (v !== symFirst) {
              symOther = { row: i, value: v };
              break;
            }
          }
        }
        const rs = roles.get(columnName);
        if (!rs) return;
        const data = columnData as ArrayLike<Cell>;
        const end = Math.min(rowEnd, n);
        const fix = exact.get(columnName) ?? null;
        for (const k of rs) {
          const out = k < 0 ? time : cols[k]!;
          for (let i = rowStart; i < end; i++) {
            const c = data[i - rowStart];
            const v = k < 0 ? timeOf(c, isTimestamp) : fix !== null && typeof c === 'number' ? fix(valueOf(c)) : valueOf(c);
            out[i] = v;
            if (v === v) continue;
            // (the messages list a few hundred rows: the text of the first cells is enough)
            if (rawText.size < MAX_RAW_TEXT) rawText.set(i * 8 + k + 1, shown(c));
            // a funding price left empty is no price (NaN), as in a CSV; one that is no number is a bad row
            if (k === priceAt && c !== null && c !== undefined && notPrice < 0) notPrice = i;
          }
        }
      },
    });
  } catch (e) {
    throw dataError(`${file}: not a readable Parquet file: reading its columns ${excerptList([...roles.keys()])} failed (${excerpt((e as Error).message ?? String(e), 120)})`);
  }
  if (symOther !== null) {
    const other = symOther as { row: number; value: string };
    throw severalSymbolsError(name, `row ${other.row + 1}`, symName!, other.value, 'row 1', symFirst!, o.symbol);
  }
  if (notPrice >= 0) throw dataError(`${name} row ${notPrice + 1}: price '${excerpt(rawText.get(notPrice * 8 + priceAt + 1) ?? '', 40)}' is not a number (an empty price is none); nothing was written`);
  let timeframe = o.timeframe;
  let inferred: string | undefined;
  if (o.kind !== 'funding' && !timeframe) {
    const tf = inferTimeframe(time, file);
    if (tf === null || !/^\d+[smhdw]$/.test(tf)) throw usageError(`${file}: the rows' spacing gives no timeframe (${tf === null ? 'fewer than two distinct times' : `their most common step is ${tf}`}): give --timeframe (e.g. --timeframe 1h), the length of the ${o.kind === 'mark' ? 'mark candles' : 'candles'}`);
    timeframe = inferred = tf;
  }
  const tf = o.kind === 'funding' ? (o.timeframe ?? fundingInterval(time)) : timeframe!;
  return { ok: true, time, cols, ...(tf !== undefined ? { timeframe: tf } : {}), ...(inferred ? { inferredTimeframe: inferred } : {}), ...(alsoNamed.length ? { alsoNamed } : {}), rawText: [...rawText] };
}
