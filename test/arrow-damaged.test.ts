/**
 * Damaged Arrow files behind a manifest whose hashes were updated to match (a file edited or
 * produced elsewhere): every one is a data error (65) naming the file, never a hang or an
 * internal error (70). Each case runs `marginlab data validate` as a subprocess with a time
 * limit, since a hang blocks the event loop (no in-process timeout could fire).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteBuffer } from 'flatbuffers';
import { CompressionType, RecordBatchFileWriter, RecordBatchReader, Table, compressionRegistry, tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import lz4 from 'lz4js';
import { Message } from 'apache-arrow/fb/message';
import { RecordBatch as FbRecordBatch } from 'apache-arrow/fb/record-batch';
import { writeDataset } from '../src/feed/write.js';
import { readArrowTable } from '../src/feed/formats/feather.js';
import { UserError } from '../src/errors.js';
import { BIN as CLI_BIN } from './fixtures/run/cli.js';

const BIN = CLI_BIN;
const H = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);
const FILE = 'BTCUSDT-candles-1h.arrow';
const root = mkdtempSync(join(tmpdir(), 'ml-arrow-damaged-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function validate(dir: string): Promise<{ code: number | string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [BIN, 'data', 'validate', dir], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' }, (err, _stdout, stderr) => {
      const e = err as (Error & { code?: unknown; killed?: boolean }) | null;
      res({ code: e ? (e.killed ? 'killed (hang)' : typeof e.code === 'number' ? e.code : 1) : 0, stderr });
    });
  });
}

async function dataset(name: string): Promise<string> {
  const dir = join(root, name);
  const n = 8;
  const t = [], o = [], h = [], l = [], c = [], v = [];
  for (let i = 0; i < n; i++) { t.push(T0 + i * H); o.push(100 + i); h.push(102 + i); l.push(99 + i); c.push(101 + i); v.push(5); }
  await writeDataset(dir, { venue: 'binance-usdm', timeframe: '1h', series: [{ symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', time: t, columns: { open: o, high: h, low: l, close: c, volume: v } }] });
  return dir;
}

/** Change the file's bytes (or replace them all), then update the manifest's sha256 so that only the reader can object. */
function damage(dir: string, edit: (buf: Buffer) => void, replace?: Buffer): void {
  const path = join(dir, FILE);
  const buf = replace ?? readFileSync(path);
  edit(buf);
  writeFileSync(path, buf);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
  for (const f of m.files) if (f.path === FILE) f.sha256 = createHash('sha256').update(buf).digest('hex');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
}

/** The first record batch's message (flatbuffer) and the file offset of its table. */
function firstBatchMessage(buf: Buffer): { msg: Message; base: number; bb: ByteBuffer } {
  const reader = RecordBatchReader.from(buf);
  reader.open();
  const block = (reader as unknown as { footer: { getRecordBatch(i: number): { offset: number | bigint } } }).footer.getRecordBatch(0);
  const base = Number(block.offset) + 8; // continuation marker and metadata length
  const bb = new ByteBuffer(new Uint8Array(buf.buffer, buf.byteOffset + base, buf.byteLength - base));
  return { msg: Message.getRootAsMessage(bb), base, bb };
}

/** A Zstandard frame of raw (stored) blocks: valid ZSTD that any decoder reads (no encoder in the dependencies). */
function zstdRawFrame(b: Uint8Array): Uint8Array {
  const parts: number[] = [0x28, 0xb5, 0x2f, 0xfd, 0xa0, b.length & 0xff, (b.length >>> 8) & 0xff, (b.length >>> 16) & 0xff, b.length >>> 24];
  for (let at = 0; at < b.length || at === 0; at += 100_000) {
    const n = Math.min(100_000, b.length - at);
    const header = (n << 3) | (at + n >= b.length ? 1 : 0); // Block_Type 0 = raw
    parts.push(header & 0xff, (header >>> 8) & 0xff, (header >>> 16) & 0xff, ...b.subarray(at, at + n));
    if (n === 0) break;
  }
  return Uint8Array.from(parts);
}

