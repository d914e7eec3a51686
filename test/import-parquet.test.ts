/**
 * Parquet import (src/feed/formats/parquet.ts): the bundled real BTC candles and funding written as
 * Parquet files the way researchers' tools write them (every codec, every time form, pandas' index
 * column, nulls) import to the very Arrow bytes a CSV of the same rows gives; bad inputs are one
 * line with the documented exit code and nothing written. Files are written with hyparquet-writer.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { compressBlock } from 'lz4js';
import { readKindFile } from '../src/feed/arrow-io.js';
import { ProblemList } from '../src/feed/validate.js';
import { detectFormat } from '../src/feed/formats/index.js';
import { decodeParquet } from '../src/feed/formats/parquet.js';
import { feedCli } from './fixtures/feed/cli.js';

const root = mkdtempSync(join(tmpdir(), 'ml-parquet-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const outDir = () => join(root, `ds-${++n}`);
const put = (bytes: ArrayBuffer | Uint8Array | string, name = `in-${++n}.parquet`) => {
  const p = join(root, name);
  writeFileSync(p, typeof bytes === 'string' ? bytes : new Uint8Array(bytes));
  return p;
};
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

const BUNDLED = join(import.meta.dirname, '..', 'data', 'binance-usdm-2025');
const candles = readKindFile(join(BUNDLED, 'BTCUSDT-candles-1h.arrow'), 'BTCUSDT-candles-1h.arrow', 'candles', new ProblemList())!;
const funding = readKindFile(join(BUNDLED, 'BTCUSDT-funding.arrow'), 'BTCUSDT-funding.arrow', 'funding', new ProblemList())!;
const N = 400; // rows used (several pages and row groups below)
const T = Array.from(candles.timestamp.subarray(0, N));
const COLS = ['open', 'high', 'low', 'close', 'volume'] as const;
const V = Object.fromEntries(COLS.map((c) => [c, Array.from(candles.columns[c]!.subarray(0, N))])) as Record<(typeof COLS)[number], number[]>;

/** the same rows as a CSV (String(x) round-trips a double exactly) */
const CSV = `timestamp,${COLS.join(',')}\n${T.map((t, i) => `${t},${COLS.map((c) => String(V[c][i])).join(',')}`).join('\n')}\n`;

/** a zstd frame of raw blocks (RFC 8878: magic, header with the content size, blocks ≤ 128 KiB): a valid frame any decoder reads */
function zstdRaw(input: Uint8Array): Uint8Array {
  const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0xa0]; // magic; FHD: 4-byte content size, single segment
  const size = input.length;
  parts.push(size & 255, (size >>> 8) & 255, (size >>> 16) & 255, (size >>> 24) & 255);
  for (let off = 0; off < size || off === 0; off += 131072) {
    const len = Math.min(131072, size - off);
    const last = off + len >= size ? 1 : 0;
    const h = (len << 3) | last; // block type 0 = raw
    parts.push(h & 255, (h >>> 8) & 255, (h >>> 16) & 255);
    for (let k = 0; k < len; k++) parts.push(input[off + k]!);
    if (size === 0) break;
  }
  return new Uint8Array(parts);
}

function lz4Raw(input: Uint8Array): Uint8Array {
  const dst = new Uint8Array(input.length + Math.ceil(input.length / 255) + 32);
  const m = compressBlock(input, dst, 0, input.length, new Uint32Array(1 << 16));
  if (m === 0 || m > input.length) {
    // incompressible: one literal run (a valid block too)
    const lit = input.length;
    const head: number[] = [];
    if (lit < 15) head.push(lit << 4);
    else {
      head.push(0xf0);
      let r = lit - 15;
      for (; r >= 255; r -= 255) head.push(255);
      head.push(r);
    }
    return new Uint8Array([...head, ...input]);
  }
  return dst.subarray(0, m);
}

const COMPRESSORS = {
  GZIP: (b: Uint8Array) => new Uint8Array(gzipSync(b)),
  BROTLI: (b: Uint8Array) => new Uint8Array(brotliCompressSync(b)),
  ZSTD: zstdRaw,
  LZ4_RAW: lz4Raw,
  // parquet-mr's LZ4: Hadoop framing (big-endian uncompressed and compressed sizes) around a block
  LZ4: (b: Uint8Array) => {
    const blk = lz4Raw(b);
    const out = new Uint8Array(8 + blk.length);
    new DataView(out.buffer).setUint32(0, b.length);
    new DataView(out.buffer).setUint32(4, blk.length);
    out.set(blk, 8);
    return out;
  },
};

