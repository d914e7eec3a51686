/**
 * Load throughput: synthesize a dataset of ROWS candle rows (default 10M = 4 symbols × 2.5M 1m bars,
 * plus as many mark rows) into a temp folder, then time loadDataset and report rows/s and peak RSS.
 *   node --import tsx bench/load.ts [rows] [symbols]
 * Prints measurements; asserts nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { synthesize } from '../src/feed/synth.js';
import { loadDataset } from '../src/feed/load.js';

const rows = Number(process.argv[2] ?? 10_000_000);
const symbols = Number(process.argv[3] ?? 4);
const bars = Math.ceil(rows / symbols);
const dir = mkdtempSync(join(tmpdir(), 'ml-bench-load-'));
let peak = 0;
const sample = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
try {
  const out = join(dir, 'synth');
  const t0 = performance.now();
  await synthesize({ out, symbols, bars, timeframe: '1m', seed: 1 });
  const tSynth = (performance.now() - t0) / 1000;
  peak = process.memoryUsage().rss;
  const rssBefore = peak;
  const t1 = performance.now();
  const md = await loadDataset(out);
  const tLoad = (performance.now() - t1) / 1000;
  peak = Math.max(peak, process.memoryUsage().rss);
  const candleRows = md.time.length * md.symbols.length;
  const totalRows = candleRows * 2; // candles + mark at the bar timeframe
  console.log(`synth: ${symbols} symbols × ${bars.toLocaleString('en-US')} 1m bars (candles + mark + funding) in ${tSynth.toFixed(1)} s`);
  console.log(`load: ${candleRows.toLocaleString('en-US')} candle rows + ${candleRows.toLocaleString('en-US')} mark rows in ${tLoad.toFixed(2)} s`);
  console.log(`  ${(candleRows / tLoad / 1e6).toFixed(2)} M candle rows/s (${(totalRows / tLoad / 1e6).toFixed(2)} M rows/s counting mark rows)`);
  console.log(`  peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (before load ${(rssBefore / 2 ** 20).toFixed(0)} MiB; column data ${(candleRows * 9 * 8 / 2 ** 20).toFixed(0)} MiB)`);
} finally {
  clearInterval(sample);
  rmSync(dir, { recursive: true, force: true });
}