describe('damaged Arrow files', () => {
  it('a record batch block whose message is not a record batch is exit 65 naming the file, not a hang', async () => {
    const dir = await dataset('header-type');
    damage(dir, (buf) => {
      const { msg, base, bb } = firstBatchMessage(buf);
      const at = bb.__offset(msg.bb_pos, 6); // Message.header_type
      expect(at).toBeGreaterThan(0);
      buf[base + msg.bb_pos + at] = 4; // Tensor: neither schema, record batch nor dictionary
    });
    const r = await validate(dir);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`${FILE}: not a readable Arrow IPC file`);
    expect(r.stderr).toContain('re-import or re-download it');
    // the freqtrade importer reads feather files through the same reader
    let err: unknown;
    try { readArrowTable(readFileSync(join(dir, FILE)), FILE); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(65);
  }, 60_000);

  it('a record batch claiming more rows than its buffers hold is exit 65 naming the file, not an internal error', async () => {
    const dir = await dataset('row-count');
    damage(dir, (buf) => {
      const { msg, base } = firstBatchMessage(buf);
      const rb = msg.header(new FbRecordBatch()) as FbRecordBatch;
      const at = rb.bb!.__offset(rb.bb_pos, 4); // RecordBatch.length
      expect(at).toBeGreaterThan(0);
      buf.writeBigInt64LE(100_000n, base + rb.bb_pos + at);
    });
    const r = await validate(dir);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`${FILE}: not a readable Arrow IPC file`);
    expect(r.stderr).not.toContain('internal error');
  }, 60_000);

  it('a file cut short at any length is exit 65 in one line naming the file and saying it was cut short, never JavaScript internals', async () => {
    const dir = await dataset('cut');
    const full = readFileSync(join(dir, FILE));
    // the header, inside the schema, inside a record batch, inside the footer, one byte short
    const lengths = [6, 9, 40, 200, Math.floor(full.length / 2), full.length - 20, full.length - 1];
    for (const n of lengths) {
      damage(dir, () => undefined, full.subarray(0, n));
      const r = await validate(dir);
      expect(r.code, `cut at ${n}`).toBe(65);
      const lines = r.stderr.trim().split('\n');
      expect(lines[1], `cut at ${n}`).toBe(`  ${FILE}: not a readable Arrow IPC file: the file ends after ${n} bytes without the Arrow file footer, so it was cut short (an interrupted copy, download or write); re-import or re-download it`);
      expect(lines).toHaveLength(2);
    }
    // a file that is no Arrow at all, and damaged metadata past the signature: one sentence, no JavaScript error text
    damage(dir, () => undefined, Buffer.from('timestamp,open,high,low,close,volume\n1,2,3,1,2,5\n'));
    let r = await validate(dir);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`${FILE}: not a readable Arrow IPC file: it does not begin with the Arrow file signature 'ARROW1', so it is not an Arrow IPC file; re-import or re-download it`);
    // a file of zeros (what a copy cut by a crash can leave) read as an empty stream: 'missing columns (has: none)'
    damage(dir, () => undefined, Buffer.alloc(full.length));
    r = await validate(dir);
    expect(r.code).toBe(65);
    expect(r.stderr).toContain(`${FILE}: not a readable Arrow IPC file: it does not begin with the Arrow file signature 'ARROW1', so it is not an Arrow IPC file; re-import or re-download it`);
    const meta = Buffer.from(full);
    meta.fill(0, 8, 64); // the schema message's length and flatbuffer root
    damage(dir, () => undefined, meta);
    r = await validate(dir);
    expect(r.code).toBe(65);
    expect(r.stderr).not.toMatch(/Cannot read properties|DataView|TypeError|RangeError|internal error/);
    expect(r.stderr).toContain(`${FILE}: not a readable Arrow IPC file: `);
    // the freqtrade importer reads feather files through the same reader
    expect(() => readArrowTable(full.subarray(0, 200), 'XRP_USDT_USDT-5m-futures.feather')).toThrow(
      'XRP_USDT_USDT-5m-futures.feather: not a readable Arrow IPC / feather file: the file ends after 200 bytes without the Arrow file footer, so it was cut short (an interrupted copy, download or write); export it again');
  }, 120_000);

  it('an IPC stream (not a file) reads whole; cut at a record batch boundary (its end-of-stream marker missing) it is refused as cut short, not read as its first batches', () => {
    const batches = [0, 1, 2, 3].map((b) => tableFromArrays({ date: BigInt64Array.from([0, 1, 2].map((i) => BigInt(T0 + (b * 3 + i) * H))), close: Float64Array.from([1, 2, 3]) }).batches[0]!);
    const stream = tableToIPC(new Table(batches), 'stream');
    expect(readArrowTable(stream, 'X.feather').numRows).toBe(12);
    // the bytes up to the end of the second record batch: the schema and two whole messages, then nothing
    const ends: number[] = [];
    let at = 0;
    for (const _ of [0, 1, 2]) {
      const metaLen = new DataView(stream.buffer, stream.byteOffset + at + 4, 4).getInt32(0, true);
      const msg = Message.getRootAsMessage(new ByteBuffer(stream.subarray(at + 8, at + 8 + metaLen)));
      at += 8 + metaLen + Number(msg.bodyLength());
      ends.push(at);
    }
    const cut = stream.subarray(0, ends[2]!);
    expect(() => readArrowTable(cut, 'X.feather')).toThrow(`X.feather: not a readable Arrow IPC / feather file: the Arrow IPC stream ends after ${cut.byteLength} bytes without its end-of-stream marker: cut short (an interrupted copy, download or write), or its writer was not closed; export it again`);
  });

  it('a data file rewritten with LZ4 frame or ZSTD compressed record batches (pyarrow compression=) loads with the same values', async () => {
    const { loadDataset } = await import('../src/feed/load.js');
    const plain = await dataset('plain');
    const want = await loadDataset(plain);
    const codecs = [
      [CompressionType.LZ4_FRAME, (b: Uint8Array) => Uint8Array.from(lz4.compress(b))],
      [CompressionType.ZSTD, zstdRawFrame],
    ] as const;
    for (const [type, encode] of codecs) {
      const prev = compressionRegistry.get(type);
      compressionRegistry.set(type, { encode, decode: (b: Uint8Array) => b });
      const bytes = new RecordBatchFileWriter({ compressionType: type } as never).writeAll(tableFromIPC(readFileSync(join(plain, FILE)))).toUint8Array(true);
      compressionRegistry.set(type, prev as never);
      const dir = await dataset(`compressed-${type}`);
      damage(dir, () => undefined, Buffer.from(bytes));
      // the CLI process reads it through the loader alone (no importer has run there)
      const r = await validate(dir);
      // (the dataset holds no funding: its one warning)
      expect(r.stderr).toMatch(/^marginlab: warning: no funding file for BTCUSDT: [^\n]*\n$/);
      expect(r.code).toBe(0);
      const md = await loadDataset(dir);
      expect(Array.from(md.time)).toEqual(Array.from(want.time));
      expect(Array.from(md.columns[0]!.close)).toEqual(Array.from(want.columns[0]!.close));
      expect(Array.from(md.columns[0]!.volume)).toEqual(Array.from(want.columns[0]!.volume));
    }
  }, 60_000);
});