type Codec = 'UNCOMPRESSED' | 'SNAPPY' | keyof typeof COMPRESSORS;
type Col = { name: string; data: unknown[]; type?: string };

function parquet(columns: Col[], opts: { codec?: Codec; schema?: unknown[]; rowGroupSize?: number; pageSize?: number } = {}): ArrayBuffer {
  return parquetWriteBuffer({
    columnData: (opts.schema ? columns.map(({ name, data }) => ({ name, data })) : columns) as never,
    codec: opts.codec ?? 'SNAPPY',
    compressors: COMPRESSORS as never,
    rowGroupSize: opts.rowGroupSize ?? 150,
    pageSize: opts.pageSize ?? 1024,
    ...(opts.schema ? { schema: opts.schema as never } : {}),
  });
}

const valueCols = (names: readonly string[] = COLS): Col[] => COLS.map((c, k) => ({ name: names[k]!, data: V[c], type: 'DOUBLE' }));

async function importParquet(file: string, extra: string[] = [], kind = 'candles') {
  const out = outDir();
  const r = await feedCli(['import', file, '--kind', kind, '--symbol', 'BTCUSDT', '--out', out, ...extra]);
  return { ...r, out };
}

/** the decode alone (in this thread: the format matrix needs no decoding thread of its own each) equals the bundled rows */
async function decodesToReference(file: string, what: string, columns?: string) {
  const d = await decodeParquet(file, { symbol: 'BTCUSDT', kind: 'candles', ...(columns ? { columns } : {}) }, () => undefined);
  expect(d.timeframe, what).toBe('1h');
  expect(Array.from(d.time), what).toEqual(T);
  COLS.forEach((c, k) => expect(Array.from(d.cols[k]!), `${what} ${c}`).toEqual(V[c]));
}

