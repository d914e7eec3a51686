/**
 * Arrow IPC (file format, a.k.a. Feather v2) reading and writing for the three file kinds.
 *
 * Columns (docs/data-format.md):
 *   candles: timestamp (Timestamp[ms, UTC]), open, high, low, close, volume (Float64)
 *   mark:    timestamp, open, high, low, close
 *   funding: timestamp, rate, price (Float64, nullable; optional)
 *
 * Writing streams record batches straight to a file descriptor (bounded memory, deterministic
 * bytes). Reading accepts any timestamp unit (s/ms/us/ns) or a plain number column of epoch s/ms/µs/ns
 * (by magnitude, plainEpochScale; µs and ns divided exactly from the stored int64), and
 * returns plain Float64Arrays (nulls become NaN, which validation then reports).
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { createHash } from 'node:crypto';
import { float32Decimal } from '../util/float32.js';
import {
  AsyncByteQueue,
  CompressionType,
  Field,
  Float64,
  Precision,
  RecordBatch,
  RecordBatchFileWriter,
  RecordBatchReader,
  Schema,
  Struct,
  compressionRegistry,
  Table,
  TimestampMillisecond,
  Type,
  makeData,
  TimeUnit,
  type Data,
  type DataType,
} from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';
import lz4 from 'lz4js';
import type { FileKind } from './manifest.js';
import type { ProblemList } from './validate.js';

export const KIND_COLUMNS: Record<FileKind, readonly string[]> = {
  candles: ['open', 'high', 'low', 'close', 'volume'],
  mark: ['open', 'high', 'low', 'close'],
  funding: ['rate', 'price'],
};

export function kindSchema(kind: FileKind, withPrice = true): Schema {
  const cols = kind === 'funding' && !withPrice ? ['rate'] : KIND_COLUMNS[kind];
  const fields: Field[] = [new Field('timestamp', new TimestampMillisecond('UTC'), false)];
  for (const c of cols) fields.push(new Field(c, new Float64(), c === 'price'));
  return new Schema(fields, new Map([['marginlab.kind', kind]]));
}

/** An AsyncByteQueue that writes synchronously to a file through a 4 MiB staging buffer. */
class FdSink extends AsyncByteQueue {
  private readonly fd: number;
  private buf = Buffer.allocUnsafe(4 << 20);
  private used = 0;
  bytes = 0;
  private readonly hash = createHash('sha256');
  constructor(path: string) {
    super();
    this.fd = openSync(path, 'w');
  }
  override write(value: ArrayBufferView | ArrayBufferLike | string): void {
    const u8 = typeof value === 'string'
      ? Buffer.from(value)
      : ArrayBuffer.isView(value)
        ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
        : new Uint8Array(value);
    if (u8.byteLength >= this.buf.length) {
      this.flush();
      this.put(u8);
      return;
    }
    if (this.used + u8.byteLength > this.buf.length) this.flush();
    this.buf.set(u8, this.used);
    this.used += u8.byteLength;
  }
  private put(u8: Uint8Array): void {
    let off = 0;
    while (off < u8.byteLength) off += writeSync(this.fd, u8, off, u8.byteLength - off);
    this.hash.update(u8);
    this.bytes += u8.byteLength;
  }
  flush(): void {
    if (this.used > 0) {
      this.put(this.buf.subarray(0, this.used));
      this.used = 0;
    }
  }
  private closed_ = false;
  override close(): void {
    if (this.closed_) return;
    this.closed_ = true;
    this.flush();
    closeSync(this.fd);
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

/** Streaming writer of one Arrow IPC file of a given kind. */
export class KindFileWriter {
  readonly kind: FileKind;
  private readonly schema: Schema;
  private readonly sink: FdSink;
  private readonly writer: RecordBatchFileWriter;
  rows = 0;
  first: number | null = null;
  last: number | null = null;
  private closedHash: string | null = null;

  constructor(path: string, kind: FileKind, opts: { withPrice?: boolean } = {}) {
    this.kind = kind;
    this.schema = kindSchema(kind, opts.withPrice ?? false);
    this.sink = new FdSink(path);
    this.writer = new RecordBatchFileWriter();
    this.writer.reset(this.sink, this.schema);
  }

  /** Write one batch: `time` in ms UTC (integers), `cols` in schema order (after timestamp). */
  writeBatch(time: Float64Array, cols: readonly Float64Array[], length = time.length): void {
    if (length === 0) return;
    const fields = this.schema.fields;
    if (cols.length !== fields.length - 1) throw new Error(`writeBatch(${this.kind}): expected ${fields.length - 1} columns, got ${cols.length}`);
    const ts = new BigInt64Array(length);
    const halves = new Int32Array(ts.buffer);
    for (let i = 0; i < length; i++) {
      const t = time[i]!;
      const hi = Math.floor(t / 4294967296);
      halves[2 * i] = t - hi * 4294967296; // low 32 bits (little-endian)
      halves[2 * i + 1] = hi;
    }
    const children: Data[] = [makeData({ type: fields[0]!.type as TimestampMillisecond, length, data: ts })];
    for (let c = 0; c < cols.length; c++) {
      const arr = cols[c]!.length === length ? cols[c]! : cols[c]!.subarray(0, length);
      const nullable = fields[c + 1]!.nullable;
      if (nullable) {
        // NaN = null (funding price not given)
        const bitmap = new Uint8Array((length + 7) >> 3);
        let nulls = 0;
        for (let i = 0; i < length; i++) {
          if (Number.isNaN(arr[i]!)) nulls++;
          else bitmap[i >> 3]! |= 1 << (i & 7);
        }
        children.push(makeData({ type: new Float64(), length, data: arr, nullCount: nulls, nullBitmap: nulls ? bitmap : null }));
      } else {
        children.push(makeData({ type: new Float64(), length, data: arr }));
      }
    }
    const struct = makeData({ type: new Struct(fields), length, nullCount: 0, children });
    this.writer.write(new RecordBatch(this.schema, struct));
    if (this.first === null) this.first = time[0]!;
    this.last = time[length - 1]!;
    this.rows += length;
  }

  /** Finish the file (footer), close it and return its sha256. */
  close(): string {
    if (this.closedHash) return this.closedHash;
    this.writer.finish();
    this.writer.close();
    this.sink.close();
    this.closedHash = this.sink.digest();
    return this.closedHash;
  }
}

export interface ReadColumns {
  rows: number;
  /** ms UTC */
  timestamp: Float64Array;
  /** by column name (all Float64; nulls → NaN); missing optional columns are absent */
  columns: Record<string, Float64Array>;
  sha256: string;
}

/** Factor from a time column's unit to ms (1 for plain integers/floats, taken as ms); null for other types. */
export function timeScaleToMs(type: DataType): number | null {
  if (type.typeId === Type.Timestamp) {
    const unit = (type as unknown as { unit: TimeUnit }).unit;
    return unit === TimeUnit.SECOND ? 1000 : unit === TimeUnit.MILLISECOND ? 1 : unit === TimeUnit.MICROSECOND ? 1e-3 : 1e-6;
  }
  return isNumberColumn(type) ? 1 : null;
}

/**
 * An integer or a float column whose values read as numbers. Float16 is not one: apache-arrow
 * hands its raw 16-bit patterns (100.0 reads as 22080), and no price fits its 11-bit precision.
 */
export function isNumberColumn(type: DataType): boolean {
  if (type.typeId === Type.Int) return true;
  return type.typeId === Type.Float && (type as unknown as { precision: Precision }).precision !== Precision.HALF;
}

/**
 * An Arrow IPC file (or stream) as a Table. apache-arrow's own tableFromIPC loops forever on a
 * file whose footer points at a message that is not a record batch (one damaged byte does it):
 * a file is read here batch by batch from its footer, each block checked against the file's
 * size, and any block that is not a record batch is an error. Record batches compressed with
 * LZ4 frame or ZSTD (pyarrow's and freqtrade's feather options) are decoded (registerArrowCodecs).
 * Throws on anything unreadable, with a sentence for the user: a file cut short says so, and
 * apache-arrow's own failures on damaged metadata (a TypeError about `fieldsLength`, a DataView
 * RangeError) become "its Arrow metadata is damaged" rather than JavaScript internals.
 */
export function readIpcTable(buf: Uint8Array): Table {
  registerArrowCodecs();
  if (startsWithMagic(buf, 0) && !(buf.byteLength >= 2 * ARROW_MAGIC.length && startsWithMagic(buf, buf.byteLength - ARROW_MAGIC.length))) {
    throw new Error(`the file ends after ${buf.byteLength} bytes without the Arrow file footer, so it was cut short (an interrupted copy, download or write)`);
  }
  // neither a file nor a stream (continuation marker 0xFFFFFFFF) at its first bytes: something else
  // (a file of zeros, as a copy cut by a crash can leave, otherwise reads as an empty stream)
  if (!beginsAsArrowIpc(buf)) {
    throw new Error("it does not begin with the Arrow file signature 'ARROW1', so it is not an Arrow IPC file");
  }
  // a stream ends with its end-of-stream marker (0xFFFFFFFF, then a length of 0): without it, a stream cut at a record
  // batch's end read as the batches before the cut, in silence
  const eos = buf.byteLength - 8;
  if (!startsWithMagic(buf, 0) && !(eos >= 4 && buf[eos] === 0xff && buf[eos + 1] === 0xff && buf[eos + 2] === 0xff && buf[eos + 3] === 0xff && buf[eos + 4] === 0 && buf[eos + 5] === 0 && buf[eos + 6] === 0 && buf[eos + 7] === 0)) {
    throw new Error(`the Arrow IPC stream ends after ${buf.byteLength} bytes without its end-of-stream marker: cut short (an interrupted copy, download or write), or its writer was not closed`);
  }
  try {
    return readIpcTableUnchecked(buf);
  } catch (e) {
    // the engine's own errors (null dereferences, DataView bounds) say nothing to a user
    if (e instanceof TypeError || e instanceof RangeError) throw new Error('its Arrow metadata is damaged (the schema or a record batch header does not parse)');
    throw e;
  }
}

/** 'ARROW1': the first and last bytes of an Arrow IPC file (not of a stream) */
const ARROW_MAGIC = [0x41, 0x52, 0x52, 0x4f, 0x57, 0x31];
function startsWithMagic(buf: Uint8Array, at: number): boolean {
  return buf.byteLength >= at + ARROW_MAGIC.length && ARROW_MAGIC.every((b, i) => buf[at + i] === b);
}

/** the first bytes of an Arrow IPC file ('ARROW1') or stream (the continuation marker 0xFFFFFFFF) */
export function beginsAsArrowIpc(buf: Uint8Array): boolean {
  return startsWithMagic(buf, 0) || (buf.byteLength >= 4 && buf[0] === 0xff && buf[1] === 0xff && buf[2] === 0xff && buf[3] === 0xff);
}

let codecsRegistered = false;
/** LZ4 frame and ZSTD record batches through pure-JavaScript codecs (lz4js, fzstd), registered with apache-arrow once. */
export function registerArrowCodecs(): void {
  if (codecsRegistered) return;
  codecsRegistered = true;
  compressionRegistry.set(CompressionType.LZ4_FRAME, { decode: (b: Uint8Array) => Uint8Array.from(lz4.decompress(b)) });
  compressionRegistry.set(CompressionType.ZSTD, { decode: (b: Uint8Array) => zstdDecompress(b) });
}

function readIpcTableUnchecked(buf: Uint8Array): Table {
  const reader = RecordBatchReader.from(buf);
  if (!reader.isFile()) return new Table(reader.readAll());
  reader.open();
  const footer = reader.footer;
  if (!footer) throw new Error('no Arrow file footer');
  const n = reader.numRecordBatches;
  // a Block is 24 bytes of the footer, which lies inside the file
  if (!Number.isSafeInteger(n) || n < 0 || n * 24 > buf.byteLength) throw new Error(`the footer lists ${n} record batches, more than a file of ${buf.byteLength} bytes can hold`);
  const batches: RecordBatch[] = [];
  for (let i = 0; i < n; i++) {
    const block = footer.getRecordBatch(i);
    const end = block ? Number(block.offset) + block.metaDataLength + Number(block.bodyLength) : NaN;
    if (!block || !(block.offset >= 0) || !(end <= buf.byteLength)) {
      throw new Error(`record batch ${i + 1} of ${n} lies outside the file (${buf.byteLength} bytes)`);
    }
    const batch = reader.readRecordBatch(i);
    if (!batch) throw new Error(`record batch ${i + 1} of ${n} is not a record batch message`);
    batches.push(batch);
  }
  return new Table(reader.schema, batches);
}


function copyChunk(data: Data, out: Float64Array, at: number, scale: number): void {
  const n = data.length;
  const typeId = data.type.typeId;
  const values = data.values as ArrayLike<number | bigint> & { buffer: ArrayBufferLike; byteOffset: number };
  // a damaged file can claim more rows than its buffers hold
  if (!values || values.length < n) throw new Error(`a record batch of ${n} rows holds ${values ? values.length : 0} values`);
  if (typeId === Type.Float && values instanceof Float64Array) {
    out.set(values.subarray(0, n), at);
  } else if (values instanceof Float32Array) {
    // a float32 price as the decimal it was written from (100.1, not 100.0999984741211): the
    // shortest decimal that rounds to it in float32 (as a float32 formatter prints it)
    const seen = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const f = values[i]!;
      let d = seen.get(f);
      if (d === undefined) seen.set(f, (d = float32Decimal(f)));
      out[at + i] = d * scale;
    }
  } else if ((values instanceof BigInt64Array || values instanceof BigUint64Array) && scale < 1) {
    // µs or ns to ms: divided exactly (pandas' ns times pass 2^53, so a float product is off by
    // one ms at times like 1637193600017), floored (toward −∞, as below)
    const d = BigInt(Math.round(1 / scale));
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      const q = v / d;
      out[at + i] = Number(v < 0n && q * d !== v ? q - 1n : q);
    }
    return nullsToNaN(data, out, at);
  } else if (values instanceof BigInt64Array || values instanceof BigUint64Array) {
    // int64: combine the two 32-bit halves (exact below 2^53)
    const i32 = new Int32Array(values.buffer, values.byteOffset, n * 2);
    const u32 = new Uint32Array(values.buffer, values.byteOffset, n * 2);
    for (let i = 0; i < n; i++) out[at + i] = (i32[2 * i + 1]! * 4294967296 + u32[2 * i]!) * scale;
  } else {
    for (let i = 0; i < n; i++) out[at + i] = Number(values[i]!) * scale;
  }
  if (scale !== 1 && scale < 1) {
    for (let i = 0; i < n; i++) out[at + i] = Math.floor(out[at + i]!);
  }
  nullsToNaN(data, out, at);
}

