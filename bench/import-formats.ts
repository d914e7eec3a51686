/**
 * Importer throughput: a Binance monthly 1m klines archive (43,200 rows, Binance's 12-column layout,
 * zipped) and a freqtrade LZ4-compressed feather file (525,600 1m rows, freqtrade's columns), each
 * read and committed into a fresh dataset folder; then the real 1,999-row freqtrade fixture.
 *   node --import tsx bench/import-formats.ts
 * Prices follow a seeded random walk (the throughput does not depend on the values). Prints
 * measurements; asserts nothing.
 */
import { mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { CompressionType, RecordBatchFileWriter, compressionRegistry, TimestampNanosecond, makeVector, Table } from 'apache-arrow';
import lz4 from 'lz4js';
import { readBinance } from '../src/feed/formats/binance.js';
import { readFreqtrade } from '../src/feed/formats/freqtrade.js';
import { registerArrowCodecs } from '../src/feed/arrow-io.js';
import { writeZip } from '../src/feed/formats/zip.js';
import { commitSeries } from '../src/feed/ingest.js';

const dir = mkdtempSync(join(tmpdir(), 'ml-bench-formats-'));
let seed = 7;
const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 4294967296; };
function walk(n: number, start: number): { t: number[]; o: number[]; h: number[]; l: number[]; c: number[]; v: number[] } {
  const r = { t: [] as number[], o: [] as number[], h: [] as number[], l: [] as number[], c: [] as number[], v: [] as number[] };
  let p = 60000;
  for (let i = 0; i < n; i++) {
    const o = p, c = Math.round(o * (1 + (rnd() - 0.5) * 0.002) * 10) / 10;
    r.t.push(start + i * 60_000); r.o.push(o); r.c.push(c);
    r.h.push(Math.round((Math.max(o, c) + rnd() * 20) * 10) / 10); r.l.push(Math.round((Math.min(o, c) - rnd() * 20) * 10) / 10);
    r.v.push(Math.round(rnd() * 100_000) / 1000);
    p = c;
  }
  return r;
}
const time = (f: () => void, reps = 1) => { const t0 = performance.now(); for (let i = 0; i < reps; i++) f(); return (performance.now() - t0) / reps; };
try {
  // Binance monthly 1m archive
  const m = walk(43_200, Date.UTC(2024, 5, 1));
  const lines = ['open_time,open,high,low,close,volume,close_time,quote_volume,count,taker_buy_volume,taker_buy_quote_volume,ignore'];
  for (let i = 0; i < m.t.length; i++) lines.push(`${m.t[i]},${m.o[i]},${m.h[i]},${m.l[i]},${m.c[i]},${m.v[i]},${m.t[i]! + 59_999},${(m.v[i]! * m.c[i]!).toFixed(2)},${100 + i % 50},${(m.v[i]! / 2).toFixed(3)},0,0`);
  const zip = join(dir, 'BTCUSDT-1m-2024-06.zip');
  writeFileSync(zip, writeZip([{ name: 'BTCUSDT-1m-2024-06.csv', data: Buffer.from(lines.join('\n')) }], (b) => deflateRawSync(b)));
  let k = 0;
  const tb = time(() => { commitSeries(join(dir, `b${k++}`), readBinance([zip])); }, 5);
  console.log(`Binance monthly 1m zip (${m.t.length} rows, ${(statSync(zip).size / 1024).toFixed(0)} KiB): ${tb.toFixed(0)} ms per import = ${(m.t.length / tb * 1000 / 1000).toFixed(0)} k rows/s`);

  // freqtrade LZ4 feather, one year of 1m candles
  registerArrowCodecs();
  compressionRegistry.set(CompressionType.LZ4_FRAME, { ...compressionRegistry.get(CompressionType.LZ4_FRAME), encode: (b: Uint8Array) => Uint8Array.from(lz4.compress(b)) });
  const y = walk(525_600, Date.UTC(2024, 0, 1));
  const ns = BigInt64Array.from(y.t, (t) => BigInt(t) * 1_000_000n);
  const table = new Table({
    date: makeVector({ type: new TimestampNanosecond('UTC'), data: ns }),
    open: makeVector(Float64Array.from(y.o)), high: makeVector(Float64Array.from(y.h)), low: makeVector(Float64Array.from(y.l)),
    close: makeVector(Float64Array.from(y.c)), volume: makeVector(Float64Array.from(y.v)),
  });
  const ft = join(dir, 'BTC_USDT_USDT-1m-futures.feather');
  writeFileSync(ft, RecordBatchFileWriter.writeAll(table, { compressionType: CompressionType.LZ4_FRAME }).toUint8Array(true));
  const tf = time(() => { commitSeries(join(dir, `f${k++}`), readFreqtrade([ft])); }, 3);
  console.log(`freqtrade LZ4 feather 1m (${y.t.length} rows, ${(statSync(ft).size / 1048576).toFixed(1)} MiB): ${tf.toFixed(0)} ms per import = ${(y.t.length / tf * 1000 / 1000).toFixed(0)} k rows/s`);
  const real = resolve('test/fixtures/import/freqtrade/lz4');
  const tr = time(() => { commitSeries(join(dir, `r${k++}`), readFreqtrade([real])); }, 20);
  console.log(`freqtrade real LZ4 feather fixture (1,999 5m rows): ${tr.toFixed(1)} ms per import`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