describe('import parquet', () => {
  let reference = '';
  it('the real BTC candles as Parquet import to the Arrow bytes of the same rows as a CSV; the timeframe is read from the spacing', async () => {
    const csvOut = outDir();
    const c = await feedCli(['import', 'csv', put(CSV, `c-${++n}.csv`), '--kind', 'candles', '--symbol', 'BTCUSDT', '--timeframe', '1h', '--out', csvOut]);
    expect(c.code, c.stderr).toBe(0);
    reference = sha(join(csvOut, 'BTCUSDT-candles-1h.arrow'));
    const file = put(parquet([{ name: 'timestamp', data: T.map((t) => new Date(t)), type: 'TIMESTAMP' }, ...valueCols()]));
    expect(detectFormat([file])).toBe('parquet');
    const r = await importParquet(file);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("marginlab: timeframe 1h, from the rows' spacing (--timeframe sets it)\n");
    expect(r.stdout).toContain(`candles BTCUSDT 1h: ${N} new rows`);
    expect(sha(join(r.out, 'BTCUSDT-candles-1h.arrow'))).toBe(reference);
    const m = JSON.parse(readFileSync(join(r.out, 'manifest.json'), 'utf8'));
    expect(m.timeframe).toBe('1h');
    // --timeframe given: no note, the same bytes
    const g = await importParquet(file, ['--timeframe', '1h']);
    expect(g.stderr).toBe('');
    expect(sha(join(g.out, 'BTCUSDT-candles-1h.arrow'))).toBe(reference);
  });

  it('a symbol column naming several symbols is refused as in a CSV (65, the row and both values); one symbol imports', async () => {
    const time = { name: 'timestamp', data: T.map((t) => new Date(t)), type: 'TIMESTAMP' } as Col;
    const two = put(parquet([time, { name: 'symbol', data: T.map((_, i) => (i === 200 ? 'ETHUSDT' : 'BTCUSDT')), type: 'STRING' } as Col, ...valueCols()]));
    const r = await importParquet(two, ['--timeframe', '1h']);
    expect(r.code).toBe(65);
    expect(r.stderr).toMatch(/: row 201: column 'symbol' names ETHUSDT where row 1 names BTCUSDT: the file holds rows of several symbols, and one file is one series \(--symbol BTCUSDT\); split it by that column and import each part with its own --symbol; nothing was written\n$/);
    expect(existsSync(r.out)).toBe(false);
    const one = put(parquet([time, { name: 'symbol', data: T.map(() => 'BTCUSDT'), type: 'STRING' } as Col, ...valueCols()]));
    const ok = await importParquet(one, ['--timeframe', '1h']);
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('FLOAT (float32) and DECIMAL price columns import as the decimals written: the same bytes as the CSV (109609.6015625 and 109700.01000000001 before)', async () => {
    const time = { name: 'timestamp', data: T.map((t) => new Date(t)), type: 'TIMESTAMP' } as Col;
    const prices = ['open', 'high', 'low', 'close'] as const;
    // every price of these rows survives float32 as a decimal of at most 7 digits
    const f32 = await importParquet(put(parquet([time, ...prices.map((c) => ({ name: c, data: V[c], type: 'FLOAT' }) as Col), { name: 'volume', data: V.volume, type: 'DOUBLE' } as Col])), ['--timeframe', '1h']);
    expect(f32.code, f32.stderr).toBe(0);
    expect(sha(join(f32.out, 'BTCUSDT-candles-1h.arrow'))).toBe(reference);
    // DECIMAL(18, 2) prices stored as their unscaled integers
    const cents = (x: number) => BigInt(Math.round(x * 100));
    const dec = put(
      parquet(
        [{ name: 'timestamp', data: T.map((t) => BigInt(t)) } as Col, ...prices.map((c) => ({ name: c, data: V[c].map(cents) }) as Col), { name: 'volume', data: V.volume } as Col],
        {
          schema: [
            { name: 'root', num_children: 6 },
            { name: 'timestamp', type: 'INT64', repetition_type: 'REQUIRED', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' } },
            ...prices.map((c) => ({ name: c, type: 'INT64', repetition_type: 'REQUIRED', converted_type: 'DECIMAL', scale: 2, precision: 18 })),
            { name: 'volume', type: 'DOUBLE', repetition_type: 'REQUIRED' },
          ],
        },
      ),
    );
    expect(V.open.every((x) => Math.abs(x * 100 - Math.round(x * 100)) < 1e-6)).toBe(true);
    const d = await importParquet(dec, ['--timeframe', '1h']);
    expect(d.code, d.stderr).toBe(0);
    expect(sha(join(d.out, 'BTCUSDT-candles-1h.arrow'))).toBe(reference);
  });

  it('every codec (uncompressed, snappy, gzip, brotli, zstd, lz4, lz4_raw) gives the same bytes', async () => {
    for (const codec of ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'ZSTD', 'LZ4_RAW', 'LZ4'] as const) {
      await decodesToReference(put(parquet([{ name: 'timestamp', data: T.map((t) => new Date(t)), type: 'TIMESTAMP' }, ...valueCols()], { codec })), codec);
    }
    // and through the command (its decoding thread): the same bytes
    const r = await importParquet(put(parquet([{ name: 'timestamp', data: T.map((t) => new Date(t)), type: 'TIMESTAMP' }, ...valueCols()], { codec: 'ZSTD' })));
    expect(r.code, r.stderr).toBe(0);
    expect(sha(join(r.out, 'BTCUSDT-candles-1h.arrow'))).toBe(reference);
  });

  it('every time form: epoch ms/s/µs/ns numbers and integers (ns exactly), TIMESTAMP in ms/µs/ns, ISO strings, pandas\' unnamed index; capitalised names, string and integer values', async () => {
    const ts = (unit: 'MILLIS' | 'MICROS' | 'NANOS') => ({ name: 'ts', type: 'INT64', repetition_type: 'OPTIONAL', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit } });
    const doubles = COLS.map((c) => ({ name: c, type: 'DOUBLE', repetition_type: 'OPTIONAL' }));
    const forms: [string, ArrayBuffer][] = [
      ['int64 ms', parquet([{ name: 'time', data: T.map((t) => BigInt(t)), type: 'INT64' }, ...valueCols()])],
      ['double s', parquet([{ name: 'date', data: T.map((t) => t / 1000), type: 'DOUBLE' }, ...valueCols()])],
      // ns integers a double cannot hold: 999,999 ns past the ms must floor to it (as a double it rounds up to the next ms)
      ['int64 ns', parquet([{ name: 'open_time', data: T.map((t) => BigInt(t) * 1_000_000n + 999_999n), type: 'INT64' }, ...valueCols()])],
      ['int64 µs', parquet([{ name: 'ts', data: T.map((t) => BigInt(t) * 1000n + 999n), type: 'INT64' }, ...valueCols()])],
      ['iso', parquet([{ name: 'datetime', data: T.map((t) => new Date(t).toISOString()), type: 'STRING' }, ...valueCols()])],
      ['pandas index', parquet([...valueCols(['Open', 'High', 'Low', 'Close', 'Volume']), { name: '__index_level_0__', data: T.map((t) => new Date(t)), type: 'TIMESTAMP' }])],
      ['strings', parquet([{ name: 'timestamp', data: T.map((t) => String(t)), type: 'STRING' }, ...COLS.map((c) => ({ name: c, data: V[c].map((x) => String(x)), type: 'STRING' }))])],
      ...(['MILLIS', 'MICROS', 'NANOS'] as const).map((unit): [string, ArrayBuffer] => [
        `timestamp ${unit}`,
        parquet([{ name: 'ts', data: T.map((t) => (unit === 'MILLIS' ? BigInt(t) : unit === 'MICROS' ? BigInt(t) * 1000n + 999n : BigInt(t) * 1_000_000n + 999_999n)) }, ...valueCols()], {
          schema: [{ name: 'root', num_children: 6 }, ts(unit), ...doubles],
        }),
      ]),
    ];
    for (const [form, bytes] of forms) {
      await decodesToReference(put(bytes), form, form === 'int64 µs' || form.startsWith('timestamp') ? 'timestamp=ts,open=open,high=high,low=low,close=close,volume=volume' : undefined);
    }
    // --columns through the command (the flag reaches the Parquet reader): the same bytes
    const mapped = await importParquet(put(forms.find(([f]) => f === 'int64 µs')![1]), ['--columns', 'timestamp=ts,open=open,high=high,low=low,close=close,volume=volume']);
    expect(mapped.code, mapped.stderr).toBe(0);
    expect(sha(join(mapped.out, 'BTCUSDT-candles-1h.arrow'))).toBe(reference);
    // the pandas form through the command: the same bytes
    const r = await importParquet(put(forms.find(([f]) => f === 'pandas index')![1]));
    expect(r.code, r.stderr).toBe(0);
    expect(sha(join(r.out, 'BTCUSDT-candles-1h.arrow'))).toBe(reference);
    // integer volumes (INT32) are numbers like any other
    const ints = await decodeParquet(put(parquet([{ name: 'timestamp', data: T.map((t) => new Date(t)), type: 'TIMESTAMP' }, ...valueCols().slice(0, 4), { name: 'volume', data: V.volume.map((x) => Math.round(x)), type: 'INT32' }])), { symbol: 'X', kind: 'candles' }, () => undefined);
    expect(Array.from(ints.cols[4]!)).toEqual(V.volume.map((x) => Math.round(x)));
    // ccxt's datetime beside its timestamp: the timestamp read (the most specific name), the other cell named; through the command too
    const both = put(parquet([{ name: 'datetime', data: T.map((t) => new Date(t).toISOString()), type: 'STRING' }, { name: 'timestamp', data: T.map((t) => BigInt(t)), type: 'INT64' }, ...valueCols()]));
    const d2 = await decodeParquet(both, { symbol: 'X', kind: 'candles' }, () => undefined);
    expect(Array.from(d2.time)).toEqual(T);
    expect(d2.alsoNamed).toEqual(["'datetime' (column 1) also names the timestamp: 'timestamp' (column 2) is read"]);
    const said = await importParquet(both);
    expect(said.code, said.stderr).toBe(0);
    expect(said.stderr).toContain("marginlab: 'datetime' (column 1) also names the timestamp: 'timestamp' (column 2) is read (give --columns to read another)\n");
    // one column named twice: refused naming both cells, as the CSV import does (65)
    const twice = put(parquet([{ name: 'timestamp', data: T.map((t) => BigInt(t)), type: 'INT64' }, ...valueCols(), { name: 'close', data: V.close, type: 'DOUBLE' }]));
    await expect(decodeParquet(twice, { symbol: 'X', kind: 'candles' }, () => undefined)).rejects.toMatchObject({
      exitCode: 65,
      message: `${twice}: 'close' (column 5) and 'close' (column 7) both name the close, so which one is meant is unknown: rename one, or give --columns (name=#N picks a column by position)`,
    });
    // a time column naming a zone other than UTC is refused (the CSV importer reads its times in that zone; read as UTC they would be hours off)
    const zoned = put(parquet([{ name: 'Time(UTC+8)', data: T.map((t) => new Date(t + 8 * 3_600_000).toISOString().slice(0, 19)), type: 'STRING' }, ...valueCols()]));
    await expect(decodeParquet(zoned, { symbol: 'X', kind: 'candles' }, () => undefined)).rejects.toMatchObject({ exitCode: 65, message: expect.stringContaining("the time column 'Time(UTC+8)' names a zone other than UTC") });
  });

  it('funding: rate and an optional price (a null is no price), the 8h interval read from the times', async () => {
    const k = 60;
    const ft = Array.from(funding.timestamp.subarray(0, k));
    const rate = Array.from(funding.columns.rate!.subarray(0, k));
    const price = Array.from({ length: k }, (_, i) => (i % 7 === 3 ? null : 100_000 + i));
    const r = await importParquet(put(parquet([{ name: 'fundingTime', data: ft.map((t) => BigInt(t)), type: 'INT64' }, { name: 'fundingRate', data: rate, type: 'DOUBLE' }, { name: 'markPrice', data: price, type: 'DOUBLE' }])), [], 'funding');
    expect(r.code, r.stderr).toBe(0);
    const back = readKindFile(join(r.out, 'BTCUSDT-funding.arrow'), 'f', 'funding', new ProblemList())!;
    expect(Array.from(back.timestamp)).toEqual(ft);
    expect(Array.from(back.columns.rate!)).toEqual(rate);
    expect(Array.from(back.columns.price!).map((x) => (Number.isNaN(x) ? null : x))).toEqual(price);
    const m = JSON.parse(readFileSync(join(r.out, 'manifest.json'), 'utf8'));
    expect(m.files[0].timeframe).toBe('8h');
    // a price that is no number (not empty) is a bad row, not "no price"
    const text = price.map((p, i) => (i === 5 ? 'n/a' : p === null ? null : String(p)));
    const bad = await importParquet(put(parquet([{ name: 'fundingTime', data: ft.map((t) => BigInt(t)), type: 'INT64' }, { name: 'fundingRate', data: rate, type: 'DOUBLE' }, { name: 'markPrice', data: text, type: 'STRING' }])), [], 'funding');
    expect(bad.code).toBe(65);
    expect(bad.stderr).toMatch(/^marginlab: in-\d+\.parquet row 6: price 'n\/a' is not a number \(an empty price is none\); nothing was written\n$/);
    expect(existsSync(bad.out)).toBe(false);
  });

  it('bad inputs: one line, the documented exit code, nothing written', async () => {
    const good = parquet([{ name: 'timestamp', data: T.map((t) => new Date(t)), type: 'TIMESTAMP' }, ...valueCols()]);
    const cases: [string, string, string[], number, RegExp][] = [];
    // a CSV named .parquet, a cut file, an empty file, a file without the close column
    cases.push(['csv named parquet', put(CSV), [], 65, /not a Parquet file \(it lacks the PAR1 marks/]);
    cases.push(['cut', put(new Uint8Array(good).subarray(0, good.byteLength - 40)), [], 65, /not a Parquet file|not a readable Parquet file/]);
    cases.push(['empty', put(new Uint8Array(0)), [], 65, /no data rows/]);
    cases.push(['no close', put(parquet([{ name: 'timestamp', data: T.map((t) => new Date(t)), type: 'TIMESTAMP' }, ...valueCols().filter((c) => c.name !== 'close')])), [], 65, /no column for close among the file's columns \(timestamp, open, high, low, volume\); a candles file needs timestamp, open, high, low, close, volume: .*--columns/]);
    // a row whose high is below its low, a null close: the row named
    const badHigh = { ...V, high: V.high.map((x, i) => (i === 7 ? V.low[i]! - 1 : x)) };
    cases.push(['high < low', put(parquet([{ name: 'timestamp', data: T.map((t) => new Date(t)), type: 'TIMESTAMP' }, ...COLS.map((c) => ({ name: c, data: badHigh[c], type: 'DOUBLE' }))])), [], 65, /row 8/]);
    cases.push(['null close', put(parquet([{ name: 'timestamp', data: T.map((t) => new Date(t)), type: 'TIMESTAMP' }, ...COLS.map((c) => ({ name: c, data: c === 'close' ? V.close.map((x, i) => (i === 11 ? null : x)) : V[c], type: 'DOUBLE' }))])), [], 65, /row 12: close 'null' is not a number/]);
    // one row: no spacing to read the timeframe from
    cases.push(['one row', put(parquet([{ name: 'timestamp', data: [new Date(T[0]!)], type: 'TIMESTAMP' }, ...COLS.map((c) => ({ name: c, data: [V[c][0]], type: 'DOUBLE' }))])), [], 64, /the rows' spacing gives no timeframe \(fewer than two distinct times\): give --timeframe/]);
    cases.push(['missing file', join(root, 'nope.parquet'), ['--format', 'parquet'], 66, /not found: .*nope\.parquet/]);
    cases.push(['--no-header', put(good), ['--no-header'], 64, /--no-header and --skip-bad-rows apply to --format csv only/]);
    for (const [what, file, extra, code, msg] of cases) {
      const r = await importParquet(file, extra);
      expect(r.code, `${what}: ${r.stderr}`).toBe(code);
      expect(r.stderr, what).toMatch(msg);
      // a bad row is reported as every importer's are: the count, then each row with its file and row number
      if (/row \d/.test(String(msg))) expect(r.stderr).toMatch(/^marginlab: timeframe 1h, from the rows' spacing \(--timeframe sets it\)\nmarginlab: candles BTCUSDT 1h: 1 bad row; nothing was written\n {2}in-\d+\.parquet row \d+: [^\n]+\n$/);
      else expect(r.stderr.trim().split('\n'), what).toHaveLength(1);
      expect(r.stderr, what).not.toMatch(/\n\s+at /);
      expect(existsSync(r.out), what).toBe(false);
    }
    // a page whose run lengths read as garbage sent the decoder through billions of empty steps (the
    // import hung for minutes or more): a decode that finishes no page for the stall limit is stopped, 65
    const before = process.env.MARGINLAB_PARQUET_STALL_MS;
    process.env.MARGINLAB_PARQUET_STALL_MS = '1500';
    try {
      const t0 = Date.now();
      const r = await importParquet(join(import.meta.dirname, 'fixtures', 'parquet', 'damaged-rle.parquet'), ['--timeframe', '1h']);
      expect(r.code, r.stderr).toBe(65);
      expect(r.stderr).toMatch(/^marginlab: .*damaged-rle\.parquet: decoding its pages made no progress for 1\.5 s: the file is damaged \(a page's lengths or levels read as garbage\); write it again from its source\n$/);
      expect(existsSync(r.out)).toBe(false);
      expect(Date.now() - t0).toBeLessThan(60_000);
    } finally {
      if (before === undefined) delete process.env.MARGINLAB_PARQUET_STALL_MS;
      else process.env.MARGINLAB_PARQUET_STALL_MS = before;
    }
    // two files, no --kind or --symbol: said at once (64)
    const f = put(good);
    const two = await feedCli(['import', f, put(good), '--out', outDir()]);
    expect(two.code).toBe(64);
    expect(two.stderr).toMatch(/a Parquet import takes one file, got 2/);
    const bare = await feedCli(['import', f, '--out', outDir()]);
    expect(bare.code).toBe(64);
    expect(bare.stderr).toBe('marginlab: a Parquet import needs --kind (candles, mark or funding), --symbol (e.g. BTCUSDT): add them (`npx marginlab import --help`)\n');
    // a folder of Parquet files names the files to import one by one
    const dir = join(root, `dir-${++n}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'BTCUSDT.parquet'), new Uint8Array(good));
    const folder = await feedCli(['import', dir, '--kind', 'candles', '--symbol', 'BTCUSDT', '--out', outDir()]);
    expect(folder.code).toBe(66);
    expect(folder.stderr).toMatch(/is a folder: a Parquet import reads one file/);
  });
});