/** Null slots of `data` (copied to `out` from `at`) as NaN. */
function nullsToNaN(data: Data, out: Float64Array, at: number): void {
  const n = data.length;
  if (data.nullCount > 0 && data.nullBitmap) {
    const bm = data.nullBitmap;
    const off = data.offset;
    for (let i = 0; i < n; i++) {
      const bit = off + i;
      if ((bm[bit >> 3]! & (1 << (bit & 7))) === 0) out[at + i] = NaN;
    }
  }
}

/**
 * The column `field` of `table` into `out` as float64 (nulls as NaN), `scale` from timeScaleToMs
 * for a time column (then plain epoch numbers are read by magnitude, plainEpochScale) or 1 for
 * values (float32 as the decimal it was written from). The one reader of Arrow columns: dataset
 * files (readKindFile) and imported feather files alike. Throws on a damaged record batch.
 */
export function fillColumn(table: Table, field: Field, out: Float64Array, scale: number, isTime: boolean): void {
  const copy = (f: number) => {
    let at = 0;
    for (const chunk of table.getChild(field.name)!.data) {
      copyChunk(chunk as Data, out, at, f);
      at += chunk.length;
    }
  };
  copy(scale);
  if (!isTime || field.type.typeId === Type.Timestamp) return;
  const unit = plainEpochScale(out);
  if (unit === 1) return;
  if (unit > 1) for (let i = 0; i < out.length; i++) out[i] = Math.round(out[i]! * unit);
  else if (field.type.typeId === Type.Int && (field.type as unknown as { bitWidth: number }).bitWidth === 64) copy(unit); // µs or ns: again from the stored integers, divided exactly
  else for (let i = 0, div = Math.round(1 / unit); i < out.length; i++) out[i] = Math.floor(out[i]! / div);
}

