/**
 * A Float16 price column (pandas float16 → pyarrow halffloat) is refused naming the file and the
 * column: apache-arrow hands its raw 16-bit patterns (100.0 reads as 22080), so reading it as
 * numbers gave silently wrong prices when every price column was Float16.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float16, Table, makeVector, tableToIPC, vectorFromArray } from 'apache-arrow';
import { writeDataset } from '../src/feed/write.js';
import { loadDataset } from '../src/feed/load.js';
import { columnF64, readArrowTable } from '../src/feed/formats/feather.js';
import { UserError } from '../src/errors.js';

const H = 3_600_000;
const T0 = Date.UTC(2025, 0, 1);
const FILE = 'BTCUSDT-candles-1h.arrow';
const root = mkdtempSync(join(tmpdir(), 'ml-arrow-f16-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function halfFloatCandles(n: number): Uint8Array {
  const f16 = (x: number) => vectorFromArray(Array<number>(n).fill(x), new Float16());
  const table = new Table({
    timestamp: makeVector(new BigInt64Array(Array.from({ length: n }, (_, i) => BigInt(T0 + i * H)))),
    open: f16(100), high: f16(102), low: f16(99), close: f16(101), volume: f16(5),
  });
  return tableToIPC(table, 'file');
}

describe('Float16 columns', () => {
  it('are refused by the loader naming the file and the column (exit 65), not read as their bit patterns', async () => {
    const dir = join(root, 'ds');
    const n = 5;
    const t = Array.from({ length: n }, (_, i) => T0 + i * H);
    await writeDataset(dir, { venue: 'binance-usdm', timeframe: '1h', series: [{ symbol: 'BTCUSDT', kind: 'candles', timeframe: '1h', time: t, columns: { open: t.map(() => 100), high: t.map(() => 102), low: t.map(() => 99), close: t.map(() => 101), volume: t.map(() => 5) } }] });
    const bytes = halfFloatCandles(n);
    writeFileSync(join(dir, FILE), bytes);
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
    for (const f of m.files) if (f.path === FILE) f.sha256 = createHash('sha256').update(bytes).digest('hex');
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m));
    let err: unknown;
    let md: unknown;
    try { md = await loadDataset(dir); } catch (e) { err = e; }
    expect(md).toBeUndefined();
    expect(err).toBeInstanceOf(UserError);
    expect((err as UserError).exitCode).toBe(65);
    expect((err as UserError).details.join('\n')).toContain(`${FILE}: column 'open' has type Float16; expected Float64`);
  });

  it('are refused by the freqtrade feather reader', () => {
    const table = readArrowTable(halfFloatCandles(3), 'x-1h-futures.feather');
    expect(() => columnF64(table, 'close', 'x-1h-futures.feather')).toThrow(UserError);
    expect(() => columnF64(table, 'close', 'x-1h-futures.feather')).toThrow(/column 'close' has type Float16/);
  });
});
