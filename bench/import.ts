/**
 * CSV import throughput and memory: write a ROWS-row candle CSV (default 10M) into a temp folder,
 * import it with importCsv, and report rows/s, peak heap and peak RSS (sampled every 20 ms).
 *   node --import tsx bench/import.ts [rows]
 * Prints measurements; asserts nothing.
 */
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importCsv } from '../src/feed/csv.js';

const rows = Number(process.argv[2] ?? 10_000_000);
const dir = mkdtempSync(join(tmpdir(), 'ml-bench-import-'));
try {
  const csv = join(dir, 'big.csv');
  const t0 = performance.now();
  const ws = createWriteStream(csv);
  ws.write('timestamp,open,high,low,close,volume\n');
  let p = 100;
  let seed = 12345;
  const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 4294967296; };
  const start = Date.UTC(2010, 0, 1);
  let chunk = '';
  for (let i = 0; i < rows; i++) {
    const o = p;
    const c = Math.round(o * (1 + (rnd() - 0.5) * 0.002) * 100) / 100;
    const h = Math.max(o, c) + 0.05, l = Math.min(o, c) - 0.05;
    chunk += `${start + i * 60_000},${o},${h.toFixed(2)},${l.toFixed(2)},${c},${(rnd() * 100).toFixed(3)}\n`;
    p = c;
    if (chunk.length > 1 << 20) { if (!ws.write(chunk)) await once(ws, 'drain'); chunk = ''; }
  }
  ws.end(chunk);
  await once(ws, 'finish');
  const size = statSync(csv).size;
  console.log(`wrote ${rows.toLocaleString('en-US')}-row CSV (${(size / 2 ** 20).toFixed(0)} MiB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  let peakHeap = 0, peakRss = 0;
  const sample = setInterval(() => { const m = process.memoryUsage(); peakHeap = Math.max(peakHeap, m.heapUsed); peakRss = Math.max(peakRss, m.rss); }, 20);
  const t1 = performance.now();
  const r = await importCsv({ file: csv, kind: 'candles', symbol: 'BENCHUSDT', timeframe: '1m', out: join(dir, 'ds') });
  const t = (performance.now() - t1) / 1000;
  clearInterval(sample);
  console.log(`import: ${r.rows.toLocaleString('en-US')} rows in ${t.toFixed(1)} s = ${(r.rows / t / 1e3).toFixed(0)} k rows/s (${(size / t / 2 ** 20).toFixed(1)} MiB/s)`);
  console.log(`  peak heap ${(peakHeap / 2 ** 20).toFixed(0)} MiB, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB (file ${(size / 2 ** 20).toFixed(0)} MiB)`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