/**
 * The factor to ms of a time column of plain numbers (no Timestamp unit: pandas' and polars' int64
 * epochs, a CSV turned into Arrow), told by the magnitude of its first finite value as the
 * importers read epoch numbers: < 1e11 seconds (1000), < 1e14 ms (1), < 1e17 µs (1e-3), else ns
 * (1e-6). One unit for the whole column, so a column mixing units fails validation rather than
 * being read row by row.
 */
function plainEpochScale(a: Float64Array): number {
  let v = NaN;
  for (let i = 0; i < a.length && !Number.isFinite(v); i++) v = a[i]!;
  if (!Number.isFinite(v) || v < 0 || (v >= 1e11 && v < 1e14)) return 1;
  return v < 1e11 ? 1000 : v < 1e17 ? 1e-3 : 1e-6;
}

/** Where readKindFile puts what it reads (each defaults to a fresh array). */
export interface ReadStorage {
  /** the file's bytes, needed only until readKindFile returns */
  file?(bytes: number): Uint8Array;
  timestamp?(n: number): Float64Array;
  values?(n: number): Float64Array;
}

/** The most bytes one readSync is asked for: Node refuses a length of 2 GiB or more (ERR_OUT_OF_RANGE). */
const READ_CHUNK = 1 << 30;

/** The largest file readKindFile reads: a file is read whole into one typed array, which holds at most this many bytes. */
export const MAX_FILE_BYTES = bufferConstants.MAX_LENGTH;

