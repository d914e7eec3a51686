/**
 * Dataset files written by other tools (pandas, pyarrow, polars) behind a manifest whose hash was
 * updated: every time unit and number type the docs accept loads with the same timeline and
 * values as marginlab's own file; other types are refused in one line naming file and column.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateMillisecond, Table, TimestampMicrosecond, TimestampMillisecond, TimestampNanosecond, TimestampSecond, makeVector, tableToIPC, vectorFromArray, type Vector } from 'apache-arrow';
import { writeDataset } from '../src/feed/write.js';
import { float32Decimal } from '../src/util/float32.js';
import { loadDataset } from '../src/feed/load.js';
import { UserError } from '../src/errors.js';
import { feedCli } from './fixtures/feed/cli.js';

const H = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);
const N = 6;
const FILE = 'BTCUSDT-candles-1h.arrow';
const root = mkdtempSync(join(tmpdir(), 'ml-arrow-foreign-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const T = Array.from({ length: N }, (_, i) => T0 + i * H);
const PX = { open: T.map((_, i) => 100 + i), high: T.map((_, i) => 102 + i), low: T.map((_, i) => 99 + i), close: T.map((_, i) => 101 + i), volume: T.map((_, i) => i) };

let k = 0;
/** a one-symbol dataset whose candle file is replaced by a table of these columns (standard ones where not given) */
async function withFile(cols: Record<string, Vector>): Promise<string> {
  const dir = join(root, `ds${k++}`);
  await writeDataset(dir, { venue: 'binance-usdm', timeframe: '1h', series: [{ symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', time: T, columns: PX }] });
  const f64 = (a: number[]) => makeVector(Float64Array.from(a));
  const table = new Table({ timestamp: makeVector(BigInt64Array.from(T.map(BigInt))), open: f64(PX.open), high: f64(PX.high), low: f64(PX.low), close: f64(PX.close), volume: f64(PX.volume), ...cols });
  const bytes = tableToIPC(table, 'file');
  writeFileSync(join(dir, FILE), bytes);
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
  for (const f of m.files) if (f.path === FILE) f.sha256 = createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
  return dir;
}

describe('time columns of other tools', () => {
  it('Timestamp in s, ms, µs, ns and plain epoch numbers in s, ms, µs, ns (int32, int64, float64) all give the same timeline', async () => {
    const big = (f: (t: number) => bigint) => makeVector(BigInt64Array.from(T.map(f)));
    const cases: [string, Vector][] = [
      ['Timestamp[s]', vectorFromArray(T, new TimestampSecond())],
      ['Timestamp[us]', vectorFromArray(T, new TimestampMicrosecond())],
      ['Timestamp[ns]', makeVector({ type: new TimestampNanosecond(), data: BigInt64Array.from(T.map((t) => BigInt(t) * 1_000_000n)) } as never)],
      ['int64 ms', big((t) => BigInt(t))],
      ['float64 ms', makeVector(Float64Array.from(T))],
      // pandas' and polars' epoch columns: was read as ms, so seconds gave 1970-01-20 and a spacing error per row
      ['int32 s', makeVector(Int32Array.from(T.map((t) => t / 1000)))],
      ['float64 s', makeVector(Float64Array.from(T.map((t) => t / 1000)))],
      ['int64 µs', big((t) => BigInt(t) * 1000n)],
      ['int64 ns', big((t) => BigInt(t) * 1_000_000n)],
    ];
    for (const [name, timestamp] of cases) {
      const md = await loadDataset(await withFile({ timestamp }));
      expect(Array.from(md.time), name).toEqual(T);
      expect(Array.from(md.columns[0]!.close), name).toEqual(PX.close);
    }
  });

  it('µs and ns times off the whole second (00:00:00.017) read to the exact ms, as Timestamp or plain int64 (candles there are off the exchanges\' grid: the refusal names the ms read)', async () => {
    // ns values pass 2^53: a float product gave 1735689600016 for 1735689600017
    const J = T.map((t) => t + 17);
    const cases: [string, Vector][] = [
      ['Timestamp[ns]', makeVector({ type: new TimestampNanosecond(), data: BigInt64Array.from(J.map((t) => BigInt(t) * 1_000_000n)) } as never)],
      ['Timestamp[us]', makeVector({ type: new TimestampMicrosecond(), data: BigInt64Array.from(J.map((t) => BigInt(t) * 1000n + 999n)) } as never)],
      ['int64 ns', makeVector(BigInt64Array.from(J.map((t) => BigInt(t) * 1_000_000n + 999_999n)))],
    ];
    for (const [name, timestamp] of cases) {
      const e = await loadDataset(await withFile({ timestamp })).then(() => null, (err: unknown) => err);
      expect(e, name).toBeInstanceOf(UserError);
      expect((e as UserError).details, name).toEqual([expect.stringContaining(`${FILE} row 1: 2025-01-01T00:00:00.017Z (${J[0]}) is not on the exchanges' 1h grid: a 1h candle opens at a whole multiple of 1h after 00:00 UTC (this one is 17 ms past one`)]);
    }
  });

  it('a plain column mixing units is not read row by row: its first value sets the unit and the rest fail validation', async () => {
    const mixed = makeVector(BigInt64Array.from(T.map((t, i) => BigInt(i === 3 ? t : t / 1000))));
    await expect(loadDataset(await withFile({ timestamp: mixed }))).rejects.toMatchObject({ exitCode: 65, details: expect.arrayContaining([expect.stringContaining(`${FILE} row 4: timestamp 1735700400000000 is in the year 56972: a time in µs or ns stored as ms?`)]) });
  });

  it('other time types (Date64, strings) are refused in one line naming the file and the column', async () => {
    for (const [timestamp, type] of [[vectorFromArray(T.map((t) => new Date(t)), new DateMillisecond()), 'Date64'], [vectorFromArray(T.map((t) => new Date(t).toISOString())), 'Utf8']] as const) {
      let err: unknown;
      try { await loadDataset(await withFile({ timestamp })); } catch (e) { err = e; }
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(65);
      expect((err as UserError).details).toEqual([expect.stringMatching(new RegExp(`^${FILE}: column 'timestamp' has type .*${type}.*; expected Timestamp \\(or epoch numbers\\)$`))]);
    }
  });
});

describe('µs or ns stored in a column labelled ms (a wrong cast)', () => {
  const msLabelled = (f: bigint) => makeVector({ type: new TimestampMillisecond('UTC'), data: BigInt64Array.from(T.map((t) => BigInt(t) * f)) } as never);
  it('the loader refuses them naming the file, the row and the likely unit (µs: the year 56971 passed as a date)', async () => {
    for (const [f, why] of [[1000n, 'is in the year 56971: a time in µs or ns stored as ms?'], [1_000_000n, 'is beyond the last date a time can hold']] as const) {
      const err = await loadDataset(await withFile({ timestamp: msLabelled(f) })).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(UserError);
      expect((err as UserError).exitCode).toBe(65);
      expect((err as UserError).details?.[0]).toContain(`${FILE} row 1: timestamp`);
      expect((err as UserError).details?.[0]).toContain(why);
    }
  });

  it('a freqtrade funding feather with them: the import is 65 naming the file and row, and writes nothing (a new dataset is not made, an existing one is untouched)', async () => {
    const dir = join(root, `ft${k++}`);
    mkdirSync(dir);
    const file = join(dir, 'XRP_USDT_USDT-8h-funding_rate.feather');
    const f64 = (a: number[]) => makeVector(Float64Array.from(a));
    const ev = [0, 1, 2, 3].map((i) => T0 + i * 8 * H);
    const zeros = ev.map(() => 0);
    for (const [f, why] of [[1_000_000n, 'is beyond the last date a time can hold'], [1000n, 'is in the year 56971']] as const) {
      const date = makeVector({ type: new TimestampMillisecond('UTC'), data: BigInt64Array.from(ev.map((t) => BigInt(t) * f)) } as never);
      writeFileSync(file, tableToIPC(new Table({ date, open: f64(ev.map(() => 0.0001)), high: f64(zeros), low: f64(zeros), close: f64(zeros), volume: f64(zeros) }), 'file'));
      const fresh = join(dir, `fresh${f}`);
      const r = await feedCli(['import', file, '--out', fresh]);
      expect(r.code).toBe(65);
      expect(r.stderr).toContain('XRP_USDT_USDT-8h-funding_rate.feather row 1: time');
      expect(r.stderr).toContain(why);
      expect(r.stderr).not.toContain('internal error');
      expect(existsSync(fresh)).toBe(false);
      // into a good dataset: nothing of it changes (the rows were committed, then the summary's date print crashed: 70)
      const good = join(dir, `good${f}`);
      await writeDataset(good, { venue: 'binance-usdm', timeframe: '1h', series: [{ symbol: 'XRPUSDT', kind: 'candles', timeframe: '1h', time: T, columns: PX }] });
      const before = readdirSync(good).map((n) => [n, readFileSync(join(good, n), 'utf8')]);
      const r2 = await feedCli(['import', file, '--out', good]);
      expect(r2.code).toBe(65);
      expect(readdirSync(good).map((n) => [n, readFileSync(join(good, n), 'utf8')])).toEqual(before);
    }
  });
});

describe('value columns of other tools', () => {
  it('integer, float32 and uint64 columns load as numbers; extra columns are ignored', async () => {
    const md = await loadDataset(await withFile({
      open: makeVector(Int32Array.from(PX.open)), volume: makeVector(BigUint64Array.from(PX.volume.map(BigInt))),
      high: makeVector(Float32Array.from(PX.high)), trades: makeVector(Float64Array.from(T)), note: vectorFromArray(T.map(String)),
    }));
    const c = md.columns[0]!;
    expect([Array.from(c.open), Array.from(c.high), Array.from(c.volume)]).toEqual([PX.open, PX.high, PX.volume]);
  });

  it('a float32 price reads as the decimal it was written from (100.1, not 100.0999984741211)', async () => {
    const px = [100.1, 0.000123457, 27123.5, 1.1, 65535.99, 3e-8];
    const f32 = () => makeVector(Float32Array.from(px));
    const md = await loadDataset(await withFile({ open: f32(), high: f32(), low: f32(), close: f32() }));
    for (const k of ['open', 'high', 'low', 'close'] as const) expect(Array.from(md.columns[0]![k]), k).toEqual(px);
    // every float32 value comes back to itself, and with at most 9 significant digits
    for (const f of [Math.fround(1 / 3), Math.fround(123456.789), Math.fround(1e-7), Math.fround(3.4e38)]) {
      const d = float32Decimal(f);
      expect(Math.fround(d)).toBe(f);
      expect(d.toPrecision(9)).toBe(Number(d.toPrecision(9)).toPrecision(9));
    }
    expect(float32Decimal(Math.fround(100.1))).toBe(100.1);
  });

  it('strings, booleans and decimals are refused naming the column', async () => {
    for (const open of [vectorFromArray(PX.open.map(String)), vectorFromArray(PX.open.map(() => true))]) {
      await expect(loadDataset(await withFile({ open }))).rejects.toMatchObject({ exitCode: 65, details: [expect.stringMatching(new RegExp(`^${FILE}: column 'open' has type .*; expected Float64$`))] });
    }
  });
});