/**
 * The whole file at `path`, into storage from `get` (a file that grows while read is cut at its
 * size when opened); a number (its size) when it is larger than MAX_FILE_BYTES.
 */
function readWhole(path: string, get: (bytes: number) => Uint8Array): Uint8Array | number {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_FILE_BYTES) return size;
    const buf = get(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, buf, at, Math.min(size - at, READ_CHUNK), null);
      if (n === 0) break;
      at += n;
    }
    return at === size ? buf : buf.subarray(0, at);
  } finally {
    closeSync(fd);
  }
}

/**
 * Read one Arrow IPC file of a kind: checks the required columns and their types (problems go to
 * `problems` as 'file: ...' lines; returns null when the file cannot be used at all).
 */
export function readKindFile(path: string, label: string, kind: FileKind, problems: ProblemList, storage: ReadStorage = {}): ReadColumns | null {
  const buf = readWhole(path, storage.file ?? ((n) => new Uint8Array(n)));
  if (typeof buf === 'number') {
    problems.add(label, null, `the file is ${(buf / 2 ** 30).toFixed(1)} GiB, more than the ${(MAX_FILE_BYTES / 2 ** 30).toFixed(0)} GiB a file may hold to be read; keep a series below it (a coarser timeframe, or a shorter period per dataset)`);
    return null;
  }
  // in pieces: a hash takes at most 2 GiB per update ('data is too long')
  const hash = createHash('sha256');
  for (let at = 0; at < buf.byteLength; at += READ_CHUNK) hash.update(buf.subarray(at, at + READ_CHUNK));
  const sha256 = hash.digest('hex');
  const unreadable = (e: unknown) => problems.add(label, null, `not a readable Arrow IPC file: ${e instanceof Error ? e.message : String(e)}; re-import or re-download it`);
  if (buf.length === 0) {
    problems.add(label, null, 'the file is empty (0 bytes), not an Arrow IPC file: re-import or re-download it');
    return null;
  }
  let table;
  try {
    table = readIpcTable(buf);
  } catch (e) {
    unreadable(e);
    return null;
  }
  const rows = table.numRows;
  const names = table.schema.fields.map((f) => f.name);
  const required = kind === 'funding' ? ['timestamp', 'rate'] : ['timestamp', ...KIND_COLUMNS[kind]];
  const missing = required.filter((c) => !names.includes(c));
  if (missing.length) {
    problems.add(label, null, `missing column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (has: ${names.join(', ') || 'none'}; a ${kind} file needs ${required.join(', ')})`);
    return null;
  }
  const wanted = [...required, ...(kind === 'funding' && names.includes('price') ? ['price'] : [])];
  const out: Record<string, Float64Array> = {};
  let timestamp: Float64Array = new Float64Array(0);
  for (const name of wanted) {
    const field = table.schema.fields.find((f) => f.name === name)!;
    const isTime = name === 'timestamp';
    const scale = isTime ? timeScaleToMs(field.type) : isNumberColumn(field.type) ? 1 : null;
    if (scale === null) {
      problems.add(label, null, `column '${name}' has type ${String(field.type)}; expected ${isTime ? 'Timestamp (or epoch numbers)' : 'Float64'}`);
      return null;
    }
    const arr = isTime ? (storage.timestamp?.(rows) ?? new Float64Array(rows)) : (storage.values?.(rows) ?? new Float64Array(rows));
    try {
      fillColumn(table, field, arr, scale, isTime);
    } catch (e) {
      unreadable(e);
      return null;
    }
    if (isTime) timestamp = arr;
    else out[name] = arr;
  }
  return { rows, timestamp, columns: out, sha256 };
}
